//! Random search in sweeps: an axis may be a distribution instead of a list
//! (`"training.lr" = { log_uniform = [1e-4, 1e-1] }`), drawn `samples`
//! times. Each draw comes from its own generator, seeded by the sweep's
//! `sample_seed`, the axis's key and the draw's number, so a draw never
//! moves when another axis is added, `samples` grows, or a shard or a rerun
//! builds the plan again.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a random axis draws from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// `exp(uniform(ln low, ln high))`: rates and other scales.
    LogUniform { low: f64, high: f64 },
    /// Uniform between `low` and `high`.
    Uniform { low: f64, high: f64 },
    /// A whole number from `low` to `high`, both included.
    IntUniform { low: i64, high: i64 },
    /// One of the values, each as likely.
    Choice(Vec<toml::Value>),
}

/// The significant digits a drawn float keeps: enough to tell draws apart,
/// few enough to read in a table and to write the same everywhere.
const DIGITS: usize = 4;

impl Distribution {
    /// Reads `{ log_uniform = [low, high] }` and its kin; the error says
    /// what is wrong without naming the axis (the caller does).
    pub fn parse(table: &toml::Table) -> Result<Distribution, String> {
        let known = "one of log_uniform = [low, high], uniform = [low, high], \
                     int_uniform = [low, high], choice = [values]";
        let mut entries = table.iter();
        let (Some((kind, value)), None) = (entries.next(), entries.next()) else {
            return Err(format!("a distribution is a table with one key, {known}"));
        };
        let pair = |value: &toml::Value| -> Result<(f64, f64), String> {
            let number = |v: &toml::Value| match v {
                toml::Value::Float(f) => Some(*f),
                toml::Value::Integer(i) => Some(*i as f64),
                _ => None,
            };
            match value.as_array().map(Vec::as_slice) {
                Some([low, high]) => match (number(low), number(high)) {
                    (Some(low), Some(high))
                        if low.is_finite() && high.is_finite() && low < high =>
                    {
                        Ok((low, high))
                    }
                    _ => Err(format!(
                        "{kind} needs two finite numbers, low < high (got {value})"
                    )),
                },
                _ => Err(format!("{kind} needs [low, high] (got {value})")),
            }
        };
        match kind.as_str() {
            "log_uniform" => {
                let (low, high) = pair(value)?;
                if low <= 0.0 {
                    return Err(format!("log_uniform needs low > 0 (got {value})"));
                }
                Ok(Distribution::LogUniform { low, high })
            }
            "uniform" => {
                let (low, high) = pair(value)?;
                Ok(Distribution::Uniform { low, high })
            }
            "int_uniform" => match value.as_array().map(Vec::as_slice) {
                Some([toml::Value::Integer(low), toml::Value::Integer(high)]) if low < high => {
                    Ok(Distribution::IntUniform {
                        low: *low,
                        high: *high,
                    })
                }
                _ => Err(format!(
                    "int_uniform needs two whole numbers, low < high (got {value})"
                )),
            },
            "choice" => match value.as_array() {
                Some(values) if values.len() >= 2 => Ok(Distribution::Choice(values.clone())),
                _ => Err(format!(
                    "choice needs a list of at least two values (got {value})"
                )),
            },
            other => Err(format!("unknown distribution `{other}`: {known}")),
        }
    }

    /// Draw number `draw` of the axis `key` in a sweep seeded `seed`.
    pub fn draw(&self, seed: u64, key: &str, draw: usize) -> toml::Value {
        let digest = Sha256::digest(format!("{seed}/{key}/{draw}").as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&digest);
        let mut rng = ChaCha8Rng::from_seed(bytes);
        match self {
            Distribution::LogUniform { low, high } => {
                let u: f64 = rng.random();
                toml::Value::Float(rounded((low.ln() + u * (high.ln() - low.ln())).exp()))
            }
            Distribution::Uniform { low, high } => {
                let u: f64 = rng.random();
                toml::Value::Float(rounded(low + u * (high - low)))
            }
            Distribution::IntUniform { low, high } => {
                toml::Value::Integer(rng.random_range(*low..=*high))
            }
            Distribution::Choice(values) => values[rng.random_range(0..values.len())].clone(),
        }
    }

    /// Whether values spread over decades: drawn on a log scale.
    pub fn is_log(&self) -> bool {
        matches!(self, Distribution::LogUniform { .. })
    }

    /// As a sweep file writes it.
    pub fn shown(&self) -> String {
        match self {
            Distribution::LogUniform { low, high } => format!("log_uniform [{low}, {high}]"),
            Distribution::Uniform { low, high } => format!("uniform [{low}, {high}]"),
            Distribution::IntUniform { low, high } => format!("int_uniform [{low}, {high}]"),
            Distribution::Choice(values) => {
                let shown: Vec<String> = values.iter().map(ToString::to_string).collect();
                format!("choice [{}]", shown.join(", "))
            }
        }
    }
}

/// `value` to [`DIGITS`] significant digits.
fn rounded(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    format!("{value:.*e}", DIGITS - 1)
        .parse()
        .expect("a formatted float parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Distribution, String> {
        let table: toml::Table = toml::from_str(&format!("d = {text}")).unwrap();
        Distribution::parse(table["d"].as_table().unwrap())
    }

    #[test]
    fn distributions_parse_and_refuse_bad_bounds() {
        assert_eq!(
            parse("{ log_uniform = [1e-4, 0.1] }"),
            Ok(Distribution::LogUniform {
                low: 1e-4,
                high: 0.1
            })
        );
        assert_eq!(
            parse("{ int_uniform = [1, 4] }"),
            Ok(Distribution::IntUniform { low: 1, high: 4 })
        );
        for bad in [
            "{ log_uniform = [0, 1] }",
            "{ uniform = [2, 1] }",
            "{ int_uniform = [1.5, 3] }",
            "{ choice = [1] }",
            "{ normal = [0, 1] }",
            "{ uniform = [0, 1], choice = [1, 2] }",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn draws_stay_in_range_and_never_move() {
        let lr = parse("{ log_uniform = [1e-4, 1e-1] }").unwrap();
        let draws: Vec<f64> = (0..200)
            .map(|k| lr.draw(7, "training.lr", k).as_float().unwrap())
            .collect();
        assert!(draws.iter().all(|&v| (1e-4..=1e-1).contains(&v)));
        // Log-uniform: about a third of the draws in each decade.
        let below = draws.iter().filter(|&&v| v < 1e-3).count();
        assert!((40..=95).contains(&below), "{below} of 200 below 1e-3");
        // Rounded to four significant digits.
        assert!(
            draws
                .iter()
                .all(|&v| format!("{v:e}").len() <= "1.234e-4".len())
        );
        // The same draw from the same seed, key and number; another key, another draw.
        assert_eq!(lr.draw(7, "training.lr", 3), lr.draw(7, "training.lr", 3));
        assert_ne!(
            lr.draw(7, "training.lr", 3),
            lr.draw(7, "optimizer.beta1", 3)
        );
        assert_ne!(lr.draw(7, "training.lr", 3), lr.draw(8, "training.lr", 3));
        let width = parse("{ int_uniform = [1, 3] }").unwrap();
        let mut seen = [false; 3];
        for k in 0..50 {
            let v = width.draw(0, "w", k).as_integer().unwrap();
            seen[(v - 1) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
    }
}
