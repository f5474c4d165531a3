//! Experiments that make the tutorial's claims measurable. Each one trains
//! through [`crate::trainer`]; none has a training loop of its own.

pub mod activation_curves;
pub mod collapse;
pub mod compare;
pub mod ols;
