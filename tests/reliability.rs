//! A run's work is never lost, never silently wrong and never overwritten:
//! crashes at every step of a checkpoint (fail points), `kill -9` at random
//! instants, a full disk, two writers, signals, divergence, and input that
//! used to panic.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use train::io::run_dir::CHECKPOINT_FAIL_POINTS;

use crate::common::{
    fixture, loss_texts, path_str, send_signal, train_bin, train_fails, train_fails_within,
    train_ok, user_error,
};

/// Seed-size runs: 6 epochs, a checkpoint every 2 (and the one of step 0).
const EPOCHS: &str = "6";

fn straight_run(dir: &Path) -> Vec<String> {
    let out = dir.join("straight");
    train_ok(["--epochs", EPOCHS, "-q", "--out", path_str(&out)]);
    loss_texts(&out)
}

/// Runs `train --epochs 6 --checkpoint-every 2 --out DIR` with `ACTLAB_FAILPOINTS`.
fn run_with_fail_point(out: &Path, fail_points: &str) -> std::process::Output {
    train_bin()
        .args(["--epochs", EPOCHS, "--checkpoint-every", "2", "-q", "--out"])
        .arg(out)
        .env("ACTLAB_FAILPOINTS", fail_points)
        .output()
        .unwrap()
}

/// Continues a killed run to its end as a user would: `--resume`, unless
/// the run had already finished, or died before its first checkpoint was
/// complete (then it starts again with `fresh_args` and `--out`). Returns
/// whether it resumed.
fn finish(out: &Path, fresh_args: &[&str]) -> bool {
    let output = train_bin()
        .args(["--resume", path_str(out), "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let never_checkpointed = ["no such directory", "no checkpoint to resume from"];
    if never_checkpointed
        .iter()
        .any(|reason| stderr.contains(reason))
    {
        train_ok(fresh_args.iter().copied().chain(["--out", path_str(out)]));
        return false;
    }
    let finished = stderr.contains(" has trained all ");
    assert!(output.status.success() || finished, "{stderr}");
    !finished
}

/// Every file under `dir`, relative, with its SHA-256 (the lock file aside).
fn digests(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().unwrap() != ".lock" {
                let digest = format!("{:x}", Sha256::digest(std::fs::read(&path).unwrap()));
                found.push((path.strip_prefix(dir).unwrap().to_path_buf(), digest));
            }
        }
    }
    found.sort();
    found
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    digests(dir)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.to_string_lossy().contains(".partial-"))
        .collect()
}

#[test]
fn a_crash_at_every_step_of_a_checkpoint_resumes_to_the_straight_run() {
    let dir = tempfile::tempdir().unwrap();
    let straight = straight_run(dir.path());
    for (index, point) in CHECKPOINT_FAIL_POINTS.iter().enumerate() {
        let out = dir.path().join(format!("crash{index}"));
        // Pass the checkpoint of step 0, abort in the one of epoch 2.
        let output = run_with_fail_point(&out, &format!("{point}=1*off->return(abort)"));
        assert_eq!(
            output.status.code(),
            None,
            "{point}: the process was not killed"
        );
        finish(&out, &["--epochs", EPOCHS, "-q"]);
        assert_eq!(loss_texts(&out), straight, "{point}");
        assert!(leftovers(&out).is_empty(), "{point}: {:?}", leftovers(&out));
    }
}

