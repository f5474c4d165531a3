//! The training loop: the seed's MSE (or binary cross-entropy) + Adam over
//! in-order mini-batches.
//!
//! Batches are cut once and kept on the device; the loss is read back once
//! per epoch (the seed prints the epoch's last batch loss), so a step never
//! waits on the host.

use super::penalty::Penalty;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bytes, DType, Device, Tensor, TensorData};
use model::{LayerWeights, Mlp};

use crate::backend::Backend;
use crate::config::{LossKind, RunConfig};
use crate::data::{Dataset, Split};
use crate::regions::{Counted, RegionTracker};
use crate::stats;
use crate::training::clipping::{clip_global_norm, squared_global_norm};
use crate::training::diagnostics::{GradNormAccumulator, LayerDiagnostics, combine, unit_health};
use crate::training::divergence::{Diverged, Suspects};
use crate::training::early_stop::EarlyStopState;
use crate::training::schedule::Schedule;
use crate::training::state_check::non_finite_state_values;

/// One epoch's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Loss of the epoch's last mini-batch, as the seed prints it.
    pub loss: f64,
    /// Loss over all training rows after the epoch (one forward pass; every
    /// run records it, so "the training loss" means one thing everywhere).
    pub train_loss: Option<f64>,
    /// Loss over the validation rows after the epoch, if there are any.
    pub val_loss: Option<f64>,
    /// Share of training rows classified right, for 0/1 labels.
    pub train_accuracy: Option<f64>,
    /// Share of validation rows classified right, for 0/1 labels.
    pub val_accuracy: Option<f64>,
    /// The learning rate of the epoch's last step (it changes under a schedule).
    pub lr: Option<f64>,
    /// The network's exact linear regions in the data's box after this
    /// epoch, every `training.regions_every` epochs (2-input networks).
    pub regions: Option<f64>,
    /// Or, for the others, its mean linear pieces along fixed lines.
    pub pieces_per_line: Option<f64>,
    /// The weights' L1/L2 penalty after the epoch, when the run has one
    /// (the losses above are the data's alone).
    pub penalty: Option<f64>,
    /// Seconds since the training loop started.
    pub elapsed_s: f64,
    /// Per-layer diagnostics, input side first (empty when switched off).
    pub layers: Vec<LayerDiagnostics>,
    /// A learnable activation's parameter after each hidden layer, input
    /// side first (empty for a fixed activation).
    pub learned: Vec<LearnedParameter>,
}

/// Checks before any training that `runs` runs of `config` can keep every
/// epoch's record in memory (a run keeps them for `metrics.csv`, a study
/// for its tables and figures): `--epochs 1e18`, or `compare --seeds 60000`
/// with many epochs, would otherwise grow until the kernel kills it, hours in.
pub fn check_records_fit(config: &RunConfig, runs: usize) -> Result<(), crate::error::UserError> {
    let layers = config.model.hidden.len() + 1;
    let per_record = std::mem::size_of::<EpochRecord>()
        + layers * std::mem::size_of::<LayerDiagnostics>()
        + layers * std::mem::size_of::<LearnedParameter>();
    crate::memory::check_records(
        runs as u64,
        config.training.epochs as u64,
        per_record as u64,
    )
}

