//! Seeds batched into one model: every weight gets a leading seed
//! dimension, each layer is one batched matrix product over the seeds, and
//! the objective is the sum of the seeds' own mean losses, so each seed's
//! gradient is its own and the optimiser (elementwise: Adam, SGD, RMSprop)
//! updates each seed's slice as its own would. Ten seeds of the seed run
//! train ~7x faster this way than one after another (BENCHMARKS.md,
//! "Studies"); `compare --seeds N --batched` uses it for the runs it can
//! hold (no learnable activations, schedules, clipping, penalties, early
//! stopping or diagnostics), and its numbers match separate runs to float32
//! rounding (tests/experiments.rs).

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use model::{LayerActivations, LayerWeights};

use crate::backend::Backend;
use crate::config::{LossKind, RunConfig};
use crate::data::{Dataset, Split, load_for};
use crate::experiments::compare::{
    ActivationRun, CompareRow, Comparison, finished_row, linear_baseline,
};
use crate::experiments::seeds::{Scoring, SeedsComparison, seed_list, summarise};
use crate::stats::bce_with_logits_each;
use crate::training::init::initial_weights_for;
use crate::training::optimizer;
use crate::training::trainer::{EpochRecord, TestScores};

/// One network per seed, stacked: layer `l`'s weights `[seeds, in, out]`,
/// its biases `[seeds, 1, out]`.
#[derive(Module, Debug)]
pub struct SeedEnsemble {
    weights: Vec<Param<Tensor<3>>>,
    biases: Vec<Param<Tensor<3>>>,
    #[module(skip)]
    activation: LayerActivations,
}

impl SeedEnsemble {
    /// `[seeds, rows, in]` to `[seeds, rows, out]`.
    fn forward(&self, mut x: Tensor<3>) -> Tensor<3> {
        let last = self.weights.len() - 1;
        for (index, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            x = x.matmul(w.val()) + b.val();
            if index < last {
                x = self.activation.layer(index).forward(x);
            }
        }
        x
    }

    /// Seed `s`'s weights in PyTorch's layout.
    fn seed_weights(&self, s: usize) -> Vec<LayerWeights> {
        self.weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| {
                let w = w.val();
                let [_, d_in, d_out] = w.dims();
                let slab: Vec<f32> =
                    model::host_values::<f32, 3>(w.slice([s..s + 1, 0..d_in, 0..d_out]));
                // [in, out] back to [out, in].
                let mut weight = vec![0.0; d_in * d_out];
                for i in 0..d_in {
                    for o in 0..d_out {
                        weight[o * d_in + i] = slab[i * d_out + o];
                    }
                }
                let bias = model::host_values::<f32, 3>(b.val().slice([s..s + 1, 0..1, 0..d_out]));
                LayerWeights {
                    d_input: d_in,
                    d_output: d_out,
                    weight,
                    bias,
                    learned: Vec::new(),
                }
            })
            .collect()
    }
}

/// Why `config` cannot be trained batched; `None` when it can.
pub fn not_batchable(config: &RunConfig) -> Option<&'static str> {
    let training = &config.training;
    if config.model.activation.learnable().is_some() {
        Some("a learnable activation")
    } else if training.schedule.kind != crate::config::ScheduleKind::Constant {
        Some("a learning-rate schedule")
    } else if training.clip_grad_norm.is_some() {
        Some("gradient clipping (its norm is over one network)")
    } else if training.l1.is_some_and(|v| v > 0.0) || training.l2.is_some_and(|v| v > 0.0) {
        Some("an L1 or L2 penalty")
    } else if training.early_stop.is_some() {
        Some("early stopping")
    } else if training.regions_every.is_some() {
        Some("training.regions_every")
    } else if config.training.precision != crate::config::Precision::default() {
        Some("float64")
    } else if config.training.loss == LossKind::CrossEntropy {
        Some("training.loss = \"cross_entropy\" (one output per seed only)")
    } else {
        None
    }
}

