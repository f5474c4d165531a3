//! `train bench` runs every asked-for workload in fresh processes and prints
//! every figure. Nothing here asserts a timing: speed is recorded in
//! BENCHMARKS.md by the harness, not checked by tests.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{cpu_backends, csv_column, path_str, train_ok, user_error};

#[test]
fn bench_prints_every_figure_for_a_tiny_workload() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("bench.csv");
    let backends = cpu_backends();
    let names: Vec<&str> = backends.iter().map(|kind| kind.name()).collect();
    let output = train_ok([
        "bench",
        "--workloads",
        "tiny",
        "--backends",
        &names.join(","),
        "--runs",
        "2",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    let machine = lines.next().unwrap();
    assert!(
        machine.starts_with("machine: ") && machine.contains("cores"),
        "{machine}"
    );
    let header = lines.next().unwrap();
    for figure in [
        "steps/s",
        "samples/s",
        "loop s",
        "process s",
        "peak MiB",
        "runs",
    ] {
        assert!(header.contains(figure), "{figure} missing: {header}");
    }
    for backend in &names {
        let row = stdout
            .lines()
            .find(|l| l.starts_with("tiny") && l.contains(backend))
            .unwrap_or_else(|| panic!("no row for {backend}: {stdout}"));
        // runs, then five figures (three with a min-max range).
        let numbers: Vec<f64> = row
            .split(|c: char| c.is_whitespace() || "()-".contains(c))
            .filter_map(|t| t.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 1 + 3 * 3 + 2, "{row}");
        assert_eq!(numbers[0], 2.0, "{row}");
        assert!(numbers.iter().all(|n| n.is_finite() && *n > 0.0), "{row}");
    }
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("run 2/2"), "progress: {stderr}");

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * names.len(), "2 runs per backend: {names:?}");
    for row in &rows {
        assert_eq!(
            &row[3], "8",
            "tiny: 200 rows / 50 per batch x 2 epochs = 8 steps"
        );
        assert_eq!(&row[4], "400");
        let loss: f64 = row[10].parse().unwrap();
        assert!(loss.is_finite() && loss > 0.0);
    }
}

#[test]
fn bench_rejects_an_unknown_workload_in_one_line() {
    assert_eq!(
        user_error(&["bench", "--workloads", "huge"]),
        "--workloads: unknown workload `huge` (known: tiny, seed, scaled, large)"
    );
}

/// A stand-in for a Python with torch: `FAKE --probe` names a version,
/// `FAKE --worker NAME` reports 8 steps in 0.5 s (16 steps/s) as the real
/// harness's JSON line, and records each call, so the order can be checked.
fn fake_python(dir: &Path, worker_exit: i32) -> PathBuf {
    let path = dir.join("fake-python");
    let calls = dir.join("calls.log");
    let script = format!(
        r#"#!/bin/sh
# $1 is the harness script; then --probe, or --worker NAME
test -f "$1" || {{ echo "no script $1" >&2; exit 9; }}
shift
echo "$*" >> '{calls}'
if [ "$1" = "--probe" ]; then echo "torch 0.0-fake, 1 threads"; exit 0; fi
if [ {worker_exit} -ne 0 ]; then
  echo 'Traceback (most recent call last):' >&2
  echo "ModuleNotFoundError: No module named 'torch'" >&2
  exit {worker_exit}
fi
echo '{{"loop_s": 0.5, "steps": 8, "samples": 400, "peak_rss_bytes": 1048576, "final_loss": 0.25}}'
"#,
        calls = calls.display()
    );
    // Written by a child shell, not by this process: a file this process
    // holds open for writing can leak into a child that another test thread
    // is forking at that instant, and running it then fails with "text file
    // busy" (ETXTBSY).
    let mut writer = std::process::Command::new("sh")
        .args(["-c", r#"cat > "$1" && chmod 755 "$1""#, "sh"])
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut writer.stdin.take().unwrap(), script.as_bytes()).unwrap();
    assert!(writer.wait().unwrap().success());
    path
}

#[test]
fn against_pytorch_interleaves_runs_and_prints_paired_ratios() {
    let dir = tempfile::tempdir().unwrap();
    let python = fake_python(dir.path(), 0);
    let csv_path = dir.path().join("bench.csv");
    let output = train_ok([
        "bench",
        "--workloads",
        "tiny",
        "--backends",
        "flex",
        "--runs",
        "3",
        "--against-pytorch",
        path_str(&python),
        "--csv",
        path_str(&csv_path),
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l == "pytorch: torch 0.0-fake, 1 threads"),
        "{stdout}"
    );

    // Ours, then theirs, round by round.
    let stderr = String::from_utf8(output.stderr).unwrap();
    let order: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("bench: tiny on "))
        .collect();
    assert_eq!(
        order,
        [
            "flex, run 1/3 ...",
            "pytorch, run 1/3 ...",
            "flex, run 2/3 ...",
            "pytorch, run 2/3 ...",
            "flex, run 3/3 ...",
            "pytorch, run 3/3 ...",
        ]
    );
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["--probe", "--worker tiny", "--worker tiny", "--worker tiny"]
    );

    // PyTorch's row carries the fake's figures.
    let torch_row = stdout
        .lines()
        .find(|l| l.starts_with("tiny") && l.contains("pytorch"))
        .unwrap_or_else(|| panic!("no pytorch row: {stdout}"));
    assert!(torch_row.contains("16.00 (16.00-16.00)"), "{torch_row}");

    // The ratio row: each of our runs over 16 steps/s, median and range.
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let mut ours: Vec<f64> = Vec::new();
    let mut theirs = 0;
    for row in reader.records().map(Result::unwrap) {
        match &row[1] {
            "flex" => ours.push(row[7].parse::<f64>().unwrap() / 16.0),
            "pytorch" => theirs += 1,
            other => panic!("unexpected backend {other}"),
        }
    }
    assert_eq!((ours.len(), theirs), (3, 3), "every run is kept");
    ours.sort_by(f64::total_cmp);
    let expected = format!("{:.2}x ({:.2}-{:.2})", ours[1], ours[0], ours[2]);
    let ratios = stdout
        .split_once("ratio to PyTorch")
        .unwrap_or_else(|| panic!("no ratio table: {stdout}"))
        .1;
    let row = ratios
        .lines()
        .find(|l| l.starts_with("tiny"))
        .unwrap_or_else(|| panic!("no ratio row: {stdout}"));
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(fields[..3], ["tiny", "flex", "3"], "{row}");
    assert_eq!(fields[3..].join(" "), expected, "{row}");
}

