//! The paired tests of a comparison over seeds: which activations differ
//! from the reference (or from each other) by more than the seeds' spread,
//! each comparison's paired t-test and exact Wilcoxon test adjusted by Holm
//! over the comparisons made, and its wins/ties/losses.

use crate::experiments::seeds::SeedResult;
use crate::format::cell;
use crate::significance::{
    ALPHA, PairedTests, adjust, seeds_for_wilcoxon, shown_p, smallest_wilcoxon_p,
};
use crate::stats::MeanCi;
use crate::training::metric::Metric;

/// Which comparisons are made (and adjusted for together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Family {
    /// Every activation against the reference (identity, or the first listed).
    #[default]
    AgainstReference,
    /// Every pair of activations.
    AllPairs,
}

/// One comparison: `this` against `against` on the seeds both finished.
#[derive(Clone, Debug, PartialEq)]
pub struct PairTest {
    /// The activation tested.
    pub this: String,
    /// The one it is compared with.
    pub against: String,
    /// Mean and 95% CI of (this - against) in the final metric.
    pub difference: MeanCi,
    /// The tests, adjusted over the family.
    pub tests: PairedTests,
}

/// The family's comparisons of `results[activation][seed]` (the final
/// metric; `None` where a run diverged), adjusted by Holm over the family.
pub fn pair_tests(
    results: &[Vec<Option<SeedResult>>],
    names: &[String],
    reference: usize,
    family: Family,
    metric: Metric,
) -> Vec<PairTest> {
    let pairs: Vec<(usize, usize)> = match family {
        Family::AgainstReference => (0..names.len())
            .filter(|&i| i != reference)
            .map(|i| (i, reference))
            .collect(),
        // Later against earlier, but the reference always on the right, so
        // that its rows read as the default family's do.
        Family::AllPairs => (0..names.len())
            .flat_map(|j| (0..j).map(move |i| if j == reference { (i, j) } else { (j, i) }))
            .collect(),
    };
    let mut made: Vec<PairTest> = pairs
        .into_iter()
        .filter_map(|(this, against)| {
            let values: Vec<(f64, f64)> = results[this]
                .iter()
                .zip(&results[against])
                .filter_map(|(a, b)| Some((a.as_ref()?.last, b.as_ref()?.last)))
                .collect();
            let differences: Vec<f64> = values.iter().map(|(a, b)| a - b).collect();
            Some(PairTest {
                this: names[this].clone(),
                against: names[against].clone(),
                difference: MeanCi::of(&differences)?,
                tests: PairedTests::of(&values, |a, b| metric.better(a, b)),
            })
        })
        .collect();
    adjust(made.iter_mut().map(|pair| &mut pair.tests));
    made
}

/// The tests as text: one line per comparison, then which differences are
/// significant and whether the Wilcoxon test could be, with this many seeds.
pub fn render_tests(tests: &[PairTest], metric: Metric, seeds: usize) -> String {
    if tests.is_empty() {
        return String::new();
    }
    let share = metric.higher_is_better();
    let scale = if share { 100.0 } else { 1.0 };
    let decimals = if share { 1 } else { 4 };
    let m = tests.len();
    let mut out = format!(
        "\npaired tests of the final {}, two-sided, Holm-adjusted over the {m} comparison{}:\n",
        metric.name(),
        if m == 1 { "" } else { "s" }
    );
    let width = tests
        .iter()
        .map(|t| t.this.len() + t.against.len() + 4)
        .max()
        .unwrap_or(0)
        .max(20);
    out.push_str(&format!(
        "{:<width$} {:>5} {:>30} {:>9} {:>9} {:>10} {:>9} {:>8}\n",
        "comparison",
        "seeds",
        "difference [95% CI]",
        "t p",
        "t Holm",
        "Wilcoxon",
        "W Holm",
        "W/T/L"
    ));
    for test in tests {
        let difference = match test.difference.interval() {
            Some((low, high)) => format!(
                "{:+.decimals$} [{:+.decimals$}, {:+.decimals$}]",
                test.difference.mean * scale,
                low * scale,
                high * scale
            ),
            None => format!("{:+.decimals$}", test.difference.mean * scale),
        };
        out.push_str(&format!(
            "{:<width$} {:>5} {:>30} {:>9} {:>9} {:>10} {:>9} {:>8}\n",
            format!("{} vs {}", test.this, test.against),
            test.difference.n,
            difference,
            shown_p(test.tests.t_p),
            shown_p(test.tests.t_p_holm),
            shown_p(test.tests.wilcoxon_p),
            shown_p(test.tests.wilcoxon_p_holm),
            test.tests.record.shown(),
        ));
    }
    out.push_str(&significance_line(tests, metric));
    out.push_str(&wilcoxon_reach_line(m, seeds));
    out
}

