//! `train sweep report`: whatever points are done, merged into one row per
//! point (`sweep.csv`), a summary over the seed axis (`summary.csv`), how
//! much of the metric each axis explains (`importance.csv`), a
//! parallel-coordinates picture of every done point, and heatmaps of the
//! mean final metric over two axes.

use crate::experiments::importance::{Factor, ImportanceTable, Level, importance};
use crate::experiments::sweep::{Axis, Sweep, shown_value};
use crate::format::{cell, mean_ci_cells};
use crate::io::result::RunResult;
use crate::plot::heatmap::{Heatmap, heatmap_svg};
use crate::plot::parallel::{Column, Parallel, parallel_svg};
use crate::stats::MeanCi;
use crate::user_error;

/// The axis a summary averages over.
pub const SEED_AXIS: &str = "seed";

/// A sweep's plan and the results of its done points.
pub struct SweepReport<'a> {
    plan: &'a Sweep,
    /// One per point of the plan; `None` while a point is not done.
    results: Vec<Option<RunResult>>,
}

/// One group of points that differ only in their seed.
struct Group {
    /// The values of the other axes.
    values: Vec<String>,
    finished: Vec<f64>,
    best: Vec<f64>,
    diverged: usize,
    /// Finished runs whose training loss ended above 1.1x its start.
    rose: usize,
    missing: usize,
}

impl<'a> SweepReport<'a> {
    /// A report of `plan` with `results` (one per point, in order).
    pub fn new(plan: &'a Sweep, results: Vec<Option<RunResult>>) -> Self {
        Self { plan, results }
    }

    /// Points not done yet.
    pub fn missing(&self) -> usize {
        self.results.iter().filter(|r| r.is_none()).count()
    }

    /// The metric the points are judged by (that of the first done point).
    fn metric(&self) -> String {
        self.results
            .iter()
            .flatten()
            .map(|r| r.metric.clone())
            .next()
            .unwrap_or_else(|| "metric".into())
    }

    /// `sweep.csv`: one row per point.
    pub fn points_csv(&self) -> anyhow::Result<Vec<u8>> {
        let metric = self.metric();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["index".to_string(), "id".into()];
        header.extend(self.plan.axes.iter().map(|a| a.key.clone()));
        header.extend([
            "status".into(),
            format!("final_{metric}"),
            format!("best_{metric}"),
            "best_epoch".into(),
            "epochs".into(),
            "diverged_epoch".into(),
            "seconds".into(),
        ]);
        writer.write_record(&header)?;
        for (point, result) in self.plan.points.iter().zip(&self.results) {
            let mut row = vec![point.index.to_string(), point.id.clone()];
            row.extend(point.values.iter().map(shown_value));
            let status = match result {
                None => "missing",
                Some(r) if r.diverged_epoch.is_some() => "diverged",
                Some(_) => "done",
            };
            row.push(status.into());
            let r = result.as_ref();
            row.extend([
                cell(r.and_then(RunResult::final_metric)),
                cell(r.and_then(|r| r.best)),
                cell(r.and_then(|r| r.best_epoch)),
                cell(r.map(|r| r.epochs)),
                cell(r.and_then(|r| r.diverged_epoch)),
                cell(r.map(|r| format!("{:.3}", r.seconds))),
            ]);
            writer.write_record(&row)?;
        }
        Ok(writer.into_inner()?)
    }

    /// The groups of points that differ only in the seed axis.
    fn groups(&self) -> Vec<Group> {
        let kept: Vec<usize> = (0..self.plan.axes.len())
            .filter(|&i| self.plan.axes[i].key != SEED_AXIS)
            .collect();
        let mut groups: Vec<Group> = Vec::new();
        for (point, result) in self.plan.points.iter().zip(&self.results) {
            let values: Vec<String> = kept
                .iter()
                .map(|&i| shown_value(&point.values[i]))
                .collect();
            let index = match groups.iter().position(|g| g.values == values) {
                Some(index) => index,
                None => {
                    groups.push(Group {
                        values,
                        finished: Vec::new(),
                        best: Vec::new(),
                        diverged: 0,
                        rose: 0,
                        missing: 0,
                    });
                    groups.len() - 1
                }
            };
            let group = &mut groups[index];
            match result {
                None => group.missing += 1,
                Some(r) if r.diverged_epoch.is_some() => group.diverged += 1,
                Some(r) => {
                    group.finished.extend(r.final_metric());
                    group.best.extend(r.best);
                    group.rose += usize::from(r.rise.is_some());
                }
            }
        }
        groups
    }

    fn kept_axes(&self) -> Vec<String> {
        self.plan
            .axes
            .iter()
            .filter(|a| a.key != SEED_AXIS)
            .map(|a| a.key.clone())
            .collect()
    }

