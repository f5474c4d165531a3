//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use train::backend::{Backend, BackendKind};

pub mod lab;
pub mod webdriver;

/// The repository root (where `config/` lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `train` binary of this build, run from the repository root.
pub fn train_bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
    command.current_dir(repo_root());
    command
}

/// A file of `tests/fixtures/` (written by scripts/pytorch_reference.py).
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// Sends `signal` (e.g. `-TERM`) to a running `train`.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} failed");
}

/// What a test needs from the machine (wgpu, a browser, Slurm), or why it
/// is skipped: with `{require}=1` (CI sets it) the lack fails the test.
pub fn needed_or_skip<T>(require: &str, what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(why) => {
            if std::env::var(require).as_deref() == Ok("1") {
                panic!("{require}=1 but {why}");
            }
            eprintln!("skipping {what}: {why}");
            None
        }
    }
}

/// Opens the wgpu backend, or explains why the test is skipped. With
/// `ACTLAB_REQUIRE_WGPU=1` (CI) a missing adapter fails the test instead.
pub fn wgpu_or_skip(test: &str) -> Option<Backend> {
    let found =
        Backend::open(BackendKind::Wgpu).map_err(|error| format!("wgpu is unavailable: {error}"));
    needed_or_skip("ACTLAB_REQUIRE_WGPU", &format!("{test}'s wgpu case"), found)
}

/// The CPU backends this build has: flex and ndarray in the default build
/// (a one-backend build has fewer).
pub fn cpu_backends() -> Vec<BackendKind> {
    BackendKind::compiled()
        .into_iter()
        .filter(|kind| *kind != BackendKind::Wgpu)
        .collect()
}

/// Relative difference, safe around zero.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// Runs `train` with `args` and asserts it succeeded, showing its stderr if not.
pub fn train_ok<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = train_bin().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The trimmed text nodes of an SVG document.
pub fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect()
}

/// The point counts of an SVG document's polylines (plotters draws each
/// series, and each legend swatch, as one polyline).
pub fn polyline_lengths(svg: &str) -> Vec<usize> {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter_map(|n| n.attribute("points"))
        .map(|points| points.split_whitespace().count())
        .collect()
}

/// Runs `train` with `args` (and `env`), expecting exit code `code` and
/// exactly one `error:` line on stderr, never a panic; returns that line
/// without its `error: ` prefix.
pub fn train_fails(code: i32, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = train_bin();
    command.envs(env.iter().copied());
    one_error_line(command, code, args)
}

/// [`train_fails`] with the child's address space capped at `bytes`
/// (setrlimit), so that a regression which reads or allocates without bound
/// fails the test instead of taking the machine's memory.
pub fn train_fails_within(bytes: u64, code: i32, args: &[&str]) -> String {
    use std::os::unix::process::CommandExt as _;
    let mut command = train_bin();
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    one_error_line(command, code, args)
}

/// Runs `command` with `args`, expecting exit `code` and one `error:` line.
fn one_error_line(mut command: Command, code: i32, args: &[&str]) -> String {
    let output = command.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
    lines[0]["error: ".len()..].to_string()
}

/// A path as the `&str` an argument list takes.
pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Column `name` of a CSV file with a header row, as written.
pub fn csv_column_text(path: &Path, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|header| header == name)
        .unwrap_or_else(|| panic!("{} has no column {name}", path.display()));
    reader
        .records()
        .map(|row| row.unwrap()[index].to_string())
        .collect()
}

/// Column `name` of a CSV file with a header row, as numbers.
pub fn csv_column(path: &Path, name: &str) -> Vec<f64> {
    csv_column_text(path, name)
        .iter()
        .map(|cell| cell.parse().unwrap())
        .collect()
}

/// The `loss` column of a run's metrics.csv, as written (so equality is
/// bit-for-bit equality of the losses).
pub fn loss_texts(dir: &Path) -> Vec<String> {
    csv_column_text(&dir.join("metrics.csv"), "loss")
}

/// Runs `train` expecting a user error (exit code 2); returns its one line.
pub fn user_error(args: &[&str]) -> String {
    train_fails(2, args, &[])
}

/// Each `(config path, expected text)`: training with that config is a
/// user error whose one line starts with the file's path and holds the text.
pub fn config_errors_name_their_file(cases: &[(String, &str)]) {
    for (path, expected) in cases {
        let error = user_error(&["--config", path, "--epochs", "1"]);
        assert!(error.starts_with(path.as_str()), "{error}");
        assert!(error.contains(expected), "{path}: {error}");
    }
}