/// A learnable activation's parameter in one layer after an epoch: its
/// value, or over a layer's per-unit values their mean, min and max.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnedParameter {
    /// The mean over the layer's values (the value itself when it has one).
    pub mean: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl LearnedParameter {
    /// The summary of one layer's `values` (at least one).
    pub fn of(values: &[f64]) -> Self {
        let values = values.iter().copied();
        Self {
            mean: values.clone().sum::<f64>() / values.len().max(1) as f64,
            min: values.clone().fold(f64::INFINITY, f64::min),
            max: values.fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// A network being trained, with its optimiser and device-resident batches.
pub struct Trainer {
    model: Mlp,
    optimizer: ModuleOptimizer,
    batches: Vec<(Tensor<2>, Tensor<2>)>,
    validation: Option<(Tensor<2>, Tensor<2>)>,
    /// The test rows: never looked at while training, scored once by
    /// [`Trainer::test_scores`].
    test: Option<(Tensor<2>, Tensor<2>)>,
    full_train: Option<(Tensor<2>, Tensor<2>)>,
    /// Counts the linear regions every `training.regions_every` epochs.
    regions: Option<RegionTracker>,
    /// L1/L2 penalties on the weights, added to the objective.
    penalty: Option<Penalty>,
    grad_norms: Option<GradNormAccumulator>,
    loss: LossKind,
    /// How an output becomes a class, when the targets are labels.
    decision: Option<stats::Decision>,
    schedule: Schedule,
    /// The largest global gradient norm, when clipping.
    clip_grad_norm: Option<f64>,
    /// Early stopping's state, when on.
    early_stop: Option<EarlyStopState>,
    /// The network of the best validation epoch, when early stopping is on.
    best_model: Option<Mlp>,
    dtype: DType,
    position: Position,
    /// When the running [`Trainer::fit`] call started; `None` between calls.
    started: Option<Instant>,
    /// Training seconds before the running call: a resumed run's past and
    /// earlier calls (the live lab trains in many calls).
    earlier_seconds: f64,
    /// The full-pass training loss before the first step: what a summary
    /// compares the final one with (a resumed run gets its run's from the
    /// checkpoint; `None` for a checkpoint written before it was kept).
    start_loss: Option<f64>,
    /// `training.divergence_threshold`: a full-pass training loss above it
    /// ends the run as diverged.
    divergence_threshold: Option<f64>,
    /// What a divergence message blames.
    suspects: Suspects,
}

/// How far training has gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Epochs finished.
    pub epoch: usize,
    /// Batches of the current epoch already taken.
    pub batch: usize,
    /// Optimiser steps taken.
    pub steps: usize,
}

/// How a call of [`Trainer::fit`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitEnd {
    /// Every epoch asked for is done.
    Finished,
    /// The stop flag was set; training stopped after a step, maybe mid-epoch.
    Stopped,
    /// The validation loss stopped improving (`training.early_stop`).
    EarlyStopped,
}

/// What a training run leaves behind.
pub struct TrainOutcome {
    /// The trained network (on the training device).
    pub model: Mlp,
    /// One record per epoch, up to the last finite one.
    pub records: Vec<EpochRecord>,
    /// Seconds spent in the training loop.
    pub seconds: f64,
    /// Optimiser steps taken.
    pub steps: usize,
    /// Why the run stopped early, if its loss or weights stopped being finite.
    pub diverged: Option<Diverged>,
    /// The test rows' scores (`data.test_fraction`), for a run that finished.
    pub test: Option<TestScores>,
    /// What a summary says when the final training loss ended above its
    /// start ([`Trainer::rise_note`]).
    pub rise: Option<String>,
}

/// The loss and, for 0/1 labels, the accuracy on the test rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestScores {
    /// The training loss's function on the test rows.
    pub loss: f64,
    /// Share of test rows classified right (0/1 labels).
    pub accuracy: Option<f64>,
}

impl TrainOutcome {
    /// The outcome of a run that trained to the end, or its divergence.
    pub fn finished(self) -> Result<Self, Diverged> {
        match self.diverged {
            Some(diverged) => Err(diverged),
            None => Ok(self),
        }
    }
}

/// Puts a data set on `device` as `([rows, features], [rows, 1])` tensors.
pub fn to_tensors(data: &Dataset, device: &Device) -> (Tensor<2>, Tensor<2>) {
    to_tensors_as(data, device, DType::F32)
}

/// As [`to_tensors`], cast to float type `dtype`.
pub fn to_tensors_as(data: &Dataset, device: &Device, dtype: DType) -> (Tensor<2>, Tensor<2>) {
    let rows = data.rows();
    let x = Tensor::<2>::from_data(
        TensorData::new(data.x.clone(), [rows, data.features]),
        device,
    );
    let y = Tensor::<2>::from_data(TensorData::new(data.y.clone(), [rows, 1]), device);
    (x.cast(dtype), y.cast(dtype))
}

