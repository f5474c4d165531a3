//! Using the lab as a library: load a finished run's `model.safetensors`
//! into the `model` crate's `Mlp` and predict, as `train predict` does.
//!
//! ```sh
//! cargo run -p train -- --config config/circle.toml --out runs/circle
//! cargo run -p train --example predict_from_run -- runs/circle 0.1,0.2 1.5,-0.3
//! ```
//!
//! Each argument after the run directory is one point, its columns as the
//! predict CSV has them (`x1,x2` for a 2-D set: engineered inputs are
//! computed here; the features for other data). It prints the network's
//! output per point (for `bce`, the probability of class 1 and the class).

use std::path::PathBuf;

use burn::tensor::{Tensor, TensorData};
use model::Mlp;
use train::backend::{Backend, BackendKind};
use train::config::LossKind;
use train::data::Dataset;
use train::data::playground::engineer;
use train::io::checkpoint::Checkpoint;
use train::io::weights::read_trained_weights;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: predict_from_run RUN_DIR POINT..."))?,
    );
    // The run's config and what training stood on (the standardisation).
    let checkpoint = Checkpoint::open(&dir)?;
    let config = &checkpoint.config;
    let backend = Backend::open(BackendKind::Flex)?;
    let weights = read_trained_weights(
        &dir.join("model.safetensors"),
        &config.layer_sizes(),
        config.model.activation,
        &backend.device,
    )?;
    let network = Mlp::from_weights(&weights, config.model.activation, &backend.device)?;

    let points: Vec<Vec<f32>> = args
        .map(|arg| {
            arg.split(',')
                .map(|v| v.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("point `{arg}`: {e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let columns = points.first().map_or(0, Vec::len);
    let raw = Dataset {
        features: columns,
        x: points.concat(),
        y: vec![0.0; points.len()],
    };
    // As in training: engineered inputs for a 2-D set, then the scaling.
    let mut rows = if config.data.kind.is_plane() {
        engineer(&raw, &config.data.inputs())
    } else {
        raw
    };
    if let Some(standardizer) = &checkpoint.state.standardizer {
        standardizer.apply(&mut rows);
    }
    let x = Tensor::<2>::from_data(
        TensorData::new(rows.x.clone(), [points.len(), rows.features]),
        &backend.device,
    );
    let outputs: Vec<f32> = model::host_values(network.forward(x));
    let width = config.model.output;
    for (point, output) in points.iter().zip(outputs.chunks(width)) {
        let shown: Vec<String> = point.iter().map(f32::to_string).collect();
        match config.training.loss {
            LossKind::Bce => {
                let probability = 1.0 / (1.0 + (-output[0]).exp());
                println!(
                    "{} -> probability {probability}, class {}",
                    shown.join(","),
                    u8::from(probability > 0.5)
                );
            }
            LossKind::CrossEntropy => {
                let probabilities = train::stats::softmax(output);
                let class = train::stats::Decision::Argmax.class(output);
                let shown_p: Vec<String> =
                    probabilities.iter().map(|p| format!("{p:.4}")).collect();
                println!(
                    "{} -> probabilities [{}], class {class}",
                    shown.join(","),
                    shown_p.join(", ")
                );
            }
            LossKind::Mse => println!("{} -> {}", shown.join(","), output[0]),
        }
    }
    Ok(())
}
