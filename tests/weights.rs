//! Weights in and out, through the `train` binary: checkpoints in PyTorch's
//! names and layout, resume (also after Ctrl-C), predict, eval,
//! `--init-weights`, and the errors a user can cause.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{
    csv_column, fixture, loss_texts, path_str, relative_difference, send_signal, train_bin,
    train_ok, user_error,
};

/// A config that trains on the PyTorch fixtures' data.
fn fixture_config(dir: &Path) -> PathBuf {
    let path = dir.join("fixture.toml");
    let text = format!(
        "[data]\nkind = \"csv\"\npath = \"{}\"\n",
        fixture("seed_data.csv").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Trains `epochs` epochs on the fixtures' data into `dir/run`.
fn fixture_run(dir: &Path, epochs: &str) -> PathBuf {
    let config = fixture_config(dir);
    let run = dir.join("run");
    train_ok([
        "--config",
        path_str(&config),
        "--epochs",
        epochs,
        "-q",
        "--out",
        path_str(&run),
    ]);
    run
}

/// The `loss` column of a run's metrics.csv.
fn losses(dir: &Path) -> Vec<f64> {
    csv_column(&dir.join("metrics.csv"), "loss")
}

/// A safetensors header: tensor name -> (dtype, shape).
fn safetensors_header(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let bytes = std::fs::read(path).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    header.as_object().unwrap().clone()
}

#[test]
fn a_checkpoint_holds_pytorch_named_weights_optimizer_state_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_ok(["--epochs", "3", "--quiet", "--out", path_str(&out)]);
    for file in [
        "model.safetensors",
        "checkpoint.toml",
        "config.toml",
        "metrics.csv",
        "checkpoints/step-000000000030/optimizer.bpk",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let header = safetensors_header(&out.join("model.safetensors"));
    let shapes = [
        ("fc1", [18, 10]),
        ("fc2", [18, 18]),
        ("fc3", [4, 18]),
        ("fc4", [1, 4]),
    ];
    for (layer, [d_out, d_in]) in shapes {
        let weight = &header[&format!("{layer}.weight")];
        assert_eq!(weight["dtype"], "F32");
        assert_eq!(weight["shape"], serde_json::json!([d_out, d_in]));
        assert_eq!(
            header[&format!("{layer}.bias")]["shape"],
            serde_json::json!([d_out])
        );
    }
    let tensors = header.keys().filter(|k| *k != "__metadata__").count();
    assert_eq!(tensors, 8, "only fcN.weight and fcN.bias: {header:?}");
    let state = std::fs::read_to_string(out.join("checkpoint.toml")).unwrap();
    assert!(state.contains("epoch = 3"), "{state}");
    assert!(state.contains("steps = 30"), "{state}");
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn five_epochs_plus_a_resumed_five_equal_ten_straight() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
    train_ok(["--epochs", "10", "-q", "--out", path_str(&straight)]);
    train_ok(["--epochs", "5", "-q", "--out", path_str(&split)]);
    let resumed = train_ok(["--resume", path_str(&split), "--epochs", "10", "-q"]);
    let text = String::from_utf8_lossy(&resumed.stdout);
    assert!(text.contains("resumed from"), "{text}");
    assert_eq!(loss_texts(&split), loss_texts(&straight));

    // A finished run says how to go further, and a fresh run will not
    // overwrite it.
    let split = path_str(&split);
    assert_eq!(
        user_error(&["--resume", split]),
        format!(
            "{split} has trained all 10 epochs of its run; pass --epochs N with N > 10 to train further"
        )
    );
    assert_eq!(
        user_error(&["--epochs", "2", "-q", "--out", split]),
        format!(
            "{split} holds a finished run (10 epochs); train it further with `train --resume {split} --epochs N`, or choose another --out"
        )
    );
}

/// A learnable activation's parameters are part of the checkpoint: a
/// resumed run continues them bit for bit (every metrics.csv column
/// equal, the per-unit slopes' mean, min and max included).
#[test]
fn a_resumed_learnable_run_continues_its_parameters_exactly() {
    for activation in ["prelu(per_unit)", "swish_beta"] {
        let dir = tempfile::tempdir().unwrap();
        let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
        let run = |out: &std::path::Path, epochs: &str| {
            train_ok([
                "--activation",
                activation,
                "--epochs",
                epochs,
                "-q",
                "--out",
                path_str(out),
            ]);
        };
        run(&straight, "8");
        run(&split, "3");
        train_ok(["--resume", path_str(&split), "--epochs", "8", "-q"]);
        let columns = |dir: &std::path::Path| {
            let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
            let mut lines = text.lines();
            let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
            let rows: Vec<Vec<String>> = lines
                .map(|line| line.split(',').map(String::from).collect())
                .collect();
            (header, rows)
        };
        let ((header, rows), (_, resumed)) = (columns(&straight), columns(&split));
        let name = if activation == "swish_beta" {
            "act3_beta"
        } else {
            "act3_weight_max"
        };
        assert!(header.iter().any(|h| h == name), "{activation}: {header:?}");
        // elapsed_s (column 2) differs; every other column is equal.
        let without_time = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 2)
                        .map(|(_, c)| c.clone())
                        .collect()
                })
                .collect()
        };
        assert_eq!(without_time(&resumed), without_time(&rows), "{activation}");
    }
}

