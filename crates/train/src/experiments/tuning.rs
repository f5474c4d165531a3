//! `compare --tune`: a fair comparison. Each activation gets the value of
//! the tuned keys (usually `training.lr`) with the best mean validation
//! metric over a few tuning seeds; then fresh seeds train every activation
//! with its own chosen values and are scored on the test rows, which neither
//! tuning nor early stopping ever saw. Comparing at one shared rate mostly
//! measures which activation suits that rate.

use model::LayerActivations;

use crate::backend::Backend;
use crate::config::RunConfig;
use crate::error::UserError;
use crate::experiments::compare::{ActivationRun, Comparison};
use crate::experiments::ensemble::compare_seeds_batched;
use crate::experiments::seed_tests::Family;
use crate::experiments::seeds::{Scoring, SeedResult, SeedsComparison, compare_seeds, summarise};
use crate::experiments::sweep::shown_value;
use crate::format::cell;
use crate::stats::MeanCi;
use crate::training::metric::Metric;

/// One `--tune KEY=V1,V2,...`: a config key and the values tried.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneAxis {
    /// The dotted key, as in a config file.
    pub key: String,
    /// The values, in the order given.
    pub values: Vec<toml::Value>,
}

impl std::str::FromStr for TuneAxis {
    type Err = String;

    /// `KEY=V1,V2,...`; each value is TOML (`0.01`, `true`, `[8, 8]`), or
    /// a bare word taken as a string (`adam`). Commas inside brackets belong
    /// to the value.
    fn from_str(text: &str) -> Result<Self, String> {
        let (key, list) = text.split_once('=').ok_or_else(|| {
            format!("`{text}` is not KEY=V1,V2,... (e.g. training.lr=0.001,0.01)")
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("`{text}` names no key before `=`"));
        }
        let mut values = Vec::new();
        let (mut depth, mut start) = (0i32, 0usize);
        let mut pieces = Vec::new();
        for (index, c) in list.char_indices() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    pieces.push(&list[start..index]);
                    start = index + 1;
                }
                _ => {}
            }
        }
        pieces.push(&list[start..]);
        for piece in pieces {
            let piece = piece.trim();
            if piece.is_empty() {
                return Err(format!("`{text}` has an empty value"));
            }
            let value = toml::from_str::<toml::Table>(&format!("v = {piece}"))
                .ok()
                .and_then(|mut table| table.remove("v"))
                .unwrap_or_else(|| toml::Value::String(piece.to_string()));
            if values.contains(&value) {
                return Err(format!("`{text}` lists {piece} twice"));
            }
            values.push(value);
        }
        Ok(TuneAxis {
            key: key.to_string(),
            values,
        })
    }
}

/// One combination of the tuned values (one per axis).
pub type Assignment = Vec<(String, toml::Value)>;

/// Every combination of `axes`' values, the last axis fastest.
pub fn grid(axes: &[TuneAxis]) -> Vec<Assignment> {
    axes.iter().fold(vec![Vec::new()], |grid, axis| {
        grid.iter()
            .flat_map(|partial| {
                axis.values.iter().map(move |value| {
                    let mut next = partial.clone();
                    next.push((axis.key.clone(), value.clone()));
                    next
                })
            })
            .collect()
    })
}

/// `a = 1, b = x` for messages and tables.
pub fn shown_assignment(assignment: &Assignment) -> String {
    let parts: Vec<String> = assignment
        .iter()
        .map(|(key, value)| format!("{key}={}", shown_value(value)))
        .collect();
    parts.join(", ")
}

/// The config with `assignment`'s values, validated; the error names the
/// `--tune` value at fault.
pub fn tuned_config(config: &RunConfig, assignment: &Assignment) -> Result<RunConfig, UserError> {
    let blame = |key: &str, message: &str| {
        let value = assignment
            .iter()
            .find(|(axis, _)| axis == key)
            .map_or_else(String::new, |(_, value)| {
                format!(" value {}", shown_value(value))
            });
        UserError::new(format!("--tune {key}{value}: {message}"))
    };
    let tuned = config
        .with_values(assignment)
        .map_err(|(key, message)| blame(&key, &message))?;
    tuned
        .validate()
        .map_err(|error| blame(error.key, &error.message))?;
    Ok(tuned)
}

/// The keys `--tune` may vary, as its error lists them: how a network is
/// trained and shaped. Not the precision (one float type per comparison),
/// the loss (what every score is measured in), the input and output sizes
/// (the data's), nor what only records (diagnostics, checkpoints, regions).
const TUNABLE: &str = "training.lr, training.epochs, training.batch_size, training.clip_grad_norm, \
                       training.l1, training.l2, training.schedule.*, training.early_stop.*, \
                       model.hidden, model.init, optimizer.*";

