//! Paired significance tests for comparisons over seeds: the paired t-test,
//! the exact Wilcoxon signed-rank test, Holm-Bonferroni's adjustment over the
//! comparisons made, and wins/ties/losses, as careful comparisons of
//! activation functions report them (checked against scipy and statsmodels,
//! `scripts/significance_reference.py`).

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::MeanCi;

/// The level differences are called significant at, after adjustment.
pub const ALPHA: f64 = 0.05;

/// Two-sided p-value of the paired t-test on `differences` (as scipy's
/// `ttest_rel(a, b)` on the pairs); `None` with fewer than two differences
/// or when they are all equal (no spread to test against).
pub fn paired_t_p(differences: &[f64]) -> Option<f64> {
    let summary = MeanCi::of(differences)?;
    let std = summary.std?;
    if std == 0.0 || !std.is_finite() {
        return None;
    }
    let n = differences.len() as f64;
    let t = summary.mean / (std / n.sqrt());
    let distribution = StudentsT::new(0.0, 1.0, n - 1.0).ok()?;
    Some((2.0 * distribution.sf(t.abs())).min(1.0))
}

/// Two-sided p-value of the exact Wilcoxon signed-rank test on `differences`:
/// zero differences are dropped, the others ranked by size (ties share the
/// mean rank), and the statistic's distribution over all 2^n sign flips of
/// those ranks counted exactly. Without ties this is scipy's `wilcoxon(d,
/// method="exact", zero_method="wilcox")`; with ties (accuracies often tie)
/// scipy's "exact" falls back on the untied distribution, and this equals its
/// exhaustive permutation test instead. `None` when no difference is non-zero.
pub fn wilcoxon_exact_p(differences: &[f64]) -> Option<f64> {
    let mut nonzero: Vec<f64> = differences.iter().copied().filter(|d| *d != 0.0).collect();
    if nonzero.is_empty() || nonzero.iter().any(|d| !d.is_finite()) {
        return None;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    // Ranks doubled, so that the mean rank of a tie is an integer.
    let mut doubled = vec![0usize; nonzero.len()];
    let mut start = 0;
    while start < nonzero.len() {
        let mut end = start;
        while end + 1 < nonzero.len() && nonzero[end + 1].abs() == nonzero[start].abs() {
            end += 1;
        }
        // Ranks start+1 ..= end+1; twice their mean is their sum of ends.
        doubled[start..=end].fill(start + end + 2);
        start = end + 1;
    }
    let positive: usize = nonzero
        .iter()
        .zip(&doubled)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total: usize = doubled.iter().sum();
    let statistic = positive.min(total - positive);
    // probability[s]: the chance that the doubled positive ranks sum to s
    // when every sign is a fair coin; built one rank at a time.
    let mut probability = vec![0.0f64; total + 1];
    probability[0] = 1.0;
    let mut reach = 0;
    for &rank in &doubled {
        for s in (0..=reach).rev() {
            let p = probability[s] / 2.0;
            probability[s] = p;
            probability[s + rank] += p;
        }
        reach += rank;
    }
    let tail: f64 = probability[..=statistic].iter().sum();
    Some((2.0 * tail).min(1.0))
}

/// The smallest two-sided p-value the exact Wilcoxon test can give on `n`
/// non-zero differences: every one on the same side, 2 / 2^n.
pub fn smallest_wilcoxon_p(n: usize) -> f64 {
    (2.0f64.powi(1 - n as i32)).min(1.0)
}

/// How many seeds the exact Wilcoxon test needs before its smallest p-value,
/// adjusted by Holm over `comparisons` tests (the smallest is multiplied by
/// their number), can fall below `alpha`.
pub fn seeds_for_wilcoxon(comparisons: usize, alpha: f64) -> usize {
    let comparisons = comparisons.max(1) as f64;
    (1..)
        .find(|&n| comparisons * smallest_wilcoxon_p(n) < alpha)
        .expect("2^(1-n) falls below any positive level")
}

/// Holm-Bonferroni's step-down adjustment (statsmodels' `multipletests(p,
/// method="holm")`): the k-th smallest of m p-values is multiplied by
/// m - k + 1, kept at least as large as the one before it, and capped at 1.
/// A test that could not be computed (`None`) still counts among the m
/// comparisons made, and stays `None`.
pub fn holm(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| p_values[i].unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    });
    let mut adjusted = vec![None; m];
    let mut running = 0.0f64;
    for (k, &index) in order.iter().enumerate() {
        if let Some(p) = p_values[index] {
            running = running.max(((m - k) as f64 * p).min(1.0));
            adjusted[index] = Some(running);
        }
    }
    adjusted
}

