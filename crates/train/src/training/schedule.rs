//! The learning rate of every optimiser step, from Burn's schedulers
//! (`burn::optim::lr_scheduler`), advanced once per step over the run's
//! planned steps; past them the last rate holds.

use burn::optim::lr_scheduler::LrSchedulerConfig;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use burn::optim::lr_scheduler::step::StepLrSchedulerConfig;

use crate::config::{RunConfig, ScheduleKind};

/// A run's learning rate, step by step.
pub struct Schedule {
    /// `None` for a constant rate.
    scheduler: Option<ModuleLrScheduler>,
    /// Steps the schedule spans.
    horizon: usize,
    /// Steps taken.
    taken: usize,
    /// The rate of the last step taken (the base rate before the first).
    last: f64,
}

impl Schedule {
    /// The schedule of `config` for epochs of `steps_per_epoch` steps,
    /// positioned after `taken` steps (a resumed run continues exactly).
    pub fn new(config: &RunConfig, steps_per_epoch: usize, taken: usize) -> anyhow::Result<Self> {
        let training = &config.training;
        let schedule = &training.schedule;
        let horizon_epochs = schedule.horizon_epochs.unwrap_or(training.epochs);
        let horizon = horizon_epochs * steps_per_epoch;
        let lr = training.lr;
        let cosine = |iters: usize| {
            CosineAnnealingLrSchedulerConfig::new(lr, iters.max(1))
                .with_min_lr(schedule.min_lr.unwrap_or(0.0))
        };
        let scheduler = match schedule.kind {
            ScheduleKind::Constant => None,
            ScheduleKind::Step => Some(
                StepLrSchedulerConfig::new(lr, schedule.step_epochs.unwrap_or(1) * steps_per_epoch)
                    .with_gamma(schedule.gamma.unwrap_or(0.1))
                    .init(),
            ),
            ScheduleKind::Cosine => Some(cosine(horizon).init()),
            ScheduleKind::WarmupCosine => {
                let warmup = schedule.warmup_epochs.unwrap_or(1) * steps_per_epoch;
                let rise = LinearLrSchedulerConfig::new(lr / warmup as f64, lr, warmup);
                Some(
                    SequentialLrSchedulerConfig::new(
                        vec![
                            LrSchedulerConfig::Linear(rise),
                            LrSchedulerConfig::Cosine(cosine(horizon - warmup)),
                        ],
                        vec![warmup],
                    )
                    .init(),
                )
            }
        };
        let scheduler = scheduler
            .transpose()
            .map_err(|error| crate::user_error!("training.schedule: {error}"))?;
        let mut schedule = Schedule {
            scheduler,
            horizon,
            taken: 0,
            last: lr,
        };
        schedule.skip(taken);
        Ok(schedule)
    }

    /// Moves past `steps` steps (a run resumed after them).
    pub fn skip(&mut self, steps: usize) {
        for _ in 0..steps {
            self.next_rate();
        }
    }

    /// The rate of the next step.
    pub fn next_rate(&mut self) -> f64 {
        if let Some(scheduler) = self.scheduler.as_mut()
            && self.taken < self.horizon
        {
            self.last = scheduler.step().base();
        }
        self.taken += 1;
        self.last
    }

    /// The rate of the last step taken.
    pub fn last_rate(&self) -> f64 {
        self.last
    }

    /// Replaces a constant rate from the next step on (the live lab's
    /// learning-rate change while paused); a scheduled rate has a shape to
    /// keep, so it refuses.
    pub fn set_constant_rate(&mut self, lr: f64) -> Result<(), crate::error::UserError> {
        if self.scheduler.is_some() {
            return Err(crate::error::UserError::new(
                "the learning rate follows training.schedule; only a constant rate can be changed",
            ));
        }
        self.last = lr;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScheduleConfig;
    use std::f64::consts::PI;

    fn config(schedule: ScheduleConfig) -> RunConfig {
        let mut config = RunConfig::default();
        config.training.epochs = 10;
        config.training.lr = 0.01;
        config.training.schedule = schedule;
        config.validate().unwrap();
        config
    }

    fn rates(config: &RunConfig, steps: usize) -> Vec<f64> {
        let mut schedule = Schedule::new(config, 4, 0).unwrap();
        (0..steps).map(|_| schedule.next_rate()).collect()
    }

    #[test]
    fn every_schedule_follows_its_formula_and_holds_past_its_horizon() {
        let constant = config(ScheduleConfig::default());
        assert!(rates(&constant, 50).iter().all(|&r| r == 0.01));

        let step = config(ScheduleConfig {
            kind: ScheduleKind::Step,
            step_epochs: Some(3),
            gamma: Some(0.5),
            ..Default::default()
        });
        let got = rates(&step, 40);
        for (k, rate) in got.iter().enumerate() {
            let expected = 0.01 * 0.5f64.powi((k / 12) as i32);
            assert!(
                (rate - expected).abs() < 1e-15,
                "step {k}: {rate} vs {expected}"
            );
        }

        let cosine = config(ScheduleConfig {
            kind: ScheduleKind::Cosine,
            min_lr: Some(0.001),
            ..Default::default()
        });
        let got = rates(&cosine, 50);
        for (k, rate) in got.iter().enumerate().take(40) {
            let expected = 0.001 + 0.5 * 0.009 * (1.0 + (k as f64 / 40.0 * PI).cos());
            assert!(
                (rate - expected).abs() < 1e-15,
                "step {k}: {rate} vs {expected}"
            );
        }
        // Past the horizon the last rate holds.
        assert!(got[40..].iter().all(|&r| r == got[39]));

        let warm = config(ScheduleConfig {
            kind: ScheduleKind::WarmupCosine,
            warmup_epochs: Some(2),
            ..Default::default()
        });
        let got = rates(&warm, 40);
        for (k, rate) in got.iter().enumerate().take(8) {
            // Burn's linear scheduler: from lr / n, up by (lr - lr / n) / n a step.
            let expected = 0.01 / 8.0 + (0.01 - 0.01 / 8.0) * k as f64 / 8.0;
            assert!(
                (rate - expected).abs() < 1e-12,
                "warm-up step {k}: {rate} vs {expected}"
            );
        }
        for (k, rate) in got.iter().enumerate().skip(8) {
            let expected = 0.5 * 0.01 * (1.0 + ((k - 8) as f64 / 32.0 * PI).cos());
            assert!(
                (rate - expected).abs() < 1e-12,
                "cosine step {k}: {rate} vs {expected}"
            );
        }

        // Resuming at any step continues exactly.
        for taken in [0, 5, 17, 39] {
            let mut resumed = Schedule::new(&cosine, 4, taken).unwrap();
            let rest: Vec<f64> = (taken..50).map(|_| resumed.next_rate()).collect();
            assert_eq!(rest, rates(&cosine, 50)[taken..].to_vec());
        }
    }
}
