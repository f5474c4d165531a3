//! Optimisers and initialisers end to end: a run checkpointed and resumed
//! under each optimiser ends bit-identical to a straight run, and every
//! initialiser gives every backend the same starting weights.

use std::fs;

use crate::common::{cpu_backends, loss_texts, path_str, train_ok, wgpu_or_skip};
use model::Mlp;
use train::backend::{Backend, BackendKind};
use train::config::{InitKind, RunConfig};
use train::training::init::initial_weights_for;

#[test]
fn every_optimizer_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("adamw", "kind = \"adamw\"\nweight_decay = 0.05\n"),
        ("sgd", "kind = \"sgd\"\nmomentum = 0.9\nnesterov = true\n"),
        (
            "rmsprop",
            "kind = \"rmsprop\"\nmomentum = 0.5\ncentered = true\n",
        ),
    ];
    for (name, optimizer) in settings {
        let config = dir.path().join(format!("{name}.toml"));
        fs::write(
            &config,
            format!("[training]\nlr = 0.003\n[optimizer]\n{optimizer}"),
        )
        .unwrap();
        let straight = dir.path().join(format!("{name}-straight"));
        let resumed = dir.path().join(format!("{name}-resumed"));
        let common = [
            "--config",
            path_str(&config),
            "--quiet",
            "--checkpoint-every",
            "0",
        ];
        train_ok(
            common
                .iter()
                .copied()
                .chain(["--epochs", "6", "--out", path_str(&straight)]),
        );
        train_ok(
            common
                .iter()
                .copied()
                .chain(["--epochs", "3", "--out", path_str(&resumed)]),
        );
        train_ok(["--resume", path_str(&resumed), "--epochs", "6", "--quiet"]);
        let (a, b) = (loss_texts(&straight), loss_texts(&resumed));
        assert_eq!(a.len(), 6);
        assert_eq!(a, b, "{name}: the resumed run's losses differ");
    }
}

#[test]
fn every_initialiser_gives_every_backend_the_same_weights() {
    let mut backends: Vec<Backend> = cpu_backends()
        .into_iter()
        .map(|kind| Backend::open(kind).unwrap())
        .collect();
    backends.extend(wgpu_or_skip(
        "every_initialiser_gives_every_backend_the_same_weights",
    ));
    for name in InitKind::NAMES {
        let mut config = RunConfig::default();
        config.model.init = name.parse().unwrap();
        config.model.activation = model::Activation::Tanh.into();
        let weights = initial_weights_for(&config);
        for backend in &backends {
            let model =
                Mlp::from_weights(&weights, config.model.activation, &backend.device).unwrap();
            assert_eq!(model.to_weights(), weights, "{name} on {}", backend.kind);
        }
    }
}

#[test]
fn a_schedule_resumed_mid_way_continues_exactly() {
    use std::sync::atomic::AtomicBool;
    use train::config::{ScheduleConfig, ScheduleKind};
    use train::training::trainer::{Trainer, train};

    let mut config = RunConfig::default();
    config.training.epochs = 10;
    config.training.lr = 0.01;
    config.training.schedule = ScheduleConfig {
        kind: ScheduleKind::WarmupCosine,
        warmup_epochs: Some(2),
        min_lr: Some(0.001),
        ..Default::default()
    };
    config.validate().unwrap();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let data = train::data::load_for(&config).unwrap();
    let weights = initial_weights_for(&config);
    let straight = train(&config, &backend, &data, &weights).unwrap().records;
    let rates: Vec<f64> = straight.iter().map(|r| r.lr.unwrap()).collect();
    assert!(
        rates[0] < rates[1] && rates[2] > rates[9],
        "warm-up then decay: {rates:?}"
    );

    let never = AtomicBool::new(false);
    let mut first = Trainer::new(&config, &backend, &data, &weights).unwrap();
    first.fit(4, &never, |_, _| Ok(())).unwrap();
    let (bytes, position) = (first.optimizer_bytes().unwrap(), first.position());
    let saved = first.finite_weights().unwrap();
    let mut second = Trainer::new(&config, &backend, &data, &saved)
        .unwrap()
        .restore(bytes, position, 0.0)
        .unwrap();
    let mut rest = Vec::new();
    second
        .fit(10, &never, |_, record| {
            rest.push(record);
            Ok(())
        })
        .unwrap();
    let bits = |records: &[train::training::trainer::EpochRecord]| -> Vec<(u64, u64)> {
        records
            .iter()
            .map(|r| (r.loss.to_bits(), r.lr.unwrap().to_bits()))
            .collect()
    };
    assert_eq!(bits(&rest), bits(&straight[4..]));
}

#[test]
fn early_stopping_keeps_the_best_weights_and_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("early.toml");
    fs::write(
        &config,
        "[data]\nvalidation_fraction = 0.2\n[training]\nlr = 0.01\ncheckpoint_every = 1\n\
         [training.early_stop]\npatience = 5\n",
    )
    .unwrap();
    let straight = dir.path().join("straight");
    let output = train_ok(["--config", path_str(&config), "--out", path_str(&straight)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Stopped early"))
        .unwrap();
    assert!(
        summary.starts_with(
            "Stopped early at epoch 6: the validation loss has not improved for 5 epochs"
        ),
        "{stdout}"
    );
    assert_eq!(loss_texts(&straight).len(), 6, "stopped at epoch 6 of 150");
    // The best epoch (1 here) is the lowest validation loss of the run.
    let val = crate::common::csv_column(&straight.join("metrics.csv"), "val_loss");
    let best = val.iter().cloned().fold(f64::INFINITY, f64::min);
    assert_eq!(val[0], best);
    assert!(straight.join("result.json").exists());

    // Killed in the middle of its fourth checkpoint, then resumed: the same
    // stop, the same records, the same best weights.
    let crashed = dir.path().join("crashed");
    let output = crate::common::train_bin()
        .args([
            "--config",
            path_str(&config),
            "--out",
            path_str(&crashed),
            "--quiet",
        ])
        .env(
            "ACTLAB_FAILPOINTS",
            "checkpoint::rename=3*off->return(abort)",
        )
        .output()
        .unwrap();
    assert!(!output.status.success(), "the fail point killed the run");
    train_ok(["--resume", path_str(&crashed), "--quiet"]);
    assert_eq!(loss_texts(&crashed), loss_texts(&straight));
    // The tensors, not the JSON header (its metadata's key order may vary).
    let tensors = |dir: &std::path::Path| {
        let bytes = fs::read(dir.join("best.safetensors")).unwrap();
        let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        bytes[8 + header..].to_vec()
    };
    assert!(
        tensors(&crashed) == tensors(&straight),
        "the best weights differ"
    );
    let error = crate::common::user_error(&["--resume", path_str(&crashed)]);
    assert!(error.contains("stopped early at epoch 6"), "{error}");
    let error =
        crate::common::user_error(&["--config", path_str(&config), "--out", path_str(&crashed)]);
    assert!(
        error.contains("holds a finished run (stopped early at epoch 6)"),
        "{error}"
    );
}
