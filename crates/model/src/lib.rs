//! The Activation Lab network, free of any backend: an [`Activation`] chosen by
//! name and an [`Mlp`] whose layer sizes come from configuration.
//!
//! Weights cross this crate's boundary as [`LayerWeights`] in PyTorch's
//! `[out, in]` layout, so the trainer can build a network from seeded CPU data,
//! and experiments can read the trained matrices back.

mod activation;
pub mod grammar;
mod host;
mod layers;
mod linear_map;
mod mlp;

pub use activation::{Activation, Learnable, LinearPieces, ParseActivationError, UnitBehaviour};
pub use host::host_values;
pub use layers::{LayerActivations, MAX_PER_LAYER};
pub use linear_map::AffineMap;
pub use mlp::{LayerWeights, Mlp, MlpTrace, WeightsError};