#[test]
fn a_full_disk_at_any_write_is_a_clear_error_and_the_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let straight = straight_run(dir.path());
    for (index, point) in CHECKPOINT_FAIL_POINTS.iter().enumerate() {
        let out = dir.path().join(format!("full{index}"));
        let output = run_with_fail_point(&out, &format!("{point}=1*off->return(enospc)"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{point}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{point}: {stderr}");
        assert!(
            errors[0].ends_with("No space left on device (os error 28)"),
            "{point}: {stderr}"
        );
        assert!(errors[0].contains(path_str(&out)), "{point}: {stderr}");
        finish(&out, &["--epochs", EPOCHS, "-q"]);
        assert_eq!(loss_texts(&out), straight, "{point}");
    }
}

/// A small deterministic generator for the kill instants.
fn next_fraction(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn kill_9_at_random_instants_never_loses_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--epochs", "30", "--checkpoint-every", "1", "-q"];
    let straight_dir = dir.path().join("straight");
    let started = Instant::now();
    train_ok(
        args.iter()
            .copied()
            .chain(["--out", path_str(&straight_dir)]),
    );
    let duration = started.elapsed();
    let straight = loss_texts(&straight_dir);
    let mut state = 0x5eed;
    let mut resumed = 0;
    // The straight run's time is one sample on a shared machine: when a
    // kill comes after the run has finished, the next ones aim earlier.
    let mut window = duration;
    for trial in 0..30 {
        let out = dir.path().join(format!("kill{trial}"));
        let mut child = train_bin()
            .args(args)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(window.mul_f64(next_fraction(&mut state)));
        child.kill().unwrap();
        child.wait().unwrap();
        if out.join("result.json").exists() {
            window = window.mul_f64(0.7);
        }
        resumed += usize::from(finish(&out, &args));
        assert_eq!(loss_texts(&out), straight, "trial {trial}");
        assert!(
            leftovers(&out).is_empty(),
            "trial {trial}: {:?}",
            leftovers(&out)
        );
    }
    eprintln!("kill -9: {resumed} of 30 runs were killed mid-run and resumed");
    assert!(resumed >= 10, "only {resumed} of 30 kills landed mid-run");
}

fn spawn_long_run(out: &Path) -> Child {
    train_bin()
        .args([
            "--epochs",
            "1000000",
            "--checkpoint-every",
            "50",
            "-q",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{path:?} never appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn one_writer_per_run_directory_and_sigterm_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let first = spawn_long_run(&out);
    wait_for(&out.join("checkpoint.toml"));
    let shown = path_str(&out);
    let holder = format!("{shown} is being written by pid {} on ", first.id());
    for args in [
        vec!["--epochs", "3", "--out", shown],
        vec!["--resume", shown],
        vec!["diagnose", "--epochs", "1", "--out", shown],
        vec!["compare", "--epochs", "1", "--out", shown],
    ] {
        // Its own exit code: a sweep's parent tells "left to another process" by it.
        let message = train_fails(4, &args, &[]);
        assert!(message.starts_with(&holder), "{args:?}: {message}");
        assert!(
            message.ends_with("; wait for it to finish or choose another directory"),
            "{message}"
        );
    }

    // SIGTERM stops it like a first Ctrl-C: a checkpoint, then exit 143.
    send_signal(&first, "-TERM");
    let output = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: interrupted by SIGTERM at epoch "),
        "{stderr}"
    );
    assert!(
        last.ends_with(&format!("continue with `train --resume {shown}`")),
        "{last}"
    );

    // The stopped run's files are its own: diagnose and compare refuse it.
    let before = digests(&out);
    for command in ["diagnose", "compare"] {
        assert_eq!(
            user_error(&[command, "--epochs", "1", "--out", shown]),
            format!(
                "{shown} holds a training run (checkpoints); `train {command}` would replace \
                 its files: choose another --out"
            )
        );
    }
    assert_eq!(digests(&out), before);
}

/// Whether `text` spells a non-finite number the way Rust or TOML would.
fn has_non_finite(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric()).any(|word| {
        matches!(
            word.to_ascii_lowercase().as_str(),
            "nan" | "inf" | "infinity"
        )
    })
}

/// The float32 values of a safetensors file.
fn safetensors_values(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + length..]
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes(chunk.try_into().unwrap()))
        .collect()
}

#[test]
fn divergence_stops_the_run_keeping_the_last_finite_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let message = train_fails(
        3,
        &[
            "--epochs",
            "5",
            "--lr",
            "1e6",
            "-q",
            "--out",
            path_str(&out),
        ],
        &[],
    );
    let epoch: usize = message
        .strip_prefix("training diverged in epoch ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|epoch| epoch.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!(
        message.contains("; likely cause: a learning rate too high (training.lr = 1000000; the seed's is 0.001); "),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "{} keeps its last finite checkpoint, epoch {}",
            out.display(),
            epoch - 1
        )),
        "{message}"
    );
    for (path, _) in digests(&out) {
        let full = out.join(&path);
        if path.extension().is_some_and(|e| e == "safetensors") {
            assert!(
                safetensors_values(&full).iter().all(|v| v.is_finite()),
                "{path:?}"
            );
        } else if path.extension().is_some_and(|e| e == "csv" || e == "toml") {
            let text = std::fs::read_to_string(&full).unwrap();
            assert!(!has_non_finite(&text), "{path:?}: {text}");
        }
    }
    // A diverged run is finished: a plain resume refuses to train it again;
    // asked for more epochs, what was kept resumes (and diverges again the
    // same way), rather than failing to read its own files.
    let refused = user_error(&["--resume", path_str(&out), "-q"]);
    assert_eq!(
        refused,
        format!(
            "{} diverged in epoch {epoch} and is finished (its last finite checkpoint is epoch \
             {}); to train it again anyway pass --epochs N with N > 5",
            out.display(),
            epoch - 1
        )
    );
    let again = train_fails(3, &["--resume", path_str(&out), "--epochs", "6", "-q"], &[]);
    assert_eq!(again, message);
}

#[test]
fn data_of_a_scale_float32_cannot_square_diverges_naming_the_scale() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("loud.toml");
    std::fs::write(&config, "[data]\nkind = \"linear\"\nnoise_std = 1e30\n").unwrap();
    let out = dir.path().join("run");
    let message = train_fails(
        3,
        &["--config", path_str(&config), "-q", "--out", path_str(&out)],
        &[],
    );
    assert!(
        message.starts_with("training diverged in epoch 1: the loss is inf; likely cause: inputs or targets of large scale (largest |value| "),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "): rescale them or set data.standardize = true; {} keeps its last finite \
             checkpoint, epoch 0",
            out.display()
        )),
        "{message}"
    );
}

