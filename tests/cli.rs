//! The `train` binary as a user meets it: output, files, and one-line errors
//! with exit code 2 for every mistake.

use std::fs;

use crate::common::{train_bin, user_error};

fn run(args: &[&str]) -> (i32, String, String) {
    let output = train_bin().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_run_prints_the_seed_lines_and_writes_repeatable_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_arg = out.display().to_string();
    let (code, stdout, stderr) = run(&[
        "--epochs",
        "3",
        "--activation",
        "tanh",
        "--diagnostics",
        "--out",
        &out_arg,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Epoch 1/3, Loss: "), "{stdout}");
    assert!(stdout.contains("Epoch 3/3, Loss: "), "{stdout}");
    assert!(stdout.contains("Training complete."), "{stdout}");
    assert!(stdout.contains("steps/s"), "{stdout}");
    assert!(
        stdout.contains("backend        flex on CPU (flex)"),
        "{stdout}"
    );

    let metrics = fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    assert!(
        lines[0].starts_with("epoch,loss,elapsed_s,train_loss,lr,grad_norm_l1,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("saturated_l3"), "{}", lines[0]);
    assert_eq!(lines.len(), 4);
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("activation = \"tanh\""), "{config}");
    assert!(config.contains("epochs = 3"), "{config}");

    // The written config repeats the run exactly.
    let again = dir.path().join("again");
    let config_arg = out.join("config.toml").display().to_string();
    let again_arg = again.display().to_string();
    let (code, _, stderr) = run(&["--config", &config_arg, "--out", &again_arg, "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let losses = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        losses(&metrics),
        losses(&fs::read_to_string(again.join("metrics.csv")).unwrap())
    );
}

#[test]
fn quiet_prints_only_the_summary() {
    let (code, stdout, _) = run(&["--epochs", "2", "--quiet"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("Epoch "), "{stdout}");
    assert!(stdout.contains("training loss"), "{stdout}");
}

#[test]
fn the_example_configs_are_valid() {
    let root = crate::common::repo_root().join("config");
    // config/ and its folders (config/fair/).
    let mut paths = Vec::new();
    for entry in fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            paths.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            paths.push(path);
        }
    }
    assert!(paths.iter().any(|p| p.ends_with("fair/spiral.toml")));
    for path in paths {
        let text = fs::read_to_string(&path).unwrap();
        let config = train::config::RunConfig::from_toml(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        if let Err(error) = config.validate() {
            panic!("{}: {}: {}", path.display(), error.key, error.message);
        }
    }
}

/// Runs `train --config FILE` on a config holding `text`; returns its one
/// error line (exit code 2) with the file's path shown as `FILE`.
fn config_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, text);
    user_error(&["--config", &path]).replace(&path, "FILE")
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    assert_eq!(
        config_error("[training]\nepoch = 3\n"),
        "FILE:2: key `training.epoch`: unknown field `epoch`, expected one of `epochs`, `batch_size`, `lr`, `diagnostics`, `checkpoint_every`, `precision`, `loss`, `clip_grad_norm`, `schedule`, `early_stop`, `regions_every`, `l1`, `l2`, `divergence_threshold`"
    );
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    assert_eq!(
        config_error("[training]\nlr = \"fast\"\n"),
        "FILE:2: key `training.lr`: invalid type: string \"fast\", expected f64"
    );
}

#[test]
fn malformed_toml_is_named_with_its_line() {
    assert_eq!(
        config_error("[training\nlr = 1\n"),
        "FILE:1: invalid table header expected `.`, `]`"
    );
}

#[test]
fn a_zero_batch_size_is_refused() {
    assert_eq!(
        config_error("[training]\nbatch_size = 0\n"),
        "FILE: key `training.batch_size`: must be at least 1 (got 0)"
    );
}

#[test]
fn a_network_without_hidden_layers_is_refused() {
    assert_eq!(
        config_error("[model]\nhidden = []\n"),
        "FILE: key `model.hidden`: needs at least one hidden layer size, e.g. [18, 18, 4]"
    );
}

#[test]
fn a_hidden_layer_of_size_zero_is_refused() {
    assert_eq!(
        config_error("[model]\nhidden = [18, 0]\n"),
        "FILE: key `model.hidden`: layer size 2 is 0; every size must be at least 1"
    );
}

#[test]
fn an_input_size_that_does_not_fit_the_data_is_refused() {
    assert_eq!(
        config_error("[model]\ninput = 12\n"),
        "FILE: key `model.input`: is 12 but the data has 10 features (data.features)"
    );
}

#[test]
fn a_missing_config_file_is_named() {
    assert_eq!(
        user_error(&["--config", "no/such/file.toml"]),
        "cannot read config file no/such/file.toml: no such file"
    );
}

#[test]
fn a_zero_learning_rate_blames_the_flag() {
    assert_eq!(
        user_error(&["--lr", "0"]),
        "--lr (sets `training.lr`): must be > 0 and finite in float32 (got 0)"
    );
}

#[test]
fn a_nan_learning_rate_blames_the_flag() {
    assert_eq!(
        user_error(&["--lr", "NaN"]),
        "--lr (sets `training.lr`): must be > 0 and finite in float32 (got NaN)"
    );
}

#[test]
fn a_zero_batch_size_blames_the_flag() {
    assert_eq!(
        user_error(&["--batch-size", "0"]),
        "--batch-size (sets `training.batch_size`): must be at least 1 (got 0)"
    );
}

#[test]
fn a_zero_hidden_size_blames_the_flag() {
    assert_eq!(
        user_error(&["--hidden", "18,0"]),
        "--hidden (sets `model.hidden`): layer size 2 is 0; every size must be at least 1"
    );
}

#[test]
fn an_unknown_activation_lists_the_known_ones() {
    let (code, _, stderr) = run(&["--activation", "relux"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().next().unwrap(),
        "error: invalid value 'relux' for '--activation <NAME>': unknown activation `relux`; expected one of: identity, relu, leaky_relu, sigmoid, tanh, gelu, silu, elu, softplus, selu, mish, hardswish, hardsigmoid, hardtanh, relu6, celu, gelu_tanh, softsign, sin, prelu, swish_beta"
    );
}

#[test]
fn an_unknown_backend_lists_the_known_ones() {
    let (code, _, stderr) = run(&["--backend", "cuda"]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = stderr.lines().take(2).collect();
    assert_eq!(
        lines,
        [
            "error: invalid value 'cuda' for '--backend <BACKEND>'",
            "  [possible values: ndarray, flex, wgpu]"
        ]
    );
}

#[test]
fn help_lists_the_subcommands() {
    let (code, stdout, stderr) = run(&["--help"]);
    assert_eq!(code, 0, "{stderr}");
    for command in [
        "compare",
        "collapse",
        "diagnose",
        "plot",
        "--backend",
        "--config",
    ] {
        assert!(
            stdout.contains(command),
            "`{command}` missing from --help:\n{stdout}"
        );
    }
}

#[test]
fn resume_refuses_the_flags_that_fix_a_run() {
    let (code, _, stderr) = run(&["--resume", "runs/a", "--lr", "0.1"]);
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        "error: the argument '--resume <DIR>' cannot be used with:"
    );
    assert!(lines.contains(&"  --lr <LR>"), "{stderr}");
    assert!(!lines.contains(&"  --epochs <EPOCHS>"), "{stderr}");
}

#[test]
fn every_run_records_its_full_pass_training_loss() {
    // The seed's own config: no validation part, no diagnostics, mse.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seed");
    let out_arg = out.display().to_string();
    let (code, stdout, stderr) = run(&["--epochs", "5", "--out", &out_arg]);
    assert_eq!(code, 0, "{stderr}");
    let metrics = out.join("metrics.csv");
    let train_loss = crate::common::csv_column(&metrics, "train_loss");
    let last_batch = crate::common::csv_column(&metrics, "loss");
    assert_eq!(train_loss.len(), 5);
    assert!(
        train_loss.iter().all(|v| v.is_finite() && *v > 0.0),
        "{train_loss:?}"
    );
    // The summary names each loss for what it is; the seed's line is the last batch.
    let summary = |label: &str| {
        stdout
            .lines()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
            .to_string()
    };
    assert!(
        summary("training loss").contains(&format!("{:.6}", train_loss[4])),
        "{stdout}"
    );
    assert!(
        summary("last batch").contains(&format!("{:.6}", last_batch[4])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Epoch 5/5, Loss: {:.6}", last_batch[4])),
        "{stdout}"
    );
    let result = fs::read_to_string(out.join("result.json")).unwrap();
    assert!(
        result.contains(&format!("\"train_loss\": {}", train_loss[4])),
        "{result}"
    );
    assert!(!result.contains("test_loss"), "no test rows: {result}");
}

#[test]
fn a_run_with_test_rows_scores_them_once_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("test.toml");
    fs::write(
        &config,
        "[data]\nkind = \"circle\"\nsamples = 200\nvalidation_fraction = 0.2\n\
         test_fraction = 0.25\n[model]\ninput = 2\nhidden = [8]\n\
         [training]\nloss = \"bce\"\nepochs = 3\nlr = 0.01\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let (code, _, stderr) = run(&[
        "--config",
        config.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let result: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    let accuracy = result["test_accuracy"].as_f64().unwrap();
    // 50 test rows: a whole number of them right.
    assert!(
        ((accuracy * 50.0) - (accuracy * 50.0).round()).abs() < 1e-4,
        "{result}"
    );
    assert!(result["test_loss"].as_f64().unwrap() > 0.0);
    // The test rows never reach training: 200 - 40 - 50 rows train.
    let written = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(written.contains("test_fraction = 0.25"), "{written}");
}

#[test]
fn a_flag_a_command_cannot_honour_is_an_error() {
    for command in ["compare", "collapse"] {
        let (code, _, stderr) = run(&[command, "--activation", "tanh"]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(
            stderr.starts_with("error: unexpected argument '--activation' found"),
            "{command}: {stderr}"
        );
        assert!(stderr.contains("'--activations'"), "{command}: {stderr}");
    }
    // The activation grammar: commas inside parentheses are parameters.
    let (code, _, stderr) = run(&["compare", "--activations", "relu,,tanh"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`relu,,tanh` has an empty item between `,`s"),
        "{stderr}"
    );
    // One activation per hidden layer: as many names as layers.
    let (code, _, stderr) = run(&["--activation", "relu/tanh", "--epochs", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --activation (sets `model.activation`): `relu/tanh` names 2 activations for 3 \
         hidden layers: give one name for every layer or one per hidden layer"
    );
    let (code, _, stderr) = run(&["compare", "--all-pairs", "--epochs", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --all-pairs tests pairs over seeds: give --seeds N with N >= 2"
    );
    let (code, _, stderr) = run(&["compare", "--batched", "--epochs", "1"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --batched trains over seeds: give --seeds N with N >= 2"
    );
    let (code, _, stderr) = run(&[
        "compare",
        "--batched",
        "--seeds",
        "2",
        "--activations",
        "relu,prelu",
        "--epochs",
        "1",
    ]);
    assert_eq!(code, 2, "{stderr}");
    // After the header, before any run: one line.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("  seed")).count(),
        0,
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().last(),
        Some("error: --batched trains plain runs together; prelu here has a learnable activation")
    );
    let (code, stdout, stderr) = run(&[
        "compare",
        "--activations",
        "relu,leaky_relu(0.2)",
        "--epochs",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("leaky_relu(0.2)"), "{stdout}");
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // As `train predict ... | head -1`, with more output than a pipe holds.
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let run_arg = run_dir.display().to_string();
    let (code, _, stderr) = run(&["--epochs", "1", "--quiet", "--out", &run_arg]);
    assert_eq!(code, 0, "{stderr}");
    let rows: String = (0..20_000)
        .map(|i| {
            format!(
                "{}\n",
                [(i % 7) as f64 * 0.1; 10]
                    .iter()
                    .map(f64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    let input = dir.path().join("rows.csv");
    fs::write(
        &input,
        format!(
            "{}\n{rows}",
            (1..=10)
                .map(|i| format!("x{i}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .unwrap();
    let mut child = crate::common::train_bin()
        .args([
            "predict",
            "--model",
            &run_arg,
            "--input",
            input.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("prediction"), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
    // A training run piped into `head -1` trains to its end and saves.
    let piped = dir.path().join("piped");
    let mut child = crate::common::train_bin()
        .args(["--epochs", "150", "--out", piped.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        piped.join("result.json").exists(),
        "the run finished and was recorded"
    );
}

#[test]
fn a_weight_penalty_is_trained_on_and_recorded_apart_from_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("l2");
    crate::common::train_ok([
        "--epochs",
        "3",
        "--l2",
        "0.01",
        "--quiet",
        "--out",
        crate::common::path_str(&out),
    ]);
    let penalty = crate::common::csv_column(&out.join("metrics.csv"), "penalty");
    assert_eq!(penalty.len(), 3);
    assert!(penalty.iter().all(|&p| p > 0.0), "{penalty:?}");
    let config = fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("l2 = 0.01"), "{config}");
    // Without one, no column.
    let plain = dir.path().join("plain");
    crate::common::train_ok([
        "--epochs",
        "2",
        "--quiet",
        "--out",
        crate::common::path_str(&plain),
    ]);
    let header = fs::read_to_string(plain.join("metrics.csv")).unwrap();
    assert!(
        !header.lines().next().unwrap().contains("penalty"),
        "{header}"
    );
    assert_eq!(
        crate::common::user_error(&["--l1=-1", "--epochs", "1"]),
        "--l1 (sets `training.l1`): must be >= 0 and finite in float32 (got -1)"
    );
}

#[test]
fn a_relative_data_path_is_read_beside_its_config_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    fs::copy(
        crate::common::fixture("seed_data.csv"),
        project.join("data.csv"),
    )
    .unwrap();
    fs::write(
        project.join("run.toml"),
        "[data]\nkind = \"csv\"\npath = \"data.csv\"\n[model]\ninput = 10\n[training]\nepochs = 2\n",
    )
    .unwrap();
    // From the temp dir (not the config's folder): still found.
    let output = train_bin()
        .current_dir(dir.path())
        .args(["--config", "project/run.toml", "--out", "run", "--quiet"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The run directory names it absolutely: its resume works from anywhere.
    let written = fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    let absolute = std::path::absolute(project.join("data.csv")).unwrap();
    assert!(
        written.contains(&format!("path = {:?}", absolute.display().to_string())),
        "{written}"
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let resumed = train_bin()
        .current_dir(elsewhere.path())
        .arg("--resume")
        .arg(dir.path().join("run"))
        .args(["--epochs", "3", "--quiet"])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    // A missing file is named where it was looked for: beside the config.
    fs::remove_file(project.join("data.csv")).unwrap();
    let output = train_bin()
        .current_dir(dir.path())
        .args(["--config", "project/run.toml", "--epochs", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read data file project/data.csv"),
        "{stderr}"
    );
}
