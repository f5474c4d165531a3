//! `train sweep run` and `train sweep report`.
//!
//! Each point trains in a child process (`train --out POINT` or `train
//! --resume POINT`), so a point is an ordinary run directory with its own
//! lock and checkpoints; `--jobs N` keeps N children busy.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use train::experiments::importance::{importance_csv, render_importance};

use anyhow::Context;

use train::config::RunConfig;
use train::error::{EXIT_BUSY, EXIT_DIVERGED};
use train::experiments::sweep::{
    ERROR_FILE, PLAN_FILE, POINT_CONFIG, Point, PointState, Shard, Sweep, point_dir, point_state,
    shown_value,
};
use train::io::atomic::{ensure_dir, write_atomic};
use train::io::no_follow::open_no_follow;
use train::io::run_dir::{RunDir, RunDirBusy};
use train::plot::write_figure;
use train::session::{PointAction, point_action};
use train::user_error;

use crate::children::{Children, FORWARD_AFTER};
use crate::cli::{SweepCommand, SweepReportArgs, SweepRunArgs};
use crate::interrupt::StopRequest;

/// Exit codes of a child stopped by Ctrl-C or SIGTERM after its checkpoint.
const EXIT_SIGINT: i32 = 128 + libc::SIGINT;
const EXIT_SIGTERM: i32 = 128 + libc::SIGTERM;

/// The log of points completed by this sweep's processes, one id a line.
const COMPLETIONS_LOG: &str = "completions.log";

/// Runs a `sweep` subcommand.
pub fn run(command: &SweepCommand) -> anyhow::Result<()> {
    match command {
        SweepCommand::Run(args) => run_sweep(args),
        SweepCommand::Report(args) => report(args),
    }
}

/// What became of one point in this process.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// It was done before (here or by another process).
    AlreadyDone,
    /// Its run finished now.
    Finished,
    /// Its run diverged now (recorded; not retried).
    Diverged,
    /// Another process is writing it.
    Busy,
    /// Its run was stopped by a signal after its checkpoint; resumed on the
    /// next run of the sweep.
    Stopped,
    /// Its run failed; retried on the next run of the sweep.
    Failed(String),
}

impl Outcome {
    /// Whether the point is done (finished or diverged, now or before).
    fn is_done(&self) -> bool {
        matches!(self, Self::AlreadyDone | Self::Finished | Self::Diverged)
    }
}

fn run_sweep(args: &SweepRunArgs) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.sweep)?;
    let shard = match &args.shard {
        Some(text) => Shard::parse(text, |name| std::env::var(name).ok(), args.shard_count)?,
        None => Shard::ALL,
    };
    let out = args
        .out
        .dir()
        .ok_or_else(|| user_error!("sweep run needs --out DIR"))?;
    ensure_dir(out)?;
    let plan = sweep.plan_json();
    let plan_path = out.join(PLAN_FILE);
    match train::error::read_text_file(&plan_path, "sweep plan") {
        Ok(existing) if existing != plan => {
            return Err(user_error!(
                "{} holds another sweep (its {PLAN_FILE} lists other points); choose another --out",
                out.display()
            ));
        }
        Ok(_) => {}
        Err(_) => write_atomic(&plan_path, plan.as_bytes())?,
    }
    let points = sweep.shard(shard.index, shard.count);
    for point in &points {
        let dir = point_dir(out, &point.id);
        ensure_dir(&dir)?;
        if !dir.join(POINT_CONFIG).exists() {
            write_atomic(
                &dir.join(POINT_CONFIG),
                point.config.to_toml_in(&dir).as_bytes(),
            )?;
        }
    }
    let jobs = crate::cli::jobs_or_cores(args.jobs).min(points.len().max(1));
    eprintln!(
        "sweep of {} points; shard {}/{} takes {}; {jobs} at a time",
        sweep.points.len(),
        shard.index,
        shard.count,
        points.len()
    );
    let exe = std::env::current_exe()?;
    let stop = StopRequest::install();
    let children = Children::default();
    let next = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let outcomes = Mutex::new(Vec::new());
    // Outcomes by the point's index in `points`.
    let report = |index: usize, outcome: Outcome| {
        let point = &points[index];
        eprintln!(
            "  {} {}: {}",
            point.id,
            describe(&sweep, point),
            shown(&outcome)
        );
        outcomes.lock().expect("outcomes").push((index, outcome));
    };
    let run = |point: &Point| {
        run_point(&exe, out, point, jobs, &children)
            .unwrap_or_else(|error| Outcome::Failed(train::error::one_line(&error)))
    };
    let stopping = || stop.flag.load(Ordering::SeqCst);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::scope(|workers| {
                for _ in 0..jobs {
                    workers.spawn(|| {
                        while !stopping() {
                            let index = next.fetch_add(1, Ordering::SeqCst);
                            let Some(point) = points.get(index) else {
                                break;
                            };
                            report(index, run(point));
                        }
                    });
                }
            });
            // A point another process was writing (a task cancelled a moment
            // ago and still saving its checkpoint, or a second `sweep run` of
            // the same points) is this shard's all the same: wait, then finish it.
            let busy = take_busy(&mut outcomes.lock().expect("outcomes"));
            for index in busy {
                let point = &points[index];
                let outcome = loop {
                    if !wait_until_free(&point_dir(out, &point.id), &stopping) {
                        break Outcome::Busy;
                    }
                    match run(point) {
                        Outcome::Busy => continue,
                        outcome => break outcome,
                    }
                };
                report(index, outcome);
            }
            finished.store(true, Ordering::SeqCst);
        });
        pass_a_stop_on(stop, &children, &finished);
    });
    let outcomes: Vec<Outcome> = outcomes
        .into_inner()
        .expect("outcomes")
        .into_iter()
        .map(|(_, outcome)| outcome)
        .collect();
    let count = |wanted: fn(&Outcome) -> bool| outcomes.iter().filter(|o| wanted(o)).count();
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    println!(
        "{} points: {} done before, {} finished now, {} diverged now, {} busy elsewhere, {} stopped, {failed} failed",
        outcomes.len(),
        count(|o| *o == Outcome::AlreadyDone),
        count(|o| *o == Outcome::Finished),
        count(|o| *o == Outcome::Diverged),
        count(|o| *o == Outcome::Busy),
        count(|o| *o == Outcome::Stopped),
    );
    if let Some(mut stopped) = stop.stopped() {
        let left = points.len() - count(|o| o.is_done());
        stopped.message = format!(
            "sweep stopped by {}: {left} of its {} points not done; run the same command again to resume them",
            stopped.by(),
            points.len()
        );
        return Err(stopped.into());
    }
    if failed > 0 {
        return Err(anyhow::anyhow!(
            "{failed} point(s) failed (their {ERROR_FILE} says why); rerun the same command to retry them"
        ));
    }
    Ok(())
}