#[test]
fn collapse_and_compare_report_a_diverged_activation_as_diverged() {
    let output = train_bin()
        .args(["collapse", "--epochs", "3", "--lr", "1e6"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stdout.contains("- relu: no verdict, the run diverged (training diverged in epoch "),
        "{stdout}"
    );
    assert!(!stdout.contains("is exactly one linear layer"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare");
    let output = train_bin()
        .args([
            "compare",
            "--epochs",
            "3",
            "--lr",
            "1e6",
            "--activations",
            "relu,tanh",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("relu") && l.contains("diverged in epoch")),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: training diverged for relu"),
        "{stderr}"
    );
    for file in ["summary.csv", "compare.csv"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!has_non_finite(&text), "{file}: {text}");
    }
}

#[test]
fn values_that_break_in_float32_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let beta2 = config("beta2.toml", "[optimizer]\nbeta2 = 0.99999999999\n");
    assert_eq!(
        user_error(&["--config", path_str(&beta2)]),
        format!(
            "{}: key `optimizer.beta2`: is 0.99999999999, which float32 rounds to 1: use at most 0.9999999",
            beta2.display()
        )
    );
    let epsilon = config("epsilon.toml", "[optimizer]\nepsilon = 1e-50\n");
    assert_eq!(
        user_error(&["--config", path_str(&epsilon)]),
        format!(
            "{}: key `optimizer.epsilon`: must be > 0 and finite in float32, i.e. between 1.5e-45 and 3.4e38 (got 1e-50)",
            epsilon.display()
        )
    );
    let noise = config(
        "noise.toml",
        "[data]\nkind = \"linear\"\nnoise_std = 1e300\n",
    );
    assert_eq!(
        user_error(&["--config", path_str(&noise)]),
        format!(
            "{}: key `data.noise_std`: must be >= 0 and finite in float32 (got 1e300)",
            noise.display()
        )
    );
    assert_eq!(
        user_error(&["--activation", "leaky_relu(1e308)"]),
        "invalid value 'leaky_relu(1e308)' for '--activation <NAME>': activation `leaky_relu(1e308)`: the parameter must be finite in float32 (|value| < 3.4e38)"
    );
}

#[test]
fn init_weights_holding_nan_are_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("initial_weights.safetensors");
    let mut bytes = std::fs::read(source).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    let first = header
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, info)| info.get("data_offsets").is_some_and(|o| o[0] == 0))
        .map(|(name, _)| name.clone())
        .unwrap();
    bytes[8 + length..8 + length + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let weights = dir.path().join("nan.safetensors");
    std::fs::write(&weights, bytes).unwrap();
    assert_eq!(
        user_error(&["--init-weights", path_str(&weights)]),
        format!(
            "{}: tensor {first} holds 1 NaN or infinite values",
            weights.display()
        )
    );
}

/// Drops tensor `name` from a safetensors file, packing the others' bytes.
fn drop_tensor(path: &Path, name: &str) {
    let bytes = std::fs::read(path).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    let data = &bytes[8 + length..];
    header.remove(name).expect("the tensor is in the file");
    let mut tensors: Vec<(String, usize, usize)> = header
        .iter()
        .filter(|(key, _)| *key != "__metadata__")
        .map(|(key, info)| {
            let offset = |i: usize| info["data_offsets"][i].as_u64().unwrap() as usize;
            (key.clone(), offset(0), offset(1))
        })
        .collect();
    tensors.sort_by_key(|tensor| tensor.1);
    let mut packed = Vec::new();
    for (key, start, end) in tensors {
        let at = packed.len();
        packed.extend_from_slice(&data[start..end]);
        header.get_mut(&key).unwrap()["data_offsets"] = serde_json::json!([at, packed.len()]);
    }
    let mut text = serde_json::to_string(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&packed);
    std::fs::write(path, out).unwrap();
}

