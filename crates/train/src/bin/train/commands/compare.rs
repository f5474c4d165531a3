//! `train compare`.

use std::path::Path;
use std::sync::Mutex;

use train::backend::Backend;
use train::config::RunConfig;
use train::data::Split;
use train::experiments::seeds::{
    SeedsComparison, compare_seeds, per_seed_csv, render_seeds_table, seeds_summary_csv,
};
use train::stats::MeanCi;
use train::training::trainer::EpochRecord;

use train::experiments::compare::{
    ActivationRun, CompareRow, Comparison, OLS_NAME, compare, curves_csv, render_table, summary_csv,
};
use train::io::atomic::write_atomic;
use train::io::run_dir::CONFIG_FILE;
use train::plot::{LineChart, Reference, Series, line_chart_svg};
use train::training::divergence::DivergedRuns;

use crate::cli::CompareArgs;
use crate::commands::plot::{Drawn, Picture, picture, write_figure};
use crate::commands::run::prepare;

/// Trains every activation, prints the table, writes the files.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let (resolved, backend) = prepare(&args.common)?;
    let config = &resolved.config;
    let split = train::data::load_for(config)?;
    let _out_dir = match &args.out {
        Some(out) => Some(train::io::run_dir::RunDir::for_experiment(out, "compare")?),
        None => None,
    };
    if args.seeds > 1 {
        return run_seeds(args, config, &split, &backend);
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
        usize::from(args.jobs),
        &on_done,
    )?;
    print!("{}", render_table(&comparison));
    if let Some(out) = &args.out {
        write_atomic(&out.join("compare.csv"), &curves_csv(&comparison)?)?;
        write_atomic(&out.join("summary.csv"), &summary_csv(&comparison)?)?;
        write_atomic(
            &out.join("loss_curves.svg"),
            loss_curves_svg(&comparison)?.as_bytes(),
        )?;
        write_atomic(&out.join(CONFIG_FILE), config.to_toml().as_bytes())?;
        println!(
            "wrote {0}/compare.csv, {0}/summary.csv, {0}/loss_curves.svg, {0}/config.toml",
            out.display()
        );
        write_pictures(out, config, &split, &comparison, &backend)?;
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
    config: &RunConfig,
    split: &Split,
    comparison: &Comparison,
    backend: &Backend,
) -> anyhow::Result<()> {
    let drawn: Vec<Drawn> = comparison
        .runs
        .iter()
        .filter_map(|run| {
            Some(Drawn {
                title: panel_title(&run.row),
                activation: run.activation,
                weights: run.final_weights.as_deref()?,
            })
        })
        .collect();
    if drawn.is_empty() {
        return Ok(());
    }
    let standardizer = split.standardizer.as_ref();
    match picture(config, standardizer, &drawn, &backend.device)? {
        Some(Picture::Surfaces(svg)) => println!("wrote {}", write_figure(out, "surfaces", &svg)?),
        Some(Picture::Fits(svg, _)) => println!("wrote {}", write_figure(out, "fits", &svg)?),
        None => {}
    }
    Ok(())
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
    let summary = compare_seeds(
        config,
        backend,
        &args.activations,
        seeds,
        usize::from(args.jobs),
        &on_done,
    )?;
    print!("{}", render_seeds_table(&summary));
    if let Some(out) = &args.out {
        write_atomic(&out.join("summary.csv"), &seeds_summary_csv(&summary)?)?;
        write_atomic(&out.join("seeds.csv"), &per_seed_csv(&summary)?)?;
        write_atomic(
            &out.join("loss_curves.svg"),
            mean_loss_curves_svg(&summary)?.as_bytes(),
        )?;
        write_atomic(&out.join(CONFIG_FILE), config.to_toml().as_bytes())?;
        println!(
            "wrote {0}/summary.csv, {0}/seeds.csv, {0}/loss_curves.svg, {0}/config.toml",
            out.display()
        );
        // The pictures show the first seed's networks.
        write_pictures(out, config, first_split, &summary.comparisons[0], backend)?;
    }
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

/// The loss per epoch (validation when there is any, else training), as
/// the mean over seeds with its 95% confidence band, per activation;
/// diverged runs are left out.
fn mean_loss_curves_svg(summary: &SeedsComparison) -> anyhow::Result<String> {
    let first = &summary.comparisons[0];
    let on_validation = first
        .runs
        .iter()
        .any(|run| run.records.iter().any(|r| r.val_loss.is_some()));
    let value = |r: &EpochRecord| {
        if on_validation {
            r.val_loss
        } else {
            r.train_loss
        }
        .unwrap_or(r.loss)
    };
    let series: Vec<Series> = (0..first.runs.len())
        .map(|index| {
            let runs: Vec<&ActivationRun> = summary
                .comparisons
                .iter()
                .map(|c| &c.runs[index])
                .filter(|run| run.row.diverged_epoch.is_none())
                .collect();
            let epochs = runs.iter().map(|run| run.records.len()).min().unwrap_or(0);
            let stats: Vec<(f64, MeanCi)> = (0..epochs)
                .filter_map(|e| {
                    let values: Vec<f64> = runs.iter().map(|run| value(&run.records[e])).collect();
                    Some(((e + 1) as f64, MeanCi::of(&values)?))
                })
                .collect();
            Series {
                name: first.runs[index].activation.to_string(),
                points: stats.iter().map(|(x, m)| (*x, m.mean)).collect(),
                band: stats
                    .iter()
                    .filter_map(|(x, m)| m.interval().map(|(lo, hi)| (*x, lo, hi)))
                    .collect(),
            }
        })
        .collect();
    let y_label = if on_validation {
        "validation loss, mean and 95% CI over seeds (log)"
    } else {
        "training loss, mean and 95% CI over seeds (log)"
    };
    let title = format!(
        "Loss per epoch by activation, {} seeds",
        summary.seeds.len()
    );
    line_chart_svg(&LineChart {
        title: &title,
        x_label: "epoch",
        y_label,
        log_y: true,
        series: &series,
        references: &[],
    })
}

/// A surface or fit panel's title: the activation and what its row measured.
fn panel_title(row: &CompareRow) -> String {
    let accuracy = row
        .val_accuracy
        .map(|a| ("val", a))
        .or(row.train_accuracy.map(|a| ("train", a)));
    match (accuracy, row.pieces) {
        (Some((part, share)), _) => format!("{}: {part} accuracy {:.1}%", row.name, share * 100.0),
        (None, Some(pieces)) => format!("{}: {pieces} linear pieces", row.name),
        (None, None) => row.name.clone(),
    }
}

/// The loss per epoch on the validation part when there is one, else on
/// the training rows; least squares as a dashed line (under `mse`).
pub fn loss_curves_svg(comparison: &Comparison) -> anyhow::Result<String> {
    let on_validation = comparison
        .runs
        .iter()
        .any(|run| run.records.iter().any(|r| r.val_loss.is_some()));
    let series: Vec<Series> = comparison
        .runs
        .iter()
        .map(|run| Series {
            name: run.activation.to_string(),
            points: run
                .records
                .iter()
                .map(|r| {
                    let value = if on_validation {
                        r.val_loss
                    } else {
                        r.train_loss
                    };
                    (r.epoch as f64, value.unwrap_or(r.loss))
                })
                .collect(),
            ..Series::default()
        })
        .collect();
    let references: Vec<Reference> = comparison
        .ols
        .val_loss
        .or(comparison.ols.train_loss)
        .map(|value| Reference {
            name: OLS_NAME.into(),
            value,
        })
        .into_iter()
        .collect();
    let y_label = if on_validation {
        "validation loss (log)"
    } else {
        "training loss (log)"
    };
    line_chart_svg(&LineChart {
        title: "Loss per epoch by activation",
        x_label: "epoch",
        y_label,
        log_y: true,
        series: &series,
        references: &references,
    })
}
