//! How much of a sweep's metric each axis (and each pair of axes) explains:
//! the share of the metric's variance over the done points.
//!
//! On a full grid (every combination done, each as often) the shares are an
//! exact ANOVA decomposition: main effects and two-way interactions, with
//! what is left (higher-order interactions, and noise when nothing repeats
//! a point) beside them. Random axes, or a grid with points missing, have no
//! balanced cells; there the stated estimator bins each numeric axis into
//! quantiles (on a log scale for log-uniform axes) and reports the
//! correlation ratio eta^2 of the bins (a pair: what its cells explain beyond
//! its two axes), which is not additive; and, as W&B's sweeps do, the
//! Spearman rank correlation of each numeric axis with the metric.

/// The bins a numeric random axis is cut into.
pub const BINS: usize = 4;

/// One axis as the estimator sees it.
pub struct Factor<'a> {
    /// Its key.
    pub key: &'a str,
    /// Each done point's value: a number, or a category.
    pub values: Vec<Level>,
    /// Whether it is drawn (numeric random axes are binned).
    pub random: bool,
    /// Whether its numbers spread over decades (binned and ranked on a log scale).
    pub log: bool,
}

/// One point's value on an axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Level {
    /// A number (a rate, a width).
    Number(f64),
    /// Anything else (an activation's name, a list).
    Category(String),
}

/// How the shares were computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Exact ANOVA on a full, balanced grid.
    Anova,
    /// Binned correlation ratios (random axes or missing points).
    Binned,
}

impl Method {
    /// What a table says about it.
    pub fn describe(self) -> &'static str {
        match self {
            Method::Anova => "exact ANOVA on the full grid: the shares add up to 100%",
            Method::Binned => {
                "estimated: eta^2 of each axis with its numbers cut into 4 quantile bins (log \
                 scale for log-uniform axes), a pair's cells beyond its two axes; not additive"
            }
        }
    }
}

/// One row of the importance table.
#[derive(Clone, Debug, PartialEq)]
pub struct Importance {
    /// One key, or two for an interaction.
    pub axes: Vec<String>,
    /// Share of the metric's variance, 0..1.
    pub share: f64,
    /// Spearman's rank correlation with the metric (numeric single axes).
    pub spearman: Option<f64>,
}

/// The table: rows by share, largest first, then what is left.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportanceTable {
    /// How the shares were computed.
    pub method: Method,
    /// Points the table is computed over.
    pub points: usize,
    /// Main effects and pairs, largest share first.
    pub rows: Vec<Importance>,
    /// ANOVA only: the share no main effect or pair explains.
    pub rest: Option<f64>,
}

/// The shares of `metric` (one per done point) explained by `factors`
/// (each holding the same points' values); `full_grid` when every
/// combination is done equally often. `None` with fewer than 3 points or
/// a constant metric.
pub fn importance(factors: &[Factor], metric: &[f64], full_grid: bool) -> Option<ImportanceTable> {
    let n = metric.len();
    let mean = metric.iter().sum::<f64>() / n as f64;
    let total: f64 = metric.iter().map(|m| (m - mean).powi(2)).sum();
    if n < 3 || total <= 0.0 || !total.is_finite() {
        return None;
    }
    let method = if full_grid && !factors.iter().any(|f| f.random) {
        Method::Anova
    } else {
        Method::Binned
    };
    let groups: Vec<Vec<usize>> = factors
        .iter()
        .map(|factor| group_ids(factor, method))
        .collect();
    let between = |ids: &[usize]| -> f64 {
        let groups = ids.iter().copied().max().map_or(0, |m| m + 1);
        let mut sums = vec![(0.0f64, 0usize); groups];
        for (&id, &m) in ids.iter().zip(metric) {
            sums[id].0 += m;
            sums[id].1 += 1;
        }
        sums.iter()
            .filter(|(_, count)| *count > 0)
            .map(|(sum, count)| *count as f64 * (sum / *count as f64 - mean).powi(2))
            .sum()
    };
    let mains: Vec<f64> = groups.iter().map(|ids| between(ids)).collect();
    let mut rows: Vec<Importance> = factors
        .iter()
        .zip(&mains)
        .map(|(factor, &ss)| Importance {
            axes: vec![factor.key.to_string()],
            share: ss / total,
            spearman: spearman(factor, metric),
        })
        .collect();
    for a in 0..factors.len() {
        for b in a + 1..factors.len() {
            let width = groups[b].iter().copied().max().unwrap_or(0) + 1;
            let cells: Vec<usize> = groups[a]
                .iter()
                .zip(&groups[b])
                .map(|(&x, &y)| x * width + y)
                .collect();
            // The cells' variance beyond both axes': the interaction (exact
            // on a balanced grid; clamped at 0 where unbalanced bins overlap).
            let ss = (between(&cells) - mains[a] - mains[b]).max(0.0);
            rows.push(Importance {
                axes: vec![factors[a].key.to_string(), factors[b].key.to_string()],
                share: ss / total,
                spearman: None,
            });
        }
    }
    let explained: f64 = rows.iter().map(|r| r.share).sum();
    rows.sort_by(|x, y| y.share.total_cmp(&x.share));
    Some(ImportanceTable {
        method,
        points: n,
        rows,
        rest: (method == Method::Anova).then(|| (1.0 - explained).max(0.0)),
    })
}

