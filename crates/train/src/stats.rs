//! Scores of a fit, in one place: what `eval` reports.

/// Mean squared error and coefficient of determination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Rows scored.
    pub rows: usize,
    /// Mean squared error.
    pub mse: f64,
    /// `1 - SSE / SST`; `None` when the targets are constant.
    pub r2: Option<f64>,
}

/// Scores `predictions` against `targets`.
pub fn score(predictions: &[f32], targets: &[f32]) -> Scores {
    let rows = targets.len();
    let mean = targets.iter().map(|&t| t as f64).sum::<f64>() / rows as f64;
    let sse: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(&p, &t)| (p as f64 - t as f64).powi(2))
        .sum();
    let sst: f64 = targets.iter().map(|&t| (t as f64 - mean).powi(2)).sum();
    Scores {
        rows,
        mse: sse / rows as f64,
        r2: (sst > 0.0).then(|| 1.0 - sse / sst),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_their_definitions() {
        let scores = score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0]);
        assert_eq!(scores.rows, 3);
        assert!((scores.mse - 4.0 / 3.0).abs() < 1e-12);
        // mean 8/3; SST = (25 + 4 + 49) / 9 = 78/9; R^2 = 1 - 4 / (78/9).
        assert!((scores.r2.unwrap() - (1.0 - 36.0 / 78.0)).abs() < 1e-12);
        assert_eq!(score(&[1.0, 2.0], &[3.0, 3.0]).r2, None);
    }
}