/// Wins, ties and losses of one side of paired results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Pairs where this side is strictly better.
    pub wins: usize,
    /// Pairs with equal values.
    pub ties: usize,
    /// Pairs where the other side is strictly better.
    pub losses: usize,
}

impl Record {
    /// Counts `pairs` (this, other) with `better(a, b)` saying whether a beats b.
    pub fn of(pairs: &[(f64, f64)], better: impl Fn(f64, f64) -> bool) -> Record {
        let mut record = Record::default();
        for &(this, other) in pairs {
            if better(this, other) {
                record.wins += 1;
            } else if better(other, this) {
                record.losses += 1;
            } else {
                record.ties += 1;
            }
        }
        record
    }

    /// `W/T/L`.
    pub fn shown(&self) -> String {
        format!("{}/{}/{}", self.wins, self.ties, self.losses)
    }
}

/// One comparison's tests, before and after adjustment.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedTests {
    /// Paired t-test, two-sided.
    pub t_p: Option<f64>,
    /// The same, adjusted by Holm over the comparisons made.
    pub t_p_holm: Option<f64>,
    /// Exact Wilcoxon signed-rank test, two-sided.
    pub wilcoxon_p: Option<f64>,
    /// The same, adjusted by Holm over the comparisons made.
    pub wilcoxon_p_holm: Option<f64>,
    /// Wins/ties/losses of the first side.
    pub record: Record,
}

impl PairedTests {
    /// The unadjusted tests of `pairs`; [`adjust`] fills in the adjusted ones.
    pub fn of(pairs: &[(f64, f64)], better: impl Fn(f64, f64) -> bool) -> PairedTests {
        let differences: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
        PairedTests {
            t_p: paired_t_p(&differences),
            t_p_holm: None,
            wilcoxon_p: wilcoxon_exact_p(&differences),
            wilcoxon_p_holm: None,
            record: Record::of(pairs, better),
        }
    }

    /// Whether the difference is significant at [`ALPHA`] by the adjusted t-test.
    pub fn significant(&self) -> bool {
        self.t_p_holm.is_some_and(|p| p < ALPHA)
    }
}

/// Adjusts every test in `family` by Holm over the family.
pub fn adjust<'a>(family: impl IntoIterator<Item = &'a mut PairedTests>) {
    let mut family: Vec<&mut PairedTests> = family.into_iter().collect();
    let t = holm(&family.iter().map(|f| f.t_p).collect::<Vec<_>>());
    let w = holm(&family.iter().map(|f| f.wilcoxon_p).collect::<Vec<_>>());
    for ((tests, t), w) in family.iter_mut().zip(t).zip(w) {
        tests.t_p_holm = t;
        tests.wilcoxon_p_holm = w;
    }
}

