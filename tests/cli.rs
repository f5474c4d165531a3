//! The `train` binary as a user meets it: output, files, and one-line errors
//! with exit code 2 for every mistake.

use std::fs;

use crate::common::train_bin;

fn run(args: &[&str]) -> (i32, String, String) {
    let output = train_bin().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_user_error(args: &[&str], expected: &[&str]) {
    let (code, _, stderr) = run(args);
    assert_eq!(code, 2, "args {args:?}: stderr {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "not one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for part in expected {
        assert!(
            stderr.contains(part),
            "args {args:?}: `{part}` not in `{stderr}`"
        );
    }
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
        lines[0].starts_with("epoch,loss,elapsed_s,train_mse,grad_norm_l1,"),
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
    assert!(stdout.contains("final loss"), "{stdout}");
}

#[test]
fn the_example_configs_are_valid() {
    for entry in fs::read_dir(crate::common::repo_root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        train::config::RunConfig::from_toml(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn config_mistakes_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = write_config(&dir, "[training]\nepoch = 3\n");
    assert_user_error(
        &["--config", &unknown],
        &["bad.toml:2", "training.epoch", "unknown field"],
    );
    let wrong_type = write_config(&dir, "[training]\nlr = \"fast\"\n");
    assert_user_error(
        &["--config", &wrong_type],
        &["bad.toml:2", "training.lr", "invalid type"],
    );
    let malformed = write_config(&dir, "[training\nlr = 1\n");
    assert_user_error(&["--config", &malformed], &["bad.toml:1"]);
    let zero_batch = write_config(&dir, "[training]\nbatch_size = 0\n");
    assert_user_error(
        &["--config", &zero_batch],
        &["bad.toml", "training.batch_size", "at least 1"],
    );
    let no_hidden = write_config(&dir, "[model]\nhidden = []\n");
    assert_user_error(
        &["--config", &no_hidden],
        &["model.hidden", "at least one hidden layer"],
    );
    let zero_size = write_config(&dir, "[model]\nhidden = [18, 0]\n");
    assert_user_error(
        &["--config", &zero_size],
        &["model.hidden", "layer size 2 is 0"],
    );
    let mismatch = write_config(&dir, "[model]\ninput = 12\n");
    assert_user_error(
        &["--config", &mismatch],
        &["model.input", "12", "10 features"],
    );
    assert_user_error(
        &["--config", "no/such/file.toml"],
        &["no/such/file.toml", "no such file"],
    );
}

#[test]
fn flag_mistakes_are_one_line_errors_with_exit_code_2() {
    assert_user_error(&["--lr", "0"], &["--lr", "training.lr", "> 0"]);
    assert_user_error(&["--lr", "NaN"], &["--lr", "finite"]);
    assert_user_error(&["--batch-size", "0"], &["--batch-size", "at least 1"]);
    assert_user_error(&["--hidden", "18,0"], &["--hidden", "layer size 2 is 0"]);
    let (code, _, stderr) = run(&["--activation", "relux"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown activation `relux`"), "{stderr}");
    let (code, _, stderr) = run(&["--backend", "cuda"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid value 'cuda'"), "{stderr}");
}
