//! `train bench`: every workload on every asked-for backend, several runs
//! each in a fresh process, reported as median and range; with
//! `--against-pytorch`, PyTorch's run of each round right after ours and the
//! ratio of the two, round by round.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use train::backend::{Backend, BackendKind};
use train::error::describe_io_error;
use train::experiments::bench::{Measurement, Workload, machine, measure, paired_ratios};
use train::io::atomic::write_atomic;
use train::stats::Spread;
use train::user_error;

use crate::cli::{BenchArgs, BenchWorkerArgs};

/// PyTorch's harness, built into the binary so `--against-pytorch` works
/// from any directory and always measures the same loop as this build
/// (`embedded/` links it from `scripts/`, so the package carries it).
const PYTORCH_SCRIPT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/embedded/bench_pytorch.py"
));

/// Who runs a row's measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Burn(BackendKind),
    PyTorch,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Burn(kind) => kind.name(),
            Engine::PyTorch => "pytorch",
        }
    }
}

/// One workload on one engine, all runs, in round order.
struct Row {
    workload: Workload,
    engine: Engine,
    runs: Vec<(Measurement, f64)>,
}

impl Row {
    fn spread(&self, value: impl Fn(&Measurement, f64) -> f64) -> Spread {
        let values: Vec<f64> = self.runs.iter().map(|(m, p)| value(m, *p)).collect();
        Spread::of(&values)
    }

    fn steps_per_s(&self) -> Vec<f64> {
        self.runs.iter().map(|(m, _)| m.steps_per_s()).collect()
    }
}

/// The PyTorch side: a Python interpreter and the harness script, written
/// to a temporary file for the length of the benchmark.
pub(super) struct PyTorch {
    python: PathBuf,
    script: tempfile::NamedTempFile,
    /// What the interpreter reported: torch's version and thread count.
    pub(super) version: String,
}

impl PyTorch {
    /// Writes the script out and asks the interpreter for torch's version,
    /// so a missing Python or torch fails before our first measurement.
    fn prepare(python: &Path) -> anyhow::Result<Self> {
        let mut script = tempfile::Builder::new()
            .prefix("bench_pytorch")
            .suffix(".py")
            .tempfile()?;
        std::io::Write::write_all(&mut script, PYTORCH_SCRIPT.as_bytes())?;
        let mut pytorch = Self {
            python: python.to_path_buf(),
            script,
            version: String::new(),
        };
        let mut probe = pytorch.command();
        probe.arg("--probe");
        let (output, _) = pytorch.run(probe, "probe")?;
        pytorch.version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(pytorch)
    }

    pub(super) fn command(&self) -> Command {
        let mut command = Command::new(&self.python);
        command.arg(self.script.path());
        command
    }

    /// Runs one of the script's modes; its failures (no such interpreter,
    /// torch not installed) are the user's to fix: exit 2.
    pub(super) fn run(
        &self,
        command: Command,
        what: &str,
    ) -> anyhow::Result<(std::process::Output, f64)> {
        let python = self.python.display();
        let (output, seconds) =
            timed(command).map_err(|error| match error.downcast_ref::<std::io::Error>() {
                Some(io) => user_error!(
                    "--against-pytorch: cannot run `{python}`: {}",
                    describe_io_error(io)
                ),
                None => error,
            })?;
        if !output.status.success() {
            return Err(user_error!(
                "--against-pytorch: the {what} run under `{python}` failed: {}",
                last_line(&output.stderr)
            ));
        }
        Ok((output, seconds))
    }

    /// One measurement of `workload`, and the child's start-to-exit seconds.
    fn measure(&self, workload: &Workload) -> anyhow::Result<(Measurement, f64)> {
        let mut command = self.command();
        command.args(["--worker", workload.name]);
        let (output, process_s) = self.run(command, workload.name)?;
        Ok((report(&output.stdout)?, process_s))
    }
}

