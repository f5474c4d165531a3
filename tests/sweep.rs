//! `train sweep`: a grid run whole, in shards at once, killed and rerun,
//! and reported; the results must not depend on how it was run.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{
    csv_column, csv_column_text, path_str, repo_root, train_bin, train_ok, user_error,
};

/// A sweep of 8 small points on `circle` (2 activations x 2 rates x 2 seeds).
fn sweep_file(dir: &Path) -> PathBuf {
    let base = repo_root().join("config/circle.toml");
    write_sweep(
        dir,
        "sweep.toml",
        &format!(
            "base = \"{}\"\n[axes]\n\"model.activation\" = [\"identity\", \"relu\"]\n\
             \"training.lr\" = [0.01, 0.03]\nseed = [0, 1]\n\"training.epochs\" = [12]\n",
            base.display()
        ),
    )
}

/// A sweep file named `name` in `dir` holding `toml`.
fn write_sweep(dir: &Path, name: &str, toml: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, toml).unwrap();
    path
}

/// `train sweep run SWEEP --out OUT`, to be given more flags, output and env.
fn sweep_run(sweep: &Path, out: &Path) -> std::process::Command {
    let mut command = train_bin();
    command.args(["sweep", "run", path_str(sweep), "--out", path_str(out)]);
    command
}

/// Every point's result and metrics, without the wall-clock values.
pub fn results(out: &Path) -> BTreeMap<String, (serde_json::Value, String)> {
    let mut all = BTreeMap::new();
    for entry in fs::read_dir(out.join("points")).unwrap() {
        let dir = entry.unwrap().path();
        let id = dir.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(dir.join("result.json"))
            .unwrap_or_else(|_| panic!("point {id} has no result"));
        let mut result: serde_json::Value = serde_json::from_str(&text).unwrap();
        result.as_object_mut().unwrap().remove("seconds");
        let metrics = fs::read_to_string(dir.join("metrics.csv")).unwrap();
        let without_time: Vec<String> = metrics
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                // Column 3 is elapsed_s.
                [&cells[..2], &cells[3..]].concat().join(",")
            })
            .collect();
        all.insert(id, (result, without_time.join("\n")));
    }
    all
}

/// The ids in the completions log, each with how often it was completed.
pub fn completions(out: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let log = fs::read_to_string(out.join("completions.log")).unwrap_or_default();
    for id in log.lines() {
        *counts.entry(id.to_string()).or_insert(0) += 1;
    }
    counts
}

