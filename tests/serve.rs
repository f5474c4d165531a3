//! `train serve`, the live lab, over HTTP: a server on a free port, driven
//! as the page drives it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use train::backend::BackendKind;

use crate::common::lab::{LabServer, all_in, quick_pair, summary};
use crate::common::{csv_column_text, train_bin, train_ok};

fn lab_id(snapshot: &Value) -> String {
    snapshot["lab"]["id"].as_str().unwrap().to_string()
}

#[test]
fn the_pair_starts_from_the_same_weights_and_streams_until_relu_wins() {
    let server = LabServer::start(&[]);
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<canvas"), "the page is served");
    assert!(server.get("/app.js").text().contains("EventSource"));
    // The page draws with the figures' palette: classes red and blue, runs apart.
    let palette = server.get("/palette.js").text();
    assert!(palette.contains("class0: [178, 24, 43]"), "{palette}");
    assert!(palette.contains("class1: [33, 102, 172]"), "{palette}");
    assert!(palette.contains("runs: ['#1b9e77'"), "{palette}");
    assert!(page.text().contains("<script src=\"palette.js\"></script>"));
    let icon = server.get("/favicon.svg");
    assert_eq!(icon.status, 200);
    assert!(icon.text().starts_with("<svg"), "{}", icon.text());
    assert!(page.text().contains("href=\"favicon.svg\""));

    let snapshot = server.create(&quick_pair(60, 0.0));
    let runs = snapshot["lab"]["runs"].as_array().unwrap();
    assert_eq!(runs[0]["activation"], "identity");
    assert_eq!(runs[1]["activation"], "relu");
    let weights = |run: &Value| run["initial_weights_sha256"].as_str().unwrap().to_string();
    assert_eq!(
        weights(&runs[0]),
        weights(&runs[1]),
        "the pair shares its start"
    );
    let mut other = quick_pair(60, 0.0);
    other["shared"]["seed"] = json!(7);
    let reseeded = server.create(&other);
    assert_ne!(
        weights(&reseeded["lab"]["runs"][0]),
        weights(&runs[0]),
        "another seed, other weights: the hash means something"
    );
    assert_eq!(
        server
            .delete(&format!("/api/labs/{}", lab_id(&reseeded)))
            .status,
        204
    );

    let id = lab_id(&snapshot);
    let mut events = server.events(&id);
    let first = events.next().unwrap();
    assert_eq!(first["type"], "snapshot");
    assert!(first["lab"]["points"]["rows"].as_array().unwrap().len() == 200);
    server.control(&id, json!({ "action": "start" }));

    let mut losses: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut accuracy = [0.0; 2];
    let mut finished = [false; 2];
    let mut surfaces = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    for event in events.by_ref() {
        assert!(Instant::now() < deadline, "the runs did not finish in time");
        if event["type"] != "frame" {
            continue;
        }
        let run = event["run"].as_u64().unwrap() as usize;
        for record in event["records"].as_array().unwrap() {
            losses[run].push(record["train_loss"].as_f64().unwrap());
            accuracy[run] = record["val_accuracy"].as_f64().unwrap();
            assert_eq!(
                record["grad_norm"].as_array().unwrap().len(),
                3,
                "per-layer norms"
            );
        }
        if let Some(values) = event["picture"]["values"].as_array() {
            let n = event["picture"]["resolution"].as_u64().unwrap() as usize;
            assert_eq!(values.len(), n * n);
            surfaces += 1;
        }
        finished[run] |= event["state"] == "finished";
        if finished == [true, true] {
            break;
        }
    }
    assert_eq!(finished, [true, true]);
    for (run, losses) in losses.iter().enumerate() {
        assert_eq!(losses.len(), 60, "run {run} streamed every epoch once");
        assert!(
            losses[59] < losses[0],
            "run {run}'s loss fell: {} -> {}",
            losses[0],
            losses[59]
        );
    }
    assert!(surfaces >= 2, "the surface is streamed");
    assert!(
        accuracy[1] > accuracy[0] + 0.15,
        "relu beats identity on the circle: {accuracy:?}"
    );
}