/// `train bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.study {
        let pytorch = args
            .against_pytorch
            .as_deref()
            .map(PyTorch::prepare)
            .transpose()?;
        return super::study::run(args, pytorch.as_ref());
    }
    let workloads = args
        .workloads
        .iter()
        .map(|name| {
            Workload::named(name).ok_or_else(|| {
                user_error!(
                    "--workloads: unknown workload `{name}` (known: tiny, seed, scaled, large)"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let backends = match &args.backends {
        Some(list) => list.clone(),
        None => BackendKind::compiled(),
    };
    for kind in &backends {
        // Fails early, in one line, for a backend not compiled in or without an adapter.
        Backend::open(*kind)?;
    }
    let pytorch = args
        .against_pytorch
        .as_deref()
        .map(PyTorch::prepare)
        .transpose()?;
    let mut engines: Vec<Engine> = backends.iter().map(|kind| Engine::Burn(*kind)).collect();
    if pytorch.is_some() {
        engines.push(Engine::PyTorch);
    }
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for workload in &workloads {
        let first = rows.len();
        rows.extend(engines.iter().map(|&engine| Row {
            workload: *workload,
            engine,
            runs: Vec::new(),
        }));
        // Round by round, ours then theirs, so both see the same machine.
        for run in 1..=args.runs {
            for row in &mut rows[first..] {
                eprintln!(
                    "bench: {} on {}, run {run}/{} ...",
                    workload.name,
                    row.engine.name(),
                    args.runs
                );
                let measured = match (row.engine, &pytorch) {
                    (Engine::Burn(kind), _) => run_worker(&exe, workload, kind)?,
                    (Engine::PyTorch, Some(pytorch)) => pytorch.measure(workload)?,
                    (Engine::PyTorch, None) => unreachable!("pytorch rows need --against-pytorch"),
                };
                row.runs.push(measured);
            }
        }
    }
    println!("machine: {}", machine());
    if let Some(pytorch) = &pytorch {
        println!("pytorch: {}", pytorch.version);
    }
    print!("{}", render(&rows));
    if pytorch.is_some() {
        print!("{}", render_ratios(&rows));
    }
    if let Some(path) = &args.csv {
        write_atomic(path, &to_csv(&rows)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs one measurement in a child process; returns it and the child's
/// start-to-exit seconds.
fn run_worker(
    exe: &Path,
    workload: &Workload,
    backend: BackendKind,
) -> anyhow::Result<(Measurement, f64)> {
    let mut command = Command::new(exe);
    command
        .args(["bench-worker", "--workload", workload.name])
        .args(["--backend", backend.name()]);
    let (output, process_s) = timed(command)?;
    if !output.status.success() {
        anyhow::bail!(
            "the {} run on {backend} failed: {}",
            workload.name,
            last_line(&output.stderr)
        );
    }
    Ok((report(&output.stdout)?, process_s))
}

/// Runs `command` to its end, timing it from spawn to exit.
pub(super) fn timed(mut command: Command) -> anyhow::Result<(std::process::Output, f64)> {
    let started = Instant::now();
    let output = command.stdin(Stdio::null()).output()?;
    Ok((output, started.elapsed().as_secs_f64()))
}

/// The worker's report: the last line of its standard output, as JSON.
fn report(stdout: &[u8]) -> anyhow::Result<Measurement> {
    let stdout = String::from_utf8_lossy(stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .map_err(|error| anyhow::anyhow!("unreadable worker report `{line}`: {error}"))
}

/// The last non-empty line of a child's error output: where Python and
/// `train` put the one line that says what went wrong.
fn last_line(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let line = stderr.lines().rev().find(|line| !line.trim().is_empty());
    line.unwrap_or("(no error output)").trim().to_string()
}

/// `train bench-worker`: one measurement, printed as a JSON line.
pub fn worker(args: &BenchWorkerArgs) -> anyhow::Result<()> {
    if args.workload == super::study::ENSEMBLE_WORKER {
        return super::study::ensemble_worker(args);
    }
    let workload = Workload::named(&args.workload)
        .ok_or_else(|| user_error!("unknown workload `{}`", args.workload))?;
    let kind = args
        .backend
        .backend
        .ok_or_else(|| user_error!("bench-worker needs --backend"))?;
    let backend = Backend::open(kind)?;
    let measurement = measure(&workload, &backend)?;
    println!("{}", serde_json::to_string(&measurement)?);
    Ok(())
}

fn mib(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
}

/// Decimals that keep about four significant digits: 8807, 161.2, 1.736.
fn decimals_for(value: f64) -> usize {
    match value.abs() {
        v if v >= 1000.0 => 0,
        v if v >= 100.0 => 1,
        v if v >= 10.0 => 2,
        _ => 3,
    }
}

fn range(spread: Spread, decimals: usize) -> String {
    format!(
        "{:.decimals$} ({:.decimals$}-{:.decimals$})",
        spread.median, spread.min, spread.max
    )
}

fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<8} {:<8} {:>4} {:>24} {:>14} {:>20} {:>20} {:>10}\n",
        "workload",
        "backend",
        "runs",
        "steps/s (min-max)",
        "samples/s",
        "loop s (min-max)",
        "process s (min-max)",
        "peak MiB"
    );
    for row in rows {
        let samples = row.spread(|m, _| m.samples as f64 / m.loop_s);
        let peak = row.spread(|m, _| mib(m.peak_rss_bytes));
        out.push_str(&format!(
            "{:<8} {:<8} {:>4} {:>24} {:>14.0} {:>20} {:>20} {:>10.1}\n",
            row.workload.name,
            row.engine.name(),
            row.runs.len(),
            {
                let steps = row.spread(|m, _| m.steps_per_s());
                range(steps, decimals_for(steps.median))
            },
            samples.median,
            range(row.spread(|m, _| m.loop_s), 3),
            range(row.spread(|_, p| p), 3),
            peak.max
        ));
    }
    out
}

/// Each Burn row's steps/s over PyTorch's on the same workload, run `i`
/// against run `i`.
fn render_ratios(rows: &[Row]) -> String {
    let mut out = format!(
        "\nratio to PyTorch: steps/s, each run against PyTorch's run of the same round\n\
         {:<8} {:<8} {:>6} {:>24}\n",
        "workload", "backend", "rounds", "ratio (min-max)"
    );
    for row in rows.iter().filter(|row| row.engine != Engine::PyTorch) {
        let theirs = rows
            .iter()
            .find(|other| other.workload == row.workload && other.engine == Engine::PyTorch);
        let Some(spread) = theirs.and_then(|t| paired_ratios(&row.steps_per_s(), &t.steps_per_s()))
        else {
            continue;
        };
        out.push_str(&format!(
            "{:<8} {:<8} {:>6} {:>24}\n",
            row.workload.name,
            row.engine.name(),
            row.runs.len(),
            format!(
                "{:.2}x ({:.2}-{:.2})",
                spread.median, spread.min, spread.max
            )
        ));
    }
    out
}

fn to_csv(rows: &[Row]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "workload",
        "backend",
        "run",
        "steps",
        "samples",
        "loop_s",
        "process_s",
        "steps_per_s",
        "samples_per_s",
        "peak_rss_mib",
        "final_loss",
    ])?;
    for row in rows {
        for (index, (m, process_s)) in row.runs.iter().enumerate() {
            writer.write_record([
                row.workload.name.to_string(),
                row.engine.name().to_string(),
                (index + 1).to_string(),
                m.steps.to_string(),
                m.samples.to_string(),
                format!("{:.6}", m.loop_s),
                format!("{process_s:.6}"),
                format!("{:.3}", m.steps_per_s()),
                format!("{:.1}", m.samples as f64 / m.loop_s),
                format!("{:.2}", mib(m.peak_rss_bytes)),
                m.final_loss.to_string(),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}
