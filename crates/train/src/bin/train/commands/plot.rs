//! `train plot activations`, `train plot run` and `train plot surface`.

use model::LayerActivations;
use std::path::Path;

use burn::tensor::Device;
use model::{Activation, LayerWeights};
use plotters::style::RGBColor;
use train::backend::Backend;
use train::config::{DataKind, LossKind, RunConfig};
use train::data::Standardizer;
use train::experiments::activation_curves::sample;
use train::experiments::surface::{
    CURVE_POINTS, InputSpace, Pieces, SURFACE_RESOLUTION, Surface, TrainedNetwork, UnitValues,
    bounds, curve, input_space, surface, unit_flag,
};
use train::io::atomic::ensure_dir;
use train::io::checkpoint::Checkpoint;
use train::io::history::{Columns, read_metrics};
use train::io::run_dir::{CONFIG_FILE, MODEL_FILE};
use train::io::weights::read_trained_weights;
use train::plot::neurons::{UnitPanel, UnitView, neurons_svg};
use train::plot::palette::run_colour;
use train::plot::surface::{FitPanel, SurfacePanel, fits_svg, surfaces_svg};
use train::plot::{LineChart, Reference, Series, panels_svg, titled_panels_svg, write_figure};
use train::user_error;

use crate::cli::{BackendArg, PlotActivationsArgs, PlotCommand, PlotRunArgs, PlotSurfaceArgs};

/// Runs a `plot` subcommand.
pub fn run(command: &PlotCommand) -> anyhow::Result<()> {
    match command {
        PlotCommand::Activations(args) => activations(args),
        PlotCommand::Run(args) => run_figure(args),
        PlotCommand::Surface(args) => surface_figure(args),
        PlotCommand::Neurons(args) => neurons_figure(args),
    }
}

/// One trained network to draw, with its panel's title.
pub struct Drawn<'a> {
    /// The panel's title.
    pub title: String,
    /// The network's activation.
    pub activation: LayerActivations,
    /// Its trained weights.
    pub weights: &'a [LayerWeights],
    /// Its place among the runs of the figure (its colour in every chart).
    pub run_index: usize,
}

/// What a figure of trained networks shows.
pub enum Picture {
    /// Surfaces over a plane of two inputs.
    Surfaces(String),
    /// Curves over one input, with how each bends.
    Fits(String, Vec<Pieces>),
}

/// What the colours of a surface show for `config`'s network.
fn output_name(config: &RunConfig, classes: bool) -> String {
    match (config.training.loss, classes) {
        (LossKind::Bce, _) => "p(class 1)".into(),
        (LossKind::CrossEntropy, _) => "p(the class it picks)".into(),
        (LossKind::Mse, true) => "output (0.5 splits)".into(),
        (LossKind::Mse, false) => "prediction".into(),
    }
}