#[test]
fn a_damaged_generation_falls_back_to_the_one_before_and_all_damaged_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_ok([
        "--epochs",
        "4",
        "--checkpoint-every",
        "2",
        "-q",
        "--out",
        path_str(&out),
    ]);
    let generations = out.join("checkpoints");
    let (newest, older) = (
        generations.join("step-000000000040"),
        generations.join("step-000000000020"),
    );
    let mut names: Vec<String> = std::fs::read_dir(&generations)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["step-000000000020", "step-000000000040"],
        "the newest two are kept"
    );

    // Damage the newest generation's optimizer state: resume warns and
    // continues from epoch 2, ending where a straight run ends.
    std::fs::write(newest.join("optimizer.bpk"), b"torn").unwrap();
    let output = train_ok(["--resume", path_str(&out), "--epochs", "5", "-q"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warning = format!(
        "warning: {}: does not match checkpoint.toml (damaged or edited); resuming from the generation before it, {} (epoch 2)",
        newest.join("optimizer.bpk").display(),
        older.display()
    );
    assert!(stderr.lines().any(|line| line == warning), "{stderr}");
    let straight = dir.path().join("straight");
    train_ok(["--epochs", "5", "-q", "--out", path_str(&straight)]);
    assert_eq!(loss_texts(&out), loss_texts(&straight));

    // With every generation damaged there is nothing to resume from.
    for generation in std::fs::read_dir(&generations).unwrap() {
        std::fs::write(generation.unwrap().path().join("model.safetensors"), b"x").unwrap();
    }
    let message = user_error(&["--resume", path_str(&out), "--epochs", "6"]);
    assert!(
        message.starts_with(&format!(
            "{}: no intact checkpoint to resume from (",
            out.display()
        )),
        "{message}"
    );
}

#[test]
fn ctrl_c_checkpoints_periodically_then_stops_and_resume_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long");
    let child = train_bin()
        .args(["--epochs", "1000000", "-q", "--checkpoint-every", "5"])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a periodic checkpoint (past the one of step 0) while the run
    // is still going.
    let state_path = out.join("checkpoint.toml");
    let started = Instant::now();
    let periodic = loop {
        if let Ok(text) = std::fs::read_to_string(&state_path)
            && !text.contains("\nepoch = 0\n")
        {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let epoch_of = |text: &str| -> usize {
        let line = text.lines().find(|l| l.starts_with("epoch = ")).unwrap();
        line["epoch = ".len()..].trim().parse().unwrap()
    };
    let first = epoch_of(&periodic);
    assert!(first > 0 && first % 5 == 0, "periodic at epoch {first}");
    assert!(periodic.contains("batch = 0"), "{periodic}");

    send_signal(&child, "-INT");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let stopped = std::fs::read_to_string(&state_path).unwrap();
    let number = |key: &str| -> usize {
        let line = stopped.lines().find(|l| l.starts_with(key)).unwrap();
        line[key.len()..].trim().parse().unwrap()
    };
    let (epoch, batch, steps) = (number("epoch = "), number("batch = "), number("steps = "));
    let batch_line = format!("batch = {batch}");
    assert!(epoch >= first, "{stopped}");
    assert_eq!(
        stderr.lines().last().unwrap(),
        format!(
            "error: interrupted by Ctrl-C at epoch {epoch} of 1000000, batch {batch} (step {steps}); \
             checkpoint written to {0}; continue with `train --resume {0}`",
            out.display()
        )
    );

    // Asking for no more epochs than it has says where it stands.
    let place = if batch > 0 {
        format!("{epoch} epochs and {batch} batches of the next")
    } else {
        format!("all {epoch} epochs of its run")
    };
    assert_eq!(
        user_error(&["--resume", path_str(&out), "--epochs", &epoch.to_string()]),
        format!(
            "{} has trained {place}; pass --epochs N with N > {epoch} to train further",
            out.display()
        )
    );

    // Resume two epochs past the stop and compare with a straight run.
    let target = (epoch + 2).to_string();
    train_ok(["--resume", path_str(&out), "--epochs", &target, "-q"]);
    let straight = dir.path().join("straight");
    train_ok(["--epochs", &target, "-q", "--out", path_str(&straight)]);
    eprintln!("stopped at epoch {epoch}, {batch_line}");
    assert_eq!(loss_texts(&out), loss_texts(&straight));
}

#[test]
fn init_weights_from_pytorch_files_start_where_pytorch_started() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture_config(dir.path());
    let torch_epoch1 = csv_column(&fixture("pytorch_losses.csv"), "relu")[0];
    for file in ["initial_weights.pt", "initial_weights.safetensors"] {
        let out = dir.path().join(file.replace('.', "_"));
        train_ok([
            "--config",
            path_str(&config),
            "--init-weights",
            path_str(&fixture(file)),
            "--epochs",
            "1",
            "-q",
            "--out",
            path_str(&out),
        ]);
        let loss = losses(&out)[0];
        assert!(
            relative_difference(loss, torch_epoch1) < 1e-5,
            "{file}: epoch 1 loss {loss} vs PyTorch {torch_epoch1}"
        );
    }
}

/// `train --config <fixtures> --hidden HIDDEN --init-weights FILE`'s one
/// error line.
fn init_weights_error(hidden: &str, weights: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture_config(dir.path());
    user_error(&[
        "--config",
        path_str(&config),
        "--hidden",
        hidden,
        "--init-weights",
        path_str(weights),
    ])
}

#[test]
fn init_weights_name_a_missing_tensor() {
    // The fixture has fc1..fc4; a deeper network misses fc5.
    let weights = fixture("initial_weights.safetensors");
    assert_eq!(
        init_weights_error("18,18,4,1", &weights),
        format!(
            "{}: tensor fc5.weight is missing (the network [10, 18, 18, 4, 1, 1] needs it; the file has fc1.bias, fc1.weight, fc2.bias, fc2.weight, fc3.bias, fc3.weight, fc4.bias, fc4.weight)",
            weights.display()
        )
    );
}

#[test]
fn init_weights_name_a_misshapen_tensor() {
    // A wider second layer does not fit fc2.
    let weights = fixture("initial_weights.pt");
    assert_eq!(
        init_weights_error("18,20,4", &weights),
        format!(
            "{}: tensor fc2.weight has shape [18, 18], the network [10, 18, 20, 4, 1] needs [20, 18]",
            weights.display()
        )
    );
}

#[test]
fn init_weights_name_a_missing_file() {
    assert_eq!(
        user_error(&["--init-weights", "/no/such/weights.pt"]),
        "cannot read weights file /no/such/weights.pt: no such file"
    );
}

#[test]
fn pytorch_predictions_from_a_rust_written_model_match_rust_predict() {
    // rust_trained_relu.safetensors was written by `train --out` and loaded
    // by PyTorch's SimpleModel.load_state_dict (scripts/pytorch_reference.py
    // predict), which wrote the predictions fixture.
    let dir = tempfile::tempdir().unwrap();
    let run = fixture_run(dir.path(), "1");
    std::fs::copy(
        fixture("rust_trained_relu.safetensors"),
        run.join("model.safetensors"),
    )
    .unwrap();
    let predictions = dir.path().join("predictions.csv");
    train_ok([
        "predict",
        "--model",
        path_str(&run),
        "--input",
        path_str(&fixture("seed_data.csv")),
        "--output",
        path_str(&predictions),
    ]);
    let rust = csv_column(&predictions, "prediction");
    let torch = csv_column(
        &fixture("rust_trained_relu_torch_predictions.csv"),
        "prediction",
    );
    assert_eq!(rust.len(), 100);
    assert_eq!(torch.len(), 100);
    for (row, (r, t)) in rust.iter().zip(&torch).enumerate() {
        assert!((r - t).abs() <= 1e-5, "row {}: rust {r} torch {t}", row + 1);
    }
}

#[test]
fn eval_scores_what_predict_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let run = fixture_run(dir.path(), "20");
    let data = fixture("seed_data.csv");
    // Features only: one prediction per row, on stdout.
    let features = dir.path().join("features.csv");
    let text = std::fs::read_to_string(&data).unwrap();
    let stripped: String = text
        .lines()
        .map(|line| line.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(&features, stripped).unwrap();
    let output = train_ok([
        "predict",
        "--model",
        path_str(&run),
        "--input",
        path_str(&features),
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let predictions: Vec<f64> = stdout.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    let targets = csv_column(&data, "y");
    assert_eq!(predictions.len(), targets.len());
    let mse = predictions
        .iter()
        .zip(&targets)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / targets.len() as f64;
    let mean = targets.iter().sum::<f64>() / targets.len() as f64;
    let sst = targets.iter().map(|t| (t - mean).powi(2)).sum::<f64>();
    let r2 = 1.0 - mse * targets.len() as f64 / sst;

    let output = train_ok([
        "eval",
        "--model",
        path_str(&run),
        "--input",
        path_str(&data),
        "--json",
    ]);
    let scores: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(scores["rows"], 100);
    let (got_mse, got_r2) = (
        scores["mse"].as_f64().unwrap(),
        scores["r2"].as_f64().unwrap(),
    );
    assert!(
        relative_difference(got_mse, mse) < 1e-5,
        "{got_mse} vs {mse}"
    );
    assert!((got_r2 - r2).abs() < 1e-5, "{got_r2} vs {r2}");
    // The last training loss is a batch's; eval's MSE is over every row.
    let last_train_mse = losses(&run);
    assert!(!last_train_mse.is_empty());
}

/// A one-epoch run to score rows with, in `dir/run`.
fn scoring_run(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    train_ok(["--epochs", "1", "-q", "--out", path_str(&run)]);
    run
}

/// Writes `text` to `dir/name` and returns its path.
fn csv_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn predict_names_a_file_with_too_few_columns() {
    let dir = tempfile::tempdir().unwrap();
    let run = scoring_run(dir.path());
    let narrow = csv_file(dir.path(), "narrow.csv", "a,b,c\n1,2,3\n");
    assert_eq!(
        user_error(&[
            "predict",
            "--model",
            path_str(&run),
            "--input",
            path_str(&narrow)
        ]),
        format!(
            "{}: has 3 columns, the network takes 10 features, so expected 10 (features) or 11 (features and a target)",
            narrow.display()
        )
    );
}

#[test]
fn eval_names_the_row_and_column_of_a_bad_cell() {
    let dir = tempfile::tempdir().unwrap();
    let run = scoring_run(dir.path());
    let header: String = (1..=10).map(|i| format!("x{i},")).collect::<String>() + "y\n";
    let bad = csv_file(
        dir.path(),
        "bad.csv",
        &format!("{header}1,2,3,4,5,6,7,8,9,10,11\n1,2,3,4,oops,6,7,8,9,10,11\n"),
    );
    assert_eq!(
        user_error(&["eval", "--model", path_str(&run), "--input", path_str(&bad)]),
        format!(
            "{}: row 3, column 5 (x5): `oops` is not a number",
            bad.display()
        )
    );
}

#[test]
fn eval_needs_the_target_column() {
    let dir = tempfile::tempdir().unwrap();
    let run = scoring_run(dir.path());
    let features = csv_file(
        dir.path(),
        "features.csv",
        "a,b,c,d,e,f,g,h,i,j\n1,2,3,4,5,6,7,8,9,10\n",
    );
    assert_eq!(
        user_error(&[
            "eval",
            "--model",
            path_str(&run),
            "--input",
            path_str(&features)
        ]),
        format!(
            "{}: has 10 columns, the network takes 10 features, so expected 11 (10 features and a target)",
            features.display()
        )
    );
}

#[test]
fn predict_names_a_model_file_that_does_not_fit_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let run = scoring_run(dir.path());
    let other = dir.path().join("other");
    train_ok([
        "--epochs",
        "1",
        "-q",
        "--hidden",
        "18,7,4",
        "--out",
        path_str(&other),
    ]);
    std::fs::copy(
        other.join("model.safetensors"),
        run.join("model.safetensors"),
    )
    .unwrap();
    assert_eq!(
        user_error(&[
            "predict",
            "--model",
            path_str(&run),
            "--input",
            path_str(&fixture("seed_data.csv")),
        ]),
        format!(
            "{}: tensor fc2.weight has shape [7, 18], the network [10, 18, 18, 4, 1] needs [18, 18]",
            run.join("model.safetensors").display()
        )
    );
}

#[test]
fn predict_names_a_directory_that_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = csv_file(dir.path(), "narrow.csv", "a,b,c\n1,2,3\n");
    assert_eq!(
        user_error(&[
            "predict",
            "--model",
            path_str(dir.path()),
            "--input",
            path_str(&input)
        ]),
        format!(
            "{}: no checkpoint.toml; not a checkpoint written by `train --out`",
            dir.path().display()
        )
    );
}

/// `python3` with torch, or why the export's round trip cannot run here.
fn python_with_torch() -> Result<(), String> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import torch"])
        .output()
        .map_err(|_| "no python3 on PATH".to_string())?;
    match probe.status.success() {
        true => Ok(()),
        false => Err("python3 has no torch (pip install torch)".into()),
    }
}

