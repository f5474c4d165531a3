//! `train compare`.

use std::sync::Mutex;

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
        if !drawn.is_empty() {
            let standardizer = split.standardizer.as_ref();
            match picture(config, standardizer, &drawn, &backend.device)? {
                Some(Picture::Surfaces(svg)) => {
                    println!("wrote {}", write_figure(out, "surfaces", &svg)?);
                }
                Some(Picture::Fits(svg, _)) => {
                    println!("wrote {}", write_figure(out, "fits", &svg)?);
                }
                None => {}
            }
        }
    }
    let diverged = comparison
        .runs
        .iter()
        .filter(|run| run.row.diverged_epoch.is_some());
    Ok(DivergedRuns::check(
        diverged.map(|run| run.row.name.clone()).collect(),
    )?)
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
