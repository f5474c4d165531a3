//! `train regions DIR`: the exact linear regions a trained network cuts its
//! input into (a map for two inputs), or its linear pieces along lines
//! through the data (any number of inputs).

use model::LayerWeights;
use train::config::{LossKind, RunConfig};
use train::data::Standardizer;
use train::experiments::surface::{DrawnData, InputSpace, bounds, input_space};
use train::io::atomic::ensure_dir;
use train::plot::regions::{RegionMap, region_map_svg};
use train::plot::write_figure;
use train::regions::{
    MAX_REGIONS, Polygon, along_lines, crossed_by_level, level_segments, plane_input, regions,
    segments_through,
};
use train::user_error;

use crate::cli::RegionsArgs;
use crate::commands::plot::{data_name, open_trained};

/// Counts the regions (or pieces along lines) and writes the map.
pub fn run(args: &RegionsArgs) -> anyhow::Result<()> {
    let (checkpoint, _backend, weights) = open_trained(&args.dir, &args.backend)?;
    let config = &checkpoint.config;
    let activation = config.model.activation;
    let standardizer = checkpoint.state.standardizer.as_ref();
    let epoch = checkpoint.state.epoch;
    let shown = args.dir.display();
    let network = format!("{activation} network {:?}", config.layer_sizes());
    if let Some(count) = args.lines {
        let split = train::data::load_for(config)?;
        let segments = segments_through(&split.train, count as usize, config.seed);
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
            let lines = found.pieces.len();
            println!(
                "{network}, epoch {epoch}: {lines} line{} through pairs of training rows: {:.2}{} \
                 linear pieces per line, {:.3} per unit length of the network's inputs",
                if lines == 1 { "" } else { "s" },
                mean.mean,
                mean.half_width
                    .map_or(String::new(), |h| format!(" ± {h:.2} (95% CI)")),
                found.per_length()
            );
        }
        return Ok(());
    }
    if config.model.input != 2 {
        return Err(user_error!(
            "{shown}: the network sees {} input{}; a region map needs 2; count its linear pieces \
             along lines through the data with --lines N",
            config.model.input,
            if config.model.input == 1 { "" } else { "s" }
        ));
    }
    let mapped = map_regions(config, standardizer, &weights, args.r#box)?
        .map_err(|why| user_error!("{shown}: {why}"))?;
    let count = mapped.polygons.len();
    let crossed = mapped.crossed;
    let area = mapped.area;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "regions": count,
                "boundary_regions": crossed,
                "box": [[area[0].0, area[0].1], [area[1].0, area[1].1]],
                "activation": activation.to_string(),
                "epoch": epoch,
            })
        );
    } else {
        println!(
            "{network} on {}, epoch {epoch}: {count} linear region{} in x1 [{:.3}, {:.3}] x x2 \
             [{:.3}, {:.3}]; the decision boundary ({}) passes through {crossed} of them",
            data_name(config),
            if count == 1 { "" } else { "s" },
            area[0].0,
            area[0].1,
            area[1].0,
            area[1].1,
            mapped.boundary_name,
        );
    }
    let title = format!(
        "{activation} on {}, epoch {epoch}: {count} linear region{}, {crossed} on the boundary",
        data_name(config),
        if count == 1 { "" } else { "s" }
    );
    let svg = region_map_svg(&mapped.drawing(title))?;
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

/// A network's regions over the plane, ready to draw.
pub struct Mapped {
    /// Each region's polygon.
    pub polygons: Vec<Polygon>,
    /// The decision boundary's piece in each region it crosses.
    pub boundary: Vec<[[f64; 2]; 2]>,
    /// How many regions it crosses.
    pub crossed: usize,
    /// What the boundary is (`p = 0.5`).
    pub boundary_name: String,
    /// The box mapped.
    pub area: [(f64, f64); 2],
    /// The training points.
    pub data: DrawnData,
}

impl Mapped {
    /// The picture of it, under `title`.
    pub fn drawing(&self, title: String) -> RegionMap<'_> {
        RegionMap {
            title,
            regions: &self.polygons,
            boundary: &self.boundary,
            boundary_name: self.boundary_name.clone(),
            bounds: self.area,
            points: &self.data.points,
            classes: self.data.classes,
            axis_names: self.data.axis_names.clone(),
        }
    }
}

/// The exact regions of `weights` (a network of `config`) over `area` (the
/// data's box by default); `Err` with the reason when it has none to map.
pub fn map_regions(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    weights: &[LayerWeights],
    area: Option<[(f64, f64); 2]>,
) -> anyhow::Result<Result<Mapped, String>> {
    let input = match plane_input(config, standardizer) {
        Ok(input) => input,
        Err(why) => return Ok(Err(why)),
    };
    let InputSpace::Plane(data) = input_space(config)? else {
        return Ok(Err("a region map needs data of two columns".into()));
    };
    let area = area.unwrap_or_else(|| bounds(&data.points));
    let found = match regions(
        weights,
        config.model.activation,
        input,
        Polygon::rectangle(area),
        MAX_REGIONS,
    ) {
        Ok(found) => found,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let (level, boundary_name) = decision_level(config, &data.points.y, data.classes);
    Ok(Ok(Mapped {
        crossed: crossed_by_level(&found, level),
        boundary: level_segments(&found, level),
        polygons: found.into_iter().map(|r| r.cell).collect(),
        boundary_name,
        area,
        data,
    }))
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
