//! Diagnostics measured against independent computations, and the figures.

use std::fs;

use crate::common::{
    path_str, polyline_lengths, relative_difference, svg_texts, train_ok, user_error,
};
use burn::tensor::{Tensor, TensorData};
use model::{Activation, LayerWeights, Mlp};
use train::backend::{Backend, BackendKind};
use train::config::RunConfig;
use train::data::{Dataset, Split};
use train::training::diagnostics::unit_health;
use train::training::trainer::Trainer;

fn flex() -> Backend {
    Backend::open(BackendKind::Flex).unwrap()
}

fn tiny_weights() -> Vec<LayerWeights> {
    vec![
        LayerWeights {
            d_input: 3,
            d_output: 4,
            weight: vec![
                0.3, -0.2, 0.5, 0.1, 0.4, -0.6, -0.3, 0.2, 0.25, 0.7, -0.1, 0.05,
            ],
            bias: vec![0.1, -0.2, 0.05, 0.3],
            learned: Vec::new(),
        },
        LayerWeights {
            d_input: 4,
            d_output: 1,
            weight: vec![0.5, -0.4, 0.3, 0.2],
            bias: vec![0.1],
            learned: Vec::new(),
        },
    ]
}

fn tiny_data() -> Dataset {
    Dataset {
        features: 3,
        x: vec![
            0.5, -1.0, 2.0, 1.5, 0.3, -0.7, -0.2, 0.8, 0.1, 1.0, 1.0, -1.0, -1.3, 0.4, 0.9,
        ],
        y: vec![0.3, -0.5, 1.2, 0.0, 0.7],
    }
}

/// MSE of a tanh network in f64 on the host, independent of Burn.
fn host_loss(weights: &[LayerWeights], data: &Dataset) -> f64 {
    let mut total = 0.0;
    for row in 0..data.rows() {
        let mut h: Vec<f64> = data.row(row).iter().map(|&v| v as f64).collect();
        for (index, layer) in weights.iter().enumerate() {
            let mut next: Vec<f64> = (0..layer.d_output)
                .map(|o| {
                    (0..layer.d_input)
                        .map(|i| layer.weight[o * layer.d_input + i] as f64 * h[i])
                        .sum::<f64>()
                        + layer.bias[o] as f64
                })
                .collect();
            if index + 1 < weights.len() {
                next.iter_mut().for_each(|v| *v = v.tanh());
            }
            h = next;
        }
        total += (h[0] - data.y[row] as f64).powi(2);
    }
    total / data.rows() as f64
}

#[test]
fn gradient_norms_match_finite_differences() {
    let mut config = RunConfig::default();
    config.model.input = 3;
    config.model.hidden = vec![4];
    config.model.activation = Activation::Tanh.into();
    config.training.batch_size = 5; // one step per epoch: the norm is that step's
    config.training.diagnostics = true;
    let data = Split {
        train: tiny_data(),
        validation: None,
        test: None,
        standardizer: None,
        csv_header: None,
    };
    let backend = flex();
    let weights = tiny_weights();
    let mut trainer = Trainer::new(&config, &backend, &data, &weights).unwrap();
    let record = trainer.run_epoch().unwrap();
    assert_eq!(record.layers.len(), 2);

    for (layer, measured) in record.layers.iter().enumerate() {
        let h = 1e-6;
        let mut squared = 0.0;
        for index in 0..weights[layer].weight.len() {
            let mut plus = weights.clone();
            let mut minus = weights.clone();
            // f32 storage: perturb through f64 arithmetic on a copy of the value.
            let base = weights[layer].weight[index] as f64;
            plus[layer].weight[index] = (base + h) as f32;
            minus[layer].weight[index] = (base - h) as f32;
            let step = plus[layer].weight[index] as f64 - minus[layer].weight[index] as f64;
            let slope = (host_loss(&plus, &data.train) - host_loss(&minus, &data.train)) / step;
            squared += slope * slope;
        }
        let expected = squared.sqrt();
        let diff = relative_difference(measured.grad_norm, expected);
        assert!(
            diff <= 1e-3,
            "layer {}: {} vs finite difference {expected} ({diff:e})",
            layer + 1,
            measured.grad_norm
        );
    }
}

fn hand_built(activation: Activation, bias: Vec<f32>) -> Mlp {
    // Units 1 and 3 have zero weights, so their pre-activation is their bias.
    let layers = vec![
        LayerWeights {
            d_input: 2,
            d_output: 4,
            weight: vec![0.0, 0.0, 1.0, 0.5, 0.0, 0.0, -0.5, 1.0],
            bias,
            learned: Vec::new(),
        },
        LayerWeights {
            d_input: 4,
            d_output: 1,
            weight: vec![1.0; 4],
            bias: vec![0.0],
            learned: Vec::new(),
        },
    ];
    Mlp::from_weights(&layers, activation, &flex().device).unwrap()
}

