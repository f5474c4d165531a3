//! Where an axis puts its ticks and how it labels them: 1-2-5 steps on
//! linear axes, whole numbers for counts such as epochs, and on log axes
//! enough ticks that at least three labels fall inside the data's range,
//! each written as a plain number (0.05, 2, 40) wherever one fits.

/// About this many labels on a linear axis.
pub const LINEAR_TICKS: usize = 6;
/// At most this many labels on a log axis (more decades are thinned).
const MAX_LOG_TICKS: usize = 10;
/// Fewest labels a log axis shows inside the data's range.
pub const MIN_LOG_TICKS: usize = 3;

/// The 1-2-5 step that puts closest to `target` ticks over `span`.
fn nice_step(span: f64, target: usize) -> f64 {
    let target = target.max(1) as f64;
    let magnitude = 10f64.powf((span / target).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .min_by(|a, b| {
            let miss = |step: f64| (span / step - target).abs();
            miss(*a).total_cmp(&miss(*b))
        })
        .unwrap_or(magnitude)
}

/// Ticks at multiples of `step` inside `[low, high]`, computed as
/// `k * step` so they carry no accumulated rounding.
fn multiples(low: f64, high: f64, step: f64) -> Vec<f64> {
    let first = (low / step - 1e-9).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| round_to_significant(k as f64 * step, 12))
        .collect()
}

/// Ticks of a linear axis over `[low, high]`: about `target` of them at a
/// 1-2-5 step.
pub fn linear_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low];
    }
    multiples(low, high, nice_step(high - low, target))
}

/// Ticks of an axis that counts (epochs, units): whole numbers at a 1-2-5
/// step, never a fraction.
pub fn integer_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low.round()];
    }
    multiples(low, high, nice_step(high - low, target).max(1.0))
}

/// Ticks of a log axis over `[low, high]` (both > 0): decades when they
/// give at least [`MIN_LOG_TICKS`] labels in range, else 1-2-5 in each
/// decade, else 1..9, else (a range narrower than a factor of about 2)
/// linear 1-2-5 ticks inside the range.
pub fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    log_ticks_on(low, high, (low, high))
}

/// As [`log_ticks`] for data in `[low, high]`, listing the ticks of the
/// chosen step over the whole axis `shown` (the data's range plus its
/// padding), so a value just outside the data, such as 2 under a curve
/// that ends at 2.02, is labelled too.
pub fn log_ticks_on(low: f64, high: f64, shown: (f64, f64)) -> Vec<f64> {
    if !(low > 0.0 && high > low && high.is_finite()) {
        return vec![low];
    }
    let (shown_low, shown_high) = (shown.0.min(low), shown.1.max(high));
    let at_steps = |mantissas: &[f64], (from, to): (f64, f64)| -> Vec<f64> {
        let (first, last) = (from.log10().floor() as i32, to.log10().ceil() as i32);
        (first..=last)
            .flat_map(|decade| {
                mantissas
                    .iter()
                    .map(move |m| round_to_significant(m * 10f64.powi(decade), 12))
            })
            .filter(|v| *v >= from * (1.0 - 1e-9) && *v <= to * (1.0 + 1e-9))
            .collect()
    };
    let steps: [&[f64]; 3] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    for mantissas in steps {
        if at_steps(mantissas, (low, high)).len() >= MIN_LOG_TICKS {
            return thin(at_steps(mantissas, (shown_low, shown_high)), MAX_LOG_TICKS);
        }
    }
    linear_ticks(low, high, 4)
}

/// Every n-th tick, so that at most `max` remain.
fn thin(ticks: Vec<f64>, max: usize) -> Vec<f64> {
    let every = ticks.len().div_ceil(max);
    ticks.into_iter().step_by(every.max(1)).collect()
}

/// `value` rounded to `digits` significant digits.
fn round_to_significant(value: f64, digits: usize) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    format!("{value:.*e}", digits.saturating_sub(1))
        .parse()
        .unwrap_or(value)
}