/// Which differences the adjusted paired t-test calls significant.
fn significance_line(tests: &[PairTest], metric: Metric) -> String {
    let significant: Vec<String> = tests
        .iter()
        .filter(|t| t.tests.significant())
        .map(|t| {
            // The difference is this - against: better than 0 means better.
            let side = if metric.better(t.difference.mean, 0.0) {
                "better than"
            } else {
                "worse than"
            };
            format!(
                "{} {side} {} (p {})",
                t.this,
                t.against,
                shown_p(t.tests.t_p_holm)
            )
        })
        .collect();
    if significant.is_empty() {
        format!("no difference is significant at {ALPHA} after Holm's adjustment (paired t-test)\n")
    } else {
        format!(
            "significant at {ALPHA} after Holm's adjustment (paired t-test): {}\n",
            significant.join(", ")
        )
    }
}

/// Says when `seeds` are too few for the exact Wilcoxon test to reach
/// [`ALPHA`] after adjusting over `comparisons`, and how many would do.
fn wilcoxon_reach_line(comparisons: usize, seeds: usize) -> String {
    let smallest = smallest_wilcoxon_p(seeds);
    if comparisons as f64 * smallest < ALPHA {
        return String::new();
    }
    format!(
        "with {seeds} seeds the exact Wilcoxon test cannot reach {ALPHA} after Holm over \
         {comparisons} comparison{}: its smallest p is 2/2^{seeds} = {} ({} adjusted); \
         {} seeds would be needed\n",
        if comparisons == 1 { "" } else { "s" },
        shown_p(Some(smallest)),
        shown_p(Some((comparisons as f64 * smallest).min(1.0))),
        seeds_for_wilcoxon(comparisons, ALPHA)
    )
}

/// `tests.csv`: one row per comparison made.
pub fn tests_csv(tests: &[PairTest], metric: Metric) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let metric = metric.name();
    writer.write_record([
        "activation".to_string(),
        "against".into(),
        "seeds".into(),
        format!("diff_final_{metric}_mean"),
        "diff_ci_low".into(),
        "diff_ci_high".into(),
        "t_p".into(),
        "t_p_holm".into(),
        "wilcoxon_p".into(),
        "wilcoxon_p_holm".into(),
        "wins".into(),
        "ties".into(),
        "losses".into(),
        "significant".into(),
    ])?;
    for test in tests {
        writer.write_record(test_cells(test, true))?;
    }
    Ok(writer.into_inner()?)
}