/// Each point's group on `factor`: its category, its exact value on a
/// grid, or its quantile bin for a numeric random axis.
fn group_ids(factor: &Factor, method: Method) -> Vec<usize> {
    let numeric: Option<Vec<f64>> = factor
        .values
        .iter()
        .map(|level| match level {
            Level::Number(v) => Some(if factor.log { v.ln() } else { *v }),
            Level::Category(_) => None,
        })
        .collect();
    match numeric {
        Some(values) if factor.random || method == Method::Binned && distinct(&values) > BINS => {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let edges: Vec<f64> = (1..BINS).map(|b| sorted[b * n / BINS]).collect();
            values
                .iter()
                .map(|v| edges.iter().filter(|&&edge| *v >= edge).count())
                .collect()
        }
        _ => {
            let mut seen: Vec<&Level> = Vec::new();
            factor
                .values
                .iter()
                .map(|level| match seen.iter().position(|s| *s == level) {
                    Some(id) => id,
                    None => {
                        seen.push(level);
                        seen.len() - 1
                    }
                })
                .collect()
        }
    }
}

fn distinct(values: &[f64]) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    sorted.len()
}

/// Spearman's rank correlation of a numeric axis with the metric (ties
/// share their mean rank); `None` for categories or a constant axis.
fn spearman(factor: &Factor, metric: &[f64]) -> Option<f64> {
    let values: Vec<f64> = factor
        .values
        .iter()
        .map(|level| match level {
            Level::Number(v) => Some(*v),
            Level::Category(_) => None,
        })
        .collect::<Option<_>>()?;
    let (x, y) = (ranks(&values), ranks(metric));
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for &index in &order[start..=end] {
            ranks[index] = rank;
        }
        start = end + 1;
    }
    ranks
}

/// The table as text.
pub fn render_importance(table: &ImportanceTable, metric: &str) -> String {
    let mut out = format!(
        "\nimportance: share of the final {metric}'s variance over {} done points ({})\n",
        table.points,
        table.method.describe()
    );
    let width = table
        .rows
        .iter()
        .map(|r| r.axes.join(" x ").len())
        .max()
        .unwrap_or(0)
        .max(30);
    out.push_str(&format!(
        "{:<width$} {:>7} {:>9}\n",
        "axis", "share", "spearman"
    ));
    for row in &table.rows {
        out.push_str(&format!(
            "{:<width$} {:>6.1}% {:>9}\n",
            row.axes.join(" x "),
            row.share * 100.0,
            row.spearman.map_or("-".into(), |r| format!("{r:+.2}"))
        ));
    }
    if let Some(rest) = table.rest {
        out.push_str(&format!(
            "{:<width$} {:>6.1}%\n",
            "rest (higher-order, noise)",
            rest * 100.0
        ));
    }
    out
}

