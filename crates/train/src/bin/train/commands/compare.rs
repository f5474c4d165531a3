//! `train compare`.

use std::path::Path;
use std::sync::Mutex;

use train::backend::Backend;
use train::config::RunConfig;
use train::data::Split;
use train::experiments::ensemble::compare_seeds_batched;
use train::experiments::seed_tests::{Family, render_tests, tests_csv};
use train::experiments::seeds::{
    Scoring, SeedsComparison, compare_seeds, per_seed_csv, render_seeds_table, seeds_summary_csv,
};
use train::experiments::tuning::{
    Assignment, TunePlan, compare_tuned, render_choices, shown_assignment, tuning_csv,
};
use train::stats::MeanCi;
use train::training::metric::Metric;
use train::training::trainer::EpochRecord;

use train::experiments::compare::{
    ActivationRun, CompareRow, Comparison, compare, curves_csv, render_table, summary_csv,
};
use train::io::atomic::write_atomic;
use train::io::run_dir::CONFIG_FILE;
use train::plot::palette::run_colour;
use train::plot::regions::region_maps_svg;
use train::plot::{LineChart, Reference, Series, titled_panels_svg, write_figure};
use train::training::divergence::DivergedRuns;

use crate::cli::{CompareArgs, jobs_or_cores};
use crate::commands::plot::{Drawn, Picture, picture, setup_title};
use crate::commands::regions::map_regions;
use crate::commands::run::prepare;

/// Trains every activation, prints the table, writes the files.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let (resolved, backend) = prepare(&args.common, None)?;
    train::experiments::compare::check_activations(&resolved.config, &args.activations)?;
    let grid = args
        .tune
        .iter()
        .try_fold(1usize, |points, axis| points.checked_mul(axis.values.len()))
        .unwrap_or(usize::MAX);
    let tuning_runs = if args.tune.is_empty() {
        0
    } else {
        grid.saturating_mul(usize::from(args.tune_seeds))
    };
    let runs = args
        .activations
        .len()
        .saturating_mul(tuning_runs.saturating_add(usize::from(args.seeds)));
    train::training::trainer::check_records_fit(&resolved.config, runs)?;
    // Every seed, tuning's and the final ones, fits before any line is printed.
    let tuning_seeds = if args.tune.is_empty() {
        0
    } else {
        args.tune_seeds
    };
    train::experiments::seeds::check_seed_range(
        resolved.config.seed,
        u64::from(tuning_seeds) + u64::from(args.seeds),
    )?;
    train::backend::share_cpu_threads(jobs_or_cores(args.jobs).min(args.activations.len()));
    let config = &resolved.config;
    let split = crate::commands::load_data(config)?;
    let _out_dir = match args.out.dir() {
        Some(out) => Some(train::io::run_dir::RunDir::for_experiment(out, "compare")?),
        None => None,
    };
    if !args.tune.is_empty() {
        return run_tuned(args, config, &backend);
    }
    if args.seeds > 1 {
        return run_seeds(args, config, &split, &backend);
    }
    if args.all_pairs || args.batched {
        let flag = if args.all_pairs {
            "--all-pairs tests pairs"
        } else {
            "--batched trains"
        };
        return Err(train::user_error!(
            "{flag} over seeds: give --seeds N with N >= 2"
        ));
    }
    eprintln!(
        "comparing {} activations, {} epochs each, on {} ({})",
        args.activations.len(),
        config.training.epochs,
        backend.kind,
        backend.description
    );
    let done = Mutex::new(0usize);
    let total = args.activations.len();
    let on_done = |run: &ActivationRun| {
        let mut done = done.lock().expect("progress counter");
        *done += 1;
        let result = match (run.row.diverged_epoch, run.row.train_loss) {
            (Some(epoch), _) => format!("diverged in epoch {epoch}"),
            (None, loss) => format!(
                "train {} {}",
                config.training.loss.name(),
                train::format::fixed(loss, 6)
            ),
        };
        eprintln!(
            "  [{}/{total}] {:<14} {result} in {:.2} s",
            *done, run.row.name, run.row.seconds
        );
    };
    let comparison = compare(
        config,
        &backend,
        &split,
        &args.activations,
        jobs_or_cores(args.jobs),
        &on_done,
    )?;
    print!("{}", render_table(&comparison));
    if let Some(out) = args.out.dir() {
        write_atomic(&out.join("compare.csv"), &curves_csv(&comparison)?)?;
        write_atomic(&out.join("summary.csv"), &summary_csv(&comparison)?)?;
        write_atomic(&out.join(CONFIG_FILE), config.to_toml_in(out).as_bytes())?;
        println!(
            "wrote {0}/compare.csv, {0}/summary.csv, {0}/config.toml",
            out.display()
        );
        let curves = curves_svg(
            config,
            &setup_title(config),
            &per_epoch_curves(&[&comparison]),
        )?;
        println!("wrote {}", write_figure(out, "loss_curves", &curves)?);
        write_pictures(
            out,
            &setup_title(config),
            config,
            &split,
            &comparison,
            &backend,
        )?;
    }
    let diverged = comparison
        .runs
        .iter()
        .filter(|run| run.row.diverged_epoch.is_some());
    Ok(DivergedRuns::check(
        diverged.map(|run| run.row.name.clone()).collect(),
    )?)
}

