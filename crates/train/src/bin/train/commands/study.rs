//! `train bench --study`: what studies cost, the lab's real workload. A
//! ten-seed study of the seed run timed whole (process start to exit), by
//! each of our paths (`compare --seeds`, on its threads or one job; `sweep
//! run`, a process per point) and, with `--against-pytorch`, PyTorch's (seed
//! after seed in one process, a process per seed, and the `torch.func`
//! ensemble: all ten in one model), round by round so every path sees the
//! same machine.

use std::process::Command;

use train::experiments::bench::machine;
use train::io::atomic::write_atomic;
use train::stats::Spread;

use super::bench::{PyTorch, timed};
use crate::cli::BenchArgs;

/// Seeds in the study.
pub const SEEDS: usize = 10;

/// The hidden `bench-worker --workload` that trains the study as one
/// batched model.
pub const ENSEMBLE_WORKER: &str = "study-ensemble";

/// `train bench-worker --workload study-ensemble --backend B`: the ten
/// seeds of the seed run as one batched model; prints each seed's last loss.
pub fn ensemble_worker(args: &crate::cli::BenchWorkerArgs) -> anyhow::Result<()> {
    let kind = args
        .backend
        .backend
        .ok_or_else(|| train::user_error!("bench-worker needs --backend"))?;
    let backend = train::backend::Backend::open(kind)?;
    let seeds: Vec<u64> = (0..SEEDS as u64).collect();
    let config = train::config::RunConfig::default();
    let outcome = train::experiments::ensemble::train_seeds(&config, &seeds, &backend)?;
    let last: Vec<Option<f64>> = outcome
        .runs
        .iter()
        .map(|run| run.records.last().map(|r| r.loss))
        .collect();
    let report = serde_json::json!({"last_batch_loss": last, "loop_s": outcome.seconds});
    println!("{report}");
    Ok(())
}

/// One way of running the study.
struct StudyPath {
    name: &'static str,
    /// Whole wall seconds, one per round.
    seconds: Vec<f64>,
}

/// Runs the study `args.runs` times on every path and prints the table.
pub(super) fn run(args: &BenchArgs, pytorch: Option<&PyTorch>) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let scratch = tempfile::tempdir()?;
    let sweep_file = scratch.path().join("study.toml");
    let seeds: Vec<String> = (0..SEEDS).map(|s| s.to_string()).collect();
    std::fs::write(
        &sweep_file,
        format!("[axes]\nseed = [{}]\n", seeds.join(", ")),
    )?;
    let mut names = vec![
        "compare --seeds 10",
        "compare --seeds 10 --jobs 1",
        "sweep run",
        "compare --seeds 10 --batched",
        "one batched model",
    ];
    if pytorch.is_some() {
        names.extend([
            "pytorch seed after seed",
            "pytorch process per seed",
            "pytorch torch.func ensemble",
        ]);
    }
    let mut paths: Vec<StudyPath> = names
        .iter()
        .map(|&name| StudyPath {
            name,
            seconds: Vec::new(),
        })
        .collect();
    for round in 1..=args.runs {
        for (index, path) in paths.iter_mut().enumerate() {
            eprintln!(
                "bench: study by {}, round {round}/{} ...",
                path.name, args.runs
            );
            let seconds = match index {
                0 | 1 | 3 => {
                    let mut command = Command::new(&exe);
                    command.args(["compare", "--activations", "relu", "--seeds", "10"]);
                    match index {
                        1 => command.args(["--jobs", "1"]),
                        3 => command.arg("--batched"),
                        _ => &mut command,
                    };
                    ours(command, path.name)?
                }
                2 => {
                    let out = scratch.path().join(format!("sweep-{round}"));
                    let mut command = Command::new(&exe);
                    command
                        .arg("sweep")
                        .arg("run")
                        .arg(&sweep_file)
                        .arg("--out")
                        .arg(&out);
                    ours(command, path.name)?
                }
                4 => {
                    let mut command = Command::new(&exe);
                    command.args(["bench-worker", "--workload", ENSEMBLE_WORKER]);
                    command.args(["--backend", "flex"]);
                    ours(command, path.name)?
                }
                _ => {
                    let pytorch = pytorch.expect("pytorch paths need --against-pytorch");
                    match index {
                        5 => theirs(pytorch, &["--study", "sequential"])?,
                        6 => {
                            let mut total = 0.0;
                            for seed in 0..SEEDS {
                                total += theirs(pytorch, &["--study-one", &seed.to_string()])?;
                            }
                            total
                        }
                        _ => theirs(pytorch, &["--study", "vmap"])?,
                    }
                }
            };
            path.seconds.push(seconds);
        }
    }
    println!("machine: {}", machine());
    if let Some(pytorch) = pytorch {
        println!("pytorch: {}", pytorch.version);
    }
    print!("{}", render(&paths));
    if let Some(file) = &args.csv {
        write_atomic(file, &to_csv(&paths)?)?;
        eprintln!("wrote {}", file.display());
    }
    Ok(())
}

/// Our binary's whole run of the study.
fn ours(mut command: Command, what: &str) -> anyhow::Result<f64> {
    command.stdout(std::process::Stdio::null());
    let (output, seconds) = timed(command)?;
    if !output.status.success() {
        anyhow::bail!(
            "the study by {what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(seconds)
}

/// PyTorch's whole run of one of the script's study modes.
fn theirs(pytorch: &PyTorch, arguments: &[&str]) -> anyhow::Result<f64> {
    let mut command = pytorch.command();
    command.args(arguments);
    let (_, seconds) = pytorch.run(command, "study")?;
    Ok(seconds)
}

/// Median wall time per path, and each PyTorch path's time over each of
/// ours, round against round.
fn render(paths: &[StudyPath]) -> String {
    let mut out = format!(
        "ten-seed study of the seed run (100 rows, 10 -> 18 -> 18 -> 4 -> 1 relu, 150 epochs), \
         whole wall time\n{:<30} {:>6} {:>26}\n",
        "path", "rounds", "seconds (min-max)"
    );
    for path in paths {
        let s = Spread::of(&path.seconds);
        out.push_str(&format!(
            "{:<30} {:>6} {:>26}\n",
            path.name,
            path.seconds.len(),
            format!("{:.2} ({:.2}-{:.2})", s.median, s.min, s.max)
        ));
    }
    let (ours, theirs): (Vec<&StudyPath>, Vec<&StudyPath>) =
        paths.iter().partition(|p| !p.name.starts_with("pytorch"));
    if theirs.is_empty() {
        return out;
    }
    out.push_str(
        "\nPyTorch's time over ours (higher: ours is faster), median of the rounds' ratios\n",
    );
    out.push_str(&format!("{:<30}", "pytorch \\ ours"));
    for path in &ours {
        out.push_str(&format!(" {:>28}", path.name));
    }
    out.push('\n');
    for their in &theirs {
        out.push_str(&format!("{:<30}", their.name));
        for our in &ours {
            let ratios: Vec<f64> = their
                .seconds
                .iter()
                .zip(&our.seconds)
                .map(|(t, o)| t / o)
                .collect();
            let s = Spread::of(&ratios);
            out.push_str(&format!(
                " {:>28}",
                format!("{:.2}x ({:.2}-{:.2})", s.median, s.min, s.max)
            ));
        }
        out.push('\n');
    }
    out
}

fn to_csv(paths: &[StudyPath]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["path", "round", "seconds"])?;
    for path in paths {
        for (round, seconds) in path.seconds.iter().enumerate() {
            writer.write_record([
                path.name.to_string(),
                (round + 1).to_string(),
                format!("{seconds:.4}"),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}
