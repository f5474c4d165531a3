//! How a run reports its epochs: a progress bar on a terminal, the seed's
//! plain `Epoch i/N, Loss: x` lines when piped, or nothing with `--quiet`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use train::training::trainer::EpochRecord;

/// Where epoch lines go.
pub enum Reporter {
    /// Lines above a live bar (stderr is a terminal).
    Bar(ProgressBar),
    /// One line per epoch on stdout.
    Lines,
    /// Nothing per epoch.
    Quiet,
}

impl Reporter {
    /// Picks the reporter for `epochs` epochs.
    pub fn new(epochs: usize, quiet: bool) -> Self {
        if quiet {
            return Reporter::Quiet;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(epochs as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40.cyan/blue} {pos}/{len} epochs  {elapsed_precise}  eta {eta}  {msg}",
                )
                .expect("a valid template"),
            );
            Reporter::Bar(bar)
        } else {
            Reporter::Lines
        }
    }

    /// Starts the bar at `epoch` epochs done (a resumed run).
    pub fn starting_at(self, epoch: usize) -> Self {
        if let Reporter::Bar(bar) = &self {
            bar.set_position(epoch as u64);
            bar.reset_eta();
        }
        self
    }

    /// Reports one epoch.
    pub fn epoch(&self, record: &EpochRecord, epochs: usize) {
        let line = epoch_line(record, epochs);
        match self {
            Reporter::Bar(bar) => {
                bar.println(&line);
                bar.set_message(format!("loss {:.6}", record.loss));
                bar.inc(1);
            }
            Reporter::Lines => say!("{line}"),
            Reporter::Quiet => {}
        }
    }

    /// Removes the bar, if any.
    pub fn finish(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The seed's per-epoch line.
pub fn epoch_line(record: &EpochRecord, epochs: usize) -> String {
    let mut line = format!("Epoch {}/{epochs}, Loss: {:.6}", record.epoch, record.loss);
    if let Some(val_loss) = record.val_loss {
        line.push_str(&format!(", Val loss: {val_loss:.6}"));
    }
    if let Some(accuracy) = record.val_accuracy.or(record.train_accuracy) {
        let part = if record.val_accuracy.is_some() {
            "Val"
        } else {
            "Train"
        };
        line.push_str(&format!(", {part} accuracy: {:.1}%", accuracy * 100.0));
    }
    line
}
