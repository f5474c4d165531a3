//! `train collapse`: the proof that a network without activations is one
//! linear layer, and that the same folding fails once relu is in.

use burn::module::Module;
use model::{AffineMap, LayerActivations, LayerWeights, Mlp, host_values};
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
        }
    }
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
    out.push_str(&format!(
        "{:<14} {:>16} {:>14} {:>16}\n",
        "activation", "max|net - Wx-b|", "output scale", "relative error"
    ));
    for r in reports {
        if r.diverged.is_some() {
            out.push_str(&format!("{:<14} {:>16}\n", r.activation, "diverged"));
            continue;
        }
        out.push_str(&format!(
            "{:<14} {:>16.3e} {:>14.4} {:>16.3e}\n",
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