/// A trained run's weights must hold its learned parameters: predict and
/// the pictures refuse a file without them (they used the initial slope),
/// while `--init-weights` still starts such a parameter at its initial value.
#[test]
fn a_trained_run_without_its_learned_parameter_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("prelu");
    let circle = ["--config", "config/circle.toml", "--activation", "prelu"];
    train_ok(
        [
            &circle[..],
            &["--epochs", "2", "-q", "--out", path_str(&run)],
        ]
        .concat(),
    );
    let input = dir.path().join("points.csv");
    std::fs::write(&input, "x1,x2\n0.1,0.2\n").unwrap();
    let predict = [
        "predict",
        "--model",
        path_str(&run),
        "--input",
        path_str(&input),
    ];
    train_ok(predict);
    let weights = run.join("model.safetensors");
    drop_tensor(&weights, "act1.weight");
    let message = user_error(&predict);
    assert!(
        message.starts_with(&format!(
            "{}: tensor act1.weight is missing",
            weights.display()
        )),
        "{message}"
    );
    let pictures = dir.path().join("neurons");
    let neurons = user_error(&[
        "plot",
        "neurons",
        path_str(&run),
        "--out",
        path_str(&pictures),
    ]);
    assert!(
        neurons.contains("tensor act1.weight is missing"),
        "{neurons}"
    );
    let regions = user_error(&["regions", path_str(&run)]);
    assert!(
        regions.contains("tensor act1.weight is missing"),
        "{regions}"
    );
    // The file's other tensors are listed by their PyTorch names.
    assert!(regions.ends_with("fc3.weight, act2.weight)"), "{regions}");
    let module = dir.path().join("module.py");
    let export = user_error(&["export", path_str(&run), "--pytorch", path_str(&module)]);
    assert!(
        export.ends_with("model.safetensors: does not match checkpoint.toml (damaged or edited)"),
        "{export}"
    );
    assert!(!module.exists());
    let start = ["--epochs", "1", "-q", "--init-weights", path_str(&weights)];
    train_ok([&circle[..], &start].concat());
}

/// A headerless CSV keeps its first row: the header is detected (a first
/// row of numbers is data), said in the summary, and recorded in the run's
/// config so that a resume reads the file the same way.
#[test]
fn a_csv_header_is_detected_said_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(fixture("seed_data.csv")).unwrap();
    let rows: Vec<&str> = seed.lines().skip(1).collect();
    let bare = dir.path().join("bare.csv");
    std::fs::write(&bare, rows.join("\n") + "\n").unwrap();

    // Training: all 100 rows, and the decision in the summary and config.toml.
    let config = dir.path().join("bare.toml");
    std::fs::write(
        &config,
        "[data]\nkind = \"csv\"\npath = \"bare.csv\"\n[training]\nepochs = 2\n",
    )
    .unwrap();
    let run = dir.path().join("run");
    let output = train_ok(["--config", path_str(&config), "-q", "--out", path_str(&run)]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("bare.csv: no header row (detected: the first row holds only numbers)"),
        "{summary}"
    );
    let recorded = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(recorded.contains("header = false"), "{recorded}");
    let state = std::fs::read_to_string(run.join("checkpoint.toml")).unwrap();
    assert!(
        state.contains("steps = 20"),
        "100 rows, batches of 10: {state}"
    );
    train_ok(["--resume", path_str(&run), "--epochs", "3", "-q"]);

    // Predict: five rows in, five predictions out, and the decision said.
    let five = dir.path().join("five.csv");
    std::fs::write(&five, rows[..5].join("\n") + "\n").unwrap();
    let predictions = dir.path().join("p.csv");
    let predict = |extra: &[&str]| {
        let mut args = vec![
            "predict",
            "--model",
            path_str(&run),
            "--input",
            path_str(&five),
            "--output",
            path_str(&predictions),
        ];
        args.extend_from_slice(extra);
        let output = train_ok(&args);
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = predict(&[]);
    assert!(
        said.contains(&format!(
            "read {}: 5 rows, no header row (detected: the first row holds only numbers)",
            five.display()
        )) && said.contains("wrote 5 predictions"),
        "{said}"
    );
    let forced = predict(&["--header"]);
    assert!(
        forced.contains("4 rows, first row read as a header (as set)")
            && forced.contains("wrote 4 predictions"),
        "{forced}"
    );
}

/// A loss that blew up but stayed finite (bce's logits saturate) is said
/// in the summary, result.json and compare's table, against the start
/// kept in the checkpoint; `training.divergence_threshold` stops such a run
/// with exit 3 instead.
#[test]
fn a_run_whose_loss_rose_says_so_and_a_threshold_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hot");
    let hot = [
        "--config",
        "config/circle.toml",
        "--lr",
        "1e3",
        "--epochs",
        "5",
    ];
    let output = train_ok([&hot[..], &["-q", "--out", path_str(&out)]].concat());
    let summary = String::from_utf8_lossy(&output.stdout);
    let warning = summary
        .lines()
        .find_map(|line| line.strip_prefix("  warning        "))
        .unwrap_or_else(|| panic!("no warning: {summary}"));
    assert!(
        warning.starts_with("training loss rose from ")
            && warning.ends_with(": the learning rate is likely too high (training.lr = 1000)"),
        "{warning}"
    );
    let result = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap()
    };
    let first = result(&out);
    let start = first["start_train_loss"].as_f64().unwrap();
    assert!(start < 1.0, "an untrained bce network's loss: {start}");
    assert!(
        first["train_loss"].as_f64().unwrap() > 1.1 * start,
        "{first}"
    );
    assert_eq!(first["rise"], warning);
    // Resumed further, it still compares with the run's real start.
    train_ok(["--resume", path_str(&out), "--epochs", "7", "-q"]);
    assert_eq!(result(&out)["start_train_loss"].as_f64(), Some(start));
    assert!(result(&out)["rise"].is_string());
    // The seed's own run says nothing of the kind.
    let seed = train_ok(["--epochs", "3", "-q"]);
    assert!(!String::from_utf8_lossy(&seed.stdout).contains("warning"));
    // compare: a warning line under its table.
    let compared = train_ok([&["compare", "--activations", "relu"][..], &hot].concat());
    let table = String::from_utf8_lossy(&compared.stdout);
    assert!(
        table.contains("warning: relu: training loss rose from "),
        "{table}"
    );
    // With the threshold set, the same run is a divergence, exit 3.
    let circle =
        std::fs::read_to_string(crate::common::repo_root().join("config/circle.toml")).unwrap();
    assert!(
        circle.trim_end().ends_with("lr = 0.01"),
        "[training] is the last table"
    );
    let config = dir.path().join("threshold.toml");
    std::fs::write(&config, circle + "divergence_threshold = 5\n").unwrap();
    let message = train_fails(
        3,
        &[
            "--config",
            path_str(&config),
            "--lr",
            "1e3",
            "--epochs",
            "5",
        ],
        &[],
    );
    assert!(
        message.starts_with("training diverged in epoch ")
            && message.contains(": the training loss ")
            && message.contains(" exceeds training.divergence_threshold = 5; likely cause: "),
        "{message}"
    );
}

