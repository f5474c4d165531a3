//! Weight files in PyTorch's names and layout, through `burn::store`.
//!
//! The seed's `SimpleModel` names its layers `fc1`, `fc2`, ... and keeps each
//! `weight` as `[out, in]`; [`Mlp`] keeps `layers.0`, `layers.1`, ... with
//! `[in, out]` weights. Burn's adapters transpose, a key remapper renames.

use std::path::Path;

use anyhow::Context;
use burn::store::{
    BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use burn::tensor::{DType, Device};
use model::{LayerActivations, LayerWeights, Mlp};

use crate::io::atomic::write_atomic;
use crate::user_error;

/// PyTorch's name for a tensor of 0-based layer `index`: `fc{index + 1}.{field}`.
pub fn torch_name(index: usize, field: &str) -> String {
    format!("fc{}.{field}", index + 1)
}

/// PyTorch's name for the learnable activation's parameter after 0-based
/// hidden layer `index`: `act{index + 1}.weight` (PReLU), `.beta` (swish).
pub fn torch_learned_name(index: usize, activation: LayerActivations) -> String {
    let field = activation.learnable().map_or("weight", |l| l.name);
    format!("act{}.{field}", index + 1)
}

/// Renames `layers.{i}.` to `fc{i+1}.` and `learned.{i}` to `act{i+1}.weight`
/// (or `.beta`) when saving, or back when loading.
fn remapper(layers: usize, activation: LayerActivations, to_torch: bool) -> KeyRemapper {
    // (Burn's prefix, PyTorch's prefix, whether the prefix is the whole name).
    let linear = (0..layers).map(|index| {
        (
            format!("layers.{index}."),
            format!("fc{}.", index + 1),
            false,
        )
    });
    let learned = (0..layers.saturating_sub(1))
        .filter(|_| activation.learnable().is_some())
        .map(|index| {
            (
                format!("learned.{index}"),
                torch_learned_name(index, activation),
                true,
            )
        });
    let patterns = linear.chain(learned).map(|(burn, torch, whole)| {
        let (from, to) = if to_torch {
            (burn, torch)
        } else {
            (torch, burn)
        };
        let end = if whole { "$" } else { "" };
        (format!("^{}{end}", regex_escape(&from)), to)
    });
    KeyRemapper::from_pattern_iter(patterns).expect("literal patterns are valid regexes")
}

fn regex_escape(text: &str) -> String {
    text.replace('.', r"\.")
}

/// The network's weights as a safetensors file PyTorch loads as it is:
/// `fc1.weight` `[out, in]`, `fc1.bias`, ...
pub fn to_safetensors(model: &Mlp) -> anyhow::Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(remapper(model.layers.len(), model.activation, true))
        .metadata("activation", model.activation.to_string());
    model
        .save_into(&mut store)
        .map_err(|error| anyhow::anyhow!("cannot serialise the weights: {error}"))?;
    let bytes = store
        .get_bytes()
        .map_err(|error| anyhow::anyhow!("cannot serialise the weights: {error}"))?;
    canonical_header(&bytes)
}

/// The same safetensors file with its JSON header's keys sorted (Burn's
/// store writes its metadata in hash order, so two identical runs gave
/// different bytes), padded with spaces to 8 bytes as the format's own
/// writer does. The tensors' offsets are relative to the data, so they hold.
fn canonical_header(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let malformed =
        || anyhow::anyhow!("cannot serialise the weights: malformed safetensors header");
    let length = bytes
        .get(..8)
        .and_then(|prefix| prefix.try_into().ok())
        .map(u64::from_le_bytes)
        .and_then(|length| usize::try_from(length).ok())
        .ok_or_else(malformed)?;
    let header = bytes.get(8..8 + length).ok_or_else(malformed)?;
    let mut value: serde_json::Value = serde_json::from_slice(header).map_err(|_| malformed())?;
    value.sort_all_objects();
    let mut text = serde_json::to_string(&value)?;
    while (8 + text.len()) % 8 != 0 {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(bytes.len() + 8);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + length..]);
    Ok(out)
}

/// Writes [`to_safetensors`] to `path`, atomically.
pub fn save_safetensors(model: &Mlp, path: &Path) -> anyhow::Result<()> {
    write_atomic(path, &to_safetensors(model)?)
}