#[test]
fn pause_step_learning_rate_and_reset() {
    let server = LabServer::start(&[]);
    let id = lab_id(&server.create(&quick_pair(2000, 40.0)));
    server.control(&id, json!({ "action": "start" }));
    server.wait_for(&id, "a few epochs", |s| {
        s["runs"][0]["epoch"].as_u64() >= Some(3) && s["runs"][1]["epoch"].as_u64() >= Some(3)
    });
    // While running, the learning rate stays.
    let refused = server.post(
        &format!("/api/labs/{id}/control"),
        &json!({ "action": "lr", "run": "B", "lr": 0.05 }),
    );
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(refused.json()["error"].as_str().unwrap().contains("pause"));

    // A rate sent right after a pause finds the run paused: commands are
    // taken in order, whatever the view said a moment before.
    server.control(&id, json!({ "action": "pause" }));
    server.control(&id, json!({ "action": "lr", "run": "A", "lr": 0.01 }));
    let paused = server.wait_for(&id, "paused", |s| all_in(s, "paused"));
    // Each run pauses where the request found it.
    let epoch_a = paused["runs"][0]["epoch"].as_u64().unwrap();
    let epoch = paused["runs"][1]["epoch"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let still = server.get(&format!("/api/labs/{id}")).json();
    assert_eq!(still["runs"][0]["epoch"].as_u64(), Some(epoch_a), "paused");
    assert_eq!(still["runs"][1]["epoch"].as_u64(), Some(epoch), "paused");

    server.control(&id, json!({ "action": "step" }));
    let stepped = server.wait_for(&id, "one step", |s| {
        all_in(s, "paused")
            && s["runs"][0]["epoch"].as_u64() == Some(epoch_a + 1)
            && s["runs"][1]["epoch"].as_u64() == Some(epoch + 1)
    });
    assert_eq!(
        stepped["runs"][1]["records"].as_array().unwrap().len() as u64,
        epoch + 1
    );

    server.control(&id, json!({ "action": "lr", "run": "B", "lr": 0.05 }));
    let changed = server.get(&format!("/api/labs/{id}")).json();
    assert_eq!(changed["runs"][1]["lr"], 0.05);
    assert_eq!(changed["runs"][0]["lr"], 0.01, "run A keeps its rate");
    assert_eq!(
        changed["runs"][1]["lr_changes"][0]["after_epoch"].as_u64(),
        Some(epoch + 1)
    );
    server.control(&id, json!({ "action": "step", "run": "B" }));
    let after = server.wait_for(&id, "B's step at the new rate", |s| {
        s["runs"][1]["epoch"].as_u64() == Some(epoch + 2) && all_in(s, "paused")
    });
    let records = after["runs"][1]["records"].as_array().unwrap();
    assert_eq!(records.last().unwrap()["lr"], 0.05, "the new rate trains");
    assert_eq!(records[0]["lr"], 0.01);
    assert_eq!(
        after["runs"][0]["epoch"].as_u64(),
        Some(epoch_a + 1),
        "A did not step"
    );

    server.control(&id, json!({ "action": "reset" }));
    let reset = server.wait_for(&id, "the reset", |s| {
        s["runs"][1]["generation"] == 1 && s["runs"][0]["generation"] == 1
    });
    for run in reset["runs"].as_array().unwrap() {
        assert_eq!(run["epoch"], 0, "{}", summary(&reset));
        assert_eq!(run["records"].as_array().unwrap().len(), 0);
        assert_eq!(run["lr"], 0.01, "a reset starts from the settings");
    }
}

/// The one-line message the CLI gives for `args`, without its origin.
fn cli_message(args: &[&str]) -> String {
    let output = train_bin().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    stderr
        .split_once("): ")
        .map(|(_, message)| message.to_string())
        .unwrap_or_else(|| panic!("unexpected CLI error: {stderr}"))
}

#[test]
fn bad_settings_and_limits_are_400s_with_the_clis_message() {
    let server = LabServer::start(&["--max-runs", "2"]);
    let refuse = |request: Value| {
        let reply = server.post("/api/labs", &request);
        assert_eq!(reply.status, 400, "{request}: {}", reply.text());
        let message = reply.json()["error"].as_str().unwrap().to_string();
        assert!(!message.contains('\n'), "one line: {message}");
        message
    };
    let mut bad_lr = quick_pair(10, 0.0);
    bad_lr["runs"][1]["training.lr"] = json!(-1.0);
    let message = refuse(bad_lr);
    let cli = cli_message(&["--lr=-1", "--epochs", "1"]);
    assert_eq!(message, format!("run B: key `training.lr`: {cli}"));

    let mut unknown = quick_pair(10, 0.0);
    unknown["shared"]["training.lrr"] = json!(0.1);
    assert!(refuse(unknown).contains("training.lrr"));
    let mut too_many = quick_pair(10, 0.0);
    too_many["shared"]["data.samples"] = json!(1_000_000);
    assert!(refuse(too_many).contains("at most 10000 samples"));
    let mut too_wide = quick_pair(10, 0.0);
    too_wide["shared"]["model.hidden"] = json!([4096]);
    assert!(refuse(too_wide).contains("model.hidden"));
    // The network's ends are bounded too: a million outputs under
    // cross_entropy took the server to 18 GB, 100,000 features aborted it.
    let mut classes = quick_pair(10, 0.0);
    classes["shared"]["training.loss"] = json!("cross_entropy");
    classes["shared"]["model.output"] = json!(1_000_000);
    assert_eq!(
        refuse(classes),
        "run A: key `model.output`: the lab takes at most 8 outputs (one per class) (got 1000000)"
    );
    for key in ["data.features", "model.input"] {
        let mut wide = quick_pair(10, 0.0);
        wide["shared"][key] = json!(100_000);
        let message = refuse(wide);
        assert!(
            message.contains(&format!("key `{key}`: the lab takes at most 100 ")),
            "{message}"
        );
    }
    let mut a_file = quick_pair(10, 0.0);
    a_file["shared"]["data.kind"] = json!("csv");
    a_file["shared"]["data.path"] = json!("/etc/passwd");
    assert!(refuse(a_file).contains("key `data.path`: the lab opens no file a page names"));
    // A client-named path is refused for generated data too (it would land in the archive's config).
    let mut a_path = quick_pair(10, 0.0);
    a_path["shared"]["data.path"] = json!("/etc/passwd");
    assert!(refuse(a_path).contains("key `data.path`: the lab opens no file a page names"));
    let mut no_data = quick_pair(10, 0.0);
    no_data["shared"]["data.kind"] = json!("csv");
    assert!(refuse(no_data).contains("\"csv\" trains on your own data"));
    let mut apart = quick_pair(10, 0.0);
    apart["runs"][1]["model.hidden"] = json!([4]);
    assert!(refuse(apart).contains("differ"));
    let mut slow = quick_pair(10, 0.0);
    slow["speed"] = json!(-3);
    assert!(refuse(slow).contains("speed"));
    assert!(
        server.post_raw("/api/labs", "{not json").json()["error"]
            .as_str()
            .unwrap()
            .starts_with("request body:")
    );

    // Two runs fit, a third does not.
    let id = lab_id(&server.create(&quick_pair(10, 0.0)));
    assert!(refuse(quick_pair(10, 0.0)).contains("holds 2 of its 2 runs"));
    let unknown_action = server.post(
        &format!("/api/labs/{id}/control"),
        &json!({ "action": "fly" }),
    );
    assert_eq!(unknown_action.status, 400);
    let missing = server.get("/api/labs/nope");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].as_str().unwrap().contains("no lab"));
    assert_eq!(
        server.get(&format!("/api/labs/{id}/runs/C/archive")).status,
        404
    );
    // Ending it frees its runs.
    assert_eq!(server.delete(&format!("/api/labs/{id}")).status, 204);
    server.create(&quick_pair(10, 0.0));
}