#[test]
fn against_pytorch_without_python_or_torch_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bench_against = |python: &Path| {
        user_error(&[
            "bench",
            "--workloads",
            "tiny",
            "--backends",
            "flex",
            "--runs",
            "1",
            "--against-pytorch",
            path_str(python),
        ])
    };
    let missing = dir.path().join("no-python");
    assert_eq!(
        bench_against(&missing),
        format!(
            "--against-pytorch: cannot run `{}`: no such file",
            missing.display()
        )
    );
    let broken = fake_python(dir.path(), 1);
    assert_eq!(
        bench_against(&broken),
        format!(
            "--against-pytorch: the tiny run under `{}` failed: \
             ModuleNotFoundError: No module named 'torch'",
            broken.display()
        )
    );
}

/// scripts/gpu-check.sh, rehearsed on this machine's adapter (lavapipe in
/// CI) with a short parity run and the tiny workload: the script that goes
/// to the GPU machine keeps working.
#[test]
fn the_gpu_check_script_reports_adapter_parity_and_bench() {
    if crate::common::wgpu_or_skip("the_gpu_check_script_reports_adapter_parity_and_bench")
        .is_none()
    {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("bash")
        .arg(crate::common::repo_root().join("scripts/gpu-check.sh"))
        .arg(out.path())
        .env("TRAIN", env!("CARGO_BIN_EXE_train"))
        .env("GPU_CHECK_EPOCHS", "5")
        .env("GPU_CHECK_WORKLOADS", "tiny")
        .env("GPU_CHECK_RUNS", "1")
        .output()
        .unwrap();
    let summary = std::fs::read_to_string(out.path().join("summary.txt")).unwrap();
    assert!(status.status.success(), "{summary}");
    let line = |prefix: &str| {
        summary
            .lines()
            .find_map(|l| l.strip_prefix(&format!("gpu-check: {prefix}: ")))
            .unwrap_or_else(|| panic!("no {prefix} line: {summary}"))
            .to_string()
    };
    assert!(line("adapter").starts_with("wgpu on "), "{summary}");
    assert!(
        line("parity").starts_with("PASS: 5 epochs, largest difference "),
        "{summary}"
    );
    let mut reader = csv::Reader::from_path(out.path().join("bench.csv")).unwrap();
    let mut backends: Vec<String> = reader
        .records()
        .map(|row| row.unwrap()[1].to_string())
        .collect();
    backends.sort();
    assert_eq!(backends, ["flex", "wgpu"], "{summary}");
}

#[test]
fn a_study_is_timed_whole_on_every_path_round_by_round() {
    let dir = tempfile::tempdir().unwrap();
    let python = fake_python(dir.path(), 0);
    let csv_path = dir.path().join("study.csv");
    let output = train_ok([
        "bench",
        "--study",
        "--runs",
        "1",
        "--against-pytorch",
        path_str(&python),
        "--csv",
        path_str(&csv_path),
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    for path in [
        "compare --seeds 10 ",
        "compare --seeds 10 --jobs 1 ",
        "sweep run ",
        "compare --seeds 10 --batched ",
        "one batched model ",
        "pytorch seed after seed ",
        "pytorch process per seed ",
        "pytorch torch.func ensemble ",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(path)),
            "{path}: {stdout}"
        );
    }
    assert!(stdout.contains("PyTorch's time over ours"), "{stdout}");
    // PyTorch's harness ran each of its study modes, a process per seed ten times.
    let calls = fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert_eq!(
        calls
            .lines()
            .filter(|l| l.starts_with("--study-one"))
            .count(),
        10
    );
    assert!(calls.lines().any(|l| l == "--study sequential"), "{calls}");
    assert!(calls.lines().any(|l| l == "--study vmap"), "{calls}");
    assert_eq!(csv_column(&csv_path, "round").len(), 8);
}