    /// `summary.csv`: per group, the mean and 95% CI over its seeds.
    pub fn summary_csv(&self) -> anyhow::Result<Vec<u8>> {
        let metric = self.metric();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = self.kept_axes();
        header.extend(["runs".into(), "diverged".into(), "missing".into()]);
        for part in ["final", "best"] {
            for stat in ["mean", "std", "ci_low", "ci_high"] {
                header.push(format!("{part}_{metric}_{stat}"));
            }
        }
        writer.write_record(&header)?;
        for group in self.groups() {
            let mut row = group.values.clone();
            row.extend([
                group.finished.len().to_string(),
                group.diverged.to_string(),
                group.missing.to_string(),
            ]);
            for values in [&group.finished, &group.best] {
                row.extend(mean_ci_cells(MeanCi::of(values)));
            }
            writer.write_record(&row)?;
        }
        Ok(writer.into_inner()?)
    }

    /// The summary as text.
    pub fn render(&self) -> String {
        let done = self.results.iter().flatten().count();
        let diverged = self
            .results
            .iter()
            .flatten()
            .filter(|r| r.diverged_epoch.is_some())
            .count();
        let mut out = format!(
            "{} points: {done} done ({diverged} diverged), {} missing\n",
            self.plan.points.len(),
            self.missing()
        );
        let axes = self.kept_axes();
        out.push_str(&format!(
            "{:<40} {:>5} {:>26}\n",
            axes.join(", "),
            "runs",
            format!("final {} (95% CI)", self.metric())
        ));
        for group in self.groups() {
            let summary = MeanCi::of(&group.finished);
            let shown = match summary {
                Some(s) => match s.half_width {
                    Some(half) => format!("{:.5} ± {half:.5}", s.mean),
                    None => format!("{:.5}", s.mean),
                },
                None => "-".into(),
            };
            let mut notes = String::new();
            if group.diverged > 0 {
                notes.push_str(&format!("  {} diverged", group.diverged));
            }
            if group.missing > 0 {
                notes.push_str(&format!("  {} missing", group.missing));
            }
            if group.rose > 0 {
                notes.push_str(&format!(
                    "  {} ended above their start loss (lr too high?)",
                    group.rose
                ));
            }
            out.push_str(&format!(
                "{:<40} {:>5} {:>26}{notes}\n",
                group.values.join(", "),
                group.finished.len(),
                shown
            ));
        }
        out
    }

