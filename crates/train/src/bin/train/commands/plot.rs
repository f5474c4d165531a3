//! `train plot activations`, `train plot run` and `train plot surface`.

use std::path::Path;

use burn::tensor::Device;
use model::{Activation, LayerWeights};
use train::backend::Backend;
use train::config::{DataKind, RunConfig};
use train::data::{Standardizer, points, split};
use train::experiments::activation_curves::sample;
use train::experiments::surface::{
    CURVE_POINTS, SURFACE_RESOLUTION, TrainedNetwork, bounds, curve, linear_pieces, surface,
};
use train::io::atomic::{ensure_dir, write_atomic};
use train::io::checkpoint::Checkpoint;
use train::io::history::{Columns, read_metrics};
use train::io::run_dir::MODEL_FILE;
use train::io::weights::read_layer_weights;
use train::plot::surface::{FitPanel, SurfacePanel, fits_svg, surfaces_svg};
use train::plot::{LineChart, Series, panels_svg, svg_to_png};
use train::user_error;

use crate::cli::{PlotActivationsArgs, PlotCommand, PlotRunArgs, PlotSurfaceArgs};

/// Runs a `plot` subcommand.
pub fn run(command: &PlotCommand) -> anyhow::Result<()> {
    match command {
        PlotCommand::Activations(args) => activations(args),
        PlotCommand::Run(args) => run_figure(args),
        PlotCommand::Surface(args) => surface_figure(args),
    }
}

/// One trained network to draw, with its panel's title.
pub struct Drawn<'a> {
    /// The panel's title.
    pub title: String,
    /// The network's activation.
    pub activation: Activation,
    /// Its trained weights.
    pub weights: &'a [LayerWeights],
}

/// What a figure of trained networks shows.
pub enum Picture {
    /// Decision surfaces of a 2-D set.
    Surfaces(String),
    /// Fits of a 1-D function, with each network's linear pieces.
    Fits(String, Vec<usize>),
}