/// Runs `command` with its output discarded; whether it succeeded.
fn succeeds_quietly(mut command: std::process::Command) -> bool {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn three_shards_at_once_equal_one_process_point_for_point() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path());
    let single = dir.path().join("single");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&single)]);
    let reference = results(&single);
    assert_eq!(reference.len(), 8);

    let sharded = dir.path().join("sharded");
    let children: Vec<_> = (0..3)
        .map(|shard| {
            train_bin()
                .args([
                    "sweep",
                    "run",
                    path_str(&sweep),
                    "--out",
                    path_str(&sharded),
                ])
                .args(["--shard", &format!("{shard}/3")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(results(&sharded), reference);
    let counts = completions(&sharded);
    assert_eq!(counts.len(), 8);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");

    // Slurm's array variables pick the same share as --shard.
    let slurm = dir.path().join("slurm");
    let output = train_bin()
        .args([
            "sweep",
            "run",
            path_str(&sweep),
            "--out",
            path_str(&slurm),
            "--shard",
            "auto",
        ])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shard 1/3 takes 3"), "{stderr}");
}

#[test]
fn a_sweep_killed_at_any_moment_and_rerun_ends_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path());
    let reference_dir = dir.path().join("reference");
    train_ok([
        "sweep",
        "run",
        path_str(&sweep),
        "--out",
        path_str(&reference_dir),
    ]);
    let reference = results(&reference_dir);

    let out = dir.path().join("killed");
    let mut killed_mid_way = 0;
    // Kill at growing instants until a run gets to the end by itself.
    for millis in (0..15u64).map(|k| 20 + 50 * k) {
        let mut child = train_bin()
            .args([
                "sweep",
                "run",
                path_str(&sweep),
                "--out",
                path_str(&out),
                "--jobs",
                "2",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(millis));
        // The whole group: the sweep and the point it is training, as a scheduler would.
        let group = format!("-{}", child.id());
        let _ = std::process::Command::new("kill")
            .args(["-9", "--", &group])
            .status();
        if child.wait().unwrap().success() {
            break;
        }
        killed_mid_way += 1;
    }
    let output = train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("0 failed"), "{summary}");
    assert_eq!(results(&out), reference);
    let counts = completions(&out);
    assert!(
        counts.values().all(|&n| n == 1),
        "a point completed twice: {counts:?}"
    );
    eprintln!("sweep kill -9: {killed_mid_way} kills landed mid-sweep");
    assert!(
        killed_mid_way >= 2,
        "only {killed_mid_way} kills landed mid-sweep"
    );
}

#[test]
fn bad_axes_are_refused_before_any_point_runs_and_report_counts_the_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        "[axes]\n\"training.lr\" = [0.001, -1.0]\n\"model.activation\" = [\"relu\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let error = user_error(&["sweep", "run", path_str(&bad), "--out", path_str(&out)]);
    assert_eq!(
        error,
        format!(
            "{}: axis `training.lr` value -1.0: must be > 0 and finite in float32 (got -1)",
            bad.display()
        )
    );
    assert!(!out.join("points").exists(), "nothing ran");

    let sweep = sweep_file(dir.path());
    let half = dir.path().join("half");
    train_ok([
        "sweep",
        "run",
        path_str(&sweep),
        "--out",
        path_str(&half),
        "--shard",
        "0/2",
    ]);
    let output = train_ok(["sweep", "report", path_str(&half)]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("8 points: 4 done (0 diverged), 4 missing"),
        "{text}"
    );
    // Half a grid has no balanced cells: the importance is estimated.
    assert!(text.contains("over 4 done points (estimated:"), "{text}");
    let error = user_error(&[
        "sweep",
        "report",
        path_str(&half),
        "--heatmap",
        "seed,training.speed",
    ]);
    assert!(error.contains("both keys must be axes"), "{error}");

    // The rest, two at a time; then the report is whole and draws its heatmap.
    train_ok([
        "sweep",
        "run",
        path_str(&sweep),
        "--out",
        path_str(&half),
        "--jobs",
        "2",
    ]);
    let output = train_ok([
        "sweep",
        "report",
        path_str(&half),
        "--heatmap",
        "model.activation,training.lr",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("8 points: 8 done (0 diverged), 0 missing"),
        "{text}"
    );
    let sweep_csv = fs::read_to_string(half.join("sweep.csv")).unwrap();
    assert_eq!(sweep_csv.lines().count(), 9);
    let summary = fs::read_to_string(half.join("summary.csv")).unwrap();
    assert_eq!(
        summary.lines().count(),
        5,
        "4 groups over 2 seeds: {summary}"
    );
    assert!(
        half.join("heatmap_model_activation_training_lr.png")
            .exists()
    );
    // The whole grid: an exact ANOVA whose shares (three axes, three pairs,
    // the rest) add up to one; and every point's line in the picture.
    assert!(text.contains("over 8 done points (exact ANOVA"), "{text}");
    let shares = csv_column(&half.join("importance.csv"), "share");
    assert_eq!(shares.len(), 7);
    assert!(
        (shares.iter().sum::<f64>() - 1.0).abs() < 1e-9,
        "{shares:?}"
    );
    let parallel = fs::read_to_string(half.join("parallel.svg")).unwrap();
    assert!(
        parallel.contains("8 done points of 8"),
        "title says how many"
    );
    assert!(half.join("parallel.png").exists());

    // Another sweep may not share the directory.
    let other = dir.path().join("other.toml");
    fs::write(&other, "[axes]\nseed = [5]\n").unwrap();
    let error = user_error(&["sweep", "run", path_str(&other), "--out", path_str(&half)]);
    assert!(error.contains("holds another sweep"), "{error}");
}

#[test]
fn the_slurm_and_kubernetes_files_run_the_sweep_their_way() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path());
    let single = dir.path().join("single");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&single)]);
    let reference = results(&single);
    let train = env!("CARGO_BIN_EXE_train");
    let deploy = repo_root().join("deploy");

    // Slurm: every array task runs the batch script with its own task id.
    let slurm = dir.path().join("slurm");
    for task in 0..3 {
        let mut command = std::process::Command::new("bash");
        command
            .arg(deploy.join("slurm/sweep.sbatch"))
            .args([path_str(&sweep), path_str(&slurm), "3"])
            .env("TRAIN", train)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "3");
        assert!(succeeds_quietly(command), "array task {task}");
    }
    assert_eq!(results(&slurm), reference);

    // Kubernetes: the Indexed Job's command, once per completion index, with
    // the volumes' paths pointed at this test's files.
    let text = fs::read_to_string(deploy.join("kubernetes/sweep-job.yaml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let spec = &docs[0]["spec"];
    assert_eq!(docs[0]["kind"].as_str(), Some("Job"));
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().unwrap() as usize;
    let container = &spec["template"]["spec"]["containers"][0];
    let command: Vec<String> = container["command"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|part| part.as_str().unwrap().to_string())
        .collect();
    assert_eq!(command[0], "train");
    let shard_count = command.iter().position(|c| c == "--shard-count").unwrap();
    assert_eq!(command[shard_count + 1], completions.to_string());
    let k8s = dir.path().join("k8s");
    for index in 0..completions {
        let args: Vec<String> = command[1..]
            .iter()
            .map(|part| match part.as_str() {
                "/sweeps/sweep.toml" => path_str(&sweep).to_string(),
                "/data/sweep" => path_str(&k8s).to_string(),
                other => other.to_string(),
            })
            .collect();
        let mut command = std::process::Command::new(train);
        command
            .args(&args)
            .env("JOB_COMPLETION_INDEX", index.to_string());
        assert!(succeeds_quietly(command), "completion index {index}");
    }
    assert_eq!(results(&k8s), reference);

    // The image the Job names is the one the Dockerfile builds, with `train` on PATH.
    let dockerfile = fs::read_to_string(deploy.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("COPY --from=build /usr/local/bin/train /usr/local/bin/train"));
    assert!(text.contains("docker build -f deploy/Dockerfile -t activation-lab ."));
    assert_eq!(container["image"].as_str(), Some("activation-lab:latest"));
}

#[test]
fn a_diverged_point_is_recorded_once_and_a_failed_one_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(
        dir.path(),
        "lr.toml",
        "[axes]\n\"training.lr\" = [0.001, 1e6]\n\"training.epochs\" = [3]\n",
    );
    let out = dir.path().join("out");
    // Every checkpoint write fails as a full disk would: both points fail,
    // neither is done, and each keeps its error.
    let output = sweep_run(&sweep, &out)
        .env("ACTLAB_FAILPOINTS", "checkpoint::rename=return(enospc)")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: 2 point(s) failed"), "{stderr}");
    let errors: Vec<String> = fs::read_dir(out.join("points"))
        .unwrap()
        .map(|entry| fs::read_to_string(entry.unwrap().path().join("error.txt")).unwrap())
        .collect();
    assert_eq!(errors.len(), 2);
    assert!(
        errors.iter().all(|e| e.contains("No space left on device")),
        "{errors:?}"
    );

    // Rerun: both are retried; the huge learning rate diverges and is recorded.
    let output = train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("1 finished now, 1 diverged now"),
        "{summary}"
    );
    let output = train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("2 done before, 0 finished now, 0 diverged now"),
        "{summary}"
    );
    let report = train_ok(["sweep", "report", path_str(&out)]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.starts_with("2 points: 2 done (1 diverged), 0 missing"),
        "{text}"
    );
    let status = crate::common::csv_column_text(&out.join("sweep.csv"), "status");
    assert_eq!(status, ["done", "diverged"]);
    for entry in fs::read_dir(out.join("points")).unwrap() {
        assert!(
            !entry.unwrap().path().join("error.txt").exists(),
            "errors are cleared"
        );
    }
}

