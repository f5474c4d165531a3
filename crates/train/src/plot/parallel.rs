//! A parallel-coordinates picture of a sweep: one vertical axis per sweep
//! axis and one for the metric, one line per done point through its values,
//! coloured by its metric (a colour bar beside), the best lines drawn last
//! so that they stay on top.

use plotters::prelude::*;

use super::axis::{linear_ticks, log_ticks, tick_label};
use super::chart::{LABEL_SIZE, TITLE_SIZE};
use super::legend::{self, text_width};
use super::plot_error;
use super::scale::{self, ColourScale};

/// One vertical axis: where each line crosses it (0 bottom .. 1 top) and
/// its labelled ticks.
pub struct Column {
    /// The axis's name (a config key, or the metric's).
    pub name: String,
    /// One position per line, in 0..=1.
    pub positions: Vec<f64>,
    /// Labelled ticks: position and text.
    pub ticks: Vec<(f64, String)>,
}

impl Column {
    /// Categories, evenly spaced in the order given by `order`; the lines
    /// through one category fan out over a band around it, in the order of
    /// their `metric`, so that they do not all meet in one pixel.
    pub fn categories(name: &str, values: &[String], order: &[String], metric: &[f64]) -> Column {
        let gap = if order.len() > 1 {
            1.0 / (order.len() - 1) as f64
        } else {
            1.0
        };
        let spot = |i: usize| {
            if order.len() == 1 {
                0.5
            } else {
                i as f64 * gap
            }
        };
        let band = (0.3 * gap).min(0.08);
        let category: Vec<usize> = values
            .iter()
            .map(|v| order.iter().position(|o| o == v).unwrap_or(0))
            .collect();
        let mut positions = vec![0.0; values.len()];
        for c in 0..order.len() {
            let mut members: Vec<usize> = (0..values.len()).filter(|&i| category[i] == c).collect();
            members.sort_by(|&a, &b| metric[a].total_cmp(&metric[b]));
            let count = members.len();
            for (rank, &line) in members.iter().enumerate() {
                let offset = if count > 1 {
                    band * (2.0 * rank as f64 / (count - 1) as f64 - 1.0)
                } else {
                    0.0
                };
                positions[line] = (spot(c) + offset).clamp(0.0, 1.0);
            }
        }
        // At most a dozen labels on one axis.
        let every = order.len().div_ceil(12).max(1);
        let ticks = order
            .iter()
            .enumerate()
            .step_by(every)
            .map(|(i, label)| (spot(i), label.clone()))
            .collect();
        Column {
            name: name.into(),
            positions,
            ticks,
        }
    }

    /// Numbers on a linear or (all positive, `log`) logarithmic scale
    /// spanning their range.
    pub fn numbers(name: &str, values: &[f64], log: bool) -> Column {
        let (low, high) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let log = log && low > 0.0;
        let map = |v: f64| if log { v.ln() } else { v };
        let (a, b) = (map(low), map(high));
        let spot = |v: f64| {
            if b > a { (map(v) - a) / (b - a) } else { 0.5 }
        };
        let ticks = if high > low {
            if log {
                log_ticks(low, high)
            } else {
                linear_ticks(low, high, 5)
            }
        } else {
            vec![low]
        };
        Column {
            name: name.into(),
            positions: values.iter().map(|&v| spot(v)).collect(),
            ticks: ticks
                .into_iter()
                .filter(|&t| t >= low - 1e-12 * low.abs() && t <= high + 1e-12 * high.abs())
                .map(|t| (spot(t), tick_label(t)))
                .collect(),
        }
    }
}

/// The picture.
pub struct Parallel<'a> {
    /// Title above it.
    pub title: String,
    /// The sweep's axes, then the metric's column.
    pub columns: &'a [Column],
    /// Each line's metric (its colour).
    pub metric: &'a [f64],
    /// What the colour bar says.
    pub metric_name: &'a str,
    /// Whether a larger metric is better (drawn last, on top).
    pub higher_is_better: bool,
}

