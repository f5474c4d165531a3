//! Colour scales of surfaces and heatmaps, and the colour bar that makes
//! every one of them readable.
//!
//! A class surface is drawn on the diverging map centred on the decision
//! level 0.5 and stretched to the surface's own range, so a nearly flat
//! network (an identity net on the circle spans 0.43-0.57) is still visibly
//! two-sided; the bar's labels say what the colours really mean.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{linear_ticks, tick_label};
use super::legend::{FONT_SIZE, text_width};
use super::palette::{class_shade, diverging, sequential};
use super::plot_error;

/// The decision level of a 0/1 output.
pub const DECISION_LEVEL: f64 = 0.5;
/// A class scale never spans less than this either side of 0.5 (a
/// constant surface still gets a scale).
const MIN_HALF_SPAN: f64 = 0.005;

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ColourScale {
    /// Classes: 0.5 white, `0.5 - half` class 0's red, `0.5 + half` class
    /// 1's blue; values beyond are clamped.
    Diverging {
        /// Half the span shown, at most 0.5 for probabilities.
        half: f64,
    },
    /// Numbers that are not classes: `low` dark, `high` light.
    Sequential {
        /// The value drawn darkest.
        low: f64,
        /// The value drawn lightest.
        high: f64,
    },
    /// Several classes: the probability of the class a point gets, from
    /// `1 / classes` (white: every class as likely) to 1 (the class's full
    /// colour); its bar has one column per class.
    Confidence {
        /// How many classes.
        classes: usize,
    },
}

impl ColourScale {
    /// The class scale stretched to `values` (their largest distance from 0.5).
    pub fn for_classes(values: &[f64]) -> Self {
        let half = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|v| (v - DECISION_LEVEL).abs())
            .fold(MIN_HALF_SPAN, f64::max);
        // Probabilities that reach (almost) 0 and 1 get the plain 0-1 scale.
        let half = if half > 0.49 { 0.5 } else { half };
        Self::Diverging { half }
    }

    /// The sequential scale over `values`' range.
    pub fn for_values(values: &[f64]) -> Self {
        let (low, high) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if low.is_finite() && high > low {
            Self::Sequential { low, high }
        } else if low.is_finite() {
            Self::Sequential {
                low: low - 0.5,
                high: low + 0.5,
            }
        } else {
            Self::Sequential {
                low: 0.0,
                high: 1.0,
            }
        }
    }

    /// The value range the scale shows, low to high.
    pub fn range(&self) -> (f64, f64) {
        match *self {
            Self::Diverging { half } => (DECISION_LEVEL - half, DECISION_LEVEL + half),
            Self::Sequential { low, high } => (low, high),
            Self::Confidence { classes } => (1.0 / classes as f64, 1.0),
        }
    }

    /// Where `value` falls on the scale, 0 to 1 (clamped).
    pub fn position(&self, value: f64) -> f64 {
        let (low, high) = self.range();
        ((value - low) / (high - low)).clamp(0.0, 1.0)
    }

    /// The colour of `value`.
    pub fn colour(&self, value: f64) -> RGBColor {
        match self {
            Self::Diverging { .. } => diverging(self.position(value)),
            Self::Sequential { .. } => sequential(self.position(value)),
            Self::Confidence { .. } => class_shade(0, self.position(value)),
        }
    }

    /// Whether a class scale is stretched beyond probabilities' full 0-1.
    pub fn is_stretched(&self) -> bool {
        matches!(*self, Self::Diverging { half } if half < 0.45)
    }
}

/// The values a colour bar labels: its two ends (rounded to 3 significant
/// digits) and the round values between them that are not too close to an
/// end.
fn bar_ticks(scale: &ColourScale) -> Vec<f64> {
    let (low, high) = scale.range();
    let round = |v: f64| format!("{v:.2e}").parse().unwrap_or(v);
    let gap = (high - low) * 0.12;
    let inner = linear_ticks(low, high, 5)
        .into_iter()
        .filter(|t| t - low > gap && high - t > gap);
    std::iter::once(round(low))
        .chain(inner)
        .chain(std::iter::once(round(high)))
        .collect()
}