/// Whether `--tune` may vary `key` (one of [`TUNABLE`]).
fn is_tunable(key: &str) -> bool {
    const EXACT: [&str; 8] = [
        "training.lr",
        "training.epochs",
        "training.batch_size",
        "training.clip_grad_norm",
        "training.l1",
        "training.l2",
        "model.hidden",
        "model.init",
    ];
    const PREFIXES: [&str; 3] = ["training.schedule.", "training.early_stop.", "optimizer."];
    EXACT.contains(&key) || PREFIXES.iter().any(|prefix| key.starts_with(prefix))
}

/// Refuses what `--tune` cannot make fair: keys that change the data (each
/// activation would be scored on other rows), the seed, the activation
/// itself; and a config without the validation rows tuning watches or the
/// test rows the result is scored on.
pub fn check_tuning(config: &RunConfig, axes: &[TuneAxis]) -> Result<(), UserError> {
    for axis in axes {
        let key = axis.key.as_str();
        if key.starts_with("data.") || key == "seed" || key == "model.activation" {
            return Err(UserError::new(format!(
                "--tune {key}: tuning may not change the data, the seed or the activation (every \
                 activation is scored on the same rows); tune training, optimizer or model keys"
            )));
        }
        if !is_tunable(key) {
            return Err(UserError::new(format!(
                "--tune {key}: not a key tuning can vary (every run of a comparison shares it); \
                 tunable: {TUNABLE}"
            )));
        }
        if axes.iter().filter(|other| other.key == axis.key).count() > 1 {
            return Err(UserError::new(format!(
                "--tune {key} is given twice; list all its values in one --tune"
            )));
        }
    }
    if config.data.validation_fraction <= 0.0 {
        return Err(UserError::new(
            "--tune chooses each activation's values on validation rows: set \
             data.validation_fraction > 0 (and data.test_fraction > 0 for the final score)",
        ));
    }
    if config.data.test_fraction <= 0.0 {
        return Err(UserError::new(
            "--tune scores the chosen values on rows tuning never saw: set data.test_fraction > 0",
        ));
    }
    Ok(())
}

/// One activation's mean validation metric at one grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct GridScore {
    /// Index into the grid.
    pub point: usize,
    /// Mean and CI over the tuning seeds that finished; `None` if all diverged.
    pub score: Option<MeanCi>,
    /// Tuning seeds that diverged.
    pub diverged: usize,
    /// The mean validation loss over the same seeds: it breaks ties of an
    /// accuracy (80 validation rows tie often).
    pub loss: Option<f64>,
}

/// What tuning chose for one activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The activation.
    pub activation: LayerActivations,
    /// Its score at every grid point, in grid order.
    pub scores: Vec<GridScore>,
    /// The grid point chosen (the best mean); `None` if every point diverged.
    pub chosen: Option<usize>,
    /// The second best point, when there is one.
    pub runner_up: Option<usize>,
}

/// A tuned comparison: the grid, what each activation chose, and the
/// final comparison on fresh seeds scored on the test rows.
pub struct Tuned {
    /// The tuned combinations.
    pub grid: Vec<Assignment>,
    /// What tuning watched (a validation metric).
    pub tuning_metric: Metric,
    /// The tuning seeds.
    pub tuning_seeds: Vec<u64>,
    /// One per activation, in the order asked for.
    pub choices: Vec<Choice>,
    /// The final comparison (metric: the test rows').
    pub summary: SeedsComparison,
}

/// What `compare --tune` does: the values tried, the seeds, the threads.
#[derive(Clone, Copy, Debug)]
pub struct TunePlan<'a> {
    /// The keys tuned and their values (a grid when several).
    pub axes: &'a [TuneAxis],
    /// Seeds per combination while tuning (the config's seed onwards).
    pub tuning_seeds: usize,
    /// Fresh seeds for the final comparison (after the tuning ones).
    pub seeds: usize,
    /// Activations trained at the same time.
    pub jobs: usize,
    /// Which pairs the final comparison tests.
    pub family: Family,
    /// Each activation's seeds trained as one batched model.
    pub batched: bool,
}