#[test]
fn an_exported_python_module_predicts_what_train_predict_prints() {
    // A 2-D set with engineered inputs and standardisation (bce), a 1-D fit
    // (mse) and ten features (mse): every path of the exported code.
    let setups = [
        (
            "[data]\nkind = \"circle\"\nsamples = 120\nstandardize = true\ninputs = [\"x1\", \"x2\", \"x1^2\", \"sin(x2)\"]\n\
             [model]\ninput = 4\nhidden = [8, 6]\nactivation = \"hardtanh(-2,0.5)\"\n[training]\nloss = \"bce\"\nepochs = 3\nlr = 0.01\n",
            "x1,x2\n0.1,0.2\n-1.2,0.7\n1.3,-0.4\n0.0,0.0\n",
        ),
        (
            "[data]\nkind = \"function\"\nfunction = \"sin\"\nsamples = 60\n[model]\ninput = 1\nhidden = [8]\nactivation = \"sin(3)\"\n[training]\nepochs = 3\n",
            "x\n-2.5\n0.3\n1.7\n",
        ),
        (
            "[data]\nkind = \"friedman1\"\nsamples = 80\n[model]\nhidden = [6]\nactivation = \"mish\"\n[training]\nepochs = 2\n",
            "a,b,c,d,e,f,g,h,i,j,y\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.1,3.0\n0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0.0,5.0\n",
        ), // The learnable activations: their trained parameters go with the weights.
        (
            "[data]\nkind = \"circle\"\nsamples = 120\n[model]\ninput = 2\nhidden = [8, 6]\nactivation = \"prelu(per_unit)\"\n[training]\nloss = \"bce\"\nepochs = 20\nlr = 0.03\n",
            "x1,x2\n0.1,0.2\n-1.2,0.7\n1.3,-0.4\n-0.6,-0.9\n",
        ),
        (
            "[data]\nkind = \"friedman1\"\nsamples = 80\n[model]\nhidden = [6, 5]\nactivation = \"swish_beta\"\n[training]\nepochs = 20\nlr = 0.03\n",
            "a,b,c,d,e,f,g,h,i,j\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.1\n0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0.0\n",
        ),
        // An activation per hidden layer: each layer's own module.
        (
            "[data]\nkind = \"moons\"\nsamples = 100\n[model]\ninput = 2\nhidden = [8, 6, 4]\nactivation = \"relu/tanh/leaky_relu(0.2)\"\n[training]\nloss = \"bce\"\nepochs = 4\nlr = 0.02\n",
            "x1,x2\n0.1,0.2\n-1.2,0.7\n1.3,-0.4\n",
        ),
        // Several classes: softmax probabilities and the argmax class.
        (
            "[data]\nkind = \"blobs\"\nclasses = 4\nsamples = 120\nstandardize = true\n[model]\ninput = 2\nhidden = [8]\noutput = 4\nactivation = \"tanh\"\n[training]\nloss = \"cross_entropy\"\nepochs = 5\nlr = 0.02\n",
            "x1,x2\n0.0,1.0\n-1.0,0.0\n0.0,-1.0\n1.0,0.1\n0.0,0.0\n",
        ),
    ];
    let torch = crate::common::needed_or_skip(
        "ACTLAB_REQUIRE_TORCH",
        "the export round trip",
        python_with_torch(),
    );
    for (index, (config, points)) in setups.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("run.toml");
        std::fs::write(&config_path, config).unwrap();
        let run = dir.path().join("run");
        train_ok([
            "--config",
            path_str(&config_path),
            "--out",
            path_str(&run),
            "--quiet",
        ]);
        let module = dir.path().join("network.py");
        train_ok(["export", path_str(&run), "--pytorch", path_str(&module)]);
        let text = std::fs::read_to_string(&module).unwrap();
        assert!(text.contains("class Network(nn.Module):"), "{text}");
        assert!(
            text.contains("def predict(points, network=None):"),
            "{text}"
        );
        let input = dir.path().join("points.csv");
        std::fs::write(&input, points).unwrap();
        let rust = train_ok([
            "predict",
            "--model",
            path_str(&run),
            "--input",
            path_str(&input),
        ]);
        let rust = String::from_utf8_lossy(&rust.stdout).into_owned();
        if torch.is_none() {
            continue;
        }
        let python = std::process::Command::new("python3")
            .arg(&module)
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            python.status.success(),
            "{}",
            String::from_utf8_lossy(&python.stderr)
        );
        let python = String::from_utf8_lossy(&python.stdout).into_owned();
        let (rust_lines, python_lines): (Vec<&str>, Vec<&str>) =
            (rust.lines().collect(), python.lines().collect());
        assert_eq!(
            rust_lines[0], python_lines[0],
            "setup {index}: the same header"
        );
        assert_eq!(rust_lines.len(), python_lines.len(), "setup {index}");
        for (r, p) in rust_lines[1..].iter().zip(&python_lines[1..]) {
            let cells = |line: &str| {
                line.split(',')
                    .map(|c| c.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            };
            let (r, p) = (cells(r), cells(p));
            // Every number to 1e-5; a class column (the last) exactly.
            let numbers = if rust_lines[0].ends_with("class") {
                r.len() - 1
            } else {
                r.len()
            };
            for column in 0..numbers {
                assert!(
                    (r[column] - p[column]).abs() <= 1e-5 * r[column].abs().max(1.0),
                    "setup {index}: {r:?} vs {p:?}"
                );
            }
            assert_eq!(r[numbers..], p[numbers..], "setup {index}: the same class");
        }
    }
    // A name that is no Python file is refused in one line.
    let dir = tempfile::tempdir().unwrap();
    let message = crate::common::train_fails(
        2,
        &["export", path_str(dir.path()), "--pytorch", "out.txt"],
        &[],
    );
    assert!(
        message.contains("name a Python file ending in .py"),
        "{message}"
    );
    // A directory named like a Python file is refused before any work (it
    // failed with exit 1 after writing a temporary file), even for a run
    // directory that is no run: the target is checked first.
    let target = dir.path().join("model.py");
    std::fs::create_dir(&target).unwrap();
    let message = crate::common::train_fails(
        2,
        &[
            "export",
            path_str(dir.path()),
            "--pytorch",
            path_str(&target),
        ],
        &[],
    );
    assert_eq!(
        message,
        format!(
            "--pytorch {0} is a directory; name a file, e.g. {0}/model.py",
            target.display()
        )
    );
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        0,
        "nothing written"
    );
}