/// Writes the decision surfaces or fits of `comparison`'s trained networks,
/// when its data has such a picture.
fn write_pictures(
    out: &Path,
    setup: &str,
    config: &RunConfig,
    split: &Split,
    comparison: &Comparison,
    backend: &Backend,
) -> anyhow::Result<()> {
    let drawn: Vec<Drawn> = comparison
        .runs
        .iter()
        .enumerate()
        .filter_map(|(run_index, run)| {
            Some(Drawn {
                title: panel_title(&run.row),
                activation: run.activation,
                weights: run.final_weights.as_deref()?,
                run_index,
            })
        })
        .collect();
    if drawn.is_empty() {
        return Ok(());
    }
    let standardizer = split.standardizer.as_ref();
    let title = format!("{} activations on {setup}", drawn.len());
    match picture(config, standardizer, &drawn, Some(&title), &backend.device)? {
        Ok(Picture::Surfaces(svg)) => println!("wrote {}", write_figure(out, "surfaces", &svg)?),
        Ok(Picture::Fits(svg, _)) => println!("wrote {}", write_figure(out, "fits", &svg)?),
        Err(_) => {}
    }
    // The regions of every piecewise-linear network, beside the surfaces.
    let mut maps = Vec::new();
    for network in drawn.iter().filter(|d| d.activation.is_piecewise_linear()) {
        let mut with = config.clone();
        with.model.activation = network.activation;
        if let Ok(mapped) = map_regions(&with, standardizer, network.weights, None)? {
            maps.push((network.activation, mapped));
        }
    }
    if !maps.is_empty() {
        let drawings: Vec<_> = maps
            .iter()
            .map(|(activation, mapped)| {
                let count = mapped.polygons.len();
                mapped.drawing(format!(
                    "{activation}: {count} linear region{}, {} on the boundary",
                    if count == 1 { "" } else { "s" },
                    mapped.crossed
                ))
            })
            .collect();
        let title = format!("Linear regions on {setup}");
        let svg = region_maps_svg(Some(&title), &drawings, drawings.len().min(3))?;
        println!("wrote {}", write_figure(out, "regions", &svg)?);
    }
    Ok(())
}

/// The family of paired tests asked for.
fn family(args: &CompareArgs) -> Family {
    if args.all_pairs {
        Family::AllPairs
    } else {
        Family::AgainstReference
    }
}