/// The cells of one comparison (with its two names first when `named`).
pub fn test_cells(test: &PairTest, named: bool) -> Vec<String> {
    let interval = test.difference.interval();
    let t = &test.tests;
    let mut cells = Vec::new();
    if named {
        cells.extend([test.this.clone(), test.against.clone()]);
    }
    cells.extend([
        test.difference.n.to_string(),
        test.difference.mean.to_string(),
        cell(interval.map(|i| i.0)),
        cell(interval.map(|i| i.1)),
        cell(t.t_p),
        cell(t.t_p_holm),
        cell(t.wilcoxon_p),
        cell(t.wilcoxon_p_holm),
        t.record.wins.to_string(),
        t.record.ties.to_string(),
        t.record.losses.to_string(),
        t.significant().to_string(),
    ]);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds_of(values: &[f64]) -> Vec<Option<SeedResult>> {
        values
            .iter()
            .map(|&last| {
                Some(SeedResult {
                    last,
                    best: last,
                    best_epoch: 1,
                })
            })
            .collect()
    }

    #[test]
    fn families_pair_against_the_reference_or_every_pair_and_adjust_together() {
        let names: Vec<String> = ["identity", "relu", "tanh"].map(String::from).to_vec();
        let identity = seeds_of(&[0.5, 0.6, 0.55, 0.52, 0.58, 0.61]);
        let relu = seeds_of(&[0.1, 0.12, 0.11, 0.09, 0.13, 0.1]);
        let mut tanh = seeds_of(&[0.2, 0.19, 0.22, 0.18, 0.21, 0.2]);
        tanh[2] = None; // diverged: left out of its pairs
        let results = [identity, relu, tanh];
        let against = pair_tests(
            &results,
            &names,
            0,
            Family::AgainstReference,
            Metric::ValLoss,
        );
        let made: Vec<(&str, &str, usize)> = against
            .iter()
            .map(|t| (t.this.as_str(), t.against.as_str(), t.difference.n))
            .collect();
        assert_eq!(made, [("relu", "identity", 6), ("tanh", "identity", 5)]);
        // Lower loss on every seed: six wins, and significant after Holm.
        assert_eq!(against[0].tests.record.wins, 6);
        assert!(against[0].tests.significant());
        let raw: Vec<Option<f64>> = against.iter().map(|t| t.tests.t_p).collect();
        let adjusted: Vec<Option<f64>> = against.iter().map(|t| t.tests.t_p_holm).collect();
        assert_eq!(adjusted, crate::significance::holm(&raw));

        let all = pair_tests(&results, &names, 0, Family::AllPairs, Metric::ValLoss);
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[2].this.as_str(), all[2].against.as_str()),
            ("tanh", "relu")
        );
        // Three comparisons now: the same raw p, a larger adjustment.
        assert_eq!(all[0].tests.t_p, against[0].tests.t_p);
        assert!(all[0].tests.t_p_holm.unwrap() >= against[0].tests.t_p_holm.unwrap());

        let text = render_tests(&against, Metric::ValLoss, 6);
        assert!(
            text.contains("Holm-adjusted over the 2 comparisons"),
            "{text}"
        );
        assert!(text.contains("relu better than identity"), "{text}");
        assert!(text.contains("6/0/0"), "{text}");
        // Six seeds: the smallest Wilcoxon p is 1/32, 1/16 after Holm over two.
        assert!(text.contains("cannot reach 0.05"), "{text}");
        assert!(text.contains("7 seeds would be needed"), "{text}");
        assert!(!render_tests(&against, Metric::ValLoss, 10).contains("cannot reach"));
    }

    #[test]
    fn higher_is_better_metrics_say_better_for_a_positive_difference() {
        let names: Vec<String> = ["identity", "relu"].map(String::from).to_vec();
        let results = [
            seeds_of(&[0.80, 0.81, 0.79, 0.80, 0.82, 0.80, 0.81]),
            seeds_of(&[0.95, 0.96, 0.94, 0.97, 0.95, 0.96, 0.95]),
        ];
        let tests = pair_tests(
            &results,
            &names,
            0,
            Family::AgainstReference,
            Metric::ValAccuracy,
        );
        let text = render_tests(&tests, Metric::ValAccuracy, 7);
        assert!(text.contains("relu better than identity"), "{text}");
        assert!(text.contains("+15."), "differences in percent: {text}");
        let csv = String::from_utf8(tests_csv(&tests, Metric::ValAccuracy).unwrap()).unwrap();
        assert!(csv.starts_with("activation,against,seeds,diff_final_val_accuracy_mean"));
        assert!(
            csv.lines().nth(1).unwrap().ends_with(",7,0,0,true"),
            "{csv}"
        );
    }
}
