//! Experiments that make the tutorial's claims measurable, and the speed
//! benchmark. Each one trains through [`crate::training::trainer`]; none has a
//! training loop of its own.

pub mod activation_curves;
pub mod bench;
pub mod collapse;
pub mod compare;
pub mod ensemble;
pub mod importance;
pub mod logistic;
pub mod ols;
pub mod patterns;
pub mod sampling;
pub mod seed_tests;
pub mod seeds;
pub mod surface;
pub mod sweep;
pub mod sweep_report;
pub mod tuning;