/// `compare --tune KEY=...`: each activation's values tuned on validation
/// rows, then fresh seeds scored on the test rows.
fn run_tuned(args: &CompareArgs, config: &RunConfig, backend: &Backend) -> anyhow::Result<()> {
    train::experiments::tuning::check_tuning(config, &args.tune)?;
    let grid = train::experiments::tuning::grid(&args.tune);
    let (tuning_seeds, seeds) = (usize::from(args.tune_seeds), usize::from(args.seeds));
    eprintln!(
        "tuning {} activations over {} combination{} x {tuning_seeds} seeds, then {seeds} fresh \
         seed{} on the test rows, {} epochs each, on {} ({})",
        args.activations.len(),
        grid.len(),
        if grid.len() == 1 { "" } else { "s" },
        if seeds == 1 { "" } else { "s" },
        config.training.epochs,
        backend.kind,
        backend.description
    );
    let on_point = |assignment: &Assignment, tuning: &SeedsComparison| {
        let scores: Vec<String> = tuning
            .rows
            .iter()
            .take(args.activations.len())
            .map(|row| {
                let mean = row.last.map(|m| m.mean);
                let shown = if tuning.metric.higher_is_better() {
                    train::format::percent(mean, 1)
                } else {
                    train::format::fixed(mean, 4)
                };
                format!("{} {shown}", row.name)
            })
            .collect();
        eprintln!(
            "  {}: {} {}",
            shown_assignment(assignment),
            tuning.metric.name(),
            scores.join(", ")
        );
    };
    let on_done = |seed: u64, run: &ActivationRun| {
        let result = match run.row.diverged_epoch {
            Some(epoch) => format!("diverged in epoch {epoch}"),
            None => format!("in {:.2} s", run.row.seconds),
        };
        eprintln!("  seed {seed} {:<14} {result}", run.row.name);
    };
    let plan = TunePlan {
        axes: &args.tune,
        tuning_seeds,
        seeds,
        jobs: jobs_or_cores(args.jobs),
        family: family(args),
        batched: args.batched,
    };
    let tuned = compare_tuned(
        config,
        backend,
        &args.activations,
        &plan,
        &on_point,
        &on_done,
    )?;
    print!("{}", render_choices(&tuned));
    println!();
    let summary = &tuned.summary;
    print!("{}", render_seeds_table(summary));
    print!(
        "{}",
        render_tests(&summary.tests, summary.metric, summary.seeds.len())
    );
    if let Some(out) = args.out.dir() {
        write_atomic(&out.join("tuning.csv"), &tuning_csv(&tuned)?)?;
        println!("wrote {}/tuning.csv", out.display());
        write_seed_tables(out, config, summary)?;
        let comparisons: Vec<&Comparison> = summary.comparisons.iter().collect();
        let mut charted = per_epoch_curves(&comparisons);
        // Each line says what it was trained with.
        for (curve, choice) in charted.curves.iter_mut().zip(&tuned.choices) {
            if let Some(point) = choice.chosen {
                curve.name = format!("{} ({})", curve.name, short_assignment(&tuned.grid[point]));
            }
        }
        let setup = tuned_setup(config, &args.tune);
        let curves = curves_svg(config, &setup, &charted)?;
        println!("wrote {}", write_figure(out, "loss_curves", &curves)?);
        // The pictures read every network with the config's layers: only
        // when tuning left the model's shape alone.
        if !args.tune.iter().any(|axis| axis.key.starts_with("model.")) {
            let mut first = config.clone();
            first.seed = summary.seeds[0];
            let split = train::data::load_for(&first)?;
            let setup = tuned_setup(&first, &args.tune);
            write_pictures(
                out,
                &setup,
                &first,
                &split,
                &summary.comparisons[0],
                backend,
            )?;
        }
    }
    diverged_seeds(summary)
}

/// A picture's setup line when keys were tuned: the config's, with the
/// tuned rate (or keys) said to be per activation.
fn tuned_setup(config: &RunConfig, axes: &[train::experiments::tuning::TuneAxis]) -> String {
    let setup = setup_title(config);
    let lr = format!(" lr {}", config.training.lr);
    let others: Vec<&str> = axes
        .iter()
        .map(|axis| axis.key.as_str())
        .filter(|key| *key != "training.lr")
        .collect();
    let mut setup = if axes.iter().any(|axis| axis.key == "training.lr") {
        setup.replace(&lr, " lr tuned per activation")
    } else {
        setup
    };
    if !others.is_empty() {
        setup.push_str(&format!(", {} tuned per activation", others.join(", ")));
    }
    setup
}

/// `lr=0.01, batch_size=20`: tuned values by the last part of their key.
fn short_assignment(assignment: &Assignment) -> String {
    let parts: Vec<String> = assignment
        .iter()
        .map(|(key, value)| {
            let short = key.rsplit('.').next().unwrap_or(key);
            format!("{short} {}", train::experiments::sweep::shown_value(value))
        })
        .collect();
    parts.join(", ")
}

