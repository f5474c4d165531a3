//! `train collapse`: the proof that a network without activations is one
//! linear layer, and that the same folding fails once relu is in; for an
//! activation per layer, which consecutive layers fold into one map (those
//! joined by `identity`) and the shorter network that stays.

use burn::module::Module;
use model::{Activation, AffineMap, LayerActivations, LayerWeights, Mlp, host_values};
use serde::Serialize;

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data::{Dataset, Split};
use crate::training::init::initial_weights_for;
use crate::training::trainer::{to_tensors, train};

/// How well one trained network is matched by its folded affine map.
#[derive(Clone, Debug, Serialize)]
pub struct CollapseReport {
    /// The network's activation.
    pub activation: String,
    /// Layer boundary sizes of the network.
    pub layer_sizes: Vec<usize>,
    /// `[outputs, inputs]` of the single folded matrix `W`.
    pub folded_shape: [usize; 2],
    /// max over rows of `|net(x) - (W x + b)|`.
    pub max_abs_error: f64,
    /// The largest `|net(x)|`, the output scale.
    pub output_scale: f64,
    /// `max_abs_error / output_scale`.
    pub relative_error: f64,
    /// Final training loss of the run that produced the weights.
    pub final_loss: f64,
    /// Why there is no measurement: the run's loss or weights stopped being
    /// finite (the numbers above are then NaN, `null` in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diverged: Option<String>,
    /// A per-layer combination with `identity` on some (not all) layers:
    /// the runs of layers that fold into one map and the network that
    /// stays. Absent for one activation on every layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialFold>,
}

/// The layers of a network that fold into one map where `identity` joins
/// them, and how closely the shorter network that stays matches it.
#[derive(Clone, Debug, Serialize)]
pub struct PartialFold {
    /// Each run of two or more consecutive linear layers joined by
    /// `identity`: their 1-based numbers, first and last (`fc2` to `fc4`).
    pub folds: Vec<[usize; 2]>,
    /// Layer boundary sizes of the network that stays.
    pub folded_sizes: Vec<usize>,
    /// Its activations, one per hidden layer that stays.
    pub folded_activation: String,
    /// max over rows and outputs of `|net(x) - folded(x)|`.
    pub max_abs_error: f64,
    /// `max_abs_error` over the largest `|net(x)|`.
    pub relative_error: f64,
}

/// The runs of consecutive layers (0-based, inclusive) joined by
/// `identity` under `activation`: a run ends at every layer whose
/// activation is not identity, and at the output layer.
pub fn linear_runs(activation: LayerActivations, layers: usize) -> Vec<[usize; 2]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for index in 0..layers {
        let last = index + 1 == layers;
        if last || !activation.is_identity(index) {
            runs.push([start, index]);
            start = index + 1;
        }
    }
    runs
}

/// The shorter network `weights` is under `activation` once every run of
/// layers joined by `identity` is folded into one: its weights and its
/// activations (one per hidden layer that stays).
pub fn fold_runs(
    weights: &[LayerWeights],
    activation: LayerActivations,
) -> (Vec<LayerWeights>, Vec<Activation>) {
    let runs = linear_runs(activation, weights.len());
    let folded = runs
        .iter()
        .map(|&[first, last]| {
            let map = AffineMap::fold(&weights[first..=last]);
            let (outputs, inputs) = map.shape();
            LayerWeights {
                d_input: inputs,
                d_output: outputs,
                weight: map.weight.iter().flatten().map(|&w| w as f32).collect(),
                bias: map.bias.iter().map(|&b| b as f32).collect(),
                learned: Vec::new(),
            }
        })
        .collect();
    let kept = runs[..runs.len() - 1]
        .iter()
        .map(|&[_, last]| activation.layer(last))
        .collect();
    (folded, kept)
}

impl CollapseReport {
    /// The report of a run that diverged: no measurement, only the reason.
    fn diverged(activation: LayerActivations, config: &RunConfig, reason: String) -> Self {
        Self {
            activation: activation.to_string(),
            layer_sizes: config.layer_sizes(),
            folded_shape: [config.model.output, config.model.input],
            max_abs_error: f64::NAN,
            output_scale: f64::NAN,
            relative_error: f64::NAN,
            final_loss: f64::NAN,
            diverged: Some(reason),
            partial: None,
        }
    }
}

/// The partial fold of a trained `model` under a per-layer combination
/// with some (not all) identity layers, measured on `data`; `None` when
/// nothing or everything folds.
fn partial_fold(
    model: &Mlp,
    data: &Dataset,
    backend: &Backend,
) -> anyhow::Result<Option<PartialFold>> {
    let activation = model.activation;
    let weights = model.to_weights();
    let hidden = weights.len() - 1;
    let identities = (0..hidden).filter(|&i| activation.is_identity(i)).count();
    if activation.is_single() || identities == 0 || identities == hidden {
        return Ok(None);
    }
    let (folded, kept) = fold_runs(&weights, activation);
    let kept = LayerActivations::per_layer(&kept)?;
    let shorter = Mlp::from_weights(&folded, kept, &backend.device)?;
    let (x, _) = to_tensors(data, &backend.device);
    let net: Vec<f32> = host_values(model.valid().forward(x.clone()));
    let short: Vec<f32> = host_values(shorter.forward(x));
    let (mut error, mut scale) = (0.0f64, 0.0f64);
    for (&a, &b) in net.iter().zip(&short) {
        error = error.max((f64::from(a) - f64::from(b)).abs());
        scale = scale.max(f64::from(a).abs());
    }
    let mut folded_sizes = vec![folded[0].d_input];
    folded_sizes.extend(folded.iter().map(|layer| layer.d_output));
    Ok(Some(PartialFold {
        folds: linear_runs(activation, weights.len())
            .into_iter()
            .filter(|[first, last]| last > first)
            .map(|[first, last]| [first + 1, last + 1])
            .collect(),
        folded_sizes,
        folded_activation: kept.to_string(),
        max_abs_error: error,
        relative_error: error / scale.max(f64::MIN_POSITIVE),
    }))
}

