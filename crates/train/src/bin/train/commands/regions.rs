//! `train regions DIR` (or `--weights FILE --config C`): the exact linear
//! regions a trained network cuts its input into (a map for two inputs),
//! or its linear pieces along lines through the data (any number of
//! inputs). Where no exact map exists (a smooth activation, an engineered
//! input that bends the pieces) it draws the sampled pattern map instead.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use model::LayerWeights;
use train::backend::Backend;
use train::config::{LossKind, Overrides, ResolvedConfig, RunConfig};
use train::data::Standardizer;
use train::experiments::patterns::{SampledPatterns, sample_patterns};
use train::experiments::surface::{
    DrawnData, InputSpace, TrainedNetwork, bounds, input_space, surface,
};
use train::io::atomic::ensure_dir;
use train::io::weights::read_layer_weights;
use train::plot::regions::{RegionMap, region_map_svg};
use train::plot::surface::{boundary, level_lines};
use train::plot::write_figure;
use train::regions::{
    MAX_REGIONS, Polygon, RegionsError, along_lines, class_segments, crossed_by_level,
    level_segments, plane_input, regions, segments_through,
};
use train::user_error;

use crate::cli::RegionsArgs;
use crate::commands::plot::{data_name, open_trained};

/// Cells per axis of a sampled pattern map.
const SAMPLED_RESOLUTION: usize = 200;

/// The network `regions` looks at, wherever it came from.
struct Source {
    config: RunConfig,
    standardizer: Option<Standardizer>,
    weights: Vec<LayerWeights>,
    backend: Backend,
    /// `epoch 40`, or `weights w.safetensors`.
    when: String,
    /// The checkpoint's epoch (none for a weights file).
    epoch: Option<usize>,
    /// Where its pictures go without `--out`.
    home: PathBuf,
    /// How errors name it.
    shown: String,
}

impl Source {
    fn open(args: &RegionsArgs) -> anyhow::Result<Self> {
        match (&args.dir, &args.weights, &args.config) {
            (Some(dir), None, None) => {
                let (checkpoint, backend, weights) = open_trained(dir, &args.backend)?;
                Ok(Self {
                    when: format!("epoch {}", checkpoint.state.epoch),
                    epoch: Some(checkpoint.state.epoch),
                    standardizer: checkpoint.state.standardizer,
                    config: checkpoint.config,
                    weights,
                    backend,
                    home: dir.clone(),
                    shown: dir.display().to_string(),
                })
            }
            (None, Some(file), Some(config_path)) => {
                let config = ResolvedConfig::load(Some(config_path), &Overrides::default())?.config;
                let backend = Backend::open_or_default(args.backend.backend)?;
                // Any weights file, a PyTorch one too: as `--init-weights` reads it.
                let weights = read_layer_weights(
                    file,
                    &config.layer_sizes(),
                    config.model.activation,
                    &backend.device,
                )?;
                // Standardised inputs: the scaling training would compute.
                let standardizer = if config.data.standardize {
                    train::data::load_for(&config)?.standardizer
                } else {
                    None
                };
                let name = file.file_name().map_or_else(
                    || file.display().to_string(),
                    |name| name.to_string_lossy().into_owned(),
                );
                Ok(Self {
                    config,
                    standardizer,
                    weights,
                    backend,
                    when: format!("weights {name}"),
                    epoch: None,
                    home: file
                        .parent()
                        .filter(|parent| !parent.as_os_str().is_empty())
                        .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
                    shown: file.display().to_string(),
                })
            }
            _ => Err(user_error!(
                "regions takes a run directory, or --weights FILE with --config C (not both)"
            )),
        }
    }
}