/// `compare --seeds N` with N > 1: every seed's comparison, summarised.
fn run_seeds(
    args: &CompareArgs,
    config: &RunConfig,
    first_split: &Split,
    backend: &Backend,
) -> anyhow::Result<()> {
    let seeds = usize::from(args.seeds);
    eprintln!(
        "comparing {} activations over {seeds} seeds ({}..={}), {} epochs each, on {} ({})",
        args.activations.len(),
        config.seed,
        config.seed.saturating_add(seeds as u64 - 1),
        config.training.epochs,
        backend.kind,
        backend.description
    );
    let on_done = |seed: u64, run: &ActivationRun| {
        let result = match run.row.diverged_epoch {
            Some(epoch) => format!("diverged in epoch {epoch}"),
            None => format!("in {:.2} s", run.row.seconds),
        };
        eprintln!("  seed {seed} {:<14} {result}", run.row.name);
    };
    let family = family(args);
    let scoring = Scoring {
        metric: Metric::for_comparison(config),
        family,
    };
    let summary = if args.batched {
        compare_seeds_batched(config, backend, &args.activations, seeds, scoring, &on_done)?
    } else {
        compare_seeds(
            config,
            backend,
            &args.activations,
            seeds,
            jobs_or_cores(args.jobs),
            scoring,
            &on_done,
        )?
    };
    print!("{}", render_seeds_table(&summary));
    print!(
        "{}",
        render_tests(&summary.tests, summary.metric, summary.seeds.len())
    );
    if let Some(out) = args.out.dir() {
        write_seed_tables(out, config, &summary)?;
        let comparisons: Vec<&Comparison> = summary.comparisons.iter().collect();
        let curves = curves_svg(
            config,
            &setup_title(config),
            &per_epoch_curves(&comparisons),
        )?;
        println!("wrote {}", write_figure(out, "loss_curves", &curves)?);
        // The pictures show the first seed's networks.
        write_pictures(
            out,
            &setup_title(config),
            config,
            first_split,
            &summary.comparisons[0],
            backend,
        )?;
    }
    diverged_seeds(&summary)
}

/// A comparison over seeds' tables in `out`: summary.csv, seeds.csv,
/// tests.csv and the config.
fn write_seed_tables(
    out: &Path,
    config: &RunConfig,
    summary: &SeedsComparison,
) -> anyhow::Result<()> {
    write_atomic(&out.join("summary.csv"), &seeds_summary_csv(summary)?)?;
    write_atomic(&out.join("seeds.csv"), &per_seed_csv(summary)?)?;
    write_atomic(
        &out.join("tests.csv"),
        &tests_csv(&summary.tests, summary.metric)?,
    )?;
    write_atomic(&out.join(CONFIG_FILE), config.to_toml_in(out).as_bytes())?;
    println!(
        "wrote {0}/summary.csv, {0}/seeds.csv, {0}/tests.csv, {0}/config.toml",
        out.display()
    );
    Ok(())
}

/// An error naming every run of `summary` that diverged, with its seed.
fn diverged_seeds(summary: &SeedsComparison) -> anyhow::Result<()> {
    let diverged = summary
        .comparisons
        .iter()
        .zip(&summary.seeds)
        .flat_map(|(c, seed)| {
            c.runs
                .iter()
                .filter(|run| run.row.diverged_epoch.is_some())
                .map(move |run| format!("{} (seed {seed})", run.row.name))
        });
    Ok(DivergedRuns::check(diverged.collect())?)
}

/// One activation's numbers per epoch over every seed that did not
/// diverge: the loss the chart shows and, for 0/1 labels, the accuracy.
struct Curves {
    name: String,
    loss: Vec<Vec<f64>>,
    accuracy: Vec<Vec<f64>>,
}

/// What the charts show: the validation loss and accuracy when there is a
/// validation part, else the full-pass training ones.
#[derive(Clone, Copy)]
enum Part {
    Validation,
    Training,
}

impl Part {
    fn of(comparison: &Comparison) -> Self {
        let validated = comparison
            .runs
            .iter()
            .any(|run| run.records.iter().any(|r| r.val_loss.is_some()));
        if validated {
            Self::Validation
        } else {
            Self::Training
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Training => "training",
        }
    }

    fn loss(self, r: &EpochRecord) -> f64 {
        match self {
            Self::Validation => r.val_loss,
            Self::Training => r.train_loss,
        }
        .unwrap_or(r.loss)
    }

    fn accuracy(self, r: &EpochRecord) -> Option<f64> {
        match self {
            Self::Validation => r.val_accuracy,
            Self::Training => r.train_accuracy,
        }
    }
}

/// What the charts draw: which part, a curve per activation, least squares.
struct Charted {
    part: Part,
    curves: Vec<Curves>,
    reference: Option<Reference>,
}

