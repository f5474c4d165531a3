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

/// Holds out the last `fraction` of rows for validation.
pub fn split(data: Dataset, fraction: f64) -> Result<Split, UserError> {
    let rows = data.rows();
    let held_out = (rows as f64 * fraction).round() as usize;
    if held_out == 0 {
        return Ok(Split {
            train: data,
            validation: None,
            standardizer: None,
        });
    }
    if held_out >= rows {
        return Err(UserError::new(format!(
            "data.validation_fraction = {fraction} leaves no training rows out of {rows}"
        )));
    }
    let cut = rows - held_out;
    Ok(Split {
        train: data.slice(0, cut),
        validation: Some(data.slice(cut, rows)),
        standardizer: None,
    })
}

/// Fits a [`Standardizer`] on the training rows and applies it to both
/// parts (a constant feature is only centred).
pub fn standardize(split: &mut Split) {
    let standardizer = Standardizer::fit(&split.train);
    standardizer.apply(&mut split.train);
    if let Some(validation) = split.validation.as_mut() {
        standardizer.apply(validation);
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
        let split = split(data.clone(), 0.2).unwrap();
        assert_eq!(split.train, data.slice(0, 8));
        assert_eq!(split.validation.unwrap(), data.slice(8, 10));
        assert!(super::split(noise(1, 1, 0), 0.9).is_err());
    }

    #[test]
    fn standardize_uses_training_statistics() {
        let mut split = split(noise(50, 3, 0), 0.2).unwrap();
        standardize(&mut split);
        for column in 0..3 {
            let values: Vec<f64> = (0..40).map(|r| split.train.row(r)[column] as f64).collect();
            let mean = values.iter().sum::<f64>() / 40.0;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        }
    }
}
