//! `train regions DIR`: the exact linear regions a trained network cuts its
//! input into (a map for two inputs), or its linear pieces along lines
//! through the data (any number of inputs).

use train::backend::Backend;
use train::config::{LossKind, RunConfig};
use train::experiments::regions::{
    MAX_REGIONS, Polygon, along_lines, crossed_by_level, level_segments, plane_input, regions,
    segments_through,
};
use train::experiments::surface::{InputSpace, bounds, input_space};
use train::io::atomic::ensure_dir;
use train::io::checkpoint::Checkpoint;
use train::io::run_dir::MODEL_FILE;
use train::io::weights::read_layer_weights;
use train::plot::regions::{RegionMap, region_map_svg};
use train::plot::write_figure;
use train::user_error;

use crate::cli::RegionsArgs;
use crate::commands::plot::data_name;

/// Counts the regions (or pieces along lines) and writes the map.
pub fn run(args: &RegionsArgs) -> anyhow::Result<()> {
    let checkpoint = Checkpoint::open(&args.dir)?;
    let config = &checkpoint.config;
    let backend = Backend::open_or_default(args.backend.backend)?;
    let activation = config.model.activation;
    let weights = read_layer_weights(
        &args.dir.join(MODEL_FILE),
        &config.layer_sizes(),
        activation,
        &backend.device,
    )?;
    let standardizer = checkpoint.state.standardizer.as_ref();
    let epoch = checkpoint.state.epoch;
    let shown = args.dir.display();
    let network = format!("{activation} network {:?}", config.layer_sizes());
    if let Some(count) = args.lines {
        let split = train::data::load_for(config)?;
        let segments = segments_through(&split.train, count, config.seed);
        let found = along_lines(&weights, activation, &segments, None)
            .map_err(|error| user_error!("{shown}: {error}"))?;
        let mean = found
            .mean()
            .ok_or_else(|| user_error!("{shown}: needs at least 2 training rows to draw lines"))?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "lines": found.pieces.len(),
                    "pieces_mean": mean.mean,
                    "pieces_ci95": mean.half_width,
                    "pieces_per_unit_length": found.per_length(),
                    "pieces": found.pieces,
                    "activation": activation.to_string(),
                    "epoch": epoch,
                })
            );
        } else {
            println!(
                "{network}, epoch {epoch}: {} lines through pairs of training rows: {:.2}{} linear \
                 pieces per line (95% CI), {:.3} per unit length of the network's inputs",
                found.pieces.len(),
                mean.mean,
                mean.half_width
                    .map_or(String::new(), |h| format!(" ± {h:.2}")),
                found.per_length()
            );
        }
        return Ok(());
    }
    if config.model.input != 2 {
        return Err(user_error!(
            "{shown}: the network sees {} inputs; a region map needs 2; count its linear pieces \
             along lines through the data with --lines N",
            config.model.input
        ));
    }
    let input = plane_input(config, standardizer).map_err(|why| user_error!("{shown}: {why}"))?;
    let InputSpace::Plane(data) = input_space(config)? else {
        return Err(user_error!(
            "{shown}: a region map needs data of two columns"
        ));
    };
    let area = match &args.r#box {
        Some(area) => *area,
        None => bounds(&data.points),
    };
    let found = regions(
        &weights,
        activation,
        input,
        Polygon::rectangle(area),
        MAX_REGIONS,
    )
    .map_err(|error| user_error!("{shown}: {error}"))?;
    let (level, boundary_name) = decision_level(config, &data.points.y, data.classes);
    let crossed = crossed_by_level(&found, level);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "regions": found.len(),
                "boundary_regions": crossed,
                "box": [[area[0].0, area[0].1], [area[1].0, area[1].1]],
                "activation": activation.to_string(),
                "epoch": epoch,
            })
        );
    } else {
        println!(
            "{network} on {}, epoch {epoch}: {} linear region{} in x1 [{:.3}, {:.3}] x x2 [{:.3}, \
             {:.3}]; the decision boundary ({boundary_name}) passes through {crossed} of them",
            data_name(config),
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            area[0].0,
            area[0].1,
            area[1].0,
            area[1].1,
        );
    }
    let polygons: Vec<Polygon> = found.iter().map(|r| r.cell.clone()).collect();
    let boundary = level_segments(&found, level);
    let svg = region_map_svg(&RegionMap {
        title: format!(
            "{activation} on {}, epoch {epoch}: {} linear region{}, {crossed} on the boundary",
            data_name(config),
            found.len(),
            if found.len() == 1 { "" } else { "s" }
        ),
        regions: &polygons,
        boundary: &boundary,
        boundary_name: boundary_name.clone(),
        bounds: area,
        points: &data.points,
        classes: data.classes,
        axis_names: data.axis_names.clone(),
    })?;
    let out = args.out.dir().unwrap_or(&args.dir);
    ensure_dir(out)?;
    let files = write_figure(out, "regions", &svg)?;
    if args.json {
        eprintln!("wrote {files}");
    } else {
        println!("wrote {files}");
    }
    Ok(())
}

/// The output level the decision boundary is drawn at, and its name: the
/// logit 0 (p = 0.5) under bce, 0.5 for 0/1 targets under mse, else the
/// median target.
fn decision_level(config: &RunConfig, targets: &[f32], classes: bool) -> (f64, String) {
    match (config.training.loss, classes) {
        (LossKind::Bce, _) => (0.0, "p = 0.5".into()),
        (LossKind::Mse, true) => (0.5, "output = 0.5".into()),
        (LossKind::Mse, false) => {
            let mut sorted: Vec<f64> = targets.iter().map(|&t| f64::from(t)).collect();
            sorted.sort_by(f64::total_cmp);
            let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
            (median, format!("output = median target {median:.3}"))
        }
    }
}
