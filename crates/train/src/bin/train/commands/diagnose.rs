//! `train diagnose`: one run with diagnostics, summarised per layer.

use train::format::percent;
use train::io::run_dir::RunDir;
use train::training::diagnostics::LayerDiagnostics;
use train::training::init::initial_weights_for;
use train::training::trainer::{EpochRecord, train};

use crate::cli::DiagnoseArgs;
use crate::commands::run::prepare;

/// The losses after the last epoch, each named for what it measures.
fn losses(last: &EpochRecord) -> String {
    let mut parts = Vec::new();
    if let Some(loss) = last.train_loss {
        parts.push(format!("training loss {loss:.6}"));
    }
    if let Some(loss) = last.val_loss {
        parts.push(format!("validation loss {loss:.6}"));
    }
    parts.push(format!("last mini-batch {:.6}", last.loss));
    parts.join(", ")
}

/// Trains with diagnostics on and prints the per-layer table.
pub fn run(args: &DiagnoseArgs) -> anyhow::Result<()> {
    let mut common = args.common.clone();
    common.diagnostics = true;
    let (resolved, backend) = prepare(&common, Some(&args.activation))?;
    let config = &resolved.config;
    let split = crate::commands::load_data(config)?;
    let out_dir = match args.out.dir() {
        Some(out) => Some(RunDir::for_experiment(out, "diagnose")?),
        None => None,
    };
    let weights = initial_weights_for(config);
    let outcome = train(config, &backend, &split, &weights)?.finished()?;
    let first = outcome.records.first().expect("at least one epoch");
    let last = outcome.records.last().expect("at least one epoch");
    println!(
        "{} network {:?} on {} ({}), {} epochs: {}",
        config.model.activation,
        config.layer_sizes(),
        backend.kind,
        backend.description,
        last.epoch,
        losses(last)
    );
    print!("{}", render(config.layer_sizes().as_slice(), first, last));
    if let Some(out_dir) = &out_dir {
        out_dir.write_history(config, &outcome.records)?;
        println!(
            "wrote {0}/metrics.csv, {0}/config.toml",
            out_dir.path().display()
        );
    }
    Ok(())
}

/// The per-layer table: gradient norms at the first and last epoch, and the
/// final share of dead and saturated units.
pub fn render(sizes: &[usize], first: &EpochRecord, last: &EpochRecord) -> String {
    let mut out = format!(
        "{:<7} {:>9} {:>16} {:>16} {:>8} {:>10}\n",
        "layer", "shape", "|grad| epoch 1", "|grad| last", "dead", "saturated"
    );
    let rows = first.layers.iter().zip(&last.layers).enumerate();
    for (index, (start, end)) in rows {
        let LayerDiagnostics {
            dead_fraction,
            saturated_fraction,
            ..
        } = end;
        out.push_str(&format!(
            "{:<7} {:>9} {:>16.4e} {:>16.4e} {:>8} {:>10}\n",
            format!("fc{}", index + 1),
            format!("{}->{}", sizes[index], sizes[index + 1]),
            start.grad_norm,
            end.grad_norm,
            percent(*dead_fraction, 1),
            percent(*saturated_fraction, 1)
        ));
    }
    out
}