#[test]
fn a_seed_beyond_toml_integers_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    assert_eq!(
        user_error(&["--seed", "18446744073709551615", "--out", path_str(&out)]),
        "--seed (sets `seed`): must be at most 9223372036854775807 (got 18446744073709551615)"
    );
}

#[test]
fn epochs_beyond_toml_integers_are_refused_by_run_and_diagnose() {
    for command in [&["--epochs"][..], &["diagnose", "--epochs"][..]] {
        let args: Vec<&str> = command
            .iter()
            .copied()
            .chain(["18446744073709551615"])
            .collect();
        assert_eq!(
            user_error(&args),
            "--epochs (sets `training.epochs`): must be at most 9223372036854775807 (got 18446744073709551615)"
        );
    }
}

#[test]
fn samples_beyond_what_can_be_counted_are_refused() {
    assert_eq!(
        user_error(&["--samples", "9223372036854775807"]),
        "9223372036854775807 rows through the network [10, 18, 18, 4, 1] need more memory than 64 bits can count; reduce data.samples, model.hidden or training.batch_size"
    );
}

#[test]
fn samples_beyond_the_memory_are_refused_before_allocating() {
    let message = user_error(&["--samples", "10000000000"]);
    assert!(
        message.starts_with("this run needs about 1.2 TiB of memory (data 1.2 TiB, network "),
        "{message}"
    );
    assert!(
        message.ends_with("; reduce data.samples, model.hidden or training.batch_size"),
        "{message}"
    );
}

#[test]
fn a_layer_beyond_the_memory_is_refused_before_allocating() {
    let message = user_error(&["--hidden", "1000000000"]);
    assert!(message.starts_with("this run needs about "), "{message}");
    assert!(message.contains(" is available ("), "{message}");
}

#[test]
fn a_standardizer_shorter_than_the_features_is_refused_by_predict() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("standardized.toml");
    std::fs::write(&config, "[data]\nstandardize = true\n").unwrap();
    let out = dir.path().join("run");
    train_ok([
        "--config",
        path_str(&config),
        "--epochs",
        "1",
        "-q",
        "--out",
        path_str(&out),
    ]);
    let state = out.join("checkpoint.toml");
    let text = std::fs::read_to_string(&state).unwrap();
    let start = text.find("mean = [\n").unwrap() + "mean = [\n".len();
    let end = start + text[start..].find('\n').unwrap() + 1;
    std::fs::write(&state, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let input = fixture("seed_data.csv");
    assert_eq!(
        user_error(&[
            "predict",
            "--model",
            path_str(&out),
            "--input",
            path_str(&input)
        ]),
        format!(
            "{}: the standardizer has 9 means and 10 scales, the network takes 10 features",
            state.display()
        )
    );
}

#[test]
fn resume_refuses_data_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let source = fixture("seed_data.csv");
    std::fs::copy(&source, &data).unwrap();
    let config = dir.path().join("csv.toml");
    std::fs::write(
        &config,
        format!("[data]\nkind = \"csv\"\npath = \"{}\"\n", data.display()),
    )
    .unwrap();
    let out = dir.path().join("run");
    train_ok([
        "--config",
        path_str(&config),
        "--epochs",
        "2",
        "-q",
        "--out",
        path_str(&out),
    ]);
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[5] = lines[5].replacen('0', "1", 1);
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let message = user_error(&["--resume", path_str(&out), "--epochs", "3"]);
    assert!(
        message.starts_with(&format!(
            "the training data changed since {} was written (data SHA-256 ",
            out.join("checkpoints/step-000000000020").display()
        )),
        "{message}"
    );
    assert!(
        message.ends_with("now); resume needs the same data: restore it or start a new run"),
        "{message}"
    );
}