impl Trainer {
    /// Builds the network from `weights` on `backend` and cuts the batches.
    pub fn new(
        config: &RunConfig,
        backend: &Backend,
        data: &Split,
        weights: &[LayerWeights],
    ) -> anyhow::Result<Self> {
        crate::memory::check_buffers(config, data.train.rows(), backend)?;
        let device = backend.autodiff_device();
        let dtype = config.training.precision.dtype();
        let model = Mlp::from_weights_as(weights, config.model.activation, &device, dtype)
            .context("cannot build the network")?;
        let (x, y) = to_tensors_as(&data.train, &device, dtype);
        let rows = data.train.rows();
        let batch = config.training.batch_size;
        // In order, no shuffle; the last batch keeps what is left, as X[i:i+batch].
        let batches = (0..rows)
            .step_by(batch)
            .map(|start| {
                let end = (start + batch).min(rows);
                (x.clone().slice(start..end), y.clone().slice(start..end))
            })
            .collect();
        let validation = data
            .validation
            .as_ref()
            .map(|validation| to_tensors_as(validation, &backend.device, dtype));
        let test = data
            .test
            .as_ref()
            .map(|test| to_tensors_as(test, &backend.device, dtype));
        let batches_per_epoch = rows.div_ceil(batch);
        let trainer = Self {
            model,
            optimizer: crate::training::optimizer::build(&config.optimizer),
            batches,
            validation,
            test,
            full_train: None,
            regions: RegionTracker::new(config, data)?,
            penalty: Penalty::from_config(&config.training),
            grad_norms: None,
            loss: config.training.loss,
            decision: config
                .is_classification()
                .then(|| config.training.loss.decision()),
            schedule: Schedule::new(config, batches_per_epoch, 0)?,
            clip_grad_norm: config.training.clip_grad_norm,
            early_stop: config
                .training
                .early_stop
                .map(|early_stop| EarlyStopState::new(early_stop.patience)),
            best_model: None,
            dtype,
            position: Position::default(),
            started: None,
            earlier_seconds: 0.0,
            start_loss: None,
            divergence_threshold: config.training.divergence_threshold,
            suspects: Suspects::of(config, data),
        };
        // Every run scores all its training rows after each epoch.
        let trainer = trainer.with_full_train(data, backend);
        Ok(if config.training.diagnostics {
            trainer.with_diagnostics(data, backend)
        } else {
            trainer
        })
    }

    /// Scores all training rows after each epoch.
    fn with_full_train(mut self, data: &Split, backend: &Backend) -> Self {
        if self.full_train.is_none() {
            self.full_train = Some(to_tensors_as(&data.train, &backend.device, self.dtype));
        }
        self
    }

    /// Records per-layer gradient norms and dead/saturated units each epoch.
    fn with_diagnostics(mut self, data: &Split, backend: &Backend) -> Self {
        self = self.with_full_train(data, backend);
        self.grad_norms = Some(GradNormAccumulator::new(self.model.layers.len()));
        self
    }

    /// Starts the wall clock (right before an epoch loop).
    fn start_clock(&mut self) {
        self.started = Some(Instant::now());
    }

    /// Stops the wall clock, banking the loop's seconds.
    fn stop_clock(&mut self) {
        self.earlier_seconds = self.seconds();
        self.started = None;
    }

    /// Continues from a checkpoint: Adam's saved state, the position and the
    /// training time already spent. The network's weights were given to
    /// [`Trainer::new`].
    pub fn restore(
        mut self,
        optimizer: Vec<u8>,
        position: Position,
        earlier_seconds: f64,
    ) -> anyhow::Result<Self> {
        let batches = self.batches.len();
        if position.batch >= batches || position.epoch * batches + position.batch != position.steps
        {
            return Err(crate::user_error!(
                "the checkpoint's position (epoch {}, batch {}, step {}) does not fit an epoch of \
                 {batches} batches",
                position.epoch,
                position.batch,
                position.steps
            ));
        }
        self.optimizer = self
            .optimizer
            .from_bytes(Bytes::from_bytes_vec(optimizer))
            .context("cannot read the optimizer state")?;
        self.position = position;
        self.schedule.skip(position.steps);
        self.earlier_seconds = earlier_seconds;
        Ok(self)
    }

    /// Continues a run whose full-pass training loss before its first step
    /// was `start` (kept in its checkpoint).
    pub fn with_start_loss(mut self, start: Option<f64>) -> Self {
        self.start_loss = start;
        self
    }