/// Replaces `model`'s parameters with those in `path`: a safetensors file or
/// a `torch.save(model.state_dict())` file (`.pt`, `.pth`), in PyTorch's names
/// and layout. Every `fcN.weight` / `fcN.bias` must be there with the shape the
/// network has, and nothing else; a learnable activation's `actN.weight` /
/// `actN.beta` may be missing (it keeps its initial value); errors name the
/// file and the tensor.
pub fn load_into(model: &mut Mlp, path: &Path) -> anyhow::Result<()> {
    load_with(model, path, Learned::MayBeAbsent)
}

/// Whether a learnable activation's `actN.weight` / `actN.beta` may be
/// absent from a weights file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Learned {
    /// Starting weights (`--init-weights`, a PyTorch file): it keeps its
    /// initial value.
    MayBeAbsent,
    /// A trained run's weights: it was trained and saved, so its absence
    /// means a damaged file, not a default.
    Required,
}

/// [`load_into`] with the rule for learnable parameters.
fn load_with(model: &mut Mlp, path: &Path, learned: Learned) -> anyhow::Result<()> {
    let shown = path.display().to_string();
    let (layers, activation) = (model.layers.len(), model.activation);
    // Both stores read the file lazily; open it first for a clear error.
    std::fs::File::open(path).map_err(|error| {
        user_error!(
            "cannot read weights file {shown}: {}",
            crate::error::describe_io_error(&error)
        )
    })?;
    if is_torch_pickle(path) {
        let mut store = PytorchStore::from_file(path)
            .remap(remapper(layers, activation, false))
            .allow_partial(true)
            .validate(false);
        check_and_apply(model, &mut store, &shown, learned)
    } else {
        let mut store = SafetensorsStore::from_file(path)
            .with_from_adapter(PyTorchToBurnAdapter)
            .remap(remapper(layers, activation, false))
            .allow_partial(true)
            .validate(false);
        check_and_apply(model, &mut store, &shown, learned)
    }
}

/// A network of layer boundary sizes `sizes` with the weights in `path`
/// (see [`load_into`]).
pub fn load_model(
    path: &Path,
    sizes: &[usize],
    activation: impl Into<LayerActivations>,
    device: &Device,
) -> anyhow::Result<Mlp> {
    model_from(path, sizes, activation.into(), device, Learned::MayBeAbsent)
}

fn model_from(
    path: &Path,
    sizes: &[usize],
    activation: LayerActivations,
    device: &Device,
    learned: Learned,
) -> anyhow::Result<Mlp> {
    let shape: Vec<LayerWeights> = sizes
        .windows(2)
        .map(|pair| LayerWeights::zeros(pair[0], pair[1]))
        .collect();
    let mut model = Mlp::from_weights(&shape, activation, device)?;
    load_with(&mut model, path, learned)?;
    Ok(model)
}

/// Reads a weights file (see [`load_into`]) for a network of boundary sizes
/// `sizes`, returning the weights in PyTorch's layout; NaN or infinite values
/// are refused, naming the tensor.
pub fn read_layer_weights(
    path: &Path,
    sizes: &[usize],
    activation: impl Into<LayerActivations>,
    device: &Device,
) -> anyhow::Result<Vec<LayerWeights>> {
    read_weights(path, sizes, activation.into(), device, Learned::MayBeAbsent)
}

/// [`read_layer_weights`] for a trained run's own `model.safetensors`
/// (predict, eval, plots, regions, resume): a learnable activation's
/// parameter must be there too, since a missing one would silently score
/// the untrained initial value.
pub fn read_trained_weights(
    path: &Path,
    sizes: &[usize],
    activation: impl Into<LayerActivations>,
    device: &Device,
) -> anyhow::Result<Vec<LayerWeights>> {
    read_weights(path, sizes, activation.into(), device, Learned::Required)
}

fn read_weights(
    path: &Path,
    sizes: &[usize],
    activation: LayerActivations,
    device: &Device,
    learned: Learned,
) -> anyhow::Result<Vec<LayerWeights>> {
    let weights = model_from(path, sizes, activation, device, learned)?.to_weights();
    for (index, layer) in weights.iter().enumerate() {
        for (name, values) in [
            (torch_name(index, "weight"), &layer.weight),
            (torch_name(index, "bias"), &layer.bias),
            (torch_learned_name(index, activation), &layer.learned),
        ] {
            let bad = values.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                return Err(user_error!(
                    "{}: tensor {name} holds {bad} NaN or infinite values",
                    path.display(),
                ));
            }
        }
    }
    Ok(weights)
}

