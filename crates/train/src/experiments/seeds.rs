//! `compare --seeds N`: the comparison repeated over N seeds (each its own
//! data draw and initial weights, shared by every activation of that seed),
//! summarised as means with 95% confidence intervals, paired differences and
//! win rates, so that a ranking is not one seed's luck.

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::data::load_for;
use crate::experiments::compare::{ActivationRun, Comparison, compare};
use crate::experiments::seed_tests::{Family, PairTest, pair_tests, test_cells};
use crate::format::{cell, mean_ci_cells, percent};
use crate::stats::MeanCi;
use crate::training::metric::{Metric, last_and_best};
use crate::training::trainer::EpochRecord;
use model::LayerActivations;

use model::Activation;

/// One activation's result for one seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedResult {
    /// The metric after the last epoch.
    pub last: f64,
    /// The best value over the epochs.
    pub best: f64,
    /// The epoch of the best value.
    pub best_epoch: usize,
}

impl SeedResult {
    /// The result of one run; `None` if it diverged.
    pub fn of(run: &ActivationRun, metric: Metric) -> Option<SeedResult> {
        if run.row.diverged_epoch.is_some() {
            return None;
        }
        if metric.is_test() {
            // Scored once, at the end: its last is its best.
            let value = metric.of_row(&run.row)?;
            return Some(SeedResult {
                last: value,
                best: value,
                best_epoch: run.row.best_epoch?,
            });
        }
        Self::from_records(&run.records, metric)
    }

    /// The last and best values of `metric` in `records`.
    pub fn from_records(records: &[EpochRecord], metric: Metric) -> Option<SeedResult> {
        let (last, best, best_epoch) = last_and_best(records, metric)?;
        Some(SeedResult {
            last,
            best,
            best_epoch,
        })
    }
}

/// A paired comparison against another activation over the seeds both finished.
#[derive(Clone, Debug, PartialEq)]
pub struct Paired {
    /// The activation compared against.
    pub against: String,
    /// Mean and CI of (this - that) in the final metric.
    pub difference: MeanCi,
    /// Share of the paired seeds where this one is strictly better.
    pub win_rate: f64,
}

/// One activation's summary over the seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedsRow {
    /// Activation name, or least squares.
    pub name: String,
    /// Seeds whose run diverged (left out of every mean).
    pub diverged: usize,
    /// Seeds whose final training loss ended above 1.1x its start (kept
    /// in the means; the table says how many).
    pub rose: usize,
    /// The final metric.
    pub last: Option<MeanCi>,
    /// The best metric over the epochs.
    pub best: Option<MeanCi>,
    /// The epoch of the best metric.
    pub best_epoch: Option<MeanCi>,
    /// Against identity (or the first activation listed); none for that one itself.
    pub vs_reference: Option<Paired>,
    /// Against the activation with the best mean final metric; none for that one.
    pub vs_best: Option<Paired>,
}

/// How a comparison over seeds is scored: the metric it ranks by and the
/// family of paired tests it makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scoring {
    /// Usually [`Metric::for_comparison`]; tuning watches the validation one.
    pub metric: Metric,
    /// Which pairs are tested.
    pub family: Family,
}

/// Every seed's comparison and their summary.
pub struct SeedsComparison {
    /// What the rows compare.
    pub metric: Metric,
    /// The seeds, in order: the config's seed + k.
    pub seeds: Vec<u64>,
    /// One comparison per seed.
    pub comparisons: Vec<Comparison>,
    /// One row per activation, then least squares.
    pub rows: Vec<SeedsRow>,
    /// The paired tests of the family asked for.
    pub tests: Vec<PairTest>,
}

/// The largest seed a run takes: its `config.toml` holds it as a TOML
/// (signed 64-bit) integer.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// Checks that `count` consecutive seeds from `first` all fit [`MAX_SEED`],
/// before any of them trains.
pub fn check_seed_range(first: u64, count: u64) -> Result<(), crate::error::UserError> {
    let last = first.checked_add(count.saturating_sub(1));
    match last {
        Some(last) if last <= MAX_SEED => Ok(()),
        _ => Err(crate::error::UserError::new(format!(
            "seeds {first} to {first} + {} go past the largest seed, {MAX_SEED}; choose a \
             smaller --seed",
            count.saturating_sub(1)
        ))),
    }
}

/// The `seeds` consecutive seeds from the config's; an error past the largest.
pub fn seed_list(config: &RunConfig, seeds: usize) -> anyhow::Result<Vec<u64>> {
    check_seed_range(config.seed, seeds as u64)?;
    Ok((0..seeds as u64).map(|k| config.seed + k).collect())
}