/// The surfaces (two inputs) or fits (one input) of `networks` trained on
/// `config`'s data, one panel each, over that data's training points;
/// `Err` with the reason when the network sees more inputs.
pub fn picture(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    networks: &[Drawn],
    title: Option<&str>,
    device: &Device,
) -> anyhow::Result<Result<Picture, String>> {
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
    match input_space(config)? {
        InputSpace::Unseen(why) => Ok(Err(why)),
        InputSpace::Line { data, range, truth } => {
            let fits = networks
                .iter()
                .map(|drawn| Ok(curve(&trained(drawn)?, range, CURVE_POINTS)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let truth: Option<Vec<(f64, f64)>> = truth.map(|function| {
                fits[0]
                    .iter()
                    .map(|&(x, _)| (x, function.eval(x)))
                    .collect()
            });
            let panels: Vec<FitPanel> = networks
                .iter()
                .zip(&fits)
                .map(|(drawn, fit)| FitPanel {
                    title: drawn.title.clone(),
                    truth: truth.as_deref(),
                    fit,
                    samples: &data.points,
                    colour: run_colour(drawn.run_index),
                    axis_names: data.axis_names.clone(),
                })
                .collect();
            let pieces = networks
                .iter()
                .zip(&fits)
                .map(|(drawn, fit)| Pieces::of(drawn.activation, fit))
                .collect();
            Ok(Ok(Picture::Fits(
                fits_svg(title, &panels, columns)?,
                pieces,
            )))
        }
        InputSpace::Plane(data) => {
            let area = bounds(&data.points);
            let surfaces = networks
                .iter()
                .map(|drawn| Ok(surface(&trained(drawn)?, area, SURFACE_RESOLUTION)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let output_name = output_name(config, data.classes);
            let panels: Vec<SurfacePanel> = networks
                .iter()
                .zip(&surfaces)
                .map(|(drawn, surface)| SurfacePanel {
                    title: drawn.title.clone(),
                    surface,
                    points: &data.points,
                    classes: data.classes,
                    output_name: output_name.clone(),
                    axis_names: data.axis_names.clone(),
                })
                .collect();
            Ok(Ok(Picture::Surfaces(surfaces_svg(
                title, &panels, columns,
            )?)))
        }
    }
}

/// The data a run trained on, as titles name it: `circle`, `sin`, a CSV
/// file's name.
pub fn data_name(config: &RunConfig) -> String {
    match (
        config.data.kind,
        config.data.function,
        config.data.path.as_deref(),
    ) {
        (DataKind::Function, Some(function), _) => function.name().to_string(),
        (DataKind::Csv, _, Some(path)) => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        (kind, _, _) => kind.to_string(),
    }
}

/// A run directory's checkpoint, the backend that reads it and its trained
/// weights: what every picture of a trained network starts from.
pub fn open_trained(
    dir: &Path,
    backend: &BackendArg,
) -> anyhow::Result<(Checkpoint, Backend, Vec<LayerWeights>)> {
    let checkpoint = Checkpoint::open(dir)?;
    let backend = Backend::open_or_default(backend.backend)?;
    let config = &checkpoint.config;
    let weights = read_trained_weights(
        &dir.join(MODEL_FILE),
        &config.layer_sizes(),
        config.model.activation,
        &backend.device,
    )?;
    Ok((checkpoint, backend, weights))
}

fn surface_figure(args: &PlotSurfaceArgs) -> anyhow::Result<()> {
    let (checkpoint, backend, weights) = open_trained(&args.dir, &args.backend)?;
    let config = &checkpoint.config;
    let activation = config.model.activation;
    let title = format!(
        "{activation} on {}, epoch {}",
        data_name(config),
        checkpoint.state.epoch
    );
    let drawn = [Drawn {
        title,
        activation,
        weights: &weights,
        run_index: 0,
    }];
    let standardizer = checkpoint.state.standardizer.as_ref();
    let out = args.out.dir().unwrap_or(&args.dir);
    match picture(config, standardizer, &drawn, None, &backend.device)? {
        Ok(picture) => {
            ensure_dir(out)?;
            match picture {
                Picture::Surfaces(svg) => println!("wrote {}", write_figure(out, "surface", &svg)?),
                Picture::Fits(svg, pieces) => {
                    println!("wrote {}", write_figure(out, "fit", &svg)?);
                    println!("the fit: {}", pieces[0]);
                }
            }
            Ok(())
        }
        Err(why) => Err(user_error!(
            "{}: {why}; `plot surface` draws the 2-D sets, 1-D functions and CSV files of 1 or 2 \
             feature columns",
            args.dir.display()
        )),
    }
}

/// Grid points per axis of one unit's picture (small panels, many of them).
const UNIT_RESOLUTION: usize = 41;

fn neurons_figure(args: &PlotSurfaceArgs) -> anyhow::Result<()> {
    let (checkpoint, backend, weights) = open_trained(&args.dir, &args.backend)?;
    let config = &checkpoint.config;
    let activation = config.model.activation;
    let network = TrainedNetwork::new(
        config,
        activation,
        &weights,
        checkpoint.state.standardizer.clone(),
        &backend.device,
    )?;
    let (data, grid, features, plane) = match input_space(config)? {
        InputSpace::Plane(data) => {
            let area = bounds(&data.points);
            let step = |(low, high): (f64, f64)| {
                (0..UNIT_RESOLUTION)
                    .map(move |i| low + (high - low) * i as f64 / (UNIT_RESOLUTION - 1) as f64)
                    .collect::<Vec<f64>>()
            };
            let (x1, x2) = (step(area[0]), step(area[1]));
            let points: Vec<f64> = x2
                .iter()
                .flat_map(|&b| x1.iter().flat_map(move |&a| [a, b]))
                .collect();
            (data, points, 2, Some((x1, x2)))
        }
        InputSpace::Line { data, range, .. } => {
            let xs: Vec<f64> = (0..CURVE_POINTS)
                .map(|i| range.0 + (range.1 - range.0) * i as f64 / (CURVE_POINTS - 1) as f64)
                .collect();
            (data, xs, 1, None)
        }
        InputSpace::Unseen(why) => {
            return Err(user_error!("{}: {why}", args.dir.display()));
        }
    };
    let over_grid = network.hidden_units(&grid, features);
    let train_points: Vec<f64> = data.points.x.iter().map(|&v| f64::from(v)).collect();
    let on_data = network.hidden_units(&train_points, features);
    let mut panels = Vec::new();
    let mut widest = 1;
    for (layer, (grid_values, data_values)) in over_grid.iter().zip(&on_data).enumerate() {
        widest = widest.max(grid_values.units);
        for unit in 0..grid_values.units {
            let column = |values: &[f64]| UnitValues::column(values, grid_values.units, unit);
            let (pre, post) = (column(&grid_values.pre), column(&grid_values.post));
            let flag = unit_flag(
                activation.layer(layer),
                &column(&data_values.pre),
                &column(&data_values.post),
            );
            let (low, high) = post
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let title = format!(
                "fc{} #{}{}",
                layer + 1,
                unit + 1,
                flag.map_or_else(
                    || format!(": {}..{}", short(low), short(high)),
                    |f| format!(" {f}")
                )
            );
            let view = match &plane {
                Some((x1, x2)) => UnitView::Plane {
                    output: Surface {
                        x1: x1.clone(),
                        x2: x2.clone(),
                        values: post,
                        classes: None,
                    },
                    pre: Surface {
                        x1: x1.clone(),
                        x2: x2.clone(),
                        values: pre,
                        classes: None,
                    },
                },
                None => UnitView::Line {
                    curve: grid.iter().copied().zip(post).collect(),
                    switches: grid
                        .windows(2)
                        .zip(pre.windows(2))
                        .filter(|(_, p)| (p[0] > 0.0) != (p[1] > 0.0))
                        .map(|(x, _)| (x[0] + x[1]) / 2.0)
                        .collect(),
                },
            };
            panels.push(UnitPanel {
                title,
                flagged: flag.is_some(),
                view,
            });
        }
    }
    let title = format!(
        "Every hidden unit: {}, at epoch {}",
        run_title(config),
        checkpoint.state.epoch
    );
    let svg = neurons_svg(&title, &panels, widest.min(8))?;
    let out = args.out.dir().unwrap_or(&args.dir);
    ensure_dir(out)?;
    println!("wrote {}", write_figure(out, "neurons", &svg)?);
    Ok(())
}

/// A value in 3 significant digits, for a small title.
fn short(value: f64) -> String {
    train::plot::axis::tick_label(format!("{value:.2e}").parse().unwrap_or(value))
}

fn activations(args: &PlotActivationsArgs) -> anyhow::Result<()> {
    let backend = Backend::open_or_default(args.backend.backend)?;
    let out = args
        .out
        .dir()
        .ok_or_else(|| user_error!("plot activations needs --out DIR"))?;
    ensure_dir(out)?;
    let svg = activations_svg(&Activation::ALL, &backend)?;
    println!("wrote {}", write_figure(out, "activations", &svg)?);
    Ok(())
}

/// One panel per activation: the function and its derivative on [-6, 6].
pub fn activations_svg(list: &[Activation], backend: &Backend) -> anyhow::Result<String> {
    let curves: Vec<_> = list
        .iter()
        .map(|&a| sample(a, -6.0, 6.0, 241, &backend.device))
        .collect();
    let series: Vec<[Series; 2]> = curves
        .iter()
        .map(|curve| {
            let zip = |ys: &[f64]| curve.x.iter().copied().zip(ys.iter().copied()).collect();
            [
                Series {
                    name: "f(x)".into(),
                    points: zip(&curve.value),
                    colour: Some(run_colour(0)),
                    ..Series::default()
                },
                Series {
                    name: "f'(x)".into(),
                    points: zip(&curve.derivative),
                    colour: Some(run_colour(2)),
                    ..Series::default()
                },
            ]
        })
        .collect();
    let panels: Vec<LineChart> = curves
        .iter()
        .zip(&series)
        .map(|(curve, series)| LineChart {
            // A learnable one is drawn at its initial parameter: say so.
            title: match curve.activation.learnable() {
                Some(learnable) => format!(
                    "{} (trained {}, from {})",
                    curve.activation,
                    if learnable.name == "weight" {
                        "a"
                    } else {
                        learnable.name
                    },
                    learnable.initial
                ),
                None => curve.activation.to_string(),
            },
            x_label: "x",
            y_label: "",
            log_y: false,
            whole_x: false,
            y_range: None,
            series,
            references: &[],
        })
        .collect();
    panels_svg(&panels, 5, (400, 300))
}

fn run_figure(args: &PlotRunArgs) -> anyhow::Result<()> {
    let metrics_path = args.dir.join(train::io::run_dir::METRICS_FILE);
    let columns = read_metrics(&metrics_path)?;
    let out = args.out.dir().unwrap_or(&args.dir);
    ensure_dir(out)?;
    // The run's own config names it in the title, when it is there.
    let config = RunConfig::from_file(&args.dir.join(CONFIG_FILE)).ok();
    let svg = run_svg(&columns, &metrics_path, config.as_ref())?;
    println!("wrote {}", write_figure(out, "run", &svg)?);
    Ok(())
}

/// What a run was, for a title: `relu on circle, hidden 2 x 8, 300 epochs,
/// adam lr 0.01`.
pub fn run_title(config: &RunConfig) -> String {
    format!("{} on {}", config.model.activation, setup_title(config))
}

/// The setup every run of a figure shares: `circle, hidden 2 x 8, 300
/// epochs, adam lr 0.01`.
pub fn setup_title(config: &RunConfig) -> String {
    let hidden = &config.model.hidden;
    let shape = match hidden.as_slice() {
        [first, rest @ ..] if !rest.is_empty() && rest.iter().all(|w| w == first) => {
            format!("{} x {first}", hidden.len())
        }
        _ => format!("{hidden:?}"),
    };
    format!(
        "{}, hidden {shape}, {} epochs, {} lr {}",
        data_name(config),
        config.training.epochs,
        config.optimizer.kind.name(),
        config.training.lr
    )
}

/// A learnable activation's parameter per epoch, a line per hidden layer
/// (`act1_weight`, ...; a band from the layer's smallest to its largest
/// per-unit value where metrics.csv has them), the initial value dashed.
fn learned_panel(
    names: &[String],
    values: &std::collections::HashMap<String, Vec<f64>>,
    epochs: &[f64],
) -> Option<(Vec<Series>, Vec<Reference>, String)> {
    let (field, label, initial) = [
        ("weight", "PReLU's slope a (x < 0)", 0.25),
        ("beta", "swish's beta", 1.0),
    ]
    .into_iter()
    .find(|(field, _, _)| names.iter().any(|n| n == &format!("act1_{field}")))?;
    let series: Vec<Series> = (1..)
        .map(|layer| format!("act{layer}_{field}"))
        .take_while(|column| values.contains_key(column))
        .enumerate()
        .map(|(index, column)| {
            let points: Vec<(f64, f64)> = epochs
                .iter()
                .copied()
                .zip(values[&column].iter().copied())
                .filter(|(_, y)| y.is_finite())
                .collect();
            let band = match (
                values.get(&format!("{column}_min")),
                values.get(&format!("{column}_max")),
            ) {
                (Some(low), Some(high)) => epochs
                    .iter()
                    .zip(low.iter().zip(high))
                    .filter(|(_, (l, h))| l.is_finite() && h.is_finite())
                    .map(|(&x, (&l, &h))| (x, l, h))
                    .collect(),
                _ => Vec::new(),
            };
            Series {
                name: format!("act{} (after fc{})", index + 1, index + 1),
                points,
                band,
                colour: Some(run_colour(index)),
            }
        })
        .collect();
    let references = vec![Reference {
        name: "initial".into(),
        value: initial,
    }];
    let label = if series.iter().any(|s| !s.band.is_empty()) {
        format!("{label}: units' mean, band min to max")
    } else {
        label.to_string()
    };
    Some((series, references, label))
}

/// Panels: the loss per epoch; accuracy when the run classified; per-layer
/// gradient norms (named as `diagnose` names the layers) and dead or
/// saturated units when it ran with diagnostics.
pub fn run_svg(
    (names, values): &Columns,
    path: &Path,
    config: Option<&RunConfig>,
) -> anyhow::Result<String> {
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
    let line = |name: &str, column: &str, colour: RGBColor| Series {
        name: name.to_string(),
        points: epochs
            .iter()
            .copied()
            .zip(values[column].iter().copied())
            .filter(|(_, y)| y.is_finite())
            .collect(),
        colour: Some(colour),
        ..Series::default()
    };
    let present = |columns: &[(&str, &str, RGBColor)]| -> Vec<Series> {
        columns
            .iter()
            .filter(|(_, column, _)| values.contains_key(*column))
            .map(|(name, column, colour)| line(name, column, *colour))
            .filter(|series| !series.points.is_empty())
            .collect()
    };
    let loss_series = present(&[
        ("last mini-batch", "loss", RGBColor(190, 190, 190)),
        ("training (full pass)", "train_loss", run_colour(0)),
        ("training (full pass)", "train_mse", run_colour(0)),
        ("validation", "val_loss", run_colour(2)),
    ]);
    let accuracy_series = present(&[
        ("training", "train_accuracy", run_colour(0)),
        ("validation", "val_accuracy", run_colour(2)),
    ]);
    let per_layer = |prefix: &str| -> Vec<Series> {
        names
            .iter()
            .filter(|n| n.starts_with(prefix))
            .enumerate()
            .map(|(index, column)| {
                line(
                    &format!("fc{}", &column[prefix.len()..]),
                    column,
                    run_colour(index),
                )
            })
            .filter(|series| !series.points.is_empty())
            .collect()
    };
    let regions_series = present(&[("the network", "regions", run_colour(1))]);
    let pieces_series = present(&[("the network", "pieces_per_line", run_colour(1))]);
    let grad_series = per_layer("grad_norm_l");
    let dead_series = per_layer("dead_l");
    let saturated_series = per_layer("saturated_l");
    let learned = learned_panel(names, values, epochs);
    let loss_name = config.map_or("loss", |c| c.training.loss.name());
    let loss_label = format!("{loss_name} (log)");
    let mut panels = vec![LineChart {
        title: "Loss".into(),
        x_label: "epoch",
        y_label: &loss_label,
        log_y: true,
        whole_x: true,
        y_range: None,
        series: &loss_series,
        references: &[],
    }];
    if !accuracy_series.is_empty() {
        panels.push(LineChart {
            title: "Accuracy".into(),
            x_label: "epoch",
            y_label: "share right",
            log_y: false,
            whole_x: true,
            y_range: None,
            series: &accuracy_series,
            references: &[],
        });
    }
    for (series, title, label) in [
        (
            &regions_series,
            "Linear regions over training",
            "linear regions in the data's box",
        ),
        (
            &pieces_series,
            "Linear pieces over training",
            "linear pieces per line (mean of 20)",
        ),
    ] {
        if !series.is_empty() {
            panels.push(LineChart {
                title: title.into(),
                x_label: "epoch",
                y_label: label,
                log_y: false,
                whole_x: true,
                y_range: None,
                series,
                references: &[],
            });
        }
    }
    if !grad_series.is_empty() {
        panels.push(LineChart {
            title: "Weight-gradient L2 norm per layer".into(),
            x_label: "epoch",
            y_label: "norm (log)",
            log_y: true,
            whole_x: true,
            y_range: None,
            series: &grad_series,
            references: &[],
        });
    }
    for (series, title) in [
        (&dead_series, "Dead units per layer"),
        (&saturated_series, "Saturated units per layer"),
    ] {
        // A share that stays 0 in every layer is said by its absence.
        let all_zero = series.iter().all(|s| s.points.iter().all(|p| p.1 == 0.0));
        if !series.is_empty() && !all_zero {
            panels.push(LineChart {
                title: title.into(),
                x_label: "epoch",
                y_label: "share of the layer's units",
                log_y: false,
                whole_x: true,
                y_range: Some((0.0, 1.0)),
                series,
                references: &[],
            });
        }
    }
    if let Some((series, references, label)) = &learned {
        panels.push(LineChart {
            title: "Learned activation parameter per layer".into(),
            x_label: "epoch",
            y_label: label,
            log_y: false,
            whole_x: true,
            y_range: None,
            series,
            references,
        });
    }
    let columns = panels.len().min(3);
    let title = config.map(run_title);
    titled_panels_svg(title.as_deref(), &panels, columns, (640, 440))
}