#[test]
fn concurrent_sweeps_of_diverging_points_log_each_completion_once() {
    let dir = tempfile::tempdir().unwrap();
    // Eight points that diverge in their first epochs (as in the report of
    // 16-22 completions for 16 points).
    let sweep = write_sweep(
        dir.path(),
        "diverging.toml",
        "[axes]\n\"training.lr\" = [1e5, 2e5, 3e5, 4e5]\nseed = [0, 1]\n\"training.epochs\" = [3]\n",
    );
    for round in 0..20 {
        let out = dir.path().join(format!("round-{round}"));
        let children: Vec<_> = (0..3)
            .map(|_| {
                sweep_run(&sweep, &out)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            child.wait().unwrap();
        }
        let counts = completions(&out);
        assert_eq!(counts.len(), 8, "round {round}: {counts:?}");
        assert!(
            counts.values().all(|&n| n == 1),
            "round {round}: a point completed twice: {counts:?}"
        );
    }
}

#[test]
fn a_damaged_result_is_reported_as_missing_and_retrained() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path());
    let out = dir.path().join("out");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let reference = results(&out);
    let (id, _) = reference.iter().next().unwrap();
    let result = out.join("points").join(id).join("result.json");
    let text = fs::read_to_string(&result).unwrap();
    fs::write(&result, &text[..text.len() / 2]).unwrap();

    let report = train_bin()
        .args(["sweep", "report", path_str(&out)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(report.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: point {id}: "))
            && stderr.contains("counted as not done"),
        "{stderr}"
    );
    assert!(out.join("sweep.csv").exists());

    let rerun = train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(stdout.contains("7 done before"), "{stdout}");
    assert_eq!(results(&out), reference);
}

#[test]
fn a_completions_log_planted_as_a_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(
        dir.path(),
        "one.toml",
        "[axes]\nseed = [0]\n\"training.epochs\" = [1]\n",
    );
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("completions.log")).unwrap();
    let output = sweep_run(&sweep, &out).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("completions.log is a symbolic link"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn a_sweep_over_the_seed_config_reports_its_training_loss() {
    // No validation part, no diagnostics, mse: the seed's own settings.
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(
        dir.path(),
        "seed.toml",
        "[axes]\n\"model.activation\" = [\"identity\", \"relu\"]\nseed = [0, 1]\n\"training.epochs\" = [3]\n",
    );
    let out = dir.path().join("out");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let report = train_ok(["sweep", "report", path_str(&out)]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        text.contains("final train_loss"),
        "the report names its metric: {text}"
    );
    let summary = out.join("summary.csv");
    assert_eq!(csv_column(&summary, "runs"), [2.0, 2.0], "{text}");
    let finals = csv_column(&summary, "final_train_loss_mean");
    assert!(
        finals.iter().all(|v| v.is_finite() && *v > 0.0),
        "{finals:?}"
    );
}

#[test]
fn a_random_search_draws_the_same_rates_for_every_activation_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo_root().join("config/circle.toml");
    let sweep = write_sweep(
        dir.path(),
        "random.toml",
        &format!(
            "base = \"{}\"\nsamples = 3\nsample_seed = 5\n[axes]\n\
             \"model.activation\" = [\"identity\", \"relu\"]\n\
             \"training.lr\" = {{ log_uniform = [1e-3, 1e-1] }}\n\"training.epochs\" = [3]\n",
            base.display()
        ),
    );
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&one)]);
    for shard in ["0/2", "1/2"] {
        train_ok([
            "sweep",
            "run",
            path_str(&sweep),
            "--out",
            path_str(&two),
            "--shard",
            shard,
        ]);
    }
    // The same plan from one process and from two shards, point for point.
    assert_eq!(results(&one), results(&two));
    let plan = fs::read_to_string(one.join("sweep.json")).unwrap();
    assert!(plan.contains("log_uniform"), "{plan}");
    let output = train_ok(["sweep", "report", path_str(&one)]);
    let rates = csv_column_text(&one.join("sweep.csv"), "training.lr");
    assert_eq!(rates.len(), 6);
    assert_eq!(
        rates[..3],
        rates[3..],
        "each activation gets the same three draws"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("over 6 done points (estimated:"), "{text}");
    assert!(one.join("parallel.png").exists() && one.join("importance.csv").exists());
}

