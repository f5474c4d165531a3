//! Preparing a data set for training: the validation split and the
//! standardisation fitted on the training rows.

use serde::{Deserialize, Serialize};

use super::{Dataset, Split};
use crate::error::UserError;

/// Per-feature `(x - mean) * scale`, fitted on the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardizer {
    /// Mean of each feature over the training rows.
    pub mean: Vec<f64>,
    /// `1 / standard deviation` of each feature (1 for a constant feature).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits the mean and deviation of every feature of `data`.
    pub fn fit(data: &Dataset) -> Self {
        let (rows, features) = (data.rows() as f64, data.features);
        let mut mean = vec![0.0f64; features];
        for row in 0..data.rows() {
            for (m, &v) in mean.iter_mut().zip(data.row(row)) {
                *m += v as f64 / rows;
            }
        }
        let mut variance = vec![0.0f64; features];
        for row in 0..data.rows() {
            for ((s, &v), m) in variance.iter_mut().zip(data.row(row)).zip(&mean) {
                *s += (v as f64 - m).powi(2) / rows;
            }
        }
        let scale = variance
            .iter()
            .map(|s| if *s > 0.0 { 1.0 / s.sqrt() } else { 1.0 })
            .collect();
        Self { mean, scale }
    }

    /// Scales `data`'s features in place.
    pub fn apply(&self, data: &mut Dataset) {
        let features = data.features;
        for (index, value) in data.x.iter_mut().enumerate() {
            let column = index % features;
            *value = ((*value as f64 - self.mean[column]) * self.scale[column]) as f32;
        }
    }
}

/// Holds out the last `test` fraction of rows as the test part and the
/// `validation` fraction before them for validation (both fractions of all
/// rows; without a test part the validation rows are the last ones, as
/// before the test part existed).
pub fn split(data: Dataset, validation: f64, test: f64) -> Result<Split, UserError> {
    let rows = data.rows();
    let tested = (rows as f64 * test).round() as usize;
    let validated = (rows as f64 * validation).round() as usize;
    if tested + validated >= rows {
        let named = if test > 0.0 {
            format!("data.validation_fraction = {validation} with data.test_fraction = {test}")
        } else {
            format!("data.validation_fraction = {validation}")
        };
        return Err(UserError::new(format!(
            "{named} leaves no training rows out of {rows}"
        )));
    }
    let test_start = rows - tested;
    let cut = test_start - validated;
    Ok(Split {
        train: data.slice(0, cut),
        validation: (validated > 0).then(|| data.slice(cut, test_start)),
        test: (tested > 0).then(|| data.slice(test_start, rows)),
        standardizer: None,
        csv_header: None,
    })
}

/// Fits a [`Standardizer`] on the training rows and applies it to both
/// parts (a constant feature is only centred).
pub fn standardize(split: &mut Split) {
    let standardizer = Standardizer::fit(&split.train);
    standardizer.apply(&mut split.train);
    for held_out in [split.validation.as_mut(), split.test.as_mut()]
        .into_iter()
        .flatten()
    {
        standardizer.apply(held_out);
    }
    split.standardizer = Some(standardizer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::noise;

    #[test]
    fn split_holds_out_the_last_rows() {
        let data = noise(10, 2, 0);
        let split = split(data.clone(), 0.2, 0.0).unwrap();
        assert_eq!(split.train, data.slice(0, 8));
        assert_eq!(split.validation.unwrap(), data.slice(8, 10));
        assert_eq!(split.test, None);
        assert!(super::split(noise(1, 1, 0), 0.9, 0.0).is_err());
        // The test part is the very last rows, validation just before them.
        let three = super::split(data.clone(), 0.2, 0.3).unwrap();
        assert_eq!(three.train, data.slice(0, 5));
        assert_eq!(three.validation.unwrap(), data.slice(5, 7));
        assert_eq!(three.test.unwrap(), data.slice(7, 10));
        let error = super::split(data, 0.5, 0.5).unwrap_err().to_string();
        assert!(
            error.contains("data.test_fraction = 0.5 leaves no training rows"),
            "{error}"
        );
    }

    #[test]
    fn standardize_uses_training_statistics() {
        let mut split = split(noise(50, 3, 0), 0.2, 0.1).unwrap();
        let raw_test = split.test.clone().unwrap();
        standardize(&mut split);
        // The test rows are scaled with the training rows' statistics.
        let standardizer = split.standardizer.clone().unwrap();
        let mut expected = raw_test;
        standardizer.apply(&mut expected);
        assert_eq!(split.test.as_ref(), Some(&expected));
        assert_eq!(split.train.rows(), 35);
        for column in 0..3 {
            let values: Vec<f64> = (0..35).map(|r| split.train.row(r)[column] as f64).collect();
            let mean = values.iter().sum::<f64>() / 35.0;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 35.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        }
    }
}
