//! `train bench`: every workload on every asked-for backend, several runs
//! each in a fresh process, reported as median and range.

use std::process::{Command, Stdio};
use std::time::Instant;

use train::backend::{Backend, BackendKind};
use train::experiments::bench::{Measurement, Workload, measure};
use train::io::atomic::write_atomic;
use train::stats::Spread;
use train::user_error;

use crate::cli::{BenchArgs, BenchWorkerArgs};

/// One workload on one backend, all runs.
struct Row {
    workload: Workload,
    backend: BackendKind,
    runs: Vec<(Measurement, f64)>,
}

impl Row {
    fn spread(&self, value: impl Fn(&Measurement, f64) -> f64) -> Spread {
        let values: Vec<f64> = self.runs.iter().map(|(m, p)| value(m, *p)).collect();
        Spread::of(&values)
    }
}

/// `train bench`.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
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
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for workload in &workloads {
        for &backend in &backends {
            let mut row = Row {
                workload: *workload,
                backend,
                runs: Vec::new(),
            };
            for run in 1..=args.runs {
                eprintln!(
                    "bench: {} on {backend}, run {run}/{} ...",
                    workload.name, args.runs
                );
                row.runs.push(run_worker(&exe, workload, backend)?);
            }
            rows.push(row);
        }
    }
    let table = render(&rows);
    print!("{table}");
    if let Some(path) = &args.csv {
        write_atomic(path, &to_csv(&rows)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs one measurement in a child process; returns it and the child's
/// start-to-exit seconds.
fn run_worker(
    exe: &std::path::Path,
    workload: &Workload,
    backend: BackendKind,
) -> anyhow::Result<(Measurement, f64)> {
    let started = Instant::now();
    let output = Command::new(exe)
        .args(["bench-worker", "--workload", workload.name])
        .args(["--backend", backend.name()])
        .stdin(Stdio::null())
        .output()?;
    let process_s = started.elapsed().as_secs_f64();
    if !output.status.success() {
        anyhow::bail!(
            "the {} run on {backend} failed: {}",
            workload.name,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let measurement: Measurement = serde_json::from_str(line)
        .map_err(|error| anyhow::anyhow!("unreadable worker report `{line}`: {error}"))?;
    Ok((measurement, process_s))
}

/// `train bench-worker`: one measurement, printed as a JSON line.
pub fn worker(args: &BenchWorkerArgs) -> anyhow::Result<()> {
    let workload = Workload::named(&args.workload)
        .ok_or_else(|| user_error!("unknown workload `{}`", args.workload))?;
    let backend = Backend::open(args.backend)?;
    let measurement = measure(&workload, &backend)?;
    println!("{}", serde_json::to_string(&measurement)?);
    Ok(())
}

fn mib(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
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
        let steps = row.spread(|m, _| m.steps as f64 / m.loop_s);
        let samples = row.spread(|m, _| m.samples as f64 / m.loop_s);
        let seconds = row.spread(|m, _| m.loop_s);
        let process = row.spread(|_, p| p);
        let peak = row.spread(|m, _| mib(m.peak_rss_bytes));
        out.push_str(&format!(
            "{:<8} {:<8} {:>4} {:>24} {:>14.0} {:>20} {:>20} {:>10.1}\n",
            row.workload.name,
            row.backend.name(),
            row.runs.len(),
            format!("{:.1} ({:.1}-{:.1})", steps.median, steps.min, steps.max),
            samples.median,
            format!(
                "{:.3} ({:.3}-{:.3})",
                seconds.median, seconds.min, seconds.max
            ),
            format!(
                "{:.3} ({:.3}-{:.3})",
                process.median, process.min, process.max
            ),
            peak.max
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
                row.backend.name().to_string(),
                (index + 1).to_string(),
                m.steps.to_string(),
                m.samples.to_string(),
                format!("{:.6}", m.loop_s),
                format!("{process_s:.6}"),
                format!("{:.3}", m.steps as f64 / m.loop_s),
                format!("{:.1}", m.samples as f64 / m.loop_s),
                format!("{:.2}", mib(m.peak_rss_bytes)),
                m.final_loss.to_string(),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}