/// Runs [`compare`] for `seeds` consecutive seeds from the config's and
/// summarises them as `scoring` says.
pub fn compare_seeds(
    config: &RunConfig,
    backend: &Backend,
    activations: &[LayerActivations],
    seeds: usize,
    jobs: usize,
    scoring: Scoring,
    on_done: &(dyn Fn(u64, &ActivationRun) + Sync),
) -> anyhow::Result<SeedsComparison> {
    let Scoring { metric, family } = scoring;
    let seed_list = seed_list(config, seeds)?;
    // The seeds share the threads first (they are as long as each other),
    // then each seed's activations share what is left.
    let across_seeds = jobs.clamp(1, seeds.max(1));
    let per_seed = (jobs / across_seeds).max(1);
    let comparisons = crate::parallel::map_indexed(seeds, across_seeds, |k| {
        let mut seeded = config.clone();
        seeded.seed = seed_list[k];
        let data = load_for(&seeded)?;
        let seed = seeded.seed;
        let report = |run: &ActivationRun| on_done(seed, run);
        compare(&seeded, backend, &data, activations, per_seed, &report)
    })
    .into_iter()
    .collect::<anyhow::Result<Vec<Comparison>>>()?;
    let (rows, tests) = summarise(&comparisons, activations, metric, family);
    Ok(SeedsComparison {
        metric,
        seeds: seed_list,
        comparisons,
        rows,
        tests,
    })
}

/// The per-activation rows (then least squares) of comparisons over seeds,
/// and the paired tests of `family`.
pub fn summarise(
    comparisons: &[Comparison],
    activations: &[LayerActivations],
    metric: Metric,
    family: Family,
) -> (Vec<SeedsRow>, Vec<PairTest>) {
    let results: Vec<Vec<Option<SeedResult>>> = (0..activations.len())
        .map(|index| {
            comparisons
                .iter()
                .map(|c| SeedResult::of(&c.runs[index], metric))
                .collect()
        })
        .collect();
    let names: Vec<String> = activations.iter().map(|a| a.to_string()).collect();
    let reference = activations
        .iter()
        .position(|&a| a == LayerActivations::every(Activation::Identity))
        .unwrap_or(0);
    let mean_last = |index: usize| {
        let values: Vec<f64> = results[index].iter().flatten().map(|r| r.last).collect();
        MeanCi::of(&values).map(|m| m.mean)
    };
    let best = (0..activations.len())
        .filter_map(|index| mean_last(index).map(|mean| (index, mean)))
        .reduce(|kept, next| {
            if metric.better(next.1, kept.1) {
                next
            } else {
                kept
            }
        })
        .map(|(index, _)| index);
    let paired = |index: usize, other: usize| -> Option<Paired> {
        if index == other {
            return None;
        }
        let pairs: Vec<(f64, f64)> = results[index]
            .iter()
            .zip(&results[other])
            .filter_map(|(a, b)| Some((a.as_ref()?.last, b.as_ref()?.last)))
            .collect();
        let differences: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
        let wins = pairs.iter().filter(|(a, b)| metric.better(*a, *b)).count();
        Some(Paired {
            against: names[other].clone(),
            difference: MeanCi::of(&differences)?,
            win_rate: wins as f64 / pairs.len() as f64,
        })
    };
    let mut rows: Vec<SeedsRow> = (0..activations.len())
        .map(|index| {
            let finished: Vec<&SeedResult> = results[index].iter().flatten().collect();
            let of = |field: fn(&SeedResult) -> f64| {
                MeanCi::of(&finished.iter().map(|r| field(r)).collect::<Vec<_>>())
            };
            SeedsRow {
                name: names[index].clone(),
                diverged: results[index].len() - finished.len(),
                rose: comparisons
                    .iter()
                    .filter(|c| c.runs[index].row.rise.is_some())
                    .count(),
                last: of(|r| r.last),
                best: of(|r| r.best),
                best_epoch: of(|r| r.best_epoch as f64),
                vs_reference: paired(index, reference),
                vs_best: best.and_then(|best| paired(index, best)),
            }
        })
        .collect();
    let ols: Vec<f64> = comparisons
        .iter()
        .filter_map(|c| metric.of_row(&c.linear))
        .collect();
    rows.push(SeedsRow {
        name: comparisons
            .first()
            .map_or_else(String::new, |c| c.linear.name.clone()),
        diverged: 0,
        rose: 0,
        last: MeanCi::of(&ols),
        best: None,
        best_epoch: None,
        vs_reference: None,
        vs_best: None,
    });
    let tests = pair_tests(&results, &names, reference, family, metric);
    (rows, tests)
}

