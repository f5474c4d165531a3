//! Pictures of what a network computes: a 2-D decision surface (output as a
//! diverging colour map, the 0.5 contour, the training points on top) and a
//! 1-D fit (the true function, the noisy samples, the network's curve).

use plotters::prelude::*;

use super::{color, grid_svg, plot_error};
use crate::data::Dataset;
use crate::experiments::surface::Surface;

/// Colour levels of a surface: cells of one level along a row merge into one
/// rectangle, which keeps the SVG small where the surface is flat.
const LEVELS: f64 = 24.0;

/// One decision-surface panel.
pub struct SurfacePanel<'a> {
    /// Title above the panel, e.g. the activation and its accuracy.
    pub title: String,
    /// The network's output on a grid.
    pub surface: &'a Surface,
    /// The training points: `x1, x2` per row, label 0 or 1.
    pub points: &'a Dataset,
}

/// One 1-D fit panel.
pub struct FitPanel<'a> {
    /// Title above the panel.
    pub title: String,
    /// The noiseless function, as `(x, f(x))`.
    pub truth: &'a [(f64, f64)],
    /// The network's curve, as `(x, output)`.
    pub fit: &'a [(f64, f64)],
    /// The noisy training samples (`x` per row, target `y`).
    pub samples: &'a Dataset,
}

/// The colour of output `value` (clamped to [0, 1]; 0.5 is white), paled
/// halfway to white so that the points, in the full colours, stand out.
fn shade(value: f64) -> RGBColor {
    let value = if value.is_finite() { value } else { 0.5 };
    let colour = colorous::RED_BLUE.eval_continuous(value.clamp(0.0, 1.0));
    let pale = |channel: u8| ((u16::from(channel) + 255) / 2) as u8;
    RGBColor(pale(colour.r), pale(colour.g), pale(colour.b))
}

/// Class colours of the points: label 1 blue, label 0 red, as the surface.
fn class_colour(label: f32) -> RGBColor {
    if label > 0.5 {
        RGBColor(33, 102, 172)
    } else {
        RGBColor(178, 24, 43)
    }
}

/// Surfaces as a grid of panels in one SVG document.
pub fn surfaces_svg(panels: &[SurfacePanel], columns: usize) -> anyhow::Result<String> {
    grid_svg(panels.len(), columns, (420, 420), |area, index| {
        draw_surface(area, &panels[index])
    })
}

/// Fits as a grid of panels in one SVG document.
pub fn fits_svg(panels: &[FitPanel], columns: usize) -> anyhow::Result<String> {
    grid_svg(panels.len(), columns, (460, 360), |area, index| {
        draw_fit(area, &panels[index])
    })
}

fn draw_surface<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &SurfacePanel,
) -> anyhow::Result<()> {
    let Surface { x1, x2, values } = panel.surface;
    let (n1, n2) = (x1.len(), x2.len());
    let (step1, step2) = (x1[1] - x1[0], x2[1] - x2[0]);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(
            (x1[0] - step1 / 2.0)..(x1[n1 - 1] + step1 / 2.0),
            (x2[0] - step2 / 2.0)..(x2[n2 - 1] + step2 / 2.0),
        )
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .draw()
        .map_err(plot_error)?;
    let level = |value: f64| (value.clamp(0.0, 1.0) * LEVELS).round();
    let mut cells = Vec::new();
    for j in 0..n2 {
        let row = &values[j * n1..(j + 1) * n1];
        let mut start = 0;
        for i in 1..=n1 {
            if i == n1 || level(row[i]) != level(row[start]) {
                let colour = shade(level(row[start]) / LEVELS);
                cells.push(Rectangle::new(
                    [
                        (x1[start] - step1 / 2.0, x2[j] - step2 / 2.0),
                        (x1[i - 1] + step1 / 2.0, x2[j] + step2 / 2.0),
                    ],
                    colour.filled(),
                ));
                start = i;
            }
        }
    }
    chart.draw_series(cells).map_err(plot_error)?;
    for line in boundary(panel.surface)? {
        chart
            .draw_series(std::iter::once(PathElement::new(
                line,
                BLACK.stroke_width(2),
            )))
            .map_err(plot_error)?;
    }
    let points = &panel.points;
    let centre = |row: usize| {
        let p = points.row(row);
        (f64::from(p[0]), f64::from(p[1]))
    };
    chart
        .draw_series(
            (0..points.rows())
                .map(|row| Circle::new(centre(row), 3, class_colour(points.y[row]).filled())),
        )
        .map_err(plot_error)?;
    chart
        .draw_series(
            (0..points.rows()).map(|row| Circle::new(centre(row), 3, WHITE.stroke_width(1))),
        )
        .map_err(plot_error)?;
    Ok(())
}