/// The per-epoch curves of every activation over `comparisons` (one per seed).
fn per_epoch_curves(comparisons: &[&Comparison]) -> Charted {
    let first = comparisons[0];
    let part = Part::of(first);
    let curves = (0..first.runs.len())
        .map(|index| {
            let runs: Vec<&ActivationRun> = comparisons
                .iter()
                .map(|c| &c.runs[index])
                .filter(|run| run.row.diverged_epoch.is_none())
                .collect();
            Curves {
                name: first.runs[index].activation.to_string(),
                loss: runs
                    .iter()
                    .map(|run| run.records.iter().map(|r| part.loss(r)).collect())
                    .collect(),
                accuracy: runs
                    .iter()
                    .map(|run| {
                        run.records
                            .iter()
                            .filter_map(|r| part.accuracy(r))
                            .collect()
                    })
                    .collect(),
            }
        })
        .collect();
    // The linear model of every seed, averaged as the lines are.
    let ols: Vec<f64> = comparisons
        .iter()
        .filter_map(|c| match part {
            Part::Validation => c.linear.val_loss,
            Part::Training => c.linear.train_loss,
        })
        .collect();
    let reference = MeanCi::of(&ols).map(|m| m.mean);
    Charted {
        part,
        curves,
        reference: reference.map(|value| Reference {
            name: comparisons
                .first()
                .map_or_else(String::new, |c| c.linear.name.clone()),
            value,
        }),
    }
}

/// A line per activation: its mean over seeds, with the 95% band when
/// there are several.
fn mean_series(index: usize, name: &str, per_seed: &[Vec<f64>]) -> Series {
    let epochs = per_seed.iter().map(Vec::len).min().unwrap_or(0);
    let stats: Vec<(f64, MeanCi)> = (0..epochs)
        .filter_map(|e| {
            let values: Vec<f64> = per_seed.iter().map(|seed| seed[e]).collect();
            Some(((e + 1) as f64, MeanCi::of(&values)?))
        })
        .collect();
    Series {
        name: name.to_string(),
        points: stats.iter().map(|(x, m)| (*x, m.mean)).collect(),
        band: stats
            .iter()
            .filter_map(|(x, m)| m.interval().map(|(lo, hi)| (*x, lo, hi)))
            .collect(),
        colour: Some(run_colour(index)),
    }
}

/// The loss per epoch by activation (log scale, least squares dashed under
/// them) and, for 0/1 labels, the accuracy beside it; over several seeds
/// each line is the mean with its 95% band.
fn curves_svg(config: &RunConfig, setup: &str, charted: &Charted) -> anyhow::Result<String> {
    let Charted {
        part,
        curves,
        reference,
    } = charted;
    let seeds = curves.iter().map(|c| c.loss.len()).max().unwrap_or(0);
    let over = if seeds > 1 {
        format!(", mean and 95% CI over {seeds} seeds")
    } else {
        String::new()
    };
    let loss: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(index, c)| mean_series(index, &c.name, &c.loss))
        .collect();
    let references: Vec<Reference> = reference.iter().cloned().collect();
    let accuracy: Vec<Series> = curves
        .iter()
        .enumerate()
        .filter(|(_, c)| c.accuracy.iter().any(|seed| !seed.is_empty()))
        .map(|(index, c)| mean_series(index, &c.name, &c.accuracy))
        .collect();
    let loss_label = format!("{} {} (log)", part.name(), config.training.loss.name());
    let accuracy_label = format!("{} accuracy", part.name());
    let mut panels = vec![LineChart {
        title: format!("Loss per epoch{over}"),
        x_label: "epoch",
        y_label: &loss_label,
        log_y: true,
        whole_x: true,
        y_range: None,
        series: &loss,
        references: &references,
    }];
    if !accuracy.is_empty() {
        panels.push(LineChart {
            title: format!("Accuracy per epoch{over}"),
            x_label: "epoch",
            y_label: &accuracy_label,
            log_y: false,
            whole_x: true,
            y_range: None,
            series: &accuracy,
            references: &[],
        });
    }
    let title = format!("{} activations on {setup}", curves.len());
    let columns = panels.len();
    titled_panels_svg(Some(&title), &panels, columns, (900, 540))
}

/// A surface or fit panel's title: the activation and what its row measured.
fn panel_title(row: &CompareRow) -> String {
    let accuracy = row
        .val_accuracy
        .map(|a| ("val", a))
        .or(row.train_accuracy.map(|a| ("train", a)));
    match (accuracy, row.pieces) {
        (Some((part, share)), _) => format!("{}: {part} accuracy {:.1}%", row.name, share * 100.0),
        (None, Some(pieces)) => format!("{}: {pieces}", row.name),
        (None, None) => row.name.clone(),
    }
}