/// Compares `net(x)` with the folded map's `W x + b` on every row of `data`.
pub fn measure(model: &Mlp, data: &Dataset, backend: &Backend) -> (f64, f64, AffineMap) {
    let weights: Vec<LayerWeights> = model.to_weights();
    let map = AffineMap::fold(&weights);
    let (x, _) = to_tensors(data, &backend.device);
    let outputs: Vec<f32> = host_values(model.valid().forward(x));
    let width = outputs.len() / data.rows().max(1);
    let mut max_abs_error = 0.0f64;
    let mut output_scale = 0.0f64;
    // Every output of every row (one logit per class for several classes).
    for (row, nets) in outputs.chunks(width.max(1)).enumerate() {
        let folded = map.apply(data.row(row));
        for (&net, folded) in nets.iter().zip(folded) {
            max_abs_error = max_abs_error.max((f64::from(net) - folded).abs());
            output_scale = output_scale.max(f64::from(net).abs());
        }
    }
    (max_abs_error, output_scale, map)
}

/// Trains one network per activation from the same weights and measures
/// how far each is from its folded linear map.
pub fn collapse(
    config: &RunConfig,
    backend: &Backend,
    data: &Split,
    activations: &[LayerActivations],
) -> anyhow::Result<Vec<CollapseReport>> {
    activations
        .iter()
        .map(|&activation| {
            let mut run_config = config.clone();
            run_config.model.activation = activation;
            // The same draws for every activation (scaled by its gain under
            // a gain-dependent model.init).
            let weights = initial_weights_for(&run_config);
            let outcome = train(&run_config, backend, data, &weights)?;
            if let Some(diverged) = outcome.diverged {
                return Ok(CollapseReport::diverged(
                    activation,
                    config,
                    diverged.to_string(),
                ));
            }
            let (max_abs_error, output_scale, map) = measure(&outcome.model, &data.train, backend);
            let (outputs, inputs) = map.shape();
            Ok(CollapseReport {
                activation: activation.to_string(),
                layer_sizes: config.layer_sizes(),
                folded_shape: [outputs, inputs],
                max_abs_error,
                output_scale,
                relative_error: max_abs_error / output_scale.max(f64::MIN_POSITIVE),
                final_loss: outcome.records.last().map_or(f64::NAN, |r| r.loss),
                diverged: None,
                partial: partial_fold(&outcome.model, &data.train, backend)?,
            })
        })
        .collect()
}

/// A readable account of the reports.
pub fn explain(reports: &[CollapseReport]) -> String {
    let mut out = String::new();
    if let Some(first) = reports.first() {
        let sizes: Vec<String> = first.layer_sizes.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "Network {} ({} linear layers). Folding W = W{n}...W1 and carrying the biases through gives one {}x{} matrix W and a bias b.\n\n",
            sizes.join(" -> "),
            first.layer_sizes.len() - 1,
            first.folded_shape[0],
            first.folded_shape[1],
            n = first.layer_sizes.len() - 1,
        ));
    }
    // The first column fits the longest name (a per-layer combination).
    let width = reports
        .iter()
        .map(|r| r.activation.len())
        .max()
        .unwrap_or(0)
        .max(14);
    out.push_str(&format!(
        "{:<width$} {:>16} {:>14} {:>16}\n",
        "activation", "max|net - Wx-b|", "output scale", "relative error"
    ));
    for r in reports {
        if r.diverged.is_some() {
            out.push_str(&format!("{:<width$} {:>16}\n", r.activation, "diverged"));
            continue;
        }
        out.push_str(&format!(
            "{:<width$} {:>16.3e} {:>14.4} {:>16.3e}\n",
            r.activation, r.max_abs_error, r.output_scale, r.relative_error
        ));
    }
    out.push('\n');
    for r in reports {
        if let Some(reason) = &r.diverged {
            out.push_str(&format!(
                "- {}: no verdict, the run diverged ({reason}).\n",
                r.activation
            ));
            continue;
        }
        if let Some(partial) = &r.partial {
            let folds: Vec<String> = partial
                .folds
                .iter()
                .map(|[first, last]| {
                    let names: Vec<String> = (*first..=*last).map(|i| format!("fc{i}")).collect();
                    names.join(" + ")
                })
                .collect();
            let sizes: Vec<String> = partial
                .folded_sizes
                .iter()
                .map(ToString::to_string)
                .collect();
            out.push_str(&format!(
                "- {}: identity joins {} into one map each; what stays is {} with {} ({} linear \
                 layers of {}) and computes the same function (max|net - folded| = {:.3e}, \
                 relative {:.3e}); the activations that are not identity keep it from folding \
                 further.\n",
                r.activation,
                folds.join(", "),
                sizes.join(" -> "),
                partial.folded_activation,
                partial.folded_sizes.len() - 1,
                r.layer_sizes.len() - 1,
                partial.max_abs_error,
                partial.relative_error,
            ));
            continue;
        }
        let verdict = if r.relative_error <= 1e-5 {
            "is exactly one linear layer (up to float rounding): its depth adds nothing a single Linear(in, out) could not do"
        } else {
            "is not a linear map: the activation between layers bends the function, which is what lets depth fit non-linear patterns"
        };
        out.push_str(&format!(
            "- {}: the trained network {verdict}.\n",
            r.activation
        ));
    }
    out
}
