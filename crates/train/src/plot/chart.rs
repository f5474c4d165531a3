//! Line charts (loss and accuracy per epoch, an activation's curve): the
//! axes ticked by [`super::axis`], reference lines drawn under the runs so
//! a run that reaches them stays visible, the legend in a column beside the
//! plot.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{LINEAR_TICKS, Ticked, integer_ticks, linear_ticks, log_ticks_on, tick_label};
use super::legend::{self, Entry};
use super::palette::{REFERENCE, run_colour};
use super::plot_error;

/// Title text size of a panel.
pub const TITLE_SIZE: u32 = 18;
/// Axis label and tick text size.
pub const LABEL_SIZE: u32 = 14;

/// One named line of `(x, y)` points, with an optional shaded band.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Legend label (none when empty).
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)` in x order, drawn as a translucent band under the
    /// line (e.g. a 95% confidence interval over seeds); empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Its colour; by default the run palette's colour of its position.
    pub colour: Option<RGBColor>,
}

/// A horizontal dashed line, e.g. the best linear fit.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Legend label.
    pub name: String,
    /// Its y value.
    pub value: f64,
}

/// What to draw.
pub struct LineChart<'a> {
    /// Title above the plot.
    pub title: String,
    /// x axis label.
    pub x_label: &'a str,
    /// y axis label.
    pub y_label: &'a str,
    /// Log-scale y axis (values must be > 0; others are left out).
    pub log_y: bool,
    /// The x axis counts (epochs): whole-number ticks only.
    pub whole_x: bool,
    /// A fixed y range (e.g. 0 to 1 for shares), else the data's.
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub series: &'a [Series],
    /// Dashed horizontal lines.
    pub references: &'a [Reference],
}

impl Series {
    fn colour_at(&self, index: usize) -> RGBColor {
        self.colour.unwrap_or_else(|| run_colour(index))
    }
}

/// The smallest and largest of `values` (`None` when there are none).
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |range, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
    })
}

/// Draws a chart into `area` (a whole figure or one panel of a grid).
pub fn draw_line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &LineChart,
) -> anyhow::Result<()> {
    let area = area
        .titled(&chart.title, ("sans-serif", TITLE_SIZE))
        .map_err(plot_error)?;
    let mut entries: Vec<Entry> = chart
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty())
        .map(|(index, s)| Entry::line(&s.name, s.colour_at(index), 2))
        .collect();
    entries.extend(
        chart
            .references
            .iter()
            .map(|r| Entry::dashed(&r.name, REFERENCE, 2)),
    );
    let (width, _) = area.dim_in_pixel();
    let legend_width = legend::width(&entries).min(width * 45 / 100);
    let (plot, side) = area.split_horizontally(width - legend_width);

    let usable = |v: f64| v.is_finite() && (!chart.log_y || v > 0.0);
    let ys = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(
            chart
                .series
                .iter()
                .flat_map(|s| s.band.iter().flat_map(|b| [b.1, b.2])),
        )
        .chain(chart.references.iter().map(|r| r.value))
        .filter(|&v| usable(v));
    let (y_low, y_high) = chart.y_range.or_else(|| extent(ys)).unwrap_or((1e-3, 1.0));
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let (mut x_low, mut x_high) = extent(xs.filter(|x| x.is_finite())).unwrap_or((0.0, 1.0));
    if x_high <= x_low {
        (x_low, x_high) = (x_low - 0.5, x_high + 0.5);
    }
    let x_ticks = if chart.whole_x {
        integer_ticks(x_low, x_high, LINEAR_TICKS)
    } else {
        linear_ticks(x_low, x_high, LINEAR_TICKS)
    };
    // A log axis is drawn as a linear one over log10 of the values, with
    // the ticks placed at log10 of round values and labelled with them.
    let to_axis = |v: f64| if chart.log_y { v.log10() } else { v };
    let (axis_low, axis_high, y_ticks) = if chart.log_y {
        let (low, high) = if y_high > y_low {
            (y_low, y_high)
        } else {
            (y_low / 1.5, y_high * 1.5)
        };
        let pad = (high / low).log10() * 0.05;
        let (axis_low, axis_high) = (low.log10() - pad, high.log10() + pad);
        let shown = (10f64.powf(axis_low), 10f64.powf(axis_high));
        (axis_low, axis_high, log_ticks_on(low, high, shown))
    } else {
        let (low, high) = if y_high > y_low {
            (y_low, y_high)
        } else {
            (y_low - 0.5, y_high + 0.5)
        };
        let pad = (high - low) * 0.05;
        // Ticks over the padded range, so that bounds such as 0 and 1 are labelled.
        (
            low - pad,
            high + pad,
            linear_ticks(low - pad, high + pad, LINEAR_TICKS),
        )
    };
    let y_label_width = y_ticks
        .iter()
        .map(|&t| legend::text_width(&tick_label(t), LABEL_SIZE))
        .max()
        .unwrap_or(20);
    let mut ctx = ChartBuilder::on(&plot)
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(y_label_width + 34)
        .build_cartesian_2d(
            Ticked::new(x_low, x_high, x_ticks),
            Ticked::new(
                axis_low,
                axis_high,
                y_ticks.iter().map(|&t| to_axis(t)).collect(),
            ),
        )
        .map_err(plot_error)?;
    let from_axis = |v: f64| if chart.log_y { 10f64.powf(v) } else { v };
    ctx.configure_mesh()
        .bold_line_style(RGBColor(232, 232, 232))
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", LABEL_SIZE))
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(from_axis(*v)))
        .draw()
        .map_err(plot_error)?;
    for reference in chart.references {
        ctx.draw_series(DashedLineSeries::new(
            [
                (x_low, to_axis(reference.value)),
                (x_high, to_axis(reference.value)),
            ],
            8,
            6,
            REFERENCE.stroke_width(2),
        ))
        .map_err(plot_error)?;
    }
    for (index, series) in chart.series.iter().enumerate() {
        if series.band.len() > 1 {
            let floor = |v: f64| {
                if chart.log_y {
                    v.max(f64::MIN_POSITIVE)
                } else {
                    v
                }
            };
            let outline: Vec<(f64, f64)> = series
                .band
                .iter()
                .map(|&(x, _, high)| (x, to_axis(high)))
                .chain(
                    series
                        .band
                        .iter()
                        .rev()
                        .map(|&(x, low, _)| (x, to_axis(floor(low)))),
                )
                .collect();
            ctx.draw_series(std::iter::once(Polygon::new(
                outline,
                series.colour_at(index).mix(0.18).filled(),
            )))
            .map_err(plot_error)?;
        }
    }
    for (index, series) in chart.series.iter().enumerate() {
        let points = series
            .points
            .iter()
            .filter(|p| usable(p.1))
            .map(|&(x, y)| (x, to_axis(y)));
        ctx.draw_series(LineSeries::new(
            points,
            series.colour_at(index).stroke_width(2),
        ))
        .map_err(plot_error)?;
    }
    legend::draw(&side, &entries, 24)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plot::line_chart_svg;

    /// The texts of an SVG document, in order.
    pub(crate) fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|part| {
                let start = part.find('>')? + 1;
                let end = part.find("</text>")?;
                Some(part[start..end].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn a_log_chart_labels_three_plain_numbers_inside_its_data() {
        let series = [Series {
            name: "relu".into(),
            points: vec![(1.0, 38.0), (2.0, 11.0), (3.0, 2.3)],
            ..Series::default()
        }];
        let svg = line_chart_svg(&LineChart {
            title: "loss".into(),
            x_label: "epoch",
            y_label: "loss (log)",
            log_y: true,
            whole_x: true,
            y_range: None,
            series: &series,
            references: &[],
        })
        .unwrap();
        let texts = texts(&svg);
        for label in ["5", "10", "20"] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        let numbers: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
        assert!(numbers.iter().all(|t| !t.contains('e')), "{numbers:?}");
        // Epoch ticks are whole numbers.
        assert!(
            texts.iter().any(|t| t == "2") && !texts.iter().any(|t| t == "1.5"),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "relu"),
            "the legend names the line"
        );
    }
}