#[test]
fn resume_is_bit_exact_for_a_long_run() {
    let dir = tempfile::tempdir().unwrap();
    let (split, straight) = (dir.path().join("split"), dir.path().join("straight"));
    train_ok(["--epochs", "100", "-q", "--out", path_str(&split)]);
    train_ok(["--resume", path_str(&split), "--epochs", "300", "-q"]);
    train_ok(["--epochs", "300", "-q", "--out", path_str(&straight)]);
    assert_eq!(loss_texts(&split), loss_texts(&straight));
}

#[test]
fn predict_into_a_directory_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_ok(["--epochs", "1", "-q", "--out", path_str(&out)]);
    let input = fixture("seed_data.csv");
    let target = dir.path();
    assert_eq!(
        user_error(&[
            "predict",
            "--model",
            path_str(&out),
            "--input",
            path_str(&input),
            "--output",
            path_str(target)
        ]),
        format!(
            "--output {} is a directory; name a file, e.g. {}",
            target.display(),
            target.join("predictions.csv").display()
        )
    );
}

#[test]
fn a_lock_planted_as_a_link_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".lock")).unwrap();
    let message = user_error(&["--epochs", "2", "-q", "--out", path_str(&out)]);
    assert!(
        message.ends_with(".lock is a symbolic link; refusing to write through it (remove it)"),
        "{message}"
    );
    // A finished run whose lock is swapped for a link, then a hard link.
    std::fs::remove_file(out.join(".lock")).unwrap();
    train_ok(["--epochs", "2", "-q", "--out", path_str(&out)]);
    std::fs::remove_file(out.join(".lock")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".lock")).unwrap();
    let resume = ["--resume", path_str(&out), "--epochs", "3", "-q"];
    assert!(user_error(&resume).contains("is a symbolic link"));
    std::fs::remove_file(out.join(".lock")).unwrap();
    std::fs::hard_link(&victim, out.join(".lock")).unwrap();
    assert!(user_error(&resume).contains("has other hard links"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn a_non_utf8_argument_is_a_path_like_any_other() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(std::ffi::OsStr::from_bytes(b"run-\xff"));
    let output = train_bin()
        .args(["--epochs", "1", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let holder = std::fs::read_to_string(out.join(".lock")).unwrap();
    assert!(holder.contains("run-\u{fffd}"), "{holder}");
}

#[test]
fn overflowing_gradients_end_the_run_with_exit_3_and_nothing_infinite_written() {
    let dir = tempfile::tempdir().unwrap();
    // The loss stays finite (1.9e36) while Adam's second moment overflows:
    // this used to print "Training complete" and exit 0.
    for (name, args) in [
        ("adam", vec!["--lr", "1e4"]),
        ("adam-1e3", vec!["--lr", "1e3"]),
        ("rmsprop", vec!["--optimizer", "rmsprop", "--lr", "1e3"]),
    ] {
        let out = dir.path().join(name);
        let mut command = vec!["--epochs", "3", "--checkpoint-every", "1", "-q", "--out"];
        command.push(path_str(&out));
        command.extend(args);
        let message = train_fails(3, &command, &[]);
        assert!(
            message.starts_with("training diverged in epoch ")
                && message.contains("the gradients overflowed"),
            "{name}: {message}"
        );
        for (path, _) in digests(&out) {
            let full = out.join(&path);
            if path.extension().is_some_and(|e| e == "csv" || e == "toml") {
                let text = std::fs::read_to_string(&full).unwrap();
                assert!(!has_non_finite(&text), "{name}: {path:?}: {text}");
            }
        }
        assert!(
            std::fs::read_to_string(out.join("result.json"))
                .unwrap()
                .contains("\"diverged_epoch\": "),
            "{name}"
        );
        // A diverged run is finished: resuming it does not train it again.
        let again = user_error(&["--resume", path_str(&out), "-q"]);
        assert!(again.contains(" and is finished"), "{again}");
    }
    // Data near 1e18: the loss is finite in float32, its gradients' squares are not.
    let loud = dir.path().join("loud.csv");
    let rows: String = (0..40)
        .map(|row| format!("{},{}\n", row as f64 * 1e17, (row % 7) as f64 * 1e18))
        .collect();
    std::fs::write(&loud, format!("x,y\n{rows}")).unwrap();
    let config = dir.path().join("loud.toml");
    std::fs::write(
        &config,
        format!(
            "[data]\nkind = \"csv\"\npath = \"{}\"\n[model]\ninput = 1\n",
            loud.display()
        ),
    )
    .unwrap();
    let message = train_fails(
        3,
        &["--config", path_str(&config), "--epochs", "3", "-q"],
        &[],
    );
    assert!(
        message.contains("the gradients overflowed")
            && message.contains("inputs or targets of large scale"),
        "{message}"
    );
    let message = train_fails(3, &["diagnose", "--epochs", "3", "--lr", "1e4"], &[]);
    assert!(message.contains("diverged"), "{message}");
    let compare = dir.path().join("compare");
    let output = train_bin()
        .args([
            "compare",
            "--epochs",
            "3",
            "--lr",
            "1e4",
            "--activations",
            "relu",
        ])
        .arg("--out")
        .arg(&compare)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    for file in ["summary.csv", "compare.csv"] {
        let text = std::fs::read_to_string(compare.join(file)).unwrap();
        assert!(!has_non_finite(&text), "{file}: {text}");
    }
}

#[test]
fn a_device_as_data_file_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zero.toml");
    std::fs::write(&config, "[data]\nkind = \"csv\"\npath = \"/dev/zero\"\n").unwrap();
    let message = user_error(&["--config", path_str(&config), "--epochs", "1", "-q"]);
    assert!(
        message.contains("/dev/zero") && message.contains("not a regular file"),
        "{message}"
    );
}

/// A config or sweep file that is a device is refused after 16 MiB, within
/// a 2 GiB address space (it was read whole, ~21 GB, until the kernel killed it).
#[test]
fn a_device_as_config_or_sweep_file_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let cases = [
        (vec!["--config", "/dev/zero", "-q"], "config file"),
        (
            vec!["sweep", "run", "/dev/zero", "--out", path_str(&out)],
            "sweep file",
        ),
    ];
    for (args, what) in cases {
        let message = train_fails_within(2 << 30, 2, &args);
        assert_eq!(
            message,
            format!("cannot read {what} /dev/zero: larger than 16 MiB, the most a {what} may hold")
        );
    }
}

/// A billion random-search draws are refused before one is drawn (they
/// grew at ~45 MB/s until the kernel killed the process).
#[test]
fn random_search_draws_are_counted_before_any_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("draws.toml");
    std::fs::write(
        &sweep,
        "samples = 1000000000\n[axes]\n\"training.lr\" = { log_uniform = [1e-4, 1e-1] }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let args = ["sweep", "run", path_str(&sweep), "--out", path_str(&out)];
    let message = train_fails_within(2 << 30, 2, &args);
    assert!(
        message.ends_with(
            "the grid has 1 points x 1000000000 draws (samples), more than 100000 points; \
             split it into several sweeps"
        ),
        "{message}"
    );
}

/// Epochs are a size too: every epoch's record is kept (metrics.csv, a
/// study's tables), so more than memory can hold is refused up front, for
/// one run and for a study of many (they trained until the kernel killed
/// them, hours in).
#[test]
fn records_beyond_memory_are_refused_before_training() {
    let run = user_error(&["--epochs", "1000000000000000000", "-q"]);
    assert!(
        run.starts_with("this run keeps 1 run x 1000000000000000000 epochs of records in memory"),
        "{run}"
    );
    let study = user_error(&[
        "compare",
        "--activations",
        "relu",
        "--seeds",
        "65535",
        "--epochs",
        "1000000",
    ]);
    assert!(
        study.starts_with("this study keeps 65535 runs x 1000000 epochs of records in memory"),
        "{study}"
    );
}

/// Under an address-space limit (`ulimit -v`) the memory check counts it:
/// a 3,000,000-unit layer is a one-line refusal, not an abort.
#[test]
fn the_memory_check_counts_an_address_space_limit() {
    let message = train_fails_within(2 << 30, 2, &["--hidden", "3000000", "--epochs", "1", "-q"]);
    assert!(
        message.contains("is available (the process's address-space limit, ulimit -v)"),
        "{message}"
    );
}

/// A threshold below the loss before training says so, not "lr too high".
#[test]
fn a_divergence_threshold_below_the_start_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("low.toml");
    std::fs::write(
        &config,
        "[training]\nepochs = 2\ndivergence_threshold = 0.0001\n",
    )
    .unwrap();
    let message = train_fails(3, &["--config", path_str(&config), "-q"], &[]);
    assert!(
        message.contains(
            "exceeds training.divergence_threshold = 0.0001, which is below the loss \
                          before training ("
        ),
        "{message}"
    );
}