/// Tunes `plan.axes` per activation over `plan.tuning_seeds` seeds (the config's seed
/// onwards), then trains `seeds` fresh seeds (after the tuning ones) with
/// each activation's chosen values and compares them on the test rows.
pub fn compare_tuned(
    config: &RunConfig,
    backend: &Backend,
    activations: &[LayerActivations],
    plan: &TunePlan,
    on_point: &(dyn Fn(&Assignment, &SeedsComparison) + Sync),
    on_done: &(dyn Fn(u64, &ActivationRun) + Sync),
) -> anyhow::Result<Tuned> {
    let TunePlan {
        axes,
        tuning_seeds,
        seeds,
        jobs,
        family,
        batched,
    } = *plan;
    // Every seed, tuning and fresh, is checked before the first trains.
    crate::experiments::seeds::check_seed_range(
        config.seed,
        (tuning_seeds as u64).saturating_add(seeds as u64),
    )?;
    let over_seeds = |config: &RunConfig,
                      activations: &[LayerActivations],
                      seeds: usize,
                      scoring: Scoring,
                      on_done: &(dyn Fn(u64, &ActivationRun) + Sync)| {
        if batched {
            compare_seeds_batched(config, backend, activations, seeds, scoring, on_done)
        } else {
            compare_seeds(config, backend, activations, seeds, jobs, scoring, on_done)
        }
    };
    check_tuning(config, axes)?;
    let grid = grid(axes);
    let configs = grid
        .iter()
        .map(|assignment| tuned_config(config, assignment))
        .collect::<Result<Vec<_>, _>>()?;
    let tuning_metric = Metric::for_config(config);
    let quiet = |_: u64, _: &ActivationRun| {};
    let mut per_point = Vec::with_capacity(grid.len());
    for (assignment, tuned) in grid.iter().zip(&configs) {
        let tuning = over_seeds(
            tuned,
            activations,
            tuning_seeds,
            Scoring {
                metric: tuning_metric,
                family,
            },
            &quiet,
        )?;
        on_point(assignment, &tuning);
        per_point.push(tuning);
    }
    let tuning_seeds_list = per_point[0].seeds.clone();
    let choices: Vec<Choice> = activations
        .iter()
        .enumerate()
        .map(|(index, &activation)| {
            let scores: Vec<GridScore> = per_point
                .iter()
                .enumerate()
                .map(|(point, tuning)| {
                    let row = &tuning.rows[index];
                    let losses: Vec<f64> = tuning
                        .comparisons
                        .iter()
                        .filter_map(|c| SeedResult::of(&c.runs[index], Metric::ValLoss))
                        .map(|r| r.last)
                        .collect();
                    GridScore {
                        point,
                        score: row.last,
                        diverged: row.diverged,
                        loss: MeanCi::of(&losses).map(|m| m.mean),
                    }
                })
                .collect();
            let ranked = rank(&scores, tuning_metric);
            Choice {
                activation,
                scores,
                chosen: ranked.first().copied(),
                runner_up: ranked.get(1).copied(),
            }
        })
        .collect();
    // Fresh seeds: after the tuning ones.
    let mut fresh = config.clone();
    fresh.seed = config.seed + tuning_seeds as u64;
    let mut per_activation: Vec<SeedsComparison> = Vec::with_capacity(activations.len());
    for choice in &choices {
        let mut chosen = match choice.chosen {
            Some(point) => configs[point].clone(),
            None => config.clone(),
        };
        chosen.seed = fresh.seed;
        per_activation.push(over_seeds(
            &chosen,
            &[choice.activation],
            seeds,
            Scoring {
                metric: Metric::for_comparison(config),
                family: Family::AgainstReference,
            },
            on_done,
        )?);
    }
    // Seed by seed, every activation's run side by side, as one comparison
    // would hold them (the data, and so the linear row, are the same).
    let comparisons: Vec<Comparison> = (0..seeds)
        .map(|k| Comparison {
            runs: per_activation
                .iter()
                .map(|one| one.comparisons[k].runs[0].clone())
                .collect(),
            linear: per_activation[0].comparisons[k].linear.clone(),
            note: per_activation[0].comparisons[k].note.clone(),
        })
        .collect();
    let metric = Metric::for_comparison(config);
    let (rows, tests) = summarise(&comparisons, activations, metric, family);
    Ok(Tuned {
        grid,
        tuning_metric,
        tuning_seeds: tuning_seeds_list,
        choices,
        summary: SeedsComparison {
            metric,
            seeds: per_activation[0].seeds.clone(),
            comparisons,
            rows,
            tests,
        },
    })
}

