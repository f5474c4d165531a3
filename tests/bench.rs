//! `train bench` runs every asked-for workload in fresh processes and prints
//! every figure. Nothing here asserts a timing: speed is recorded in
//! BENCHMARKS.md by the harness, not checked by tests.

use crate::common::{train_ok, user_error};

#[test]
fn bench_prints_every_figure_for_a_tiny_workload() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("bench.csv");
    let output = train_ok([
        "bench",
        "--workloads",
        "tiny",
        "--backends",
        "flex,ndarray",
        "--runs",
        "2",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let header = stdout.lines().next().unwrap();
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
    for backend in ["flex", "ndarray"] {
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
    assert_eq!(rows.len(), 4, "2 backends x 2 runs");
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