/// `--seed S --seeds N` checks S + N - 1, not S alone (it ran seed 2^63).
#[test]
fn compare_checks_its_last_seed_before_training() {
    for batched in [false, true] {
        let mut args = vec![
            "compare",
            "--activations",
            "relu",
            "--seed",
            "9223372036854775806",
            "--seeds",
            "3",
            "--epochs",
            "1",
        ];
        if batched {
            args.push("--batched");
        }
        assert_eq!(
            user_error(&args),
            "seeds 9223372036854775806 to 9223372036854775806 + 2 go past the largest seed, \
             9223372036854775807; choose a smaller --seed"
        );
    }
}

#[test]
fn keys_that_do_not_apply_and_a_negative_column_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let circle = write(
        "circle.toml",
        "[data]\nkind = \"circle\"\npath = \"/etc/passwd\"\n[model]\ninput = 2\n[training]\nloss = \"bce\"\n",
    );
    let message = user_error(&["--config", path_str(&circle), "-q"]);
    assert!(
        message.contains("key `data.path`: does not apply to data.kind = \"circle\""),
        "{message}"
    );
    let negative = write(
        "negative.toml",
        "[data]\nkind = \"csv\"\npath = \"x.csv\"\ntarget = -1\n",
    );
    let message = user_error(&["--config", path_str(&negative), "-q"]);
    assert!(
        message.contains("must be a column name or a 0-based column index (got -1)"),
        "{message}"
    );
}