/// `mean ± half-width` with `decimals` decimals (accuracy as a percentage), or "-".
fn shown(value: Option<MeanCi>, metric_is_share: bool, decimals: usize) -> String {
    let Some(value) = value else {
        return "-".into();
    };
    let scale = if metric_is_share { 100.0 } else { 1.0 };
    let unit = if metric_is_share { "%" } else { "" };
    match value.half_width {
        Some(half) => format!(
            "{:.decimals$}{unit} ± {:.decimals$}",
            value.mean * scale,
            half * scale
        ),
        None => format!("{:.decimals$}{unit}", value.mean * scale),
    }
}

/// The summary table as text: means ± 95% CI half-widths over the seeds.
pub fn render_seeds_table(summary: &SeedsComparison) -> String {
    let share = summary.metric.higher_is_better();
    let decimals = if share { 1 } else { 4 };
    let mut out = format!(
        "{} seeds ({}..={}); {} per activation as mean ± 95% CI half-width (Student t); \
         differences are paired by seed\n",
        summary.seeds.len(),
        summary.seeds.first().copied().unwrap_or(0),
        summary.seeds.last().copied().unwrap_or(0),
        summary.metric.name()
    );
    let names =
        crate::experiments::compare::name_width(summary.rows.iter().map(|r| r.name.as_str()));
    out.push_str(&format!(
        "{:<names$} {:>5} {:>20} {:>20} {:>13} {:>30} {:>8} {:>30} {:>8}\n",
        "activation",
        "runs",
        "final",
        "best",
        "best epoch",
        "final - reference",
        "wins",
        "final - best",
        "wins"
    ));
    for row in &summary.rows {
        let runs = row.last.map_or(0, |m| m.n);
        let versus = |paired: &Option<Paired>| match paired {
            Some(p) => (
                format!(
                    "{} vs {}",
                    shown(Some(p.difference), share, decimals),
                    p.against
                ),
                percent(Some(p.win_rate), 0),
            ),
            None => ("-".into(), "-".into()),
        };
        let (reference, reference_wins) = versus(&row.vs_reference);
        let (best, best_wins) = versus(&row.vs_best);
        let mut diverged = if row.diverged > 0 {
            format!("  ({} diverged, left out)", row.diverged)
        } else {
            String::new()
        };
        if row.rose > 0 {
            diverged.push_str(&format!(
                "  ({} ended above their start loss: lr too high?)",
                row.rose
            ));
        }
        out.push_str(&format!(
            "{:<names$} {:>5} {:>20} {:>20} {:>13} {:>30} {:>8} {:>30} {:>8}{diverged}\n",
            row.name,
            runs,
            shown(row.last, share, decimals),
            shown(row.best, share, decimals),
            shown(row.best_epoch, false, 0),
            reference,
            reference_wins,
            best,
            best_wins,
        ));
    }
    out
}

/// The test columns of `summary.csv`, as [`test_cells`] writes them after
/// the seeds and the difference's mean and interval.
const TEST_COLUMNS: [&str; 8] = [
    "t_p",
    "t_p_holm",
    "wilcoxon_p",
    "wilcoxon_p_holm",
    "wins",
    "ties",
    "losses",
    "significant",
];

