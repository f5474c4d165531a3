//! How optional numbers look in the text tables ("-" when absent) and in the
//! CSV files (an empty cell), in one place.

use std::fmt::Display;

/// `value` with `decimals` decimals, or "-".
pub fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |value| format!("{value:.decimals$}"))
}

/// A share as a percentage with `decimals` decimals, or "-".
pub fn percent(share: Option<f64>, decimals: usize) -> String {
    share.map_or_else(
        || "-".into(),
        |share| format!("{:.decimals$}%", share * 100.0),
    )
}

/// `value` in scientific notation with `decimals` decimals, or "-".
pub fn scientific(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".into(), |value| format!("{value:.decimals$e}"))
}

/// `value` as a CSV cell: its full precision, or empty.
pub fn cell<T: Display>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A mean with its 95% interval as four CSV cells: mean, standard
/// deviation, interval low, interval high (empty where absent).
pub fn mean_ci_cells(value: Option<crate::stats::MeanCi>) -> [String; 4] {
    let interval = value.and_then(|v| v.interval());
    [
        cell(value.map(|v| v.mean)),
        cell(value.and_then(|v| v.std)),
        cell(interval.map(|i| i.0)),
        cell(interval.map(|i| i.1)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_numbers_are_a_dash_in_tables_and_empty_in_csv() {
        assert_eq!(fixed(Some(0.12345), 3), "0.123");
        assert_eq!(percent(Some(0.125), 1), "12.5%");
        assert_eq!(scientific(Some(12345.0), 2), "1.23e4");
        assert_eq!(fixed(None, 3), "-");
        assert_eq!(percent(None, 0), "-");
        assert_eq!(cell(Some(150)), "150");
        assert_eq!(cell::<f64>(None), "");
    }
}