#[test]
fn out_must_be_a_directory_that_no_other_command_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let message = user_error(&["--epochs", "1", "-q", "--out", path_str(&file)]);
    assert!(
        message.ends_with("file.txt: exists and is not a directory (--out takes a directory)"),
        "{message}"
    );
    let diagnosed = dir.path().join("diagnosed");
    train_ok(["diagnose", "--epochs", "1", "--out", path_str(&diagnosed)]);
    let before = std::fs::read(diagnosed.join("metrics.csv")).unwrap();
    let message = user_error(&["--epochs", "1", "-q", "--out", path_str(&diagnosed)]);
    assert!(
        message.contains("holds another command's output"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(diagnosed.join("metrics.csv")).unwrap(),
        before
    );
}

#[test]
fn identical_runs_write_identical_weights_and_nan_weights_are_refused_by_predict() {
    let dir = tempfile::tempdir().unwrap();
    let [a, b] = ["a", "b"].map(|name| dir.path().join(name));
    for out in [&a, &b] {
        train_ok(["--epochs", "2", "-q", "--out", path_str(out)]);
    }
    let weights = |out: &Path| std::fs::read(out.join("model.safetensors")).unwrap();
    assert_eq!(
        weights(&a),
        weights(&b),
        "model.safetensors differs between identical runs"
    );

    // One NaN in the last tensor's data: predict and eval refuse, naming it.
    let mut bytes = weights(&a);
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(a.join("model.safetensors"), &bytes).unwrap();
    for (command, row) in [
        ("predict", "1,2,3,4,5,6,7,8,9,10\n"),
        ("eval", "1,2,3,4,5,6,7,8,9,10,11\n"),
    ] {
        let rows = dir.path().join(format!("{command}.csv"));
        std::fs::write(&rows, row).unwrap();
        let args = [
            command,
            "--model",
            path_str(&a),
            "--input",
            path_str(&rows),
            "--no-header",
        ];
        let message = user_error(&args);
        assert!(
            message.contains("NaN or infinite values"),
            "{command}: {message}"
        );
    }
}

#[test]
fn diagnostics_resume_exactly_after_an_interrupt_mid_epoch() {
    let dir = tempfile::tempdir().unwrap();
    // A hundred steps an epoch: a Ctrl-C lands mid-epoch.
    let config = dir.path().join("steps.toml");
    std::fs::write(&config, "[training]\nbatch_size = 1\ndiagnostics = true\n").unwrap();
    let out = dir.path().join("run");
    let child = train_bin()
        .args(["--config", path_str(&config), "--epochs", "100000", "-q"])
        .args(["--checkpoint-every", "2", "--out", path_str(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = out.join("checkpoint.toml");
    let started = Instant::now();
    while !std::fs::read_to_string(&state).is_ok_and(|text| !text.contains("\nepoch = 0\n")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(&child, "-INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stopped = std::fs::read_to_string(&state).unwrap();
    let epoch: usize = stopped
        .lines()
        .find_map(|line| line.strip_prefix("epoch = "))
        .unwrap()
        .parse()
        .unwrap();
    let mid_epoch = !stopped.contains("\nbatch = 0\n");
    assert_eq!(
        mid_epoch,
        stopped.contains("[partial_grad_norms]"),
        "{stopped}"
    );
    let target = (epoch + 2).to_string();
    let resume = ["--resume", path_str(&out), "--epochs", &target, "-q"];
    train_ok(resume);
    let straight = dir.path().join("straight");
    train_ok([
        "--config",
        path_str(&config),
        "--epochs",
        &target,
        "-q",
        "--out",
        path_str(&straight),
    ]);
    let text = |dir: &Path| std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let without_time = |csv: String| -> Vec<String> {
        // elapsed_s is wall-clock time; every other column must match.
        let header: Vec<String> = csv
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect();
        let time = header.iter().position(|name| name == "elapsed_s");
        csv.lines()
            .map(|line| {
                line.split(',')
                    .enumerate()
                    .filter(|(index, _)| Some(*index) != time)
                    .map(|(_, cell)| cell)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    eprintln!("stopped at epoch {epoch}, mid-epoch: {mid_epoch}");
    assert_eq!(without_time(text(&out)), without_time(text(&straight)));
}