fn inputs() -> Tensor<2> {
    let x: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    Tensor::from_data(TensorData::new(x, [20, 2]), &flex().device)
}

#[test]
fn dead_units_are_counted_exactly() {
    // Biases -1 on the zero-weight units: never positive, so dead.
    let model = hand_built(Activation::Relu, vec![-1.0, 0.0, -1.0, 0.0]);
    assert_eq!(unit_health(&model, inputs()), vec![(Some(0.5), None)]);
    let model = hand_built(Activation::Relu, vec![-1.0, 0.0, 0.5, 0.0]);
    assert_eq!(unit_health(&model, inputs()), vec![(Some(0.25), None)]);
    let model = hand_built(Activation::Tanh, vec![-1.0, 0.0, -1.0, 0.0]);
    assert_eq!(unit_health(&model, inputs())[0].0, None);
}

#[test]
fn saturated_units_are_counted_exactly() {
    // Bias 20 on a zero-weight unit pins sigmoid at 1 and tanh at 1.
    let model = hand_built(Activation::Sigmoid, vec![20.0, 0.0, -20.0, 0.0]);
    assert_eq!(unit_health(&model, inputs()), vec![(None, Some(0.5))]);
    let model = hand_built(Activation::Tanh, vec![20.0, 0.0, 0.3, 0.0]);
    assert_eq!(unit_health(&model, inputs()), vec![(None, Some(0.25))]);
}

#[test]
fn activation_plots_have_one_panel_per_activation_and_two_series_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    train_ok(["plot", "activations", "--out", &out]);
    let svg = fs::read_to_string(dir.path().join("activations.svg")).unwrap();
    let texts = svg_texts(&svg);
    let count = |label: &str| texts.iter().filter(|t| *t == label).count();
    for activation in Activation::ALL {
        // A learnable one's title also says what is trained and from where.
        let title = match activation.learnable() {
            Some(_) => texts
                .iter()
                .filter(|t| t.starts_with(&format!("{activation} (trained ")))
                .count(),
            None => count(&activation.to_string()),
        };
        assert_eq!(title, 1, "panel {activation}");
    }
    assert_eq!(count("f(x)"), Activation::ALL.len());
    assert_eq!(count("f'(x)"), Activation::ALL.len());
    let curves = polyline_lengths(&svg)
        .into_iter()
        .filter(|&n| n > 100)
        .count();
    assert_eq!(curves, 2 * Activation::ALL.len());
    let png = fs::read(dir.path().join("activations.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn plot_run_draws_a_run_and_rejects_missing_columns() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let run_arg = run_dir.display().to_string();
    train_ok([
        "--epochs",
        "3",
        "--quiet",
        "--diagnostics",
        "--out",
        &run_arg,
    ]);
    train_ok(["plot", "run", &run_arg]);
    let texts = svg_texts(&fs::read_to_string(run_dir.join("run.svg")).unwrap());
    for layer in 1..=4 {
        assert!(
            texts.contains(&format!("fc{layer}")),
            "fc{layer} series, named as diagnose names the layers: {texts:?}"
        );
    }
    assert!(run_dir.join("run.png").exists());

    // A run without diagnostics (how most runs are made): the loss panel only.
    let plain = dir.path().join("plain");
    let plain_arg = plain.display().to_string();
    train_ok(["--epochs", "3", "--quiet", "--out", &plain_arg]);
    train_ok(["plot", "run", &plain_arg]);
    let texts = svg_texts(&fs::read_to_string(plain.join("run.svg")).unwrap());
    assert!(texts.contains(&"Loss".to_string()), "{texts:?}");
    assert!(texts.contains(&"last mini-batch".to_string()), "{texts:?}");
    assert!(
        texts.contains(&"training (full pass)".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"relu on noise, hidden [18, 18, 4], 3 epochs, adam lr 0.001".to_string()),
        "the title names the run: {texts:?}"
    );
    assert!(!texts.iter().any(|t| t.starts_with("fc")), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("gradient")), "{texts:?}");

    let bad = dir.path().join("bad");
    fs::create_dir_all(&bad).unwrap();
    fs::write(bad.join("metrics.csv"), "epoch,elapsed_s\n1,0.1\n").unwrap();
    assert_eq!(
        user_error(&["plot", "run", path_str(&bad)]),
        format!(
            "{}: missing column(s) loss; expected a run's metrics.csv (columns epoch, loss, ...)",
            bad.join("metrics.csv").display()
        )
    );
}
