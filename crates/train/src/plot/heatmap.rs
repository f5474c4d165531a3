//! A heatmap of one number over two sweep axes: a cell per pair of values,
//! its number written in it, a colour bar beside.

use plotters::prelude::*;

use super::axis::Ticked;
use super::chart::{LABEL_SIZE, TITLE_SIZE};
use super::legend::{self, text_width};
use super::plot_error;
use super::scale::{self, ColourScale};

/// What to draw.
pub struct Heatmap<'a> {
    /// Title above the map.
    pub title: String,
    /// The x axis's name (a config key).
    pub x_name: &'a str,
    /// The y axis's name.
    pub y_name: &'a str,
    /// The x values, as shown.
    pub x_labels: &'a [String],
    /// The y values, as shown.
    pub y_labels: &'a [String],
    /// `cells[j * x_labels.len() + i]`: the number at x value i, y value j;
    /// `None` where no point is done.
    pub cells: &'a [Option<f64>],
    /// What the numbers are, written over the colour bar.
    pub metric: &'a str,
}

/// The centres of `count` unit cells, where their labels and ticks go.
fn centres(count: usize) -> Vec<f64> {
    (0..count).map(|i| i as f64 + 0.5).collect()
}

/// The heatmap as an SVG document.
pub fn heatmap_svg(map: &Heatmap) -> anyhow::Result<String> {
    let (nx, ny) = (map.x_labels.len(), map.y_labels.len());
    let values: Vec<f64> = map.cells.iter().flatten().copied().collect();
    let colour_scale = ColourScale::for_values(&values);
    let side =
        (scale::bar_width(&colour_scale)).max(text_width(map.metric, legend::FONT_SIZE) + 12);
    let y_label_width = map
        .y_labels
        .iter()
        .map(|l| text_width(l, LABEL_SIZE))
        .max()
        .unwrap_or(20);
    let plot_width = (140 * nx as u32).max(420);
    let size = (plot_width + y_label_width + 60 + side, 150 + 70 * ny as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(&map.title, ("sans-serif", TITLE_SIZE))
            .map_err(plot_error)?;
        let (plot, bar) = root.split_horizontally(size.0 - side);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(y_label_width + 34)
            .build_cartesian_2d(
                Ticked::new(0.0, nx as f64, centres(nx)),
                Ticked::new(0.0, ny as f64, centres(ny)),
            )
            .map_err(plot_error)?;
        let label = |labels: &[String], v: f64| {
            let index = (v - 0.5).round();
            if (v - 0.5 - index).abs() < 1e-6 && index >= 0.0 {
                labels.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .label_style(("sans-serif", LABEL_SIZE))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .x_desc(map.x_name)
            .y_desc(map.y_name)
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&|v| label(map.x_labels, *v))
            .y_label_formatter(&|v| label(map.y_labels, *v))
            .draw()
            .map_err(plot_error)?;
        for j in 0..ny {
            for i in 0..nx {
                let (x, y) = (i as f64, j as f64);
                let (fill, ink, text) = match map.cells[j * nx + i] {
                    Some(v) => {
                        // Dark cells get white text.
                        let ink = if colour_scale.position(v) < 0.5 {
                            WHITE
                        } else {
                            BLACK
                        };
                        (colour_scale.colour(v), ink, format!("{v:.3}"))
                    }
                    None => (RGBColor(220, 220, 220), BLACK, "missing".into()),
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        fill.filled(),
                    )))
                    .map_err(plot_error)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x + 0.3, y + 0.55),
                        ("sans-serif", LABEL_SIZE).into_font().color(&ink),
                    )))
                    .map_err(plot_error)?;
            }
        }
        let font = ("sans-serif", legend::FONT_SIZE).into_font().color(&BLACK);
        bar.draw(&Text::new(map.metric.to_string(), (6, 10), font))
            .map_err(plot_error)?;
        let (_, height) = bar.dim_in_pixel();
        scale::draw_bar(&bar, &colour_scale, (34, height as i32 - 60), |c| c)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}