/// `importance.csv`: one row per axis or pair (and the rest, for ANOVA).
pub fn importance_csv(table: &ImportanceTable) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["axis", "second_axis", "share", "spearman", "method"])?;
    let method = match table.method {
        Method::Anova => "anova",
        Method::Binned => "binned_eta_squared",
    };
    for row in &table.rows {
        writer.write_record([
            row.axes[0].clone(),
            row.axes.get(1).cloned().unwrap_or_default(),
            row.share.to_string(),
            row.spearman.map_or(String::new(), |r| r.to_string()),
            method.into(),
        ])?;
    }
    if let Some(rest) = table.rest {
        writer.write_record(["rest", "", &rest.to_string(), "", method])?;
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(values: &[f64]) -> Vec<Level> {
        values.iter().map(|&v| Level::Number(v)).collect()
    }

    #[test]
    fn anova_on_a_full_grid_splits_the_variance_exactly() {
        // 2 x 3 grid, metric = a-effect + b-effect + interaction, known sums
        // of squares: a = [0, 2] adds +-1; b = [1, 2, 3] adds -1, 0, +1;
        // the interaction adds +-0.5 on b's ends.
        let a_levels = [0.0, 2.0];
        let b_levels = [1.0, 2.0, 3.0];
        let (mut a, mut b, mut metric) = (Vec::new(), Vec::new(), Vec::new());
        for (i, &av) in a_levels.iter().enumerate() {
            for (j, &bv) in b_levels.iter().enumerate() {
                let sign = if i == 0 { -1.0 } else { 1.0 };
                let b_effect = j as f64 - 1.0;
                let interaction = sign * 0.5 * b_effect;
                a.push(av);
                b.push(bv);
                metric.push(10.0 + sign + b_effect + interaction);
            }
        }
        let factors = [
            Factor {
                key: "a",
                values: numbers(&a),
                random: false,
                log: false,
            },
            Factor {
                key: "b",
                values: numbers(&b),
                random: false,
                log: false,
            },
        ];
        let table = importance(&factors, &metric, true).unwrap();
        assert_eq!(table.method, Method::Anova);
        // SS_a = 6 * 1 = 6, SS_b = 2 * (1 + 0 + 1) = 4, SS_ab = 4 * 0.25 = 1.
        let share = |axes: &[&str]| {
            table
                .rows
                .iter()
                .find(|r| r.axes == axes)
                .map(|r| r.share)
                .unwrap()
        };
        assert!((share(&["a"]) - 6.0 / 11.0).abs() < 1e-12);
        assert!((share(&["b"]) - 4.0 / 11.0).abs() < 1e-12);
        assert!((share(&["a", "b"]) - 1.0 / 11.0).abs() < 1e-12);
        assert!(table.rest.unwrap().abs() < 1e-12);
        assert_eq!(table.rows[0].axes, ["a"], "largest first");
        let text = render_importance(&table, "val_loss");
        assert!(text.contains("a x b"), "{text}");
    }

    #[test]
    fn random_axes_are_binned_and_ranked() {
        // The metric rises with log(lr); the category does nothing.
        let lr: Vec<f64> = (0..40)
            .map(|i| 1e-4 * 10f64.powf(i as f64 / 13.0))
            .collect();
        let metric: Vec<f64> = lr.iter().map(|v| v.ln()).collect();
        let noise: Vec<Level> = (0..40)
            .map(|i| Level::Category(["x", "y"][i % 2].into()))
            .collect();
        let factors = [
            Factor {
                key: "training.lr",
                values: numbers(&lr),
                random: true,
                log: true,
            },
            Factor {
                key: "kind",
                values: noise,
                random: false,
                log: false,
            },
        ];
        let table = importance(&factors, &metric, false).unwrap();
        assert_eq!(table.method, Method::Binned);
        assert_eq!(table.rest, None);
        let lr_row = &table.rows[0];
        assert_eq!(lr_row.axes, ["training.lr"]);
        assert!(lr_row.share > 0.9, "{}", lr_row.share);
        assert!((lr_row.spearman.unwrap() - 1.0).abs() < 1e-12);
        let kind = table.rows.iter().find(|r| r.axes == ["kind"]).unwrap();
        assert!(kind.share < 0.05 && kind.spearman.is_none());
        assert!(importance(&factors, &[1.0; 40], false).is_none());
    }
}
