//! `train predict` and `train eval`: a trained network on new rows.

use std::path::Path;

use burn::tensor::{Tensor, TensorData};
use model::Mlp;
use train::backend::Backend;
use train::config::{DataKind, LossKind, RunConfig};
use train::data::playground::engineer;
use train::data::{Dataset, check_labels, read_table, target_index};
use train::io::atomic::write_atomic;
use train::io::checkpoint::Checkpoint;
use train::io::run_dir::MODEL_FILE;
use train::io::weights::read_trained_weights;
use train::stats::{accuracy_of, bce_of_logits, cross_entropy_of, score, softmax};
use train::user_error;

use crate::cli::{EvalArgs, ModelInputArgs, PredictArgs};

/// A trained network ready to score rows.
struct Loaded {
    checkpoint: Checkpoint,
    model: Mlp,
    backend: Backend,
}

fn load(source: &ModelInputArgs) -> anyhow::Result<Loaded> {
    let checkpoint = Checkpoint::open(&source.model)?;
    let backend = Backend::open_or_default(source.backend.backend)?;
    let config = &checkpoint.config;
    // Not checked against checkpoint.toml's digest: a model.safetensors
    // edited or fine-tuned elsewhere (e.g. in PyTorch) is a fair input here,
    // and a mismatched one is caught by its names and shapes.
    // NaN or infinite weights are refused, naming the tensor: they would
    // only print NaN predictions.
    let weights = read_trained_weights(
        &source.model.join(MODEL_FILE),
        &config.layer_sizes(),
        config.model.activation,
        &backend.device,
    )?;
    let model = Mlp::from_weights(&weights, config.model.activation, &backend.device)?;
    Ok(Loaded {
        checkpoint,
        model,
        backend,
    })
}

/// The target column rows of `config`'s data carry, when they come as CSV.
fn configured_target(config: &RunConfig) -> Option<&train::config::TargetColumn> {
    (config.data.kind == DataKind::Csv)
        .then_some(config.data.target.as_ref())
        .flatten()
}

/// Columns a row of new data has before the target: the point `x1, x2` of
/// a 2-D set (its engineered inputs are computed here), `x` of a function,
/// else the network's inputs.
fn row_width(config: &RunConfig) -> usize {
    match config.data.kind {
        kind if kind.is_plane() => 2,
        DataKind::Function => 1,
        _ => config.model.input,
    }
}

/// What the columns of a row are, for messages.
fn row_columns(config: &RunConfig) -> &'static str {
    match config.data.kind {
        kind if kind.is_plane() => "point coordinates x1, x2",
        DataKind::Function => "x",
        _ => "features",
    }
}

/// Reads `path`: the rows' features (or points), plus a target column when `needs_target`.
/// `header`: whether its first row is a header, `None` to detect it; the
/// decision is said on stderr, so that a first row dropped as a header (or
/// read as data) is never silent.
fn read_rows(
    path: &Path,
    header: Option<bool>,
    config: &RunConfig,
    needs_target: bool,
) -> anyhow::Result<Dataset> {
    let shown = path.display().to_string();
    let table = read_table(path, header)?;
    eprintln!(
        "read {shown}: {} rows, {}",
        table.rows(),
        table.header.describe()
    );
    let input = row_width(config);
    let what = row_columns(config);
    if table.columns == input && !needs_target {
        return Ok(table.into_features());
    }
    if table.columns == input + 1 {
        let target = target_index(&table, configured_target(config), &shown)?;
        return Ok(table.into_dataset(target));
    }
    let wanted = if needs_target {
        format!("{} ({input} {what} and a target)", input + 1)
    } else {
        format!("{input} ({what}) or {} ({what} and a target)", input + 1)
    };
    Err(user_error!(
        "{shown}: has {} columns, the network takes {input} {what}, so expected {wanted}",
        table.columns
    ))
}

impl Loaded {
    /// The network's outputs per row of `data` (a logit under `bce`, `K`
    /// logits under `cross_entropy`), after the training's engineered
    /// inputs and standardisation.
    fn predict(&self, data: Dataset) -> Vec<f32> {
        let config = &self.checkpoint.config;
        let mut data = if config.data.kind.is_plane() {
            engineer(&data, &config.data.inputs())
        } else {
            data
        };
        if let Some(standardizer) = &self.checkpoint.state.standardizer {
            standardizer.apply(&mut data);
        }
        let rows = data.x.len() / data.features;
        let x = Tensor::<2>::from_data(
            TensorData::new(data.x, [rows, data.features]),
            &self.backend.device,
        );
        model::host_values(self.model.forward(x))
    }
}