/// Counts the regions (or pieces along lines) and writes the map.
pub fn run(args: &RegionsArgs) -> anyhow::Result<()> {
    let source = Source::open(args)?;
    let config = &source.config;
    let activation = config.model.activation;
    let standardizer = source.standardizer.as_ref();
    let when = &source.when;
    let shown = &source.shown;
    let network = format!("{activation} network {:?}", config.layer_sizes());
    if let Some(count) = args.lines {
        let split = train::data::load_for(config)?;
        let segments = segments_through(&split.train, count as usize, config.seed);
        let found = along_lines(&source.weights, activation, &segments, None)
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
                    "epoch": source.epoch,
                })
            );
        } else {
            let lines = found.pieces.len();
            println!(
                "{network}, {when}: {lines} line{} through pairs of training rows: {:.2}{} \
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
    // A 2-D set is mapped over its plane whatever inputs it engineers.
    if config.model.input != 2 && !config.data.kind.is_plane() {
        return Err(user_error!(
            "{shown}: the network sees {} input{}; a region map needs 2; count its linear pieces \
             along lines through the data with --lines N",
            config.model.input,
            if config.model.input == 1 { "" } else { "s" }
        ));
    }
    let out = args.out.dir().unwrap_or(&source.home);
    let mapped = match map_regions(config, standardizer, &source.weights, args.r#box)? {
        Ok(mapped) => mapped,
        Err(Unmapped::Bent(why)) => return sampled(args, &source, &why, out),
        Err(Unmapped::Not(why)) => return Err(user_error!("{shown}: {why}")),
    };
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
                "epoch": source.epoch,
            })
        );
    } else {
        println!(
            "{network} on {}, {when}: {count} linear region{} in {} [{:.3}, {:.3}] x {} \
             [{:.3}, {:.3}]; the decision boundary ({}) passes through {crossed} of them",
            data_name(config),
            if count == 1 { "" } else { "s" },
            mapped.data.axis_names[0],
            area[0].0,
            area[0].1,
            mapped.data.axis_names[1],
            area[1].0,
            area[1].1,
            mapped.boundary_name,
        );
    }
    let title = format!(
        "{activation} on {}, {when}: {count} linear region{}, {crossed} on the boundary",
        data_name(config),
        if count == 1 { "" } else { "s" }
    );
    write_map(out, &mapped.drawing(title), args.json)
}

/// Writes `regions.svg`/`.png` into `out`; says so on standard error when
/// standard output carries JSON.
fn write_map(out: &Path, map: &RegionMap, json: bool) -> anyhow::Result<()> {
    let svg = region_map_svg(map)?;
    ensure_dir(out)?;
    let files = write_figure(out, "regions", &svg)?;
    if json {
        eprintln!("wrote {files}");
    } else {
        println!("wrote {files}");
    }
    Ok(())
}

/// No exact map: says why and draws the sampled pattern map instead.
fn sampled(args: &RegionsArgs, source: &Source, why: &str, out: &Path) -> anyhow::Result<()> {
    let config = &source.config;
    let activation = config.model.activation;
    let map = sampled_map(
        config,
        source.standardizer.clone(),
        &source.weights,
        args.r#box,
        &source.backend.device,
    )?;
    let patterns = map.patterns.patterns;
    let what = map.patterns.kind.name();
    let n = map.patterns.resolution;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "regions": null,
                "why": why,
                "sampled": { "patterns": patterns, "kind": what, "grid": n },
                "box": [[map.patterns.area[0].0, map.patterns.area[0].1], [map.patterns.area[1].0, map.patterns.area[1].1]],
                "activation": activation.to_string(),
                "epoch": source.epoch,
            })
        );
    } else {
        println!(
            "{}: {why}; drew the sampled map instead: {patterns} {what} on a {n} x {n} grid",
            source.shown
        );
    }
    // Engineered inputs are why the pieces bend: the title names them.
    let inputs = config.data.inputs();
    let seen = if config.data.kind.is_plane() && inputs.len() != 2
        || inputs.iter().any(|i| {
            !matches!(
                i,
                train::config::InputFeature::X1 | train::config::InputFeature::X2
            )
        }) {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        format!(" (inputs {})", names.join(", "))
    } else {
        String::new()
    };
    let title = format!(
        "{activation} on {}{seen}, {}: {patterns} {what}, sampled on a {n} x {n} grid",
        data_name(config),
        source.when
    );
    let runs = map.patterns.runs();
    let polygons: Vec<Polygon> = runs
        .iter()
        .map(|(corners, _)| Polygon(corners.to_vec()))
        .collect();
    let colours: Vec<u32> = runs.iter().map(|(_, id)| *id).collect();
    let borders = map.patterns.borders();
    let drawing = RegionMap {
        title,
        regions: &polygons,
        colours: Some(&colours),
        borders: Some(&borders),
        border_name: "pattern border (sampled)",
        boundary: &map.boundary,
        boundary_name: map.boundary_name,
        bounds: map.patterns.area,
        points: &map.data.points,
        classes: map.data.classes,
        axis_names: map.data.axis_names.clone(),
    };
    write_map(out, &drawing, args.json)
}