#[test]
fn a_point_another_process_holds_is_waited_for_then_finished() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_file(dir.path());
    let out = dir.path().join("out");
    train_ok(["sweep", "run", path_str(&sweep), "--out", path_str(&out)]);
    let reference = results(&out);
    // A point whose process has trained it but not yet written its result,
    // and still holds it (a cancelled task saving its checkpoint).
    let (id, _) = reference.iter().next().unwrap();
    let point = out.join("points").join(id);
    fs::remove_file(point.join("result.json")).unwrap();
    let held = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(point.join(".lock"))
        .unwrap();
    held.lock().unwrap();

    let mut child = sweep_run(&sweep, &out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("waiting for it") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "the sweep ended without waiting: {seen}");
        seen.push_str(&line);
    }
    assert!(seen.contains(&format!("{id}: being written by ")), "{seen}");
    drop(held);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{seen}{stdout}");
    assert!(
        stdout.contains("7 done before, 1 finished now, 0 diverged now, 0 busy elsewhere"),
        "{stdout}"
    );
    assert_eq!(results(&out), reference);
}

#[test]
fn a_sweep_signalled_alone_stops_its_point_at_a_checkpoint_and_exits_as_stopped() {
    // Kubernetes (and `kill PID`) signal the sweep's own process only: it
    // passes the signal on to the point it trains, waits for that point's
    // checkpoint and exits as a stopped run does, leaving nothing running.
    let dir = tempfile::tempdir().unwrap();
    let sweep = write_sweep(
        dir.path(),
        "long.toml",
        "[axes]\nseed = [0]\n\"training.epochs\" = [20000]\n",
    );
    let out = dir.path().join("out");
    let child = sweep_run(&sweep, &out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = |point: &Path| point.join("checkpoints").is_dir();
    let point = loop {
        let found = fs::read_dir(out.join("points"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|point| started(point));
        if let Some(point) = found {
            break point;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    crate::common::send_signal(&child, "-TERM");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("stopped after its checkpoint; resumed by the next run")
            && stderr.contains(
                "error: sweep stopped by SIGTERM: 1 of its 1 points not done; run the same command again to resume them"
            ),
        "{stderr}"
    );
    // Stopped, not failed: a checkpoint past the first, no result, no error,
    // and no process holding the point any more.
    assert!(!point.join("result.json").exists() && !point.join("error.txt").exists());
    let past_the_first = fs::read_dir(point.join("checkpoints"))
        .unwrap()
        .flatten()
        .any(|entry| entry.file_name() != "step-0");
    assert!(past_the_first, "no checkpoint was written at the stop");
    let epochs = csv_column(&point.join("metrics.csv"), "epoch");
    assert!(
        !epochs.is_empty() && epochs.len() < 20000,
        "{} epochs",
        epochs.len()
    );
    let lock = fs::File::open(point.join(".lock")).unwrap();
    assert!(lock.try_lock().is_ok(), "the point is still held");
}
