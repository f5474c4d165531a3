//! `train plot activations` and `train plot run`.

use std::path::Path;

use model::Activation;
use train::backend::Backend;
use train::experiments::activation_curves::sample;
use train::io::atomic::{ensure_dir, write_atomic};
use train::io::history::{Columns, read_metrics};
use train::plot::{LineChart, Series, panels_svg, svg_to_png};
use train::user_error;

use crate::cli::{PlotActivationsArgs, PlotCommand, PlotRunArgs};

/// Runs a `plot` subcommand.
pub fn run(command: &PlotCommand) -> anyhow::Result<()> {
    match command {
        PlotCommand::Activations(args) => activations(args),
        PlotCommand::Run(args) => run_figure(args),
    }
}

fn activations(args: &PlotActivationsArgs) -> anyhow::Result<()> {
    let backend = Backend::open_or_default(args.backend)?;
    ensure_dir(&args.out)?;
    let svg = activations_svg(&Activation::ALL, &backend)?;
    let svg_path = args.out.join("activations.svg");
    let png_path = args.out.join("activations.png");
    write_atomic(&svg_path, svg.as_bytes())?;
    write_atomic(&png_path, &svg_to_png(&svg)?)?;
    println!("wrote {} and {}", svg_path.display(), png_path.display());
    Ok(())
}

/// One panel per activation: the function and its derivative on [-6, 6].
pub fn activations_svg(list: &[Activation], backend: &Backend) -> anyhow::Result<String> {
    let curves: Vec<_> = list
        .iter()
        .map(|&a| sample(a, -6.0, 6.0, 241, &backend.device))
        .collect();
    let titles: Vec<String> = curves.iter().map(|c| c.activation.to_string()).collect();
    let series: Vec<[Series; 2]> = curves
        .iter()
        .map(|curve| {
            let zip = |ys: &[f64]| curve.x.iter().copied().zip(ys.iter().copied()).collect();
            [
                Series {
                    name: "f(x)".into(),
                    points: zip(&curve.value),
                },
                Series {
                    name: "f'(x)".into(),
                    points: zip(&curve.derivative),
                },
            ]
        })
        .collect();
    let panels: Vec<LineChart> = titles
        .iter()
        .zip(&series)
        .map(|(title, series)| LineChart {
            title,
            x_label: "x",
            y_label: "",
            log_y: false,
            series,
            references: &[],
        })
        .collect();
    panels_svg(&panels, 5, (360, 300))
}

fn run_figure(args: &PlotRunArgs) -> anyhow::Result<()> {
    let metrics_path = args.dir.join(train::io::run_dir::METRICS_FILE);
    let columns = read_metrics(&metrics_path)?;
    let out = args.out.as_deref().unwrap_or(&args.dir);
    ensure_dir(out)?;
    let svg = run_svg(&columns, &metrics_path)?;
    let svg_path = out.join("run.svg");
    let png_path = out.join("run.png");
    write_atomic(&svg_path, svg.as_bytes())?;
    write_atomic(&png_path, &svg_to_png(&svg)?)?;
    println!("wrote {} and {}", svg_path.display(), png_path.display());
    Ok(())
}

/// Two panels: loss per epoch and per-layer gradient norms.
pub fn run_svg((names, values): &Columns, path: &Path) -> anyhow::Result<String> {
    let grad_columns: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("grad_norm_l"))
        .collect();
    let mut missing: Vec<&str> = ["epoch", "loss"]
        .into_iter()
        .filter(|c| !values.contains_key(*c))
        .collect();
    if grad_columns.is_empty() {
        missing.push("grad_norm_l1...");
    }
    if !missing.is_empty() {
        return Err(user_error!(
            "{}: missing column(s) {}; expected the metrics.csv of a run made with diagnostics (columns epoch, loss, grad_norm_l1, ...)",
            path.display(),
            missing.join(", ")
        ));
    }
    let epochs = &values["epoch"];
    let line = |name: &str, column: &str| Series {
        name: name.to_string(),
        points: epochs
            .iter()
            .copied()
            .zip(values[column].iter().copied())
            .filter(|(_, y)| y.is_finite())
            .collect(),
    };
    let mut loss_series = vec![line("last-batch loss", "loss")];
    if values.contains_key("val_loss") {
        loss_series.push(line("validation MSE", "val_loss"));
    }
    let grad_series: Vec<Series> = grad_columns
        .iter()
        .map(|column| line(&format!("layer {}", &column["grad_norm_l".len()..]), column))
        .collect();
    let panels = [
        LineChart {
            title: "Loss",
            x_label: "epoch",
            y_label: "MSE (log)",
            log_y: true,
            series: &loss_series,
            references: &[],
        },
        LineChart {
            title: "Weight-gradient L2 norm per layer",
            x_label: "epoch",
            y_label: "norm (log)",
            log_y: true,
            series: &grad_series,
            references: &[],
        },
    ];
    panels_svg(&panels, 2, (700, 480))
}
