//! End-to-end tests of Activation Lab: the `train` binary and the libraries
//! together. One test binary, so the Burn stack is linked once, not once per
//! file (each link of it is large; see README, "Development").

mod common;

mod backends;
mod bench;
mod browser;
mod classes;
mod cli;
mod diagnostics;
mod experiments;
mod optimizers;
mod packaging;
mod parity;
mod per_layer;
mod playground;
mod reliability;
mod serve;
mod slurm;
mod sweep;
mod training;
mod weights;