/// The 0.5 contour of a surface, as polylines in data coordinates.
pub fn boundary(surface: &Surface) -> anyhow::Result<Vec<Vec<(f64, f64)>>> {
    let Surface { x1, x2, values } = surface;
    let (n1, n2) = (x1.len(), x2.len());
    let (step1, step2) = (x1[1] - x1[0], x2[1] - x2[0]);
    // contour puts grid value i at i + 0.5 in its own units.
    let lines = contour::ContourBuilder::new(n1, n2, true)
        .x_origin(x1[0] - step1 / 2.0)
        .y_origin(x2[0] - step2 / 2.0)
        .x_step(step1)
        .y_step(step2)
        .lines(values, &[0.5])
        .map_err(|error| anyhow::anyhow!("cannot trace the 0.5 contour: {error:?}"))?;
    // Its rings close along the grid's edge, half a cell outside the outer
    // nodes; those stretches are the frame, not the boundary.
    let inside = |&(a, b): &(f64, f64)| {
        let slack = 1e-9 * (step1.abs() + step2.abs());
        (x1[0] - slack..=x1[n1 - 1] + slack).contains(&a)
            && (x2[0] - slack..=x2[n2 - 1] + slack).contains(&b)
    };
    let mut pieces = Vec::new();
    for ring in lines.iter().flat_map(|line| line.geometry().0.iter()) {
        let mut piece: Vec<(f64, f64)> = Vec::new();
        for point in ring.0.iter().map(|c| (c.x, c.y)) {
            if inside(&point) {
                piece.push(point);
            } else if piece.len() > 1 {
                pieces.push(std::mem::take(&mut piece));
            } else {
                piece.clear();
            }
        }
        if piece.len() > 1 {
            pieces.push(piece);
        }
    }
    Ok(pieces)
}

fn draw_fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &FitPanel,
) -> anyhow::Result<()> {
    let samples = &panel.samples;
    let sample_points: Vec<(f64, f64)> = (0..samples.rows())
        .map(|row| (f64::from(samples.x[row]), f64::from(samples.y[row])))
        .collect();
    let all = panel.truth.iter().chain(panel.fit).chain(&sample_points);
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in all.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        (x_lo, x_hi, y_lo, y_hi) = (x_lo.min(x), x_hi.max(x), y_lo.min(y), y_hi.max(y));
    }
    let pad = ((y_hi - y_lo) * 0.08).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x_lo..x_hi, (y_lo - pad)..(y_hi + pad))
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("x")
        .y_desc("y")
        .draw()
        .map_err(plot_error)?;
    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(
            sample_points
                .iter()
                .map(|&point| Circle::new(point, 2, grey.filled())),
        )
        .map_err(plot_error)?
        .label("samples")
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, grey.filled()));
    let truth = BLACK.stroke_width(1);
    chart
        .draw_series(DashedLineSeries::new(
            panel.truth.iter().copied(),
            6,
            4,
            truth,
        ))
        .map_err(plot_error)?
        .label("true function")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], truth));
    let fit = color(0).stroke_width(2);
    chart
        .draw_series(LineSeries::new(panel.fit.iter().copied(), fit))
        .map_err(plot_error)?
        .label("network")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], fit));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_of_a_tilted_plane_is_one_straight_line_at_half() {
        let x: Vec<f64> = (0..21).map(|i| -1.0 + 0.1 * f64::from(i)).collect();
        // value = 0.5 + 0.25 * x1: the contour is the line x1 = 0.
        let values = x
            .iter()
            .flat_map(|_| x.iter().map(|&a| 0.5 + 0.25 * a))
            .collect();
        let surface = Surface {
            x1: x.clone(),
            x2: x,
            values,
        };
        let lines = boundary(&surface).unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].len() > 10);
        for &(x1, x2) in &lines[0] {
            assert!(x1.abs() < 1e-9, "({x1}, {x2}) of {:?}", lines[0]);
            assert!((-1.05..=1.05).contains(&x2));
        }
    }

    #[test]
    fn the_colour_map_diverges_around_a_white_half() {
        let middle = shade(0.5);
        assert!(
            middle.0 > 240 && middle.1 > 240 && middle.2 > 240,
            "{middle:?}"
        );
        assert!(shade(0.0).0 > shade(0.0).2, "0 is red");
        assert!(shade(1.0).2 > shade(1.0).0, "1 is blue");
        assert_eq!(shade(-3.0), shade(0.0));
    }
}
