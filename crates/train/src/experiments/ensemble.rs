//! Seeds batched into one model: every weight gets a leading seed
//! dimension, each layer is one batched matrix product over the seeds, and
//! the objective is the sum of the seeds' own mean losses, so each seed's
//! gradient is its own and Adam (elementwise) updates each seed's slice as
//! its own optimiser would. Measured against separate runs by `train bench
//! --study`; kept only as that measurement (see BENCHMARKS.md).

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use model::Activation;

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data::load_for;
use crate::training::init::initial_weights_for;
use crate::training::optimizer;

/// One network per seed, stacked: layer `l`'s weights `[seeds, in, out]`,
/// its biases `[seeds, 1, out]`.
#[derive(Module, Debug)]
pub struct SeedEnsemble {
    weights: Vec<Param<Tensor<3>>>,
    biases: Vec<Param<Tensor<3>>>,
    #[module(skip)]
    activation: Activation,
}

impl SeedEnsemble {
    /// `[seeds, rows, in]` to `[seeds, rows, out]`.
    fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
        let last = self.weights.len() - 1;
        for (index, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            x = x.matmul(w.val()) + b.val();
            if index < last {
                x = self.activation.forward(x);
            }
        }
        x
    }
}

/// What a batched study ends with.
pub struct EnsembleOutcome {
    /// Each seed's final weights, `[out, in]` row-major per layer (as
    /// [`model::LayerWeights::weight`]), input layer first.
    pub weights: Vec<Vec<Vec<f32>>>,
    /// Each seed's loss on the last batch of the last epoch.
    pub last_batch_loss: Vec<f64>,
    /// Seconds of training (after the data are on the device).
    pub seconds: f64,
}

/// Trains `config` (a regression with the seed's in-order batches; no
/// validation, penalties, clipping or schedule) for each seed in `seeds`
/// as one batched model.
pub fn train_ensemble(
    config: &RunConfig,
    seeds: &[u64],
    backend: &Backend,
) -> anyhow::Result<EnsembleOutcome> {
    let device = backend.autodiff_device();
    let count = seeds.len();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let mut initial = Vec::new();
    for &seed in seeds {
        let mut seeded = config.clone();
        seeded.seed = seed;
        let split = load_for(&seeded)?;
        xs.extend_from_slice(&split.train.x);
        ys.extend_from_slice(&split.train.y);
        initial.push(initial_weights_for(&seeded));
    }
    let rows = ys.len() / count;
    let features = config.model.input;
    let x = Tensor::<3>::from_data(TensorData::new(xs, [count, rows, features]), &device);
    let y = Tensor::<3>::from_data(TensorData::new(ys, [count, rows, 1]), &device);
    let layers = initial[0].len();
    let mut weights = Vec::with_capacity(layers);
    let mut biases = Vec::with_capacity(layers);
    for layer in 0..layers {
        let (d_in, d_out) = (initial[0][layer].d_input, initial[0][layer].d_output);
        let mut w = Vec::with_capacity(count * d_in * d_out);
        let mut b = Vec::with_capacity(count * d_out);
        for seed in &initial {
            let weight = &seed[layer].weight;
            // [out, in] row-major to [in, out].
            for i in 0..d_in {
                for o in 0..d_out {
                    w.push(weight[o * d_in + i]);
                }
            }
            b.extend_from_slice(&seed[layer].bias);
        }
        weights.push(Param::from_tensor(Tensor::<3>::from_data(
            TensorData::new(w, [count, d_in, d_out]),
            &device,
        )));
        biases.push(Param::from_tensor(Tensor::<3>::from_data(
            TensorData::new(b, [count, 1, d_out]),
            &device,
        )));
    }
    let mut model = SeedEnsemble {
        weights,
        biases,
        activation: config.model.activation,
    };
    let mut optim = optimizer::build(&config.optimizer);
    let batch = config.training.batch_size;
    let batches: Vec<(Tensor<3>, Tensor<3>)> = (0..rows)
        .step_by(batch)
        .map(|start| {
            let end = (start + batch).min(rows);
            (
                x.clone().slice([0..count, start..end]),
                y.clone().slice([0..count, start..end]),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let mut last = None;
    for _ in 0..config.training.epochs {
        for (xb, yb) in &batches {
            // Each seed's mean over its batch, then summed: seed s's
            // gradient is that of its own mean.
            let per_seed = (model.forward(xb.clone()) - yb.clone())
                .square()
                .mean_dim(2)
                .mean_dim(1)
                .reshape([count]);
            let objective = per_seed.clone().sum();
            let grads = GradientsParams::from_grads(objective.backward(), &model);
            model = optim.step(config.training.lr, model, grads);
            last = Some(per_seed);
        }
    }
    let last_batch_loss = last.map_or_else(Vec::new, model::host_values::<f64, 1>);
    let seconds = started.elapsed().as_secs_f64();
    let weights = (0..count)
        .map(|s| {
            model
                .weights
                .iter()
                .map(|w| {
                    let w = w.val();
                    let [_, d_in, d_out] = w.dims();
                    let slab: Vec<f32> = model::host_values::<f32, 3>(
                        w.slice([s..s + 1, 0..d_in, 0..d_out])
                            .reshape([1, d_in, d_out]),
                    );
                    // [in, out] back to [out, in].
                    let mut out = vec![0.0; d_in * d_out];
                    for i in 0..d_in {
                        for o in 0..d_out {
                            out[o * d_in + i] = slab[i * d_out + o];
                        }
                    }
                    out
                })
                .collect()
        })
        .collect();
    Ok(EnsembleOutcome {
        weights,
        last_batch_loss,
        seconds,
    })
}