/// `summary.csv` of a multi-seed comparison: one row per activation.
pub fn seeds_summary_csv(summary: &SeedsComparison) -> anyhow::Result<Vec<u8>> {
    let metric = summary.metric.name();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["activation".to_string(), "runs".into(), "diverged".into()];
    for part in ["final", "best"] {
        for stat in ["mean", "std", "ci_low", "ci_high"] {
            header.push(format!("{part}_{metric}_{stat}"));
        }
    }
    header.extend([
        "best_epoch_mean".into(),
        "best_epoch_ci_low".into(),
        "best_epoch_ci_high".into(),
    ]);
    for versus in ["reference", "best"] {
        header.extend([
            format!("vs_{versus}"),
            format!("vs_{versus}_diff_mean"),
            format!("vs_{versus}_diff_ci_low"),
            format!("vs_{versus}_diff_ci_high"),
            format!("vs_{versus}_win_rate"),
        ]);
    }
    // The tests of each activation against the reference, adjusted over
    // the family asked for (every pair with --all-pairs: tests.csv has them).
    for test in TEST_COLUMNS {
        header.push(format!("vs_reference_{test}"));
    }
    writer.write_record(&header)?;
    for row in &summary.rows {
        let mut record = vec![
            row.name.clone(),
            row.last.map_or(0, |m| m.n).to_string(),
            row.diverged.to_string(),
        ];
        for value in [row.last, row.best] {
            record.extend(mean_ci_cells(value));
        }
        let epochs = row.best_epoch.and_then(|v| v.interval());
        record.extend([
            cell(row.best_epoch.map(|v| v.mean)),
            cell(epochs.map(|i| i.0)),
            cell(epochs.map(|i| i.1)),
        ]);
        for paired in [&row.vs_reference, &row.vs_best] {
            let interval = paired.as_ref().and_then(|p| p.difference.interval());
            record.extend([
                paired
                    .as_ref()
                    .map(|p| p.against.clone())
                    .unwrap_or_default(),
                cell(paired.as_ref().map(|p| p.difference.mean)),
                cell(interval.map(|i| i.0)),
                cell(interval.map(|i| i.1)),
                cell(paired.as_ref().map(|p| p.win_rate)),
            ]);
        }
        let against = row.vs_reference.as_ref().map(|p| p.against.as_str());
        match summary
            .tests
            .iter()
            .find(|t| t.this == row.name && Some(t.against.as_str()) == against)
        {
            // Seeds, mean and interval are the columns before.
            Some(test) => record.extend(test_cells(test, false).into_iter().skip(4)),
            None => record.extend(TEST_COLUMNS.map(|_| String::new())),
        }
        writer.write_record(&record)?;
    }
    Ok(writer.into_inner()?)
}

/// `seeds.csv`: one row per seed and activation (final, best, best epoch).
pub fn per_seed_csv(summary: &SeedsComparison) -> anyhow::Result<Vec<u8>> {
    let metric = summary.metric.name();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "seed".to_string(),
        "activation".into(),
        format!("final_{metric}"),
        format!("best_{metric}"),
        "best_epoch".into(),
        "diverged_epoch".into(),
    ])?;
    for (seed, comparison) in summary.seeds.iter().zip(&summary.comparisons) {
        for run in &comparison.runs {
            let result = SeedResult::of(run, summary.metric);
            writer.write_record([
                seed.to_string(),
                run.activation.to_string(),
                cell(result.map(|r| r.last)),
                cell(result.map(|r| r.best)),
                cell(result.map(|r| r.best_epoch)),
                cell(run.row.diverged_epoch),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_seed_range_is_checked_up_to_the_last() {
        assert!(check_seed_range(MAX_SEED - 2, 3).is_ok());
        assert_eq!(
            check_seed_range(MAX_SEED - 1, 3).unwrap_err().to_string(),
            "seeds 9223372036854775806 to 9223372036854775806 + 2 go past the largest seed, \
             9223372036854775807; choose a smaller --seed"
        );
        assert!(check_seed_range(u64::MAX, 2).is_err());
        assert!(check_seed_range(0, 0).is_ok());
    }

    fn record(epoch: usize, val_loss: f64) -> EpochRecord {
        EpochRecord {
            learned: Vec::new(),
            epoch,
            loss: val_loss,
            train_loss: None,
            val_loss: Some(val_loss),
            train_accuracy: None,
            val_accuracy: None,
            lr: None,
            regions: None,
            pieces_per_line: None,
            penalty: None,
            elapsed_s: 0.0,
            layers: Vec::new(),
        }
    }

    #[test]
    fn a_seed_result_keeps_the_last_and_the_best_epoch() {
        let records = [
            record(1, 3.0),
            record(2, 1.0),
            record(3, 2.0),
            record(4, 1.0),
        ];
        assert_eq!(
            SeedResult::from_records(&records, Metric::ValLoss),
            Some(SeedResult {
                last: 1.0,
                best: 1.0,
                best_epoch: 2
            })
        );
        assert_eq!(
            SeedResult::from_records(&records, Metric::ValAccuracy),
            None
        );
        assert!(Metric::ValLoss.better(1.0, 2.0));
        assert!(Metric::ValAccuracy.better(0.9, 0.8));
        assert!(!Metric::ValAccuracy.better(0.8, 0.8));
    }

    #[test]
    fn shown_values_carry_their_interval() {
        let value = MeanCi::of(&[0.5, 0.7]).unwrap();
        assert!(shown(Some(value), true, 1).starts_with("60.0% ± "));
        assert_eq!(shown(MeanCi::of(&[2.0]), false, 2), "2.00");
        assert_eq!(shown(None, false, 2), "-");
    }
}