/// Width a colour bar needs, its labels included.
pub fn bar_width(scale: &ColourScale) -> u32 {
    let widest = bar_ticks(scale)
        .iter()
        .map(|&t| text_width(&tick_label(t), FONT_SIZE))
        .max()
        .unwrap_or(30);
    24 + 8 + widest + 12
}

/// Draws a vertical colour bar in `area` from `top` to `bottom` (pixels),
/// with the values of its ticks; `shade` pales its colours as the surface
/// it explains is paled.
pub fn draw_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: &ColourScale,
    (top, bottom): (i32, i32),
    shade: impl Fn(RGBColor) -> RGBColor,
) -> anyhow::Result<()> {
    const STEPS: i32 = 64;
    let (x0, x1) = (8, 28);
    let height = (bottom - top).max(STEPS);
    let (low, high) = scale.range();
    // One column per class for several classes, else one.
    let columns = match *scale {
        ColourScale::Confidence { classes } => classes as i32,
        _ => 1,
    };
    for step in 0..STEPS {
        let y_high = bottom - height * step / STEPS;
        let y_low = bottom - height * (step + 1) / STEPS;
        let value = low + (high - low) * (f64::from(step) + 0.5) / f64::from(STEPS);
        for column in 0..columns {
            let colour = match *scale {
                ColourScale::Confidence { .. } => {
                    class_shade(column as usize, scale.position(value))
                }
                _ => scale.colour(value),
            };
            area.draw(&Rectangle::new(
                [
                    (x0 + (x1 - x0) * column / columns, y_low),
                    (x0 + (x1 - x0) * (column + 1) / columns, y_high),
                ],
                shade(colour).filled(),
            ))
            .map_err(plot_error)?;
        }
    }
    area.draw(&Rectangle::new(
        [(x0, bottom - height), (x1, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(plot_error)?;
    let font = ("sans-serif", FONT_SIZE).into_font().color(&BLACK);
    for tick in bar_ticks(scale) {
        let y = bottom - (f64::from(height) * scale.position(tick)).round() as i32;
        area.draw(&PathElement::new(
            [(x1, y), (x1 + 5, y)],
            BLACK.stroke_width(1),
        ))
        .map_err(plot_error)?;
        area.draw(&Text::new(
            tick_label(tick),
            (x1 + 8, y - FONT_SIZE as i32 / 2),
            font.clone(),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nearly_flat_class_surface_is_stretched_to_both_colours() {
        let scale = ColourScale::for_classes(&[0.434, 0.5, 0.566]);
        assert!(scale.is_stretched());
        let (low, high) = (scale.colour(0.434), scale.colour(0.566));
        assert_eq!(
            low,
            scale.colour(0.0),
            "0.434 is the map's red end: {low:?}"
        );
        assert_eq!(
            high,
            scale.colour(1.0),
            "0.566 is the map's blue end: {high:?}"
        );
        assert!(low.0 > 3 * u8::max(low.1, low.2), "red: {low:?}");
        assert!(high.2 > 2 * high.0, "blue: {high:?}");
        assert!((scale.position(0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_full_probability_surface_is_not_stretched() {
        let scale = ColourScale::for_classes(&[0.0, 0.3, 1.0]);
        assert_eq!(scale.range(), (0.0, 1.0));
        assert!(!scale.is_stretched());
    }

    #[test]
    fn a_value_scale_spans_the_values() {
        let scale = ColourScale::for_values(&[2.0, f64::NAN, 7.0]);
        assert_eq!(scale.range(), (2.0, 7.0));
        assert_eq!(ColourScale::for_values(&[3.0]).range(), (2.5, 3.5));
    }
}
