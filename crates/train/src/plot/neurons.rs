//! Every hidden unit, as TensorFlow Playground shows them: one small
//! picture per unit, layer by layer: its output over the box (2 inputs) or
//! along x (1 input), the line where it switches, dead and saturated units
//! marked in the title.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{LABEL_SIZE, TITLE_SIZE};
use super::palette::{CLASS_0, paled, sequential};
use super::plot_error;
use super::surface::level_lines;
use crate::experiments::surface::Surface;

/// One unit's picture.
pub struct UnitPanel {
    /// `fc1 #3`, with `dead` or `saturated` when it is.
    pub title: String,
    /// Whether it is dead or saturated on the training rows (its title is red).
    pub flagged: bool,
    /// What it draws.
    pub view: UnitView,
}

/// A unit's values over the input space.
pub enum UnitView {
    /// Two inputs: its output and pre-activation on a grid.
    Plane {
        /// Its output (after the activation) on the grid.
        output: Surface,
        /// Its pre-activation on the same grid (it switches where this is 0).
        pre: Surface,
    },
    /// One input: its output along x, and where it switches.
    Line {
        /// `(x, output)`.
        curve: Vec<(f64, f64)>,
        /// The x values where its pre-activation changes sign.
        switches: Vec<f64>,
    },
}

/// Pixels of one unit's panel.
const PANEL: (u32, u32) = (170, 178);

/// The units as a grid of small panels, `columns` per row, under `title`
/// and a line saying how to read them.
pub fn neurons_svg(title: &str, panels: &[UnitPanel], columns: usize) -> anyhow::Result<String> {
    let caption = match panels.first().map(|p| &p.view) {
        Some(UnitView::Line { .. }) => {
            "each unit's output along x; dashed: where it switches; red title: dead or saturated \
             on the training rows"
        }
        _ => {
            "each unit: dark at its lowest output on this box, light at its highest; white line: \
             where it switches; red title: dead or saturated on the training rows"
        }
    };
    let columns = columns.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(columns).max(1);
    let width = (PANEL.0 * columns as u32).max(900);
    let size = (width, PANEL.1 * rows as u32 + 62);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root
            .titled(title, ("sans-serif", TITLE_SIZE))
            .map_err(plot_error)?;
        let root = root
            .titled(caption, ("sans-serif", LABEL_SIZE))
            .map_err(plot_error)?;
        let (grid, _) = root.split_horizontally(PANEL.0 * columns as u32);
        let areas = grid.split_evenly((rows, columns));
        for (area, panel) in areas.iter().zip(panels) {
            draw_unit(area, panel)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn draw_unit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &UnitPanel,
) -> anyhow::Result<()> {
    let colour = if panel.flagged { CLASS_0 } else { BLACK };
    let area = area
        .titled(
            &panel.title,
            ("sans-serif", LABEL_SIZE).into_font().color(&colour),
        )
        .map_err(plot_error)?;
    match &panel.view {
        UnitView::Plane { output, pre } => draw_plane(&area, output, pre),
        UnitView::Line { curve, switches } => draw_line(&area, curve, switches),
    }
}

fn draw_plane<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    output: &Surface,
    pre: &Surface,
) -> anyhow::Result<()> {
    let Surface { x1, x2, values, .. } = output;
    let (n1, n2) = (x1.len(), x2.len());
    let (step1, step2) = (x1[1] - x1[0], x2[1] - x2[0]);
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .build_cartesian_2d(
            (x1[0] - step1 / 2.0)..(x1[n1 - 1] + step1 / 2.0),
            (x2[0] - step2 / 2.0)..(x2[n2 - 1] + step2 / 2.0),
        )
        .map_err(plot_error)?;
    let (low, high) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = (high - low).max(1e-12);
    chart
        .draw_series((0..n2).flat_map(|j| {
            (0..n1).map(move |i| {
                let t = (values[j * n1 + i] - low) / span;
                Rectangle::new(
                    [
                        (x1[i] - step1 / 2.0, x2[j] - step2 / 2.0),
                        (x1[i] + step1 / 2.0, x2[j] + step2 / 2.0),
                    ],
                    paled(sequential(t), 0.15).filled(),
                )
            })
        }))
        .map_err(plot_error)?;
    for line in level_lines(pre, 0.0)? {
        chart
            .draw_series(std::iter::once(PathElement::new(
                line,
                WHITE.stroke_width(2),
            )))
            .map_err(plot_error)?;
    }
    Ok(())
}

fn draw_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curve: &[(f64, f64)],
    switches: &[f64],
) -> anyhow::Result<()> {
    let (x_low, x_high) = (curve[0].0, curve[curve.len() - 1].0);
    let (low, high) = curve
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let pad = ((high - low) * 0.1).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .build_cartesian_2d(x_low..x_high, (low - pad)..(high + pad))
        .map_err(plot_error)?;
    for &x in switches {
        chart
            .draw_series(DashedLineSeries::new(
                [(x, low - pad), (x, high + pad)],
                4,
                3,
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(plot_error)?;
    }
    chart
        .draw_series(LineSeries::new(
            curve.iter().copied(),
            BLACK.stroke_width(2),
        ))
        .map_err(plot_error)?;
    Ok(())
}