    /// The done points that did not diverge: their indices and final metric.
    fn scored(&self) -> Vec<(usize, f64)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.as_ref()?.final_metric()?)))
            .filter(|(_, m)| m.is_finite())
            .collect()
    }

    /// How much of the final metric's variance each axis and pair explains
    /// (exact ANOVA when the whole grid is done, else the binned estimator).
    pub fn importance(&self) -> Option<ImportanceTable> {
        let scored = self.scored();
        let factors: Vec<Factor> = self
            .plan
            .axes
            .iter()
            .enumerate()
            // An axis of one value explains nothing.
            .filter(|(_, axis)| axis.is_random() || axis.values.len() > 1)
            .map(|(a, axis)| Factor {
                key: &axis.key,
                values: scored
                    .iter()
                    .map(|&(i, _)| level(&self.plan.points[i].values[a]))
                    .collect(),
                random: axis.is_random(),
                log: is_log(axis),
            })
            .collect();
        let metric: Vec<f64> = scored.iter().map(|&(_, m)| m).collect();
        importance(&factors, &metric, scored.len() == self.plan.points.len())
    }

    /// The metric's name, for tables.
    pub fn metric_name(&self) -> String {
        self.metric()
    }

    /// The parallel-coordinates picture of the done points; `None` before
    /// any is done.
    pub fn parallel_svg(&self, data_name: Option<&str>) -> anyhow::Result<Option<String>> {
        let scored = self.scored();
        if scored.is_empty() {
            return Ok(None);
        }
        let metric = self.metric();
        let values: Vec<f64> = scored.iter().map(|&(_, m)| m).collect();
        let mut columns: Vec<Column> = self
            .plan
            .axes
            .iter()
            .enumerate()
            .map(|(a, axis)| {
                let at: Vec<&toml::Value> = scored
                    .iter()
                    .map(|&(i, _)| &self.plan.points[i].values[a])
                    .collect();
                let numbers: Option<Vec<f64>> = at.iter().map(|v| number(v)).collect();
                match numbers {
                    Some(numbers) => Column::numbers(&axis.key, &numbers, is_log(axis)),
                    None => {
                        let shown: Vec<String> = at.iter().map(|v| shown_value(v)).collect();
                        let order: Vec<String> = match &axis.distribution {
                            Some(crate::experiments::sampling::Distribution::Choice(choices)) => {
                                choices.iter().map(shown_value).collect()
                            }
                            _ => axis.values.iter().map(shown_value).collect(),
                        };
                        Column::categories(&axis.key, &shown, &order, &values)
                    }
                }
            })
            .collect();
        let metric_label = format!("final {metric}");
        columns.push(Column::numbers(&metric_label, &values, false));
        let data = data_name.map_or_else(String::new, |name| format!("{name}: "));
        let svg = parallel_svg(&Parallel {
            title: format!(
                "{data}{} done points of {}, one line each, coloured by their final {metric}",
                scored.len(),
                self.plan.points.len()
            ),
            columns: &columns,
            metric: &values,
            metric_name: &metric_label,
            higher_is_better: metric.contains("accuracy"),
        })?;
        Ok(Some(svg))
    }

    /// Checks that `pair` names two different axes, `KEY1,KEY2`.
    pub fn check_heatmap(&self, pair: &str) -> anyhow::Result<(usize, usize)> {
        let keys: Vec<&str> = pair.split(',').map(str::trim).collect();
        let position = |key: &str| self.plan.axes.iter().position(|a| a.key == key);
        let known: Vec<&str> = self.plan.axes.iter().map(|a| a.key.as_str()).collect();
        match keys.as_slice() {
            [a, b] if a != b => match (position(a), position(b)) {
                (Some(x), Some(y)) => Ok((x, y)),
                _ => Err(user_error!(
                    "--heatmap {pair}: both keys must be axes of the sweep ({})",
                    known.join(", ")
                )),
            },
            _ => Err(user_error!(
                "--heatmap {pair}: expected two different axes, KEY1,KEY2 (axes: {})",
                known.join(", ")
            )),
        }
    }

    /// A heatmap of the mean final metric over two axes (averaged over the
    /// others): its file name and SVG text.
    pub fn heatmap_svg(
        &self,
        pair: &str,
        data_name: Option<&str>,
    ) -> anyhow::Result<(String, String)> {
        let (x_axis, y_axis) = self.check_heatmap(pair)?;
        let (xs, ys) = (&self.plan.axes[x_axis], &self.plan.axes[y_axis]);
        let mut cells = vec![Vec::new(); xs.values.len() * ys.values.len()];
        for (point, result) in self.plan.points.iter().zip(&self.results) {
            let Some(value) = result.as_ref().and_then(RunResult::final_metric) else {
                continue;
            };
            let i = xs.values.iter().position(|v| *v == point.values[x_axis]);
            let j = ys.values.iter().position(|v| *v == point.values[y_axis]);
            if let (Some(i), Some(j)) = (i, j) {
                cells[j * xs.values.len() + i].push(value);
            }
        }
        let means: Vec<Option<f64>> = cells
            .iter()
            .map(|c| MeanCi::of(c).map(|m| m.mean))
            .collect();
        let name = format!(
            "heatmap_{}_{}",
            xs.key.replace('.', "_"),
            ys.key.replace('.', "_")
        );
        let x_labels: Vec<String> = xs.values.iter().map(shown_value).collect();
        let y_labels: Vec<String> = ys.values.iter().map(shown_value).collect();
        let metric = format!("mean final {}", self.metric());
        let seeds = self
            .plan
            .axes
            .iter()
            .find(|axis| axis.key == SEED_AXIS)
            .map_or(1, |axis| axis.values.len());
        let data = data_name.map_or_else(String::new, |name| format!("{name}: "));
        let svg = heatmap_svg(&Heatmap {
            title: format!(
                "{data}{metric} over {seeds} seed{} by {} and {}",
                if seeds == 1 { "" } else { "s" },
                xs.key,
                ys.key
            ),
            x_name: &xs.key,
            y_name: &ys.key,
            x_labels: &x_labels,
            y_labels: &y_labels,
            cells: &means,
            metric: &metric,
        })?;
        Ok((name, svg))
    }
}

/// A value as the importance table sees it.
fn level(value: &toml::Value) -> Level {
    match number(value) {
        Some(v) => Level::Number(v),
        None => Level::Category(shown_value(value)),
    }
}

/// A number's value, or `None` for anything else.
fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// Whether an axis's numbers are read on a log scale: a log-uniform one, or
/// a list of positive numbers spanning a factor of 100 or more (rates).
fn is_log(axis: &Axis) -> bool {
    if let Some(distribution) = &axis.distribution {
        return distribution.is_log();
    }
    let numbers: Option<Vec<f64>> = axis.values.iter().map(number).collect();
    numbers.is_some_and(|n| {
        let (low, high) = n
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        low > 0.0 && high / low >= 100.0
    })
}