/// The decision surfaces (2-D sets) or fits (1-D functions) of `networks`
/// trained on `config`'s data, one panel each, over that data's training
/// points; `None` for the other kinds of data.
pub fn picture(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    networks: &[Drawn],
    device: &Device,
) -> anyhow::Result<Option<Picture>> {
    let Some(raw) = points(&config.data, config.seed) else {
        return Ok(None);
    };
    let train_points = split(raw, config.data.validation_fraction)?.train;
    let trained = |drawn: &Drawn| {
        TrainedNetwork::new(
            config,
            drawn.activation,
            drawn.weights,
            standardizer.cloned(),
            device,
        )
    };
    let columns = networks.len().min(3);
    if config.data.kind == DataKind::Function {
        let function = config
            .data
            .function
            .expect("validated: function data names one");
        let fits = networks
            .iter()
            .map(|drawn| Ok(curve(&trained(drawn)?, CURVE_POINTS)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let truth: Vec<(f64, f64)> = fits[0]
            .iter()
            .map(|&(x, _)| (x, function.eval(x)))
            .collect();
        let panels: Vec<FitPanel> = networks
            .iter()
            .zip(&fits)
            .map(|(drawn, fit)| FitPanel {
                title: drawn.title.clone(),
                truth: &truth,
                fit,
                samples: &train_points,
            })
            .collect();
        let pieces = fits.iter().map(|fit| linear_pieces(fit)).collect();
        return Ok(Some(Picture::Fits(fits_svg(&panels, columns)?, pieces)));
    }
    let area = bounds(&train_points);
    let surfaces = networks
        .iter()
        .map(|drawn| Ok(surface(&trained(drawn)?, area, SURFACE_RESOLUTION)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let panels: Vec<SurfacePanel> = networks
        .iter()
        .zip(&surfaces)
        .map(|(drawn, surface)| SurfacePanel {
            title: drawn.title.clone(),
            surface,
            points: &train_points,
        })
        .collect();
    Ok(Some(Picture::Surfaces(surfaces_svg(&panels, columns)?)))
}

/// Writes `svg` as `NAME.svg` and `NAME.png` in `dir`; returns the paths shown.
pub fn write_figure(dir: &Path, name: &str, svg: &str) -> anyhow::Result<String> {
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    write_atomic(&svg_path, svg.as_bytes())?;
    write_atomic(&png_path, &svg_to_png(svg)?)?;
    Ok(format!("{} and {}", svg_path.display(), png_path.display()))
}

fn surface_figure(args: &PlotSurfaceArgs) -> anyhow::Result<()> {
    let checkpoint = Checkpoint::open(&args.dir)?;
    let config = &checkpoint.config;
    if !train::experiments::surface::has_picture(config.data.kind) {
        return Err(user_error!(
            "{}: data.kind = \"{}\" has no surface to draw; `plot surface` draws runs on the \
             2-D sets (circle, xor, gauss, spiral, moons) and on 1-D functions",
            args.dir.display(),
            config.data.kind
        ));
    }
    let backend = Backend::open_or_default(args.backend)?;
    let activation = config.model.activation;
    let weights = read_layer_weights(
        &args.dir.join(MODEL_FILE),
        &config.layer_sizes(),
        activation,
        &backend.device,
    )?;
    let title = format!(
        "{activation}, {} loss, epoch {}",
        config.training.loss.name(),
        checkpoint.state.epoch
    );
    let drawn = [Drawn {
        title,
        activation,
        weights: &weights,
    }];
    let standardizer = checkpoint.state.standardizer.as_ref();
    let out = args.out.as_deref().unwrap_or(&args.dir);
    ensure_dir(out)?;
    match picture(config, standardizer, &drawn, &backend.device)? {
        Some(Picture::Surfaces(svg)) => println!("wrote {}", write_figure(out, "surface", &svg)?),
        Some(Picture::Fits(svg, pieces)) => {
            println!("wrote {}", write_figure(out, "fit", &svg)?);
            println!("linear pieces of the fit: {}", pieces[0]);
        }
        None => unreachable!("checked above: the data has a picture"),
    }
    Ok(())
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
                    ..Series::default()
                },
                Series {
                    name: "f'(x)".into(),
                    points: zip(&curve.derivative),
                    ..Series::default()
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

/// Panels: the loss per epoch; accuracy when the run classified; per-layer
/// gradient norms when it ran with diagnostics.
pub fn run_svg((names, values): &Columns, path: &Path) -> anyhow::Result<String> {
    let missing: Vec<&str> = ["epoch", "loss"]
        .into_iter()
        .filter(|c| !values.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(user_error!(
            "{}: missing column(s) {}; expected a run's metrics.csv (columns epoch, loss, ...)",
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
        ..Series::default()
    };
    let present = |columns: &[(&str, &str)]| -> Vec<Series> {
        columns
            .iter()
            .filter(|(_, column)| values.contains_key(*column))
            .map(|(name, column)| line(name, column))
            .collect()
    };
    let loss_series = present(&[
        ("last-batch loss", "loss"),
        ("training loss", "train_loss"),
        ("training loss", "train_mse"),
        ("validation loss", "val_loss"),
    ]);
    let accuracy_series = present(&[
        ("training accuracy", "train_accuracy"),
        ("validation accuracy", "val_accuracy"),
    ]);
    let grad_series: Vec<Series> = names
        .iter()
        .filter(|n| n.starts_with("grad_norm_l"))
        .map(|column| line(&format!("layer {}", &column["grad_norm_l".len()..]), column))
        .collect();
    let mut panels = vec![LineChart {
        title: "Loss",
        x_label: "epoch",
        y_label: "loss (log)",
        log_y: true,
        series: &loss_series,
        references: &[],
    }];
    if !accuracy_series.is_empty() {
        panels.push(LineChart {
            title: "Accuracy",
            x_label: "epoch",
            y_label: "share right",
            log_y: false,
            series: &accuracy_series,
            references: &[],
        });
    }
    if !grad_series.is_empty() {
        panels.push(LineChart {
            title: "Weight-gradient L2 norm per layer",
            x_label: "epoch",
            y_label: "norm (log)",
            log_y: true,
            series: &grad_series,
            references: &[],
        });
    }
    panels_svg(&panels, panels.len(), (700, 480))
}