/// The logistic function: a `bce` network's logit as a probability.
fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit).exp())
}

/// Loads the network and reads the rows it is to score.
fn load_with_rows(
    source: &ModelInputArgs,
    needs_target: bool,
) -> anyhow::Result<(Loaded, Dataset)> {
    let loaded = load(source)?;
    let header = match (source.header, source.no_header) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let data = read_rows(
        &source.input,
        header,
        &loaded.checkpoint.config,
        needs_target,
    )?;
    Ok((loaded, data))
}

/// `train predict`.
pub fn predict(args: &PredictArgs) -> anyhow::Result<()> {
    if let Some(path) = args.output.as_deref() {
        train::io::atomic::check_output_file("--output", path, "predictions.csv")?;
    }
    let (loaded, data) = load_with_rows(&args.source, false)?;
    let rows = data.rows();
    let predictions = loaded.predict(data);
    let config = &loaded.checkpoint.config;
    let text = prediction_csv(config, &predictions)?;
    match &args.output {
        Some(path) => {
            write_atomic(path, &text)?;
            eprintln!("wrote {rows} predictions to {}", path.display());
        }
        None => print!("{}", String::from_utf8(text)?),
    }
    Ok(())
}

/// What `train predict` writes for `outputs` (the network's, row after
/// row): the probability and class under `bce`, every class's probability
/// and the class under `cross_entropy`, the output and its class for `mse`
/// on labels, else the output.
fn prediction_csv(config: &RunConfig, outputs: &[f32]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let loss = config.training.loss;
    let decision = loss.decision();
    let width = config.model.output;
    match (loss, config.is_classification()) {
        (LossKind::CrossEntropy, _) => {
            let mut header: Vec<String> = (0..width).map(|k| format!("probability_{k}")).collect();
            header.push("class".into());
            writer.write_record(&header)?;
        }
        (LossKind::Bce, _) => writer.write_record(["probability", "class"])?,
        (LossKind::Mse, true) => writer.write_record(["prediction", "class"])?,
        (LossKind::Mse, false) => writer.write_record(["prediction"])?,
    }
    for row in outputs.chunks(width) {
        let class = decision.class(row).to_string();
        match (loss, config.is_classification()) {
            (LossKind::CrossEntropy, _) => {
                let mut record: Vec<String> = softmax(row)
                    .iter()
                    .map(|&p| (p as f32).to_string())
                    .collect();
                record.push(class);
                writer.write_record(&record)?;
            }
            (LossKind::Bce, _) => writer.write_record([sigmoid(row[0]).to_string(), class])?,
            (LossKind::Mse, true) => writer.write_record([row[0].to_string(), class])?,
            (LossKind::Mse, false) => writer.write_record([row[0].to_string()])?,
        }
    }
    Ok(writer.into_inner()?)
}

/// `train eval`.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let (loaded, data) = load_with_rows(&args.source, true)?;
    let config = &loaded.checkpoint.config;
    check_labels(config, &data, &args.source.input.display().to_string())?;
    let targets = data.y.clone();
    let outputs = loaded.predict(data);
    if config.is_classification() {
        let width = config.model.output;
        let accuracy = accuracy_of(&outputs, width, &targets, config.training.loss.decision());
        let (name, loss) = match config.training.loss {
            LossKind::Bce => ("bce", bce_of_logits(&outputs, &targets)),
            LossKind::CrossEntropy => {
                ("cross_entropy", cross_entropy_of(&outputs, width, &targets))
            }
            LossKind::Mse => ("mse", score(&outputs, &targets).mse),
        };
        if args.json {
            println!(
                "{}",
                serde_json::json!({"rows": targets.len(), name: loss, "accuracy": accuracy})
            );
        } else {
            println!("rows      {}", targets.len());
            println!("{:<9} {loss:.6}", name.to_uppercase());
            println!("accuracy  {:.2}%", accuracy * 100.0);
        }
        return Ok(());
    }
    let scores = score(&outputs, &targets);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"rows": scores.rows, "mse": scores.mse, "r2": scores.r2})
        );
    } else {
        println!("rows  {}", scores.rows);
        println!("MSE   {:.6}", scores.mse);
        match scores.r2 {
            Some(r2) => println!("R^2   {r2:.6}"),
            None => println!("R^2   undefined (the targets are constant)"),
        }
    }
    Ok(())
}