    /// The full-pass training loss before the first step, once known.
    pub fn start_loss(&self) -> Option<f64> {
        self.start_loss
    }

    /// What a summary says when the final full-pass training loss `end`
    /// ended above the start's (see [`crate::training::divergence::rise_note`]).
    pub fn rise_note(&self, end: Option<f64>) -> Option<String> {
        crate::training::divergence::rise_note(self.start_loss?, end?, self.suspects.lr)
    }

    /// The diagnostics' gradient-norm sums of the epoch in progress (steps,
    /// one sum per layer): a checkpoint taken mid-epoch carries them.
    pub fn partial_grad_norms(&self) -> Option<(usize, Vec<f64>)> {
        if self.position.batch == 0 {
            return None;
        }
        self.grad_norms.as_ref()?.partial()
    }

    /// Continues the epoch in progress with the gradient-norm sums a
    /// mid-epoch checkpoint carried.
    pub fn restore_grad_norms(mut self, steps: usize, sums: &[f64]) -> Self {
        if let (Some(accumulator), Some((x, _))) = (self.grad_norms.as_mut(), &self.full_train) {
            accumulator.restore(steps, sums, &x.device(), self.dtype);
        }
        self
    }

    /// Adam's state, serialised (Burn's burnpack format).
    pub fn optimizer_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let bytes = self
            .optimizer
            .into_bytes()
            .context("cannot serialise the optimizer state")?;
        Ok(bytes.to_vec())
    }

    /// The one epoch loop: trains until `epochs` epochs are done, handing
    /// each epoch's record to `on_epoch` (checkpoints and printing hang off
    /// it), or until `stop` is set, after the current step. A divergence ends
    /// it with a [`Diverged`] error, as does any error of `on_epoch`.
    pub fn fit(
        &mut self,
        epochs: usize,
        stop: &AtomicBool,
        mut on_epoch: impl FnMut(&Self, EpochRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<FitEnd> {
        self.start_clock();
        let end = self.fit_epochs(epochs, stop, &mut on_epoch);
        self.stop_clock();
        end
    }

    fn fit_epochs(
        &mut self,
        epochs: usize,
        stop: &AtomicBool,
        on_epoch: &mut impl FnMut(&Self, EpochRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<FitEnd> {
        while self.position.epoch < epochs {
            if self.stopped_early() {
                return Ok(FitEnd::EarlyStopped);
            }
            let Some(record) = self.run_epoch_until(stop)? else {
                return Ok(FitEnd::Stopped);
            };
            on_epoch(self, record)?;
            if self.stopped_early() {
                return Ok(FitEnd::EarlyStopped);
            }
            if stop.load(Ordering::Relaxed) && self.position.epoch < epochs {
                return Ok(FitEnd::Stopped);
            }
        }
        Ok(FitEnd::Finished)
    }

    /// One pass over the batches: forward, loss, backward, Adam step.
    pub fn run_epoch(&mut self) -> Result<EpochRecord, Diverged> {
        Ok(self
            .run_epoch_until(&AtomicBool::new(false))?
            .expect("never interrupted"))
    }

    /// As [`Trainer::run_epoch`], but returns `Ok(None)` after the current
    /// step once `stop` is set; the next call finishes the epoch. A
    /// non-finite loss is an error: the weights after it are garbage.
    fn run_epoch_until(&mut self, stop: &AtomicBool) -> Result<Option<EpochRecord>, Diverged> {
        if self.position.steps == 0 && self.start_loss.is_none() {
            self.start_loss = self.full_train.as_ref().map(|data| self.score(data).0);
        }
        let mut last_loss = None;
        while self.position.batch < self.batches.len() {
            let (x, y) = &self.batches[self.position.batch];
            let loss = stats::loss(self.loss, self.model.forward(x.clone()), y.clone());
            // The objective: the data's loss and the weights' penalty.
            let objective = match &self.penalty {
                Some(penalty) => loss.clone() + penalty.of(&self.model, &loss),
                None => loss.clone(),
            };
            let mut grads = GradientsParams::from_grads(objective.backward(), &self.model);
            // Diagnostics see the gradients as computed, before any clipping.
            if let Some(accumulator) = self.grad_norms.as_mut() {
                accumulator.add(&self.model, &grads);
            }
            if let Some(max_norm) = self.clip_grad_norm
                && let Some(squared) = squared_global_norm(&grads, &self.model)
            {
                clip_global_norm(&mut grads, &self.model, max_norm, squared);
            }
            let model = self.model.take();
            let lr = self.schedule.next_rate();
            self.model = self.optimizer.step(lr, model, grads);
            last_loss = Some(loss);
            self.position.steps += 1;
            self.position.batch += 1;
            if self.position.batch < self.batches.len() && stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
        }
        self.position.batch = 0;
        self.position.epoch += 1;
        let loss = last_loss
            .expect("an epoch takes at least one step")
            .into_scalar::<f64>();
        if !loss.is_finite() {
            return Err(Diverged::loss(self.position.epoch, loss, &self.suspects));
        }
        self.check_optimizer_state(self.position.epoch)?;
        let validation = self.validation.as_ref().map(|data| self.score(data));
        if let (Some(state), Some((val_loss, _))) = (self.early_stop.as_mut(), validation)
            && state.observe(self.position.epoch, val_loss)
        {
            self.best_model = Some(self.model.clone());
        }
        let train = self.full_train.as_ref().map(|data| self.score(data));
        if let (Some(threshold), Some((train_loss, _))) = (self.divergence_threshold, train)
            && train_loss > threshold
        {
            let mut diverged = Diverged::above_threshold(
                self.position.epoch,
                train_loss,
                threshold,
                &self.suspects,
            );
            if let Some(start) = self.start_loss.filter(|&start| start > threshold) {
                diverged.what.push_str(&format!(
                    ", which is below the loss before training ({start:.4}): raise the threshold"
                ));
            }
            return Err(diverged);
        }
        let layers = self.epoch_diagnostics();
        let epoch = self.position.epoch;
        let counted = self
            .regions
            .as_ref()
            .filter(|tracker| tracker.counts(epoch))
            .and_then(|tracker| tracker.observe(epoch, &self.model.to_weights()));
        Ok(Some(EpochRecord {
            epoch: self.position.epoch,
            loss,
            train_loss: train.map(|s| s.0),
            val_loss: validation.map(|s| s.0),
            train_accuracy: train.and_then(|s| s.1),
            val_accuracy: validation.and_then(|s| s.1),
            lr: Some(self.schedule.last_rate()),
            regions: counted.and_then(Counted::regions),
            pieces_per_line: counted.and_then(Counted::pieces_per_line),
            penalty: self
                .penalty
                .map(|penalty| penalty.on_host(&self.model.to_weights())),
            learned: self.learned_parameters(),
            layers,
            elapsed_s: self.seconds(),
        }))
    }

    /// The learnable activation's parameters as they stand, per hidden layer.
    fn learned_parameters(&self) -> Vec<LearnedParameter> {
        self.model
            .learned
            .iter()
            .map(|values| LearnedParameter::of(&model::host_values::<f64, 1>(values.val())))
            .collect()
    }

    /// The weights on the host, checked to be finite (a checkpoint or a
    /// result is never made of NaNs).
    pub fn finite_weights(&self) -> Result<Vec<LayerWeights>, Diverged> {
        // Mid-epoch (a pause, an interrupt): the steps since the epoch began.
        if self.position.batch > 0 {
            self.check_optimizer_state(self.position.epoch + 1)?;
        }
        let weights = self.model.to_weights();
        Diverged::check_weights(self.position.epoch.max(1), &weights, &self.suspects)?;
        Ok(weights)
    }

    /// Ends the run (epoch `epoch`) if the optimiser's state holds NaN or
    /// infinite values (see [`crate::training::state_check`]).
    fn check_optimizer_state(&self, epoch: usize) -> Result<(), Diverged> {
        match non_finite_state_values(&self.optimizer, self.dtype) {
            Ok(0) => Ok(()),
            Ok(count) => Err(Diverged::optimizer_state(epoch, count, &self.suspects)),
            // The state is always readable; if not, the checkpoint says so.
            Err(_) => Ok(()),
        }
    }

    /// The loss and (0/1 labels) accuracy on the test rows of the weights
    /// the run ends with: early stopping's best, or the last ones.
    pub fn test_scores(&self) -> Option<TestScores> {
        let model = self.best_model.as_ref().unwrap_or(&self.model);
        let (loss, accuracy) = self.score_with(model, self.test.as_ref()?);
        Some(TestScores { loss, accuracy })
    }

    /// The loss over the validation rows with the current weights.
    pub fn validation_loss(&self) -> Option<f64> {
        self.validation.as_ref().map(|data| self.score(data).0)
    }

    fn epoch_diagnostics(&mut self) -> Vec<LayerDiagnostics> {
        let (Some(accumulator), Some((x, _))) =
            (self.grad_norms.as_mut(), self.full_train.as_ref())
        else {
            return Vec::new();
        };
        let health = unit_health(&self.model.valid(), x.clone());
        combine(accumulator.take_means(), health)
    }

    /// The loss over `(x, y)` and, for 0/1 labels, the accuracy: one
    /// forward pass and one read from the device.
    fn score(&self, data: &(Tensor<2>, Tensor<2>)) -> (f64, Option<f64>) {
        self.score_with(&self.model, data)
    }

    /// [`Trainer::score`] of `model`.
    fn score_with(&self, model: &Mlp, (x, y): &(Tensor<2>, Tensor<2>)) -> (f64, Option<f64>) {
        let output = model.valid().forward(x.clone());
        let loss = stats::loss(self.loss, output.clone(), y.clone());
        let Some(decision) = self.decision else {
            return (loss.into_scalar::<f64>(), None);
        };
        let accuracy = stats::accuracy(output, y.clone(), decision);
        let values = model::host_values::<f64, 1>(Tensor::cat(vec![loss, accuracy], 0));
        (values[0], Some(values[1]))
    }

    /// Whether early stopping has ended the run.
    pub fn stopped_early(&self) -> bool {
        self.early_stop.is_some_and(|state| state.should_stop())
    }

    /// Early stopping's state, when on.
    pub fn early_stop(&self) -> Option<EarlyStopState> {
        self.early_stop
    }

    /// The network of the best validation epoch so far, when early stopping is on.
    pub fn best_model(&self) -> Option<&Mlp> {
        self.best_model.as_ref()
    }

    /// Continues early stopping from a checkpoint: its state and the best
    /// epoch's weights.
    pub fn restore_early_stop(
        mut self,
        state: EarlyStopState,
        best: Option<&[LayerWeights]>,
        config: &RunConfig,
        backend: &Backend,
    ) -> anyhow::Result<Self> {
        self.early_stop = Some(state);
        self.best_model = match best {
            Some(weights) => Some(
                Mlp::from_weights_as(
                    weights,
                    config.model.activation,
                    &backend.autodiff_device(),
                    self.dtype,
                )
                .context("cannot build the best epoch's network")?,
            ),
            None => None,
        };
        Ok(self)
    }

    /// The network as it stands.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// Optimiser steps taken so far.
    pub fn steps(&self) -> usize {
        self.position.steps
    }

    /// How far training has gone.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Seconds of training: the running loop's, plus earlier loops' and a
    /// resumed run's.
    pub fn seconds(&self) -> f64 {
        self.earlier_seconds
            + self
                .started
                .map_or(0.0, |started| started.elapsed().as_secs_f64())
    }

    /// Trains on at a new constant learning rate (see
    /// [`Schedule::set_constant_rate`]); between [`Trainer::fit`] calls.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), crate::error::UserError> {
        self.schedule.set_constant_rate(lr)
    }
}

/// Trains for the config's epochs (or until the run diverges).
pub fn train(
    config: &RunConfig,
    backend: &Backend,
    data: &Split,
    weights: &[LayerWeights],
) -> anyhow::Result<TrainOutcome> {
    let trainer = Trainer::new(config, backend, data, weights)?;
    Ok(run_to_end(trainer, config.training.epochs))
}

/// Runs a prepared trainer for `epochs` epochs, or until its loss or weights
/// stop being finite.
pub fn run_to_end(mut trainer: Trainer, epochs: usize) -> TrainOutcome {
    let mut records = Vec::new();
    let never = AtomicBool::new(false);
    let fitted = trainer.fit(epochs, &never, |_, record| {
        records.push(record);
        Ok(())
    });
    let diverged = match fitted {
        Ok(_) => trainer.finite_weights().err(),
        Err(error) => Some(
            error
                .downcast::<Diverged>()
                .expect("only a divergence ends this loop early"),
        ),
    };
    let seconds = trainer.seconds();
    let test = diverged.is_none().then(|| trainer.test_scores()).flatten();
    let rise = diverged
        .is_none()
        .then(|| trainer.rise_note(records.last().and_then(|r| r.train_loss)))
        .flatten();
    TrainOutcome {
        test,
        rise,
        steps: trainer.steps(),
        model: trainer.model,
        records,
        seconds,
        diverged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::config::{DataKind, InputFeature, LossKind};
    use crate::training::init::initial_weights;

    fn seed_run(epochs: usize) -> (RunConfig, Backend, Split, Vec<LayerWeights>) {
        let mut config = RunConfig::default();
        config.training.epochs = epochs;
        let backend = Backend::open_or_default(BackendKind::default_for_build()).unwrap();
        let data = crate::data::load_for(&config).unwrap();
        let weights = initial_weights(&config.layer_sizes(), config.seed);
        (config, backend, data, weights)
    }

    #[test]
    fn fitting_in_pieces_trains_the_same_numbers_and_banks_the_time() {
        let (config, backend, data, weights) = seed_run(6);
        let whole = train(&config, &backend, &data, &weights).unwrap();
        let mut trainer = Trainer::new(&config, &backend, &data, &weights).unwrap();
        let never = AtomicBool::new(false);
        let mut records = Vec::new();
        let mut seconds = Vec::new();
        for until in [1, 2, 4, 6] {
            trainer
                .fit(until, &never, |_, record| {
                    records.push(record);
                    Ok(())
                })
                .unwrap();
            seconds.push(trainer.seconds());
        }
        let losses = |records: &[EpochRecord]| records.iter().map(|r| r.loss).collect::<Vec<_>>();
        assert_eq!(losses(&records), losses(&whole.records));
        assert!(seconds.windows(2).all(|w| w[1] > w[0]), "{seconds:?}");
        let elapsed: Vec<f64> = records.iter().map(|r| r.elapsed_s).collect();
        assert!(elapsed.windows(2).all(|w| w[1] > w[0]), "{elapsed:?}");
        // Between calls the clock stands still.
        let paused = trainer.seconds();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(trainer.seconds(), paused);
    }

    #[test]
    fn a_constant_rate_changes_between_fits_and_a_schedule_refuses() {
        let (config, backend, data, weights) = seed_run(2);
        let mut trainer = Trainer::new(&config, &backend, &data, &weights).unwrap();
        let never = AtomicBool::new(false);
        let mut rates = Vec::new();
        trainer
            .fit(1, &never, |_, record| {
                rates.push(record.lr);
                Ok(())
            })
            .unwrap();
        trainer.set_learning_rate(0.5).unwrap();
        trainer
            .fit(2, &never, |_, record| {
                rates.push(record.lr);
                Ok(())
            })
            .unwrap();
        assert_eq!(rates, [Some(0.001), Some(0.5)]);

        let mut scheduled = config.clone();
        scheduled.training.schedule.kind = crate::config::ScheduleKind::Cosine;
        let mut trainer = Trainer::new(&scheduled, &backend, &data, &weights).unwrap();
        let refused = trainer.set_learning_rate(0.5).unwrap_err();
        assert!(
            refused.to_string().contains("training.schedule"),
            "{refused}"
        );
    }

    #[test]
    fn penalties_shrink_the_weights_and_are_recorded_apart_from_the_loss() {
        let norms = |model: &Mlp| {
            let weights = model.to_weights();
            let all = weights.iter().flat_map(|layer| layer.weight.iter());
            all.fold((0.0, 0.0), |(l1, l2), &w| {
                (l1 + f64::from(w).abs(), l2 + f64::from(w) * f64::from(w))
            })
        };
        let (config, backend, data, weights) = seed_run(20);
        let plain = train(&config, &backend, &data, &weights).unwrap();
        assert!(plain.records.iter().all(|r| r.penalty.is_none()));
        let (plain_l1, plain_l2) = norms(&plain.model);
        for (l1, l2) in [(Some(0.01), None), (None, Some(0.05))] {
            let mut penalised = config.clone();
            penalised.training.l1 = l1;
            penalised.training.l2 = l2;
            penalised.validate().unwrap();
            let outcome = train(&penalised, &backend, &data, &weights).unwrap();
            let (got_l1, got_l2) = norms(&outcome.model);
            let last = outcome.records.last().unwrap();
            // The record is the penalty of the weights it ended with.
            let expected = l1.unwrap_or(0.0) * got_l1 + l2.unwrap_or(0.0) * got_l2;
            let recorded = last.penalty.unwrap();
            assert!(
                (recorded - expected).abs() <= 1e-9 * expected.max(1.0),
                "{recorded} vs {expected}"
            );
            // And it pulled the weights in: the norm it penalises is smaller.
            match l1 {
                Some(_) => assert!(got_l1 < 0.9 * plain_l1, "L1 {got_l1} vs {plain_l1}"),
                None => assert!(got_l2 < 0.9 * plain_l2, "L2 {got_l2} vs {plain_l2}"),
            }
        }
        // A rate below 0 is refused with its key.
        let mut negative = config.clone();
        negative.training.l2 = Some(-1.0);
        assert_eq!(negative.validate().unwrap_err().key, "training.l2");
    }

    #[test]
    fn an_overflowing_gradient_ends_the_epoch_it_happens_in() {
        // At lr 1e4 the loss stays finite (about 1.9e36) and the weights
        // freeze, but Adam's second moment overflows in the first epoch.
        let (mut config, backend, data, weights) = seed_run(3);
        config.training.lr = 1e4;
        let mut trainer = Trainer::new(&config, &backend, &data, &weights).unwrap();
        let diverged = trainer.run_epoch().unwrap_err();
        assert_eq!(diverged.epoch, 1);
        assert!(
            diverged
                .what
                .contains("of the optimizer's state are NaN or infinite"),
            "{}",
            diverged.what
        );
        // The check itself: a healthy run's state is finite, every epoch.
        let (config, backend, data, weights) = seed_run(3);
        let outcome = train(&config, &backend, &data, &weights).unwrap();
        assert!(outcome.diverged.is_none());
        let trainer = Trainer::new(&config, &backend, &data, &weights).unwrap();
        assert!(trainer.check_optimizer_state(1).is_ok());
    }

    /// Final validation accuracy of a small bce network on `circle`.
    fn circle_accuracy(activation: model::Activation, inputs: &[InputFeature]) -> f64 {
        let mut config = RunConfig::default();
        config.data.kind = DataKind::Circle;
        config.data.features = None;
        config.data.noise_std = None;
        config.data.samples = 200;
        config.data.validation_fraction = 0.25;
        config.data.inputs = Some(inputs.to_vec());
        config.model.input = inputs.len();
        config.model.hidden = vec![8, 8];
        config.model.activation = activation.into();
        config.training.loss = LossKind::Bce;
        config.training.epochs = 40;
        config.training.lr = 0.02;
        config.validate().unwrap();
        let backend = Backend::open_or_default(BackendKind::default_for_build()).unwrap();
        let data = crate::data::load_for(&config).unwrap();
        let weights = initial_weights(&config.layer_sizes(), config.seed);
        let outcome = train(&config, &backend, &data, &weights).unwrap();
        let last = outcome.records.last().unwrap();
        assert!(last.train_accuracy.is_some() && last.train_loss.is_some());
        last.val_accuracy.unwrap()
    }

    #[test]
    fn only_a_nonlinear_network_or_squared_inputs_separate_the_circle() {
        use model::Activation::{Identity, Relu};
        let plain = [InputFeature::X1, InputFeature::X2];
        let squares = [InputFeature::X1Squared, InputFeature::X2Squared];
        let identity = circle_accuracy(Identity, &plain);
        let relu = circle_accuracy(Relu, &plain);
        let identity_on_squares = circle_accuracy(Identity, &squares);
        assert!(identity <= 0.7, "identity reached {identity}");
        assert!(relu >= 0.9, "relu reached only {relu}");
        assert!(
            identity_on_squares >= 0.9,
            "identity on x1^2, x2^2 reached only {identity_on_squares}"
        );
    }
}