/// A p-value for a table: three significant digits, "-" when there is none.
pub fn shown_p(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 1e-4 => format!("{p:.1e}"),
        Some(p) => format!("{p:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of `tests/fixtures/paired_tests_scipy.csv`.
    struct Case {
        name: String,
        a: Vec<f64>,
        b: Vec<f64>,
        t_p: Option<f64>,
        wilcoxon_p: Option<f64>,
        t_holm: Option<f64>,
        wilcoxon_holm: Option<f64>,
    }

    fn cases() -> Vec<Case> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/paired_tests_scipy.csv");
        let numbers =
            |cell: &str| -> Vec<f64> { cell.split(';').map(|v| v.parse().unwrap()).collect() };
        let p = |cell: &str| -> Option<f64> { (!cell.is_empty()).then(|| cell.parse().unwrap()) };
        csv::Reader::from_path(path)
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                Case {
                    name: r[0].to_string(),
                    a: numbers(&r[1]),
                    b: numbers(&r[2]),
                    t_p: p(&r[3]),
                    wilcoxon_p: p(&r[4]),
                    t_holm: p(&r[5]),
                    wilcoxon_holm: p(&r[6]),
                }
            })
            .collect()
    }

    fn close(ours: Option<f64>, theirs: Option<f64>, what: &str) {
        match (ours, theirs) {
            (Some(o), Some(t)) => assert!(
                (o - t).abs() <= 1e-9 * t.abs().max(1e-300) + 1e-15,
                "{what}: ours {o}, scipy {t}"
            ),
            (o, t) => assert_eq!(o, t, "{what}"),
        }
    }

    #[test]
    fn tests_and_their_holm_adjustment_match_scipy_and_statsmodels() {
        let cases = cases();
        assert!(cases.len() >= 6, "the fixture has its cases");
        let mut family: Vec<PairedTests> = cases
            .iter()
            .map(|c| {
                let pairs: Vec<(f64, f64)> = c.a.iter().copied().zip(c.b.iter().copied()).collect();
                PairedTests::of(&pairs, |x, y| x < y)
            })
            .collect();
        adjust(family.iter_mut());
        for (case, ours) in cases.iter().zip(&family) {
            close(ours.t_p, case.t_p, &format!("{} t-test", case.name));
            close(
                ours.wilcoxon_p,
                case.wilcoxon_p,
                &format!("{} Wilcoxon", case.name),
            );
            close(ours.t_p_holm, case.t_holm, &format!("{} t Holm", case.name));
            close(
                ours.wilcoxon_p_holm,
                case.wilcoxon_holm,
                &format!("{} Wilcoxon Holm", case.name),
            );
        }
    }

    #[test]
    fn the_smallest_wilcoxon_p_sets_how_many_seeds_are_needed() {
        // Ten seeds all one way: 2 / 1024.
        assert!((smallest_wilcoxon_p(10) - 0.001_953_125).abs() < 1e-15);
        let all_better: Vec<f64> = (1..=10).map(|i| -(i as f64)).collect();
        assert_eq!(wilcoxon_exact_p(&all_better), Some(smallest_wilcoxon_p(10)));
        // One comparison: 2^(1-n) < 0.05 from n = 6 (0.03125).
        assert_eq!(seeds_for_wilcoxon(1, ALPHA), 6);
        // 25 comparisons: 25 * 2^(1-n) < 0.05 from n = 10 (0.049); 26 need 11.
        assert_eq!(seeds_for_wilcoxon(25, ALPHA), 10);
        assert_eq!(seeds_for_wilcoxon(26, ALPHA), 11);
    }

    #[test]
    fn holm_steps_down_keeps_order_and_counts_missing_tests() {
        let adjusted = holm(&[Some(0.01), Some(0.04), Some(0.03), None]);
        // m = 4: 0.01 * 4, then 0.03 * 3 = 0.09, then max(0.09, 0.04 * 2).
        let expect = [Some(0.04), Some(0.09), Some(0.09), None];
        for (a, e) in adjusted.iter().zip(expect) {
            close(*a, e, "holm");
        }
        assert_eq!(holm(&[Some(0.6), Some(0.7)]), vec![Some(1.0), Some(1.0)]);
    }

    #[test]
    fn wins_ties_and_losses_count_each_pair_once() {
        let record = Record::of(&[(1.0, 2.0), (2.0, 2.0), (3.0, 1.0), (0.5, 0.7)], |a, b| {
            a < b
        });
        assert_eq!(
            record,
            Record {
                wins: 2,
                ties: 1,
                losses: 1
            }
        );
        assert_eq!(record.shown(), "2/1/1");
        assert_eq!(paired_t_p(&[0.5, 0.5, 0.5]), None);
        assert_eq!(wilcoxon_exact_p(&[0.0, 0.0]), None);
    }
}