/// How often a sweep looks again at a point another process is writing.
const BUSY_POLL: Duration = Duration::from_millis(250);

/// Waits until no process holds the run directory `dir` (saying who does,
/// once); false if a stop was asked for first.
fn wait_until_free(dir: &Path, stopping: &dyn Fn() -> bool) -> bool {
    let mut said = false;
    loop {
        if stopping() {
            return false;
        }
        match RunDir::open(dir).map_err(|error| error.downcast::<RunDirBusy>()) {
            Err(Ok(busy)) => {
                if !std::mem::replace(&mut said, true) {
                    eprintln!(
                        "  {}: being written by {}; waiting for it",
                        dir.display(),
                        busy.holder
                    );
                }
                std::thread::sleep(BUSY_POLL);
            }
            // Free, or an error that training the point will report.
            _ => return true,
        }
    }
}

/// Removes the busy points from `outcomes` and returns their indices.
fn take_busy(outcomes: &mut Vec<(usize, Outcome)>) -> Vec<usize> {
    let (busy, rest): (Vec<_>, Vec<_>) = std::mem::take(outcomes)
        .into_iter()
        .partition(|(_, outcome)| *outcome == Outcome::Busy);
    *outcomes = rest;
    busy.into_iter().map(|(index, _)| index).collect()
}