/// One seed's run inside the ensemble.
pub struct SeedRun {
    /// The weights it started from.
    pub initial: Vec<LayerWeights>,
    /// One record per finite epoch.
    pub records: Vec<EpochRecord>,
    /// Its final weights; `None` if its loss stopped being finite.
    pub weights: Option<Vec<LayerWeights>>,
    /// The epoch its loss stopped being finite.
    pub diverged_epoch: Option<usize>,
    /// Its test rows' scores, when it finished and has them.
    pub test: Option<TestScores>,
}

/// What a batched study ends with.
pub struct EnsembleOutcome {
    /// One per seed, in order.
    pub runs: Vec<SeedRun>,
    /// Seconds of training (after the data are on the device).
    pub seconds: f64,
}

/// Stacks `parts` (same rows and features) as `[seeds, rows, features]`
/// inputs and `[seeds, rows, 1]` targets.
fn stacked(parts: &[&Dataset], device: &burn::tensor::Device) -> (Tensor<3>, Tensor<3>) {
    let (count, rows, features) = (parts.len(), parts[0].rows(), parts[0].features);
    let x: Vec<f32> = parts.iter().flat_map(|d| d.x.iter().copied()).collect();
    let y: Vec<f32> = parts.iter().flat_map(|d| d.y.iter().copied()).collect();
    (
        Tensor::<3>::from_data(TensorData::new(x, [count, rows, features]), device),
        Tensor::<3>::from_data(TensorData::new(y, [count, rows, 1]), device),
    )
}

/// Each seed's mean loss `[seeds]` of `output` against `target` (`[seeds, rows, 1]`).
fn per_seed_loss(kind: LossKind, output: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let [seeds, rows, _] = output.dims();
    let (output, target) = (output.reshape([seeds, rows]), target.reshape([seeds, rows]));
    let each = match kind {
        LossKind::Mse => (output - target).square(),
        LossKind::Bce => bce_with_logits_each(output, target),
        LossKind::CrossEntropy => unreachable!("not_batchable refuses cross_entropy"),
    };
    each.mean_dim(1).reshape([seeds])
}

/// Each seed's share of rows on the right side of `threshold`.
fn per_seed_accuracy(output: Tensor<3>, target: Tensor<3>, threshold: f64) -> Tensor<1> {
    let [seeds, rows, _] = output.dims();
    let predicted = output
        .reshape([seeds, rows])
        .greater_elem(threshold)
        .float();
    let expected = target.reshape([seeds, rows]).greater_elem(0.5).float();
    predicted
        .equal(expected)
        .float()
        .mean_dim(1)
        .reshape([seeds])
}

/// Each seed's loss on `(x, y)` and, with a `threshold` (0/1 labels), its
/// accuracy: `[seeds]` tensors, still on the device.
fn scores(
    model: &SeedEnsemble,
    (x, y): (Tensor<3>, Tensor<3>),
    kind: LossKind,
    threshold: Option<f64>,
) -> Vec<Tensor<1>> {
    let output = model.forward(x);
    let mut parts = vec![per_seed_loss(kind, output.clone(), y.clone())];
    if let Some(threshold) = threshold {
        parts.push(per_seed_accuracy(output, y, threshold));
    }
    parts
}