/// A tick label: a plain number where one fits (`0.05`, `2`, `40`,
/// `12000`), `e`-notation only for very small or very large values
/// (`1e-6`, `2.5e7`), never padded (`1.000e1`).
pub fn tick_label(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let rounded = round_to_significant(value, 6);
    let magnitude = rounded.abs();
    if (1e-4..1e7).contains(&magnitude) {
        return rounded.to_string();
    }
    let text = format!("{rounded:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => format!("{mantissa}e{exponent}"),
        None => text,
    }
}

/// A linear coordinate over `[low, high]` whose ticks are exactly `ticks`
/// (plotters would choose its own, and its key-point wrapper gives up
/// the label formatter).
#[derive(Clone, Debug)]
pub struct Ticked {
    low: f64,
    high: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// The coordinate from `low` to `high`, ticked at `ticks`.
    pub fn new(low: f64, high: f64, ticks: Vec<f64>) -> Self {
        Self { low, high, ticks }
    }
}

impl plotters::coord::ranged1d::Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        if self.high == self.low {
            return (limit.0 + limit.1) / 2;
        }
        let share = (value - self.low) / (self.high - self.low);
        let share = if share.is_finite() {
            share.clamp(-10.0, 10.0)
        } else {
            0.0
        };
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.low..self.high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[f64]) -> Vec<String> {
        ticks.iter().map(|&v| tick_label(v)).collect()
    }

    #[test]
    fn a_log_axis_over_2_to_40_labels_at_least_three_plain_numbers_inside() {
        let ticks = log_ticks(2.3, 38.0);
        assert!(ticks.len() >= MIN_LOG_TICKS, "{ticks:?}");
        assert!(
            ticks.iter().all(|&t| (2.3..=38.0).contains(&t)),
            "{ticks:?}"
        );
        assert_eq!(labels(&ticks), ["5", "10", "20"]);
    }

    #[test]
    fn a_log_axis_over_many_decades_labels_decades_and_thins_them() {
        assert_eq!(
            labels(&log_ticks(0.0008, 12.0)),
            ["0.001", "0.01", "0.1", "1", "10"]
        );
        let wide = log_ticks(1e-12, 1e6);
        assert!(
            wide.len() <= MAX_LOG_TICKS && wide.len() >= MIN_LOG_TICKS,
            "{wide:?}"
        );
    }

    #[test]
    fn a_padded_log_axis_labels_the_round_value_just_below_the_data() {
        let ticks = log_ticks_on(2.02, 205.0, (1.6, 260.0));
        assert_eq!(labels(&ticks), ["2", "5", "10", "20", "50", "100", "200"]);
    }

    #[test]
    fn a_narrow_log_axis_still_gets_three_labels_inside() {
        for (low, high) in [(0.043, 0.061), (2.0, 2.6), (26.0, 27.6), (0.9, 1.1)] {
            let ticks = log_ticks(low, high);
            let inside = ticks.iter().filter(|&&t| (low..=high).contains(&t)).count();
            assert!(inside >= MIN_LOG_TICKS, "{low}..{high}: {ticks:?}");
        }
    }

    #[test]
    fn epoch_ticks_are_whole_numbers_and_cover_the_run() {
        assert_eq!(
            labels(&integer_ticks(1.0, 150.0, 6)),
            ["20", "40", "60", "80", "100", "120", "140"]
        );
        assert_eq!(labels(&integer_ticks(1.0, 3.0, 6)), ["1", "2", "3"]);
        for t in integer_ticks(1.0, 7.0, 6) {
            assert_eq!(t, t.round());
        }
    }

    #[test]
    fn labels_are_plain_numbers_where_they_fit() {
        assert_eq!(tick_label(10.0), "10");
        assert_eq!(tick_label(0.05), "0.05");
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
        assert_eq!(tick_label(40.0), "40");
        assert_eq!(tick_label(12000.0), "12000");
        assert_eq!(tick_label(-0.25), "-0.25");
        assert_eq!(tick_label(1e-6), "1e-6");
        assert_eq!(tick_label(2.5e8), "2.5e8");
        for t in linear_ticks(-6.0, 6.0, 6) {
            assert!(!tick_label(t).contains('e'), "{t}");
        }
    }
}