/// Until the sweep has finished: once a stop is asked for, gives the children
/// [`FORWARD_AFTER`] to stop by themselves (Ctrl-C and Slurm signal them
/// too), then passes the signal on to those still running (Kubernetes and
/// `kill PID` signal only this process).
fn pass_a_stop_on(stop: &StopRequest, children: &Children, finished: &AtomicBool) {
    let mut asked_at = None;
    while !finished.load(Ordering::SeqCst) {
        if stop.flag.load(Ordering::SeqCst) {
            let asked = *asked_at.get_or_insert_with(Instant::now);
            if asked.elapsed() >= FORWARD_AFTER
                && let Some(stopped) = stop.stopped()
            {
                children.signal_all(stopped.signal);
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `axis = value, ...` of a point.
fn describe(sweep: &Sweep, point: &Point) -> String {
    let parts: Vec<String> = sweep
        .axes
        .iter()
        .zip(&point.values)
        .map(|(axis, value)| format!("{} = {}", axis.key, shown_value(value)))
        .collect();
    parts.join(", ")
}

fn shown(outcome: &Outcome) -> String {
    match outcome {
        Outcome::AlreadyDone => "done before".into(),
        Outcome::Finished => "finished".into(),
        Outcome::Diverged => "diverged (recorded, not retried)".into(),
        Outcome::Busy => "being written by another process; left to it".into(),
        Outcome::Stopped => "stopped after its checkpoint; resumed by the next run".into(),
        Outcome::Failed(why) => format!("failed: {why}"),
    }
}

/// Trains (or resumes, or only records) one point; the child process
/// writes its `result.json` last, which makes it done.
fn run_point(
    exe: &Path,
    out: &Path,
    point: &Point,
    jobs: usize,
    children: &Children,
) -> anyhow::Result<Outcome> {
    let dir = point_dir(out, &point.id);
    // Decided under the point's lock, by the same rules `train` applies.
    let (action, damaged) = point_action(&dir)?;
    if let Some(why) = damaged {
        eprintln!("  {}: {why}; counted as not done", point.id);
    }
    let mut command = Command::new(exe);
    match action {
        PointAction::Done => return Ok(Outcome::AlreadyDone),
        PointAction::Busy => return Ok(Outcome::Busy),
        PointAction::Recorded => {
            log_completion(out, &point.id)?;
            return Ok(Outcome::Finished);
        }
        PointAction::Resume => {
            command.arg("--resume").arg(&dir);
        }
        PointAction::Fresh => {
            command
                .arg("--config")
                .arg(dir.join(POINT_CONFIG))
                .arg("--out")
                .arg(&dir);
        }
    }
    command.arg("--quiet");
    if jobs > 1 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // Burn's CPU backends start one thread per core in every process;
        // N processes share the cores instead of oversubscribing them.
        let share = (train::backend::cores() / jobs).max(1);
        command.env("RAYON_NUM_THREADS", share.to_string());
    }
    let output = children.output(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error_line = stderr
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or("no error message")
        .to_string();
    let outcome = match output.status.code() {
        Some(0) => Outcome::Finished,
        Some(EXIT_DIVERGED) => Outcome::Diverged,
        Some(EXIT_BUSY) => return Ok(Outcome::Busy),
        Some(EXIT_SIGINT | EXIT_SIGTERM) => return Ok(Outcome::Stopped),
        _ if matches!(point_state(out, &point.id), PointState::Done(_)) => {
            return Ok(Outcome::AlreadyDone);
        }
        code => Outcome::Failed(format!(
            "{error_line} (exit {})",
            code.map_or("by a signal".into(), |c| c.to_string())
        )),
    };
    match &outcome {
        Outcome::Failed(why) => write_atomic(&dir.join(ERROR_FILE), format!("{why}\n").as_bytes())?,
        _ => {
            log_completion(out, &point.id)?;
            let _ = std::fs::remove_file(dir.join(ERROR_FILE));
        }
    }
    Ok(outcome)
}

/// Appends a point's id to the completions log (one short write, so lines
/// of concurrent processes do not mix).
fn log_completion(out: &Path, id: &str) -> anyhow::Result<()> {
    let path = out.join(COMPLETIONS_LOG);
    let mut log = open_no_follow(&path, OpenOptions::new().create(true).append(true))
        .map_err(|message| user_error!("{message}"))?;
    log.write_all(format!("{id}\n").as_bytes())
        .with_context(|| format!("cannot append to {}", path.display()))?;
    Ok(())
}

fn report(args: &SweepReportArgs) -> anyhow::Result<()> {
    let plan = Sweep::read_plan(&args.dir)?;
    let mut results = Vec::with_capacity(plan.points.len());
    for point in &plan.points {
        results.push(match point_state(&args.dir, &point.id) {
            PointState::Done(result) => Some(*result),
            PointState::Pending => None,
            PointState::Damaged(why) => {
                eprintln!("warning: point {}: {why}; counted as not done", point.id);
                None
            }
        });
    }
    let report = train::experiments::sweep_report::SweepReport::new(&plan, results);
    for pair in &args.heatmap {
        report.check_heatmap(pair)?;
    }
    write_atomic(&args.dir.join("sweep.csv"), &report.points_csv()?)?;
    write_atomic(&args.dir.join("summary.csv"), &report.summary_csv()?)?;
    print!("{}", report.render());
    println!("wrote {0}/sweep.csv, {0}/summary.csv", args.dir.display());
    if let Some(table) = report.importance() {
        print!("{}", render_importance(&table, &report.metric_name()));
        write_atomic(&args.dir.join("importance.csv"), &importance_csv(&table)?)?;
        println!("wrote {}/importance.csv", args.dir.display());
    }
    // The data the points trained on, for the titles (any point's config says it).
    let data_name = plan
        .points
        .iter()
        .find_map(|point| {
            let path = train::experiments::sweep::point_dir(&args.dir, &point.id)
                .join(train::experiments::sweep::POINT_CONFIG);
            RunConfig::from_file(&path).ok()
        })
        .map(|config| crate::commands::plot::data_name(&config));
    if let Some(svg) = report.parallel_svg(data_name.as_deref())? {
        println!("wrote {}", write_figure(&args.dir, "parallel", &svg)?);
    }
    for pair in &args.heatmap {
        let (name, svg) = report.heatmap_svg(pair, data_name.as_deref())?;
        println!("wrote {}", write_figure(&args.dir, &name, &svg)?);
    }
    Ok(())
}