/// A run whose loss rose above its start says so live, under the run;
/// its partner at the lab's rate says nothing.
#[test]
fn a_run_whose_loss_rose_says_so_live() {
    let server = LabServer::start(&[]);
    let mut hot = quick_pair(5, 0.0);
    hot["runs"][1]["training.lr"] = json!(1000.0);
    let id = lab_id(&server.create(&hot));
    server.control(&id, json!({ "action": "start" }));
    let done = server.wait_for(&id, "the end", |s| all_in(s, "finished"));
    let rise = done["runs"][1]["rise"].as_str().unwrap_or_default();
    assert!(
        rise.starts_with("training loss rose from ")
            && rise.ends_with("the learning rate is likely too high (training.lr = 1000)"),
        "{}",
        done["runs"][1]
    );
    assert!(done["runs"][0]["rise"].is_null(), "{}", done["runs"][0]);
}

#[test]
fn a_downloaded_run_replays_resumes_and_predicts_on_the_command_line() {
    let server = LabServer::start(&[]);
    let id = lab_id(&server.create(&quick_pair(25, 0.0)));
    server.control(&id, json!({ "action": "start" }));
    server.wait_for(&id, "the end", |s| all_in(s, "finished"));
    let archive = server.get(&format!("/api/labs/{id}/runs/B/archive"));
    assert_eq!(archive.status, 200, "{}", archive.text());
    let folder = archive.header("x-archive-folder").unwrap().to_string();
    assert!(
        folder.contains("relu") && folder.ends_with("epoch25"),
        "{folder}"
    );

    let work = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(&archive.body[..]))
        .unpack(work.path())
        .unwrap();
    let dir = work.path().join(&folder);
    for file in [
        "config.toml",
        "metrics.csv",
        "model.safetensors",
        "checkpoint.toml",
        "result.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} is in the archive");
    }
    assert!(
        !dir.join(".lock").exists(),
        "the server's lock stays behind"
    );
    let dir_arg = dir.to_str().unwrap();

    // The config replays the run exactly on the same backend.
    let replay = work.path().join("replay");
    train_ok([
        "--config",
        &format!("{dir_arg}/config.toml"),
        "--backend",
        "flex",
        "--out",
        replay.to_str().unwrap(),
        "--quiet",
    ]);
    for column in [
        "loss",
        "train_loss",
        "val_loss",
        "train_accuracy",
        "val_accuracy",
    ] {
        assert_eq!(
            csv_column_text(&dir.join("metrics.csv"), column),
            csv_column_text(&replay.join("metrics.csv"), column),
            "{column} replays exactly"
        );
    }
    // It resumes and it predicts.
    train_ok(["--resume", dir_arg, "--epochs", "27", "--quiet"]);
    assert_eq!(csv_column_text(&dir.join("metrics.csv"), "loss").len(), 27);
    let points = work.path().join("points.csv");
    std::fs::write(&points, "x1,x2\n0,0\n3,3\n").unwrap();
    let predicted = train_ok([
        "predict",
        "--model",
        dir_arg,
        "--input",
        points.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&predicted.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn a_download_mid_run_resumes_where_the_page_left_it() {
    let server = LabServer::start(&[]);
    let id = lab_id(&server.create(&quick_pair(500, 50.0)));
    server.control(&id, json!({ "action": "start" }));
    server.wait_for(&id, "some epochs", |s| {
        s["runs"][0]["epoch"].as_u64() >= Some(4)
    });
    // Packed while training: checkpointed at that instant, and it trains on.
    let archive = server.get(&format!("/api/labs/{id}/runs/A/archive"));
    assert_eq!(archive.status, 200);
    let folder = archive.header("x-archive-folder").unwrap().to_string();
    let epoch: u64 = folder.rsplit("epoch").next().unwrap().parse().unwrap();
    server.wait_for(&id, "training on", |s| {
        s["runs"][0]["epoch"].as_u64() > Some(epoch) && s["runs"][0]["state"] == "running"
    });
    let work = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(&archive.body[..]))
        .unpack(work.path())
        .unwrap();
    let dir = work.path().join(&folder);
    let metrics = csv_column_text(&dir.join("metrics.csv"), "loss");
    assert_eq!(metrics.len() as u64, epoch);
    train_ok([
        "--resume",
        dir.to_str().unwrap(),
        "--epochs",
        &(epoch + 2).to_string(),
        "--quiet",
    ]);
    assert_eq!(
        csv_column_text(&dir.join("metrics.csv"), "loss").len() as u64,
        epoch + 2
    );
}

#[test]
fn a_lab_ends_when_its_page_goes_away() {
    let server = LabServer::start(&["--idle-timeout", "1"]);
    let id = lab_id(&server.create(&quick_pair(10_000, 20.0)));
    let runs = std::path::Path::new(&server.runs_dir).join(format!("{id}-A"));
    assert!(
        runs.join("checkpoint.toml").is_file(),
        "runs write their directories"
    );
    {
        let mut events = server.events(&id);
        assert_eq!(events.next().unwrap()["type"], "snapshot");
        server.control(&id, json!({ "action": "start" }));
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(
            server.get(&format!("/api/labs/{id}")).status,
            200,
            "watched, it lives"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.get(&format!("/api/labs/{id}")).status != 404 {
        assert!(Instant::now() < deadline, "the lab outlived its page");
        std::thread::sleep(Duration::from_millis(200));
    }
    while runs.exists() {
        assert!(Instant::now() < deadline, "its runs' directories stayed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_server_says_where_it_listens_and_refuses_a_taken_port() {
    let server = LabServer::start(&[]);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let port = server.url.rsplit(':').next().unwrap();
    let output = train_bin()
        .args(["serve", "--port", port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot listen on 127.0.0.1:") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let options = server.get("/api/options").json();
    assert_eq!(options["limits"]["max_samples"], 10_000);
    assert_eq!(options["limits"]["max_inputs"], 100);
    assert_eq!(options["limits"]["max_outputs"], 8);
    assert!(
        options["backends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == "flex")
    );

    // Any other address is allowed, with a warning.
    let mut open = train_bin()
        .args(["serve", "--listen", "0.0.0.0", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut warning = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(open.stderr.take().unwrap()),
        &mut warning,
    )
    .unwrap();
    let mut address = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(open.stdout.take().unwrap()),
        &mut address,
    )
    .unwrap();
    crate::common::send_signal(&open, "-TERM");
    assert!(open.wait().unwrap().success(), "a stopped server exits 0");
    assert!(
        warning.starts_with("warning: listening on 0.0.0.0:"),
        "{warning}"
    );
    assert!(
        address.starts_with("Activation Lab on http://0.0.0.0:"),
        "{address}"
    );
}

#[test]
fn a_lab_trains_on_every_compiled_backend_from_the_same_weights() {
    let server = LabServer::start(&[]);
    let options = server.get("/api/options").json();
    let compiled: Vec<&str> = BackendKind::compiled().iter().map(|k| k.name()).collect();
    assert_eq!(
        options["backends"],
        json!(compiled),
        "the lab offers what is compiled in"
    );
    let mut starts = Vec::new();
    for backend in options["backends"].as_array().unwrap() {
        let backend = backend.as_str().unwrap();
        if backend == "wgpu" && crate::common::wgpu_or_skip("lab on wgpu").is_none() {
            continue;
        }
        let mut request = quick_pair(3, 0.0);
        request["backend"] = json!(backend);
        let snapshot = server.create(&request);
        let id = lab_id(&snapshot);
        assert!(
            snapshot["lab"]["runs"][0]["backend"]
                .as_str()
                .unwrap()
                .starts_with(backend)
        );
        server.control(&id, json!({ "action": "start" }));
        let done = server.wait_for(&id, backend, |s| all_in(s, "finished"));
        for run in done["runs"].as_array().unwrap() {
            assert_eq!(run["records"].as_array().unwrap().len(), 3, "{backend}");
        }
        starts.push(snapshot["lab"]["runs"][0]["initial_weights_sha256"].clone());
        assert_eq!(server.delete(&format!("/api/labs/{id}")).status, 204);
    }
    assert!(!starts.is_empty(), "the lab offers no backend: {options}");
    if starts.len() < 2 {
        // The default build has flex alone; CI's second run (ndarray and
        // wgpu built in) compares three.
        eprintln!("skipping the lab's cross-backend comparison: one backend is compiled in");
        return;
    }
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "one seeded CPU generator gives every backend the same start: {starts:?}"
    );
}

/// A request with exactly these headers (and `Connection: close`).
fn request(method: &str, path: &str, headers: &[&str], body: &str) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    text
}

#[test]
fn the_lab_refuses_other_sites_and_answers_every_error_in_json() {
    let server = LabServer::start(&[]);
    let host = server.url.trim_start_matches("http://").to_string();
    let own = format!("Host: {host}");
    let json = "Content-Type: application/json".to_string();
    let pair = quick_pair(5, 0.0).to_string();
    let error_of = |(status, body): (u16, String)| -> (u16, String) {
        let value: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: not JSON: {body:?}"));
        (
            status,
            value["error"].as_str().unwrap_or_default().to_string(),
        )
    };

    // DNS rebinding: a page of another name that resolves to 127.0.0.1.
    let port = host.rsplit(':').next().unwrap();
    let rebound = format!("Host: evil.example:{port}");
    for path in ["/", "/api/options"] {
        let (status, message) =
            error_of(server.raw(&request("GET", path, &[rebound.as_str()], "")));
        assert_eq!(status, 403, "{path}");
        assert!(message.contains("is not this lab's address"), "{message}");
    }
    let (status, _) = server.raw(&request(
        "GET",
        "/api/options",
        &[&format!("Host: localhost:{port}")],
        "",
    ));
    assert_eq!(status, 200);

    // A cross-site form or "simple" fetch: text/plain, or another Origin.
    let plain = "Content-Type: text/plain".to_string();
    let (status, message) = error_of(server.raw(&request(
        "POST",
        "/api/labs",
        &[own.as_str(), plain.as_str()],
        &pair,
    )));
    assert_eq!(status, 403);
    assert!(message.contains("needs a JSON body"), "{message}");
    let evil = "Origin: http://evil.example".to_string();
    let (status, message) = error_of(server.raw(&request(
        "POST",
        "/api/labs",
        &[own.as_str(), json.as_str(), evil.as_str()],
        &pair,
    )));
    assert_eq!(status, 403);
    assert!(message.contains("cross-site request refused"), "{message}");
    assert_eq!(
        server.get("/api/options").json()["runs_in_use"],
        0,
        "nothing was started"
    );

    // The page itself: its own Origin.
    let same = format!("Origin: http://{host}");
    let (status, body) = server.raw(&request(
        "POST",
        "/api/labs",
        &[own.as_str(), json.as_str(), same.as_str()],
        &pair,
    ));
    assert_eq!(status, 201, "{body}");
    let id = lab_id(&serde_json::from_str(&body).unwrap());
    let (status, _) = server.raw(&request(
        "DELETE",
        &format!("/api/labs/{id}"),
        &[own.as_str(), evil.as_str()],
        "",
    ));
    assert_eq!(status, 403);
    let (status, _) = server.raw(&request(
        "DELETE",
        &format!("/api/labs/{id}"),
        &[own.as_str(), same.as_str()],
        "",
    ));
    assert_eq!(status, 204);

    // axum's own answers come as JSON too.
    let (status, message) = error_of(server.raw(&request(
        "PUT",
        "/api/options",
        &[own.as_str(), json.as_str()],
        "{}",
    )));
    assert_eq!(status, 405);
    assert!(message.contains("method not allowed"), "{message}");
    let (status, message) = error_of(server.raw(&request(
        "GET",
        "/api/nothing/here/at/all",
        &[own.as_str()],
        "",
    )));
    assert_eq!(status, 404, "{message}");
    let huge = format!("{{\"speed\": 0, \"pad\": \"{}\"}}", "x".repeat(3 << 20));
    let (status, message) = error_of(server.raw(&request(
        "POST",
        "/api/labs",
        &[own.as_str(), json.as_str()],
        &huge,
    )));
    assert_eq!(status, 413);
    assert!(message.contains("larger than the lab reads"), "{message}");
}

#[test]
fn off_loopback_every_api_request_needs_the_printed_token() {
    let server = LabServer::start(&["--listen", "0.0.0.0"]);
    let token = server
        .token
        .clone()
        .expect("the printed URL carries a token");
    assert_eq!(token.len(), 32, "{token}");
    let host = server.url.trim_start_matches("http://").to_string();
    let own = format!("Host: {host}");
    let (status, body) = server.raw(&request("GET", "/api/options", &[own.as_str()], ""));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("token"), "{body}");
    let wrong = format!("x-lab-token: {}", "0".repeat(32));
    assert_eq!(
        server
            .raw(&request(
                "GET",
                "/api/options",
                &[own.as_str(), wrong.as_str()],
                ""
            ))
            .0,
        403
    );
    let right = format!("x-lab-token: {token}");
    assert_eq!(
        server
            .raw(&request(
                "GET",
                "/api/options",
                &[own.as_str(), right.as_str()],
                ""
            ))
            .0,
        200
    );
    let query = format!("/api/options?token={token}");
    assert_eq!(
        server.raw(&request("GET", &query, &[own.as_str()], "")).0,
        200
    );
    // The page's files carry no secret: they load, and the page asks with the token.
    assert_eq!(server.raw(&request("GET", "/", &[own.as_str()], "")).0, 200);
    let snapshot = server.create(&quick_pair(3, 0.0));
    let id = lab_id(&snapshot);
    let first = server.events(&id).next().expect("a snapshot");
    assert_eq!(first["type"], "snapshot");
    assert_eq!(server.delete(&format!("/api/labs/{id}")).status, 204);
}

#[test]
fn the_page_sees_inside_each_network_diagram_regions_and_a_clicked_unit() {
    let server = LabServer::start(&[]);
    let id = lab_id(&server.create(&quick_pair(15, 0.0)));
    // B's panel shows its region map and hidden layer 1's second unit.
    server.control(
        &id,
        json!({ "action": "view", "run": "B", "regions": true, "unit": [0, 1] }),
    );
    let wrong = server.post(
        &format!("/api/labs/{id}/control"),
        &json!({ "action": "view", "run": "B", "unit": [2, 0] }),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    assert_eq!(
        wrong.json()["error"],
        "unit: run B has no unit 0 in hidden layer 2 (hidden [8, 8], both counted from 0)"
    );
    // Another action's field is refused, not ignored.
    let stray = server.post(
        &format!("/api/labs/{id}/control"),
        &json!({ "action": "start", "unit": [0, 0] }),
    );
    assert_eq!(stray.status, 400, "{}", stray.text());
    assert_eq!(stray.json()["error"], "unit: not a field of action `start`");
    server.control(&id, json!({ "action": "start" }));
    let done = server.wait_for(&id, "both runs to finish", |s| all_in(s, "finished"));
    let (a, b) = (&done["runs"][0], &done["runs"][1]);
    // The diagram: every layer's size, a thumbnail per hidden unit, the
    // weights between them.
    assert_eq!(b["diagram"]["sizes"], json!([2, 8, 8, 1]));
    assert_eq!(b["diagram"]["inputs"], json!(["x1", "x2"]));
    let layers = b["diagram"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    let side = b["diagram"]["resolution"].as_u64().unwrap() as usize;
    assert!(layers.iter().all(|layer| {
        layer.as_array().unwrap().len() == 8
            && layer.as_array().unwrap().iter().all(|unit| {
                unit["values"].as_array().unwrap().len() == side * side
                    && unit["low"].as_f64() <= unit["high"].as_f64()
            })
    }));
    let weights = b["diagram"]["weights"].as_array().unwrap();
    let shape: Vec<(usize, usize)> = weights
        .iter()
        .map(|w| (w.as_array().unwrap().len(), w[0].as_array().unwrap().len()))
        .collect();
    assert_eq!(shape, [(8, 2), (8, 8), (1, 8)]);
    // The regions: identity exactly 1 (its count only), relu many, drawn.
    assert_eq!(a["regions"]["kind"], "exact");
    assert_eq!(a["regions"]["count"], 1);
    assert!(a["regions"]["polygons"].is_null());
    let count = b["regions"]["count"].as_u64().unwrap();
    assert!(count > 1, "{}", b["regions"]);
    assert_eq!(
        b["regions"]["polygons"].as_array().unwrap().len() as u64,
        count
    );
    // Counted over training: identity 1 every time, the last at the end.
    let counts = a["region_counts"].as_array().unwrap();
    assert!(
        !counts.is_empty() && counts.iter().all(|c| c[1] == 1),
        "{counts:?}"
    );
    assert_eq!(
        b["region_counts"].as_array().unwrap().last().unwrap(),
        &json!([15, count])
    );
    // The clicked unit over the picture's 48 x 48 grid; a relu unit's
    // output is its pre-activation where that is positive, else 0.
    let focus = &b["focus"];
    assert_eq!(
        (focus["layer"].as_u64(), focus["unit"].as_u64()),
        (Some(0), Some(1))
    );
    let pre = focus["pre"].as_array().unwrap();
    let post = focus["post"].as_array().unwrap();
    assert_eq!((pre.len(), post.len()), (48 * 48, 48 * 48));
    assert!(pre.iter().zip(post).all(|(z, y)| {
        let (z, y) = (z.as_f64().unwrap(), y.as_f64().unwrap());
        (y - z.max(0.0)).abs() < 1e-5
    }));
    assert!(a["focus"].is_null());

    // A smooth pair: no regions, said why; the diagram still drawn.
    let id = lab_id(&server.create(&json!({
        "shared": { "data.samples": 100, "training.epochs": 2 },
        "runs": [ { "model.activation": "tanh" } ],
        "speed": 0,
    })));
    server.control(&id, json!({ "action": "view", "regions": true }));
    let snapshot = server.get(&format!("/api/labs/{id}")).json();
    let run = &snapshot["runs"][0];
    assert_eq!(run["regions"]["kind"], "none");
    assert!(
        run["regions"]["why"]
            .as_str()
            .unwrap()
            .starts_with("tanh is smooth")
    );
    assert_eq!(run["diagram"]["layers"].as_array().unwrap().len(), 2);
}

/// A ring around a disc as CSV with a header (`a,b,label`): the classes
/// interleaved, so the validation share (the last rows) holds both.
pub fn ring_csv(rows: usize) -> String {
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        let angle = i as f64 * 2.399_963;
        let inner = i % 2 == 0;
        let radius = if inner {
            0.1 + 0.35 * ((i * 37 % 100) as f64 / 100.0)
        } else {
            0.7 + 0.3 * ((i * 53 % 100) as f64 / 100.0)
        };
        text += &format!(
            "{:.4},{:.4},{}\n",
            radius * angle.cos(),
            radius * angle.sin(),
            u8::from(inner)
        );
    }
    text
}

/// A pair on the page's own data: its CSV text under `name`.
fn own_pair(name: &str, csv: &str, epochs: usize) -> Value {
    json!({
        "shared": { "data.kind": "csv", "data.inputs": null, "data.noise_std": null, "data.samples": null,
                    "data.validation_fraction": 0.2, "model.input": 2, "training.epochs": epochs, "training.lr": 0.03 },
        "runs": [ { "model.activation": "identity" }, { "model.activation": "relu" } ],
        "data": { "name": name, "csv": csv },
        "speed": 0,
    })
}

#[test]
fn the_pages_own_data_is_read_as_a_file_trains_and_its_archive_replays_anywhere() {
    let server = LabServer::start(&[]);
    let refuse = |request: Value| {
        let reply = server.post("/api/labs", &request);
        assert_eq!(reply.status, 400, "{}", reply.text());
        reply.json()["error"].as_str().unwrap().to_string()
    };
    // The reader's own messages, naming the page's name for the data, as
    // the command line names a file `mine.csv` in its working directory.
    let bad = "a,b,label\n0.1,0.2,1\n0.3,abc,0\n";
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("mine.csv"), bad).unwrap();
    std::fs::write(
        work.path().join("mine.toml"),
        "[data]\nkind = \"csv\"\npath = \"mine.csv\"\n[model]\ninput = 2\nhidden = [4]\n",
    )
    .unwrap();
    let cli = train_bin()
        .current_dir(work.path())
        .args(["--config", "mine.toml", "--epochs", "1"])
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(2));
    let cli = String::from_utf8_lossy(&cli.stderr).trim().to_string();
    let page = refuse(own_pair("mine.csv", bad, 5));
    assert_eq!(format!("error: {page}"), cli);
    assert_eq!(page, "mine.csv: row 3, column 2 (b): `abc` is not a number");
    let wide = refuse(own_pair("wide.csv", "a,b,c,y\n1,2,3,0\n", 5));
    assert!(
        wide.starts_with("wide.csv: 3 feature columns; the lab draws"),
        "{wide}"
    );
    let big = refuse(own_pair("big.csv", &"0.5,0.5,1\n".repeat(110_000), 5));
    assert!(
        big.contains("1100000 bytes; the lab takes at most 1000000"),
        "{big}"
    );
    let labels = refuse(own_pair("soft.csv", "a,b,y\n1,2,0\n3,4,0.5\n", 5));
    assert!(
        labels.contains("needs 0/1 targets, but data row 2 of soft.csv has 0.5"),
        "{labels}"
    );

    // Good data: drawn from its own points, trained, and relu wins.
    let snapshot = server.create(&own_pair("ring.csv", &ring_csv(300), 150));
    let points = &snapshot["lab"]["points"];
    assert_eq!(points["own"], true);
    assert_eq!(points["rows"].as_array().unwrap().len(), 300);
    assert_eq!(points["validation_from"], 240);
    assert_eq!(points["inputs"], json!(["a", "b"]));
    assert!(points["bounds"].is_array(), "2 features: a surface");
    let id = lab_id(&snapshot);
    server.control(&id, json!({ "action": "start" }));
    let done = server.wait_for(&id, "the end", |s| all_in(s, "finished"));
    let accuracy = |run: usize| {
        let records = done["runs"][run]["records"].as_array().unwrap();
        records.last().unwrap()["val_accuracy"].as_f64().unwrap()
    };
    assert!(
        accuracy(1) >= 0.9 && accuracy(1) > accuracy(0) + 0.2,
        "{}",
        summary(&done)
    );

    // The archive carries the data; its config names it relative to itself,
    // so the config replays the run from any working directory.
    let archive = server.get(&format!("/api/labs/{id}/runs/B/archive"));
    assert_eq!(archive.status, 200);
    let folder = archive.header("x-archive-folder").unwrap().to_string();
    let unpacked = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(&archive.body[..]))
        .unpack(unpacked.path())
        .unwrap();
    let dir = unpacked.path().join(&folder);
    assert_eq!(
        std::fs::read_to_string(dir.join("data.csv")).unwrap(),
        ring_csv(300)
    );
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("path = \"data.csv\""), "{config}");
    let elsewhere = tempfile::tempdir().unwrap();
    let replay = train_bin()
        .current_dir(elsewhere.path())
        .args([
            "--config",
            dir.join("config.toml").to_str().unwrap(),
            "--out",
            "replay",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_eq!(
        csv_column_text(&elsewhere.path().join("replay/metrics.csv"), "loss"),
        csv_column_text(&dir.join("metrics.csv"), "loss"),
        "the download replays to the digit"
    );
}