/// The grid points with a score, best first: by the mean metric, a tie
/// by the lower mean validation loss, then by the value listed first.
pub fn rank(scores: &[GridScore], metric: Metric) -> Vec<usize> {
    let mut ranked: Vec<(usize, f64, f64)> = scores
        .iter()
        .filter_map(|s| Some((s.point, s.score?.mean, s.loss.unwrap_or(f64::INFINITY))))
        .collect();
    ranked.sort_by(|a, b| {
        if metric.better(a.1, b.1) {
            std::cmp::Ordering::Less
        } else if metric.better(b.1, a.1) {
            std::cmp::Ordering::Greater
        } else {
            a.2.total_cmp(&b.2).then(a.0.cmp(&b.0))
        }
    });
    ranked.into_iter().map(|r| r.0).collect()
}

/// `mean` as the metric is shown: a percentage for accuracy.
fn shown_metric(metric: Metric, value: f64) -> String {
    if metric.higher_is_better() {
        format!("{:.1}%", value * 100.0)
    } else {
        format!("{value:.4}")
    }
}

/// What tuning chose, as text: one line per activation with the chosen
/// values, their mean validation metric, and the runner-up's.
pub fn render_choices(tuned: &Tuned) -> String {
    let metric = tuned.tuning_metric;
    let tie = if metric.higher_is_better() {
        " (ties: the lower mean val_loss)"
    } else {
        ""
    };
    let mut out = format!(
        "tuned per activation over {} seeds ({}..={}): the best mean {}{tie} of {} combination{}\n",
        tuned.tuning_seeds.len(),
        tuned.tuning_seeds.first().copied().unwrap_or(0),
        tuned.tuning_seeds.last().copied().unwrap_or(0),
        metric.name(),
        tuned.grid.len(),
        if tuned.grid.len() == 1 { "" } else { "s" }
    );
    let names = crate::experiments::compare::name_width(
        tuned
            .choices
            .iter()
            .map(|c| c.activation.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let chosen_width = tuned
        .grid
        .iter()
        .map(|a| shown_assignment(a).len())
        .max()
        .unwrap_or(0)
        .max(6);
    out.push_str(&format!(
        "{:<names$} {:<chosen_width$} {:>10}   runner-up\n",
        "activation", "chosen", "mean"
    ));
    for choice in &tuned.choices {
        let score = |point: usize| choice.scores[point].score.map(|s| s.mean);
        let Some(chosen) = choice.chosen else {
            out.push_str(&format!(
                "{:<names$} every combination diverged; trained with the config's values\n",
                choice.activation.to_string()
            ));
            continue;
        };
        let best = score(chosen).expect("a chosen point has a score");
        let runner_up = match choice.runner_up {
            Some(point) => {
                let value = score(point).expect("a ranked point has a score");
                let gap = (value - best).abs();
                format!(
                    "{} ({}, {} behind)",
                    shown_assignment(&tuned.grid[point]),
                    shown_metric(metric, value),
                    if metric.higher_is_better() {
                        format!("{:.1} points", gap * 100.0)
                    } else {
                        format!("{gap:.4}")
                    }
                )
            }
            None => "-".into(),
        };
        out.push_str(&format!(
            "{:<names$} {:<chosen_width$} {:>10}   {runner_up}\n",
            choice.activation.to_string(),
            shown_assignment(&tuned.grid[chosen]),
            shown_metric(metric, best),
        ));
    }
    out
}

/// `tuning.csv`: one row per activation and combination, with its mean
/// validation metric over the tuning seeds and whether it was chosen.
pub fn tuning_csv(tuned: &Tuned) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let metric = tuned.tuning_metric.name();
    let keys: Vec<String> = tuned
        .grid
        .first()
        .map(|a| a.iter().map(|(key, _)| key.clone()).collect())
        .unwrap_or_default();
    let mut header = vec!["activation".to_string()];
    header.extend(keys.iter().cloned());
    header.extend([
        "runs".into(),
        "diverged".into(),
        format!("{metric}_mean"),
        format!("{metric}_ci_low"),
        format!("{metric}_ci_high"),
        "chosen".into(),
    ]);
    writer.write_record(&header)?;
    for choice in &tuned.choices {
        for score in &choice.scores {
            let mut record = vec![choice.activation.to_string()];
            record.extend(tuned.grid[score.point].iter().map(|(_, v)| shown_value(v)));
            let interval = score.score.and_then(|s| s.interval());
            record.extend([
                score.score.map_or(0, |s| s.n).to_string(),
                score.diverged.to_string(),
                cell(score.score.map(|s| s.mean)),
                cell(interval.map(|i| i.0)),
                cell(interval.map(|i| i.1)),
                (choice.chosen == Some(score.point)).to_string(),
            ]);
            writer.write_record(&record)?;
        }
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tune_axes_parse_toml_values_and_bare_words() {
        let axis: TuneAxis = "training.lr=0.001, 0.01,1e-1".parse().unwrap();
        assert_eq!(axis.key, "training.lr");
        assert_eq!(
            axis.values,
            [0.001, 0.01, 0.1].map(toml::Value::Float).to_vec()
        );
        let hidden: TuneAxis = "model.hidden=[8, 8],[16]".parse().unwrap();
        assert_eq!(hidden.values.len(), 2);
        let kind: TuneAxis = "optimizer.kind=adam,sgd".parse().unwrap();
        assert_eq!(kind.values[1], toml::Value::String("sgd".into()));
        for bad in [
            "training.lr",
            "=1,2",
            "training.lr=1,,2",
            "training.lr=0.1,0.1",
        ] {
            assert!(bad.parse::<TuneAxis>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ranking_breaks_an_accuracy_tie_by_the_validation_loss() {
        let score = |point: usize, accuracy: f64, loss: Option<f64>| GridScore {
            point,
            score: MeanCi::of(&[accuracy]),
            diverged: 0,
            loss,
        };
        let scores = [
            score(0, 0.9, Some(0.30)),
            score(1, 0.95, Some(0.25)),
            score(2, 0.95, Some(0.20)),
            GridScore {
                point: 3,
                score: None,
                diverged: 3,
                loss: None,
            },
        ];
        assert_eq!(rank(&scores, Metric::ValAccuracy), [2, 1, 0]);
        assert_eq!(rank(&scores, Metric::ValLoss), [0, 2, 1]);
    }

    #[test]
    fn the_grid_is_every_combination_last_axis_fastest() {
        let axes: Vec<TuneAxis> = ["training.lr=0.1,0.01", "training.batch_size=5,10,20"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let grid = grid(&axes);
        assert_eq!(grid.len(), 6);
        assert_eq!(
            shown_assignment(&grid[1]),
            "training.lr=0.1, training.batch_size=10"
        );
        assert_eq!(
            shown_assignment(&grid[5]),
            "training.lr=0.01, training.batch_size=20"
        );
    }

    #[test]
    fn tuning_refuses_what_would_make_it_unfair() {
        let mut config = RunConfig::default();
        let lr: Vec<TuneAxis> = vec!["training.lr=0.1,0.01".parse().unwrap()];
        let error = check_tuning(&config, &lr).unwrap_err().to_string();
        assert!(error.contains("data.validation_fraction > 0"), "{error}");
        config.data.validation_fraction = 0.2;
        let error = check_tuning(&config, &lr).unwrap_err().to_string();
        assert!(error.contains("data.test_fraction > 0"), "{error}");
        config.data.test_fraction = 0.2;
        assert!(check_tuning(&config, &lr).is_ok());
        let data: Vec<TuneAxis> = vec!["data.noise_std=0.1,0.2".parse().unwrap()];
        assert!(check_tuning(&config, &data).is_err());
        let precision: Vec<TuneAxis> = vec!["training.precision=float64,float32".parse().unwrap()];
        let error = check_tuning(&config, &precision).unwrap_err().to_string();
        assert!(
            error.starts_with("--tune training.precision: not a key tuning can vary")
                && error.ends_with(
                    "tunable: training.lr, training.epochs, training.batch_size, \
                     training.clip_grad_norm, training.l1, training.l2, training.schedule.*, \
                     training.early_stop.*, model.hidden, model.init, optimizer.*"
                ),
            "{error}"
        );
        for key in ["training.loss", "model.output", "training.diagnostics"] {
            let axis: Vec<TuneAxis> = vec![format!("{key}=1,2").parse().unwrap()];
            assert!(check_tuning(&config, &axis).is_err(), "{key}");
        }
        let fine: Vec<TuneAxis> = vec!["optimizer.weight_decay=0.1,0.01".parse().unwrap()];
        assert!(check_tuning(&config, &fine).is_ok());
        let twice: Vec<TuneAxis> = vec![lr[0].clone(), "training.lr=1".parse().unwrap()];
        assert!(
            check_tuning(&config, &twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let bad = tuned_config(&config, &grid(&["training.lr=-1".parse().unwrap()])[0]);
        assert!(
            bad.unwrap_err()
                .to_string()
                .starts_with("--tune training.lr value -1: "),
        );
    }
}