/// The parallel-coordinates picture as an SVG document.
pub fn parallel_svg(picture: &Parallel) -> anyhow::Result<String> {
    let colour_scale = ColourScale::for_values(picture.metric);
    let widest_name = picture
        .columns
        .iter()
        .map(|c| text_width(&c.name, LABEL_SIZE))
        .max()
        .unwrap_or(60);
    let widest_tick = picture
        .columns
        .iter()
        .flat_map(|c| {
            c.ticks
                .iter()
                .map(|(_, t)| text_width(t, legend::FONT_SIZE))
        })
        .max()
        .unwrap_or(30);
    let spacing = (widest_name + 24).max(widest_tick + 40).max(130) as i32;
    let side = scale::bar_width(&colour_scale)
        .max(text_width(picture.metric_name, legend::FONT_SIZE) + 12);
    let first_name = picture
        .columns
        .first()
        .map_or(0, |c| text_width(&c.name, LABEL_SIZE));
    let (left, top, plot_height) = ((first_name / 2 + 16).max(30) as i32, 70i32, 380i32);
    let columns = picture.columns.len() as i32;
    let width = left + spacing * (columns - 1).max(1) + widest_tick as i32 + 30 + side as i32;
    let height = top + plot_height + 70;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let title = ("sans-serif", TITLE_SIZE).into_font().color(&BLACK);
        root.draw(&Text::new(picture.title.clone(), (left, 20), title))
            .map_err(plot_error)?;
        let x_of = |column: usize| left + spacing * column as i32;
        let y_of =
            |position: f64| top + plot_height - (position * f64::from(plot_height)).round() as i32;
        // Worst first, so the best lines end on top.
        let mut order: Vec<usize> = (0..picture.metric.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (picture.metric[a], picture.metric[b]);
            if picture.higher_is_better {
                x.total_cmp(&y)
            } else {
                y.total_cmp(&x)
            }
        });
        for line in order {
            let points: Vec<(i32, i32)> = picture
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (x_of(i), y_of(c.positions[line])))
                .collect();
            let colour = colour_scale.colour(picture.metric[line]);
            root.draw(&PathElement::new(points, colour.mix(0.85).stroke_width(2)))
                .map_err(plot_error)?;
        }
        let label = ("sans-serif", legend::FONT_SIZE).into_font().color(&BLACK);
        let name_font = ("sans-serif", LABEL_SIZE).into_font().color(&BLACK);
        for (i, column) in picture.columns.iter().enumerate() {
            let x = x_of(i);
            root.draw(&PathElement::new(
                [(x, top), (x, top + plot_height)],
                BLACK.stroke_width(1),
            ))
            .map_err(plot_error)?;
            for (position, text) in &column.ticks {
                let y = y_of(*position);
                root.draw(&PathElement::new(
                    [(x - 4, y), (x, y)],
                    BLACK.stroke_width(1),
                ))
                .map_err(plot_error)?;
                // A white box under the label keeps it readable over the lines.
                let w = text_width(text, legend::FONT_SIZE) as i32;
                root.draw(&Rectangle::new(
                    [(x + 4, y - 8), (x + 8 + w, y + 8)],
                    WHITE.mix(0.8).filled(),
                ))
                .map_err(plot_error)?;
                root.draw(&Text::new(text.clone(), (x + 6, y - 7), label.clone()))
                    .map_err(plot_error)?;
            }
            let w = text_width(&column.name, LABEL_SIZE) as i32;
            root.draw(&Text::new(
                column.name.clone(),
                (x - w / 2, top + plot_height + 16),
                name_font.clone(),
            ))
            .map_err(plot_error)?;
        }
        let bar = root.margin(0, 0, (width - side as i32) as u32, 0);
        bar.draw(&Text::new(
            picture.metric_name.to_string(),
            (6, top - 24),
            label,
        ))
        .map_err(plot_error)?;
        scale::draw_bar(&bar, &colour_scale, (top, top + plot_height), |c| c)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_place_values_and_label_them() {
        let names: Vec<String> = ["relu", "tanh", "relu"].map(String::from).to_vec();
        let order: Vec<String> = ["identity", "relu", "tanh"].map(String::from).to_vec();
        let categories = Column::categories("model.activation", &names, &order, &[0.3, 0.1, 0.2]);
        // relu's two lines fan out around 0.5, the better (lower) one below.
        assert!(categories.positions[2] < 0.5 && categories.positions[0] > 0.5);
        assert!((categories.positions[0] + categories.positions[2] - 1.0).abs() < 1e-12);
        assert_eq!(categories.positions[1], 1.0);
        assert_eq!(categories.ticks.len(), 3);
        let rates = Column::numbers("training.lr", &[1e-4, 1e-3, 1e-2], true);
        assert!(
            (rates.positions[1] - 0.5).abs() < 1e-12,
            "log scale: 1e-3 halfway"
        );
        assert!(rates.ticks.iter().any(|(_, t)| t == "0.001"));
        let svg = parallel_svg(&Parallel {
            title: "t".into(),
            columns: &[categories, rates],
            metric: &[0.1, 0.2, 0.3],
            metric_name: "final val_loss",
            higher_is_better: false,
        })
        .unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lines = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .filter(|n| n.attribute("stroke-width") == Some("2"))
            .count();
        assert_eq!(lines, 3, "one line per point");
        assert!(svg.contains("final val_loss") && svg.contains("model.activation"));
    }
}