/// A sampled pattern map with its decision boundary and data.
struct SampledMap {
    patterns: SampledPatterns,
    boundary: Vec<[[f64; 2]; 2]>,
    boundary_name: String,
    data: DrawnData,
}

fn sampled_map(
    config: &RunConfig,
    standardizer: Option<Standardizer>,
    weights: &[LayerWeights],
    area: Option<[(f64, f64); 2]>,
    device: &Device,
) -> anyhow::Result<SampledMap> {
    let InputSpace::Plane(data) = input_space(config)? else {
        return Err(user_error!("a region map needs data of two columns"));
    };
    let area = area.unwrap_or_else(|| bounds(&data.points));
    let activation = config.model.activation;
    let network = TrainedNetwork::new(config, activation, weights, standardizer, device)?;
    let patterns = sample_patterns(&network, activation, area, SAMPLED_RESOLUTION, device);
    let (level, boundary_name) = decision_level(config, &data.points.y, data.classes);
    // The sampled network gives probabilities under bce: its 0.5 is the logit's 0.
    let level = if network.gives_probabilities() {
        0.5
    } else {
        level
    };
    let grid = surface(&network, area, SAMPLED_RESOLUTION + 1);
    let lines = if grid.classes.is_some() {
        boundary(&grid)?
    } else {
        level_lines(&grid, level)?
    };
    let boundary = lines
        .iter()
        .flat_map(|line| {
            line.windows(2)
                .map(|pair| [[pair[0].0, pair[0].1], [pair[1].0, pair[1].1]])
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(SampledMap {
        patterns,
        boundary,
        boundary_name,
        data,
    })
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
            colours: None,
            borders: None,
            border_name: "region border",
            boundary: &self.boundary,
            boundary_name: self.boundary_name.clone(),
            bounds: self.area,
            points: &self.data.points,
            classes: self.data.classes,
            axis_names: self.data.axis_names.clone(),
        }
    }
}

/// Why a network has no exact region map.
pub enum Unmapped {
    /// A smooth activation or a curved input: the sampled map shows it.
    Bent(String),
    /// Nothing to map (not plane data, past the region limit).
    Not(String),
}

/// The exact regions of `weights` (a network of `config`) over `area` (the
/// data's box by default); `Err` with the reason when it has none to map.
pub fn map_regions(
    config: &RunConfig,
    standardizer: Option<&Standardizer>,
    weights: &[LayerWeights],
    area: Option<[(f64, f64); 2]>,
) -> anyhow::Result<Result<Mapped, Unmapped>> {
    let activation = config.model.activation;
    if !activation.is_piecewise_linear() {
        return Ok(Err(Unmapped::Bent(
            RegionsError::Smooth(activation.first_smooth().expect("not piecewise linear"))
                .to_string(),
        )));
    }
    let input = match plane_input(config, standardizer) {
        Ok(input) => input,
        Err(why) => return Ok(Err(Unmapped::Bent(why))),
    };
    let InputSpace::Plane(data) = input_space(config)? else {
        return Ok(Err(Unmapped::Not(
            "a region map needs data of two columns".into(),
        )));
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
        Err(error) => return Ok(Err(Unmapped::Not(error.to_string()))),
    };
    if config.training.loss == LossKind::CrossEntropy {
        // Several logits: the boundary is where the winning class changes.
        let per_region: Vec<_> = found.iter().map(class_segments).collect();
        return Ok(Ok(Mapped {
            crossed: per_region.iter().filter(|s| !s.is_empty()).count(),
            boundary: per_region.into_iter().flatten().collect(),
            polygons: found.into_iter().map(|r| r.cell).collect(),
            boundary_name: "class boundary".into(),
            area,
            data,
        }));
    }
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
        (LossKind::CrossEntropy, _) => (0.5, "class boundary".into()),
        (LossKind::Mse, true) => (0.5, "output = 0.5".into()),
        (LossKind::Mse, false) => {
            let mut sorted: Vec<f64> = targets.iter().map(|&t| f64::from(t)).collect();
            sorted.sort_by(f64::total_cmp);
            let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
            (median, format!("output = median target {median:.3}"))
        }
    }
}