/// Trains `config` once per split in `splits` (one per seed, the same
/// sizes), starting from `initial` (one set of weights per seed), as one
/// batched model. The caller checks [`not_batchable`] first.
pub fn train_ensemble(
    config: &RunConfig,
    splits: &[Split],
    initial: Vec<Vec<LayerWeights>>,
    backend: &Backend,
) -> anyhow::Result<EnsembleOutcome> {
    let device = backend.autodiff_device();
    let count = splits.len();
    let trains: Vec<&Dataset> = splits.iter().map(|s| &s.train).collect();
    let (x, y) = stacked(&trains, &device);
    let held_out = |part: fn(&Split) -> Option<&Dataset>| -> Option<(Tensor<3>, Tensor<3>)> {
        let parts: Option<Vec<&Dataset>> = splits.iter().map(part).collect();
        parts.map(|parts| stacked(&parts, &backend.device))
    };
    let validation = held_out(|s| s.validation.as_ref());
    let test = held_out(|s| s.test.as_ref());
    let rows = splits[0].train.rows();
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
    let kind = config.training.loss;
    let threshold = config
        .is_classification()
        .then(|| match config.training.loss.decision() {
            crate::stats::Decision::Threshold(threshold) => threshold,
            crate::stats::Decision::Argmax => unreachable!("not_batchable refuses cross_entropy"),
        });
    let full_x = x.clone().inner();
    let full_y = y.clone().inner();
    let mut records: Vec<Vec<EpochRecord>> = (0..count).map(|_| Vec::new()).collect();
    let mut diverged: Vec<Option<usize>> = vec![None; count];
    let started = std::time::Instant::now();
    for epoch in 1..=config.training.epochs {
        let mut last = None;
        for (xb, yb) in &batches {
            // Each seed's mean over its batch, then summed: seed s's
            // gradient is that of its own mean.
            let per_seed = per_seed_loss(kind, model.forward(xb.clone()), yb.clone());
            let objective = per_seed.clone().sum();
            let grads = GradientsParams::from_grads(objective.backward(), &model);
            model = optim.step(config.training.lr, model, grads);
            last = Some(per_seed.inner());
        }
        // One read per epoch: the last batch's losses, then every seed's
        // full-pass training (and validation) loss and accuracy.
        let valid = model.valid();
        let mut parts = vec![last.expect("an epoch takes at least one step")];
        parts.extend(scores(
            &valid,
            (full_x.clone(), full_y.clone()),
            kind,
            threshold,
        ));
        if let Some((vx, vy)) = &validation {
            parts.extend(scores(&valid, (vx.clone(), vy.clone()), kind, threshold));
        }
        let values = model::host_values::<f64, 1>(Tensor::cat(parts, 0));
        let at = |slot: usize, s: usize| values[slot * count + s];
        let per_part = if threshold.is_some() { 2 } else { 1 };
        let elapsed_s = started.elapsed().as_secs_f64();
        for s in 0..count {
            if diverged[s].is_some() {
                continue;
            }
            if !at(0, s).is_finite() {
                diverged[s] = Some(epoch);
                continue;
            }
            let val = validation.is_some().then(|| 1 + per_part);
            records[s].push(EpochRecord {
                epoch,
                loss: at(0, s),
                train_loss: Some(at(1, s)),
                val_loss: val.map(|slot| at(slot, s)),
                train_accuracy: threshold.map(|_| at(2, s)),
                val_accuracy: val.and(threshold).map(|_| at(2 + per_part, s)),
                lr: Some(config.training.lr),
                regions: None,
                pieces_per_line: None,
                penalty: None,
                elapsed_s,
                layers: Vec::new(),
                learned: Vec::new(),
            });
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let valid = model.valid();
    let test_values = test.map(|part| {
        model::host_values::<f64, 1>(Tensor::cat(scores(&valid, part, kind, threshold), 0))
    });
    let runs = initial
        .into_iter()
        .zip(records)
        .zip(diverged)
        .enumerate()
        .map(|(s, ((initial, records), diverged_epoch))| {
            let finished = diverged_epoch.is_none();
            let weights = finished.then(|| model.seed_weights(s));
            // Weights that stopped being finite diverged too.
            let finite = weights.as_ref().is_none_or(|w| {
                w.iter()
                    .all(|l| l.weight.iter().chain(&l.bias).all(|v| v.is_finite()))
            });
            let diverged_epoch = match (diverged_epoch, finite) {
                (Some(epoch), _) => Some(epoch),
                (None, false) => Some(records.len().max(1)),
                (None, true) => None,
            };
            SeedRun {
                initial,
                test: test_values
                    .as_ref()
                    .filter(|_| diverged_epoch.is_none())
                    .map(|v| TestScores {
                        loss: v[s],
                        accuracy: threshold.map(|_| v[count + s]),
                    }),
                weights: weights.filter(|_| diverged_epoch.is_none()),
                records,
                diverged_epoch,
            }
        })
        .collect();
    Ok(EnsembleOutcome { runs, seconds })
}

/// `compare --seeds N --batched`: for each activation, its N seeds as one
/// batched model (each seed with its own data and the initial weights every
/// activation of that seed shares), summarised as [`compare_seeds`]
/// summarises separate runs.
///
/// [`compare_seeds`]: crate::experiments::seeds::compare_seeds
pub fn compare_seeds_batched(
    config: &RunConfig,
    backend: &Backend,
    activations: &[LayerActivations],
    seeds: usize,
    scoring: Scoring,
    on_done: &(dyn Fn(u64, &ActivationRun) + Sync),
) -> anyhow::Result<SeedsComparison> {
    let seed_list = seed_list(config, seeds)?;
    let seeded: Vec<RunConfig> = seed_list
        .iter()
        .map(|&seed| {
            let mut c = config.clone();
            c.seed = seed;
            c
        })
        .collect();
    let splits = seeded
        .iter()
        .map(load_for)
        .collect::<Result<Vec<Split>, _>>()?;
    // Every activation checked before any trains.
    for &activation in activations {
        let mut with = config.clone();
        with.model.activation = activation;
        if let Some(why) = not_batchable(&with) {
            return Err(crate::user_error!(
                "--batched trains plain runs together; {activation} here has {why}"
            ));
        }
    }
    let mut per_seed: Vec<Vec<ActivationRun>> = (0..seeds).map(|_| Vec::new()).collect();
    for &activation in activations {
        let mut with = config.clone();
        with.model.activation = activation;
        let initial: Vec<Vec<LayerWeights>> = seeded
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.model.activation = activation;
                initial_weights_for(&c)
            })
            .collect();
        let outcome = train_ensemble(&with, &splits, initial, backend)?;
        // The ensemble's seconds, shared out: the seeds trained together.
        let seconds = outcome.seconds / seeds as f64;
        for (k, run) in outcome.runs.into_iter().enumerate() {
            let row = match (&run.weights, run.diverged_epoch) {
                (Some(weights), None) => finished_row(
                    &with,
                    backend,
                    &splits[k],
                    activation,
                    (&run.records, weights),
                    seconds,
                    run.test,
                )?,
                (_, epoch) => {
                    CompareRow::diverged(&activation.to_string(), epoch.unwrap_or(1), seconds)
                }
            };
            let finished = ActivationRun {
                activation,
                initial_weights: run.initial,
                records: run.records,
                final_weights: run.weights,
                row,
            };
            on_done(seed_list[k], &finished);
            per_seed[k].push(finished);
        }
    }
    let comparisons: Vec<Comparison> = per_seed
        .into_iter()
        .zip(&splits)
        .map(|(runs, split)| {
            let (linear, note) = linear_baseline(config, split);
            Comparison { runs, linear, note }
        })
        .collect();
    let (rows, tests) = summarise(&comparisons, activations, scoring.metric, scoring.family);
    Ok(SeedsComparison {
        metric: scoring.metric,
        seeds: seed_list,
        comparisons,
        rows,
        tests,
    })
}

/// The seed run's study: `seeds` of `config` batched, their data and
/// initial weights as separate runs would draw them.
pub fn train_seeds(
    config: &RunConfig,
    seeds: &[u64],
    backend: &Backend,
) -> anyhow::Result<EnsembleOutcome> {
    let mut splits = Vec::with_capacity(seeds.len());
    let mut initial = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        let mut seeded = config.clone();
        seeded.seed = seed;
        splits.push(load_for(&seeded)?);
        initial.push(initial_weights_for(&seeded));
    }
    train_ensemble(config, &splits, initial, backend)
}