fn is_torch_pickle(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pt" | "pth" | "bin")
    )
}

/// What the network needs: `(burn name, torch name, torch-layout shape)`.
fn expected_tensors(model: &Mlp) -> Vec<(String, String, Vec<usize>)> {
    let sizes = model.sizes();
    let mut expected = Vec::new();
    for index in 0..model.layers.len() {
        let (d_input, d_output) = (sizes[index], sizes[index + 1]);
        for (field, shape) in [
            ("weight", vec![d_output, d_input]),
            ("bias", vec![d_output]),
        ] {
            expected.push((
                format!("layers.{index}.{field}"),
                torch_name(index, field),
                shape,
            ));
        }
    }
    if let Some(learnable) = model.activation.learnable() {
        for index in 0..model.layers.len() - 1 {
            expected.push((
                format!("learned.{index}"),
                torch_learned_name(index, model.activation),
                vec![learnable.len(sizes[index + 1])],
            ));
        }
    }
    expected
}

/// Back from Burn's name to PyTorch's, for messages.
fn shown_name(burn_name: &str) -> String {
    if let Some(index) = burn_name
        .strip_prefix("learned.")
        .and_then(|index| index.parse::<usize>().ok())
    {
        return format!("act{}", index + 1);
    }
    burn_name
        .strip_prefix("layers.")
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(index, field)| Some(torch_name(index.parse().ok()?, field)))
        .unwrap_or_else(|| burn_name.to_string())
}

fn check_and_apply<S: ModuleStore>(
    model: &mut Mlp,
    store: &mut S,
    shown: &str,
    learned: Learned,
) -> anyhow::Result<()>
where
    S::Error: std::fmt::Display,
{
    let found = store.get_all_tensors().map_err(|error| {
        user_error!("{shown}: not a readable safetensors or PyTorch weights file ({error})")
    })?;
    let expected = expected_tensors(model);
    let sizes = model.sizes();
    for (burn_name, torch_name, shape) in &expected {
        // A learnable activation's parameter may be absent (linear weights
        // from a network without it, or PyTorch's SimpleModel): it starts at
        // its initial value, as the module's own would.
        if learned == Learned::MayBeAbsent
            && burn_name.starts_with("learned.")
            && !found.contains_key(burn_name)
        {
            continue;
        }
        let Some(tensor) = found.get(burn_name) else {
            // PyTorch's names, as the network expects them (`act2.weight`).
            let present: Vec<String> = found
                .keys()
                .map(|name| {
                    expected
                        .iter()
                        .find(|(burn, _, _)| burn == name)
                        .map_or_else(|| shown_name(name), |(_, torch, _)| torch.to_string())
                })
                .collect();
            return Err(user_error!(
                "{shown}: tensor {torch_name} is missing (the network {sizes:?} needs it; the file has {})",
                if present.is_empty() {
                    "no tensors".to_string()
                } else {
                    present.join(", ")
                }
            ));
        };
        if tensor.shape.as_slice() != shape.as_slice() {
            return Err(user_error!(
                "{shown}: tensor {torch_name} has shape {:?}, the network {sizes:?} needs {shape:?}",
                tensor.shape.as_slice()
            ));
        }
        if tensor.dtype != DType::F32 {
            return Err(user_error!(
                "{shown}: tensor {torch_name} is {:?}; save the weights as float32",
                tensor.dtype
            ));
        }
    }
    if let Some(extra) = found
        .keys()
        .find(|name| !expected.iter().any(|(burn_name, _, _)| burn_name == *name))
    {
        return Err(user_error!(
            "{shown}: tensor {} is not part of the network {sizes:?}",
            shown_name(extra)
        ));
    }
    let result = model
        .load_from(store)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .with_context(|| format!("cannot load {shown}"))?;
    if let Some(error) = result.errors.first() {
        return Err(user_error!("{shown}: {error}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_names_are_shown_as_pytorch_names() {
        assert_eq!(shown_name("layers.0.weight"), "fc1.weight");
        assert_eq!(shown_name("layers.11.bias"), "fc12.bias");
        assert_eq!(shown_name("something.else"), "something.else");
    }
}
