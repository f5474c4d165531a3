//! Pictures of what a network computes: a 2-D surface (its output in the
//! colours of a [`ColourScale`] with a colour bar, for 0/1 labels the 0.5
//! decision line and a class legend, the training points on top) and a 1-D
//! fit (the noisy samples, the true function where there is one, the
//! network's curve).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{LINEAR_TICKS, Ticked, linear_ticks, tick_label};
use super::chart::{LABEL_SIZE, TITLE_SIZE};
use super::figure::titled_grid_svg;
use super::legend::{self, Entry};
use super::palette::{CLASS_0, CLASS_1, class_colour, class_shade, paled, run_colour};
use super::plot_error;
use super::scale::{self, ColourScale, DECISION_LEVEL};
use crate::data::Dataset;
use crate::experiments::surface::Surface;

/// Colour levels of a surface: cells of one level along a row merge into one
/// rectangle, which keeps the SVG small where the surface is flat.
const LEVELS: f64 = 24.0;
/// How far a surface's colours are paled towards white, so the points, in
/// full colour, stand out.
const SURFACE_PALING: f64 = 0.35;
/// Pixels of a surface's square plot.
const SURFACE_PLOT: u32 = 400;
/// Width of the column beside a surface (colour bar and legend).
const SURFACE_SIDE: u32 = 150;

/// One surface panel.
pub struct SurfacePanel<'a> {
    /// Title above the panel: the run, what it scored.
    pub title: String,
    /// The network's output on a grid.
    pub surface: &'a Surface,
    /// The training points: `x1, x2` per row, their target.
    pub points: &'a Dataset,
    /// The targets are 0/1 classes (a decision line and class colours);
    /// otherwise numbers, drawn on a sequential scale.
    pub classes: bool,
    /// What the colours show, e.g. "p(class 1)".
    pub output_name: String,
    /// The names of the two axes (the data's columns).
    pub axis_names: [String; 2],
}

/// One 1-D fit panel.
pub struct FitPanel<'a> {
    /// Title above the panel.
    pub title: String,
    /// The noiseless function as `(x, f(x))`, when the data has one.
    pub truth: Option<&'a [(f64, f64)]>,
    /// The network's curve, as `(x, output)`.
    pub fit: &'a [(f64, f64)],
    /// The noisy training samples (`x` per row, target `y`).
    pub samples: &'a Dataset,
    /// The network's colour (its run's).
    pub colour: RGBColor,
    /// The names of the axes.
    pub axis_names: [String; 2],
}

/// Surfaces as a grid of panels in one SVG document, under `title` (what
/// the runs are: data, network, epochs).
pub fn surfaces_svg(
    title: Option<&str>,
    panels: &[SurfacePanel],
    columns: usize,
) -> anyhow::Result<String> {
    titled_grid_svg(
        title,
        panels.len(),
        columns,
        (SURFACE_PLOT + SURFACE_SIDE + 20, SURFACE_PLOT + 60),
        |area, index| draw_surface(area, &panels[index]),
    )
}

/// Fits as a grid of panels in one SVG document, under `title`.
pub fn fits_svg(
    title: Option<&str>,
    panels: &[FitPanel],
    columns: usize,
) -> anyhow::Result<String> {
    titled_grid_svg(title, panels.len(), columns, (600, 380), |area, index| {
        draw_fit(area, &panels[index])
    })
}

/// The colour run `index` of a figure of several runs is drawn in.
pub fn fit_colour(index: usize) -> RGBColor {
    run_colour(index)
}

/// A chart over the box `bounds` of the plane, its axes ticked and named:
/// what surfaces and region maps are drawn on.
pub(crate) fn plane_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    [(x_low, x_high), (y_low, y_high)]: [(f64, f64); 2],
    axis_names: &[String; 2],
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>> {
    // Equal scales on both axes, so a circle in the data is drawn round:
    // the spare width becomes margin on the left (the colour bar or legend
    // stays beside the plot), the spare height margin above and below.
    let (width, height) = area.dim_in_pixel();
    let (inner_w, inner_h) = (
        f64::from(width.saturating_sub(8 + 16 + 52).max(1)),
        f64::from(height.saturating_sub(8 + 8 + 40).max(1)),
    );
    let aspect = (x_high - x_low) / (y_high - y_low);
    let (spare_w, spare_h) = if inner_w / inner_h > aspect {
        ((inner_w - inner_h * aspect) as u32, 0)
    } else {
        (0, (inner_h - inner_w / aspect) as u32)
    };
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_left(8 + spare_w)
        .margin_right(16)
        .margin_top(8 + spare_h / 2)
        .margin_bottom(8 + spare_h - spare_h / 2)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .build_cartesian_2d(
            Ticked::new(x_low, x_high, linear_ticks(x_low, x_high, LINEAR_TICKS)),
            Ticked::new(y_low, y_high, linear_ticks(y_low, y_high, LINEAR_TICKS)),
        )
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", LABEL_SIZE))
        .x_desc(axis_names[0].as_str())
        .y_desc(axis_names[1].as_str())
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

fn draw_surface<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &SurfacePanel,
) -> anyhow::Result<()> {
    let area = area
        .titled(&panel.title, ("sans-serif", TITLE_SIZE))
        .map_err(plot_error)?;
    let (width, _) = area.dim_in_pixel();
    let (plot, side) = area.split_horizontally(width.saturating_sub(SURFACE_SIDE));
    let Surface { x1, x2, values, .. } = panel.surface;
    let (n1, n2) = (x1.len(), x2.len());
    let (step1, step2) = (x1[1] - x1[0], x2[1] - x2[0]);
    let several = panel.surface.classes.as_ref();
    let winners = several.map(|c| c.winners());
    let colour_scale = match several {
        Some(c) => ColourScale::Confidence { classes: c.classes },
        None if panel.classes => ColourScale::for_classes(values),
        None => ColourScale::for_values(values),
    };
    let shade = |colour: RGBColor| paled(colour, SURFACE_PALING);
    let (low1, high1) = (x1[0] - step1 / 2.0, x1[n1 - 1] + step1 / 2.0);
    let (low2, high2) = (x2[0] - step2 / 2.0, x2[n2 - 1] + step2 / 2.0);
    let mut chart = plane_chart(&plot, [(low1, high1), (low2, high2)], &panel.axis_names)?;
    let level = |value: f64| (colour_scale.position(value) * LEVELS).round();
    // A cell's colour level and, for several classes, the class it picks:
    // neighbours alike along a row merge into one rectangle.
    let key = |index: usize| {
        let class = winners.as_ref().map_or(0, |w| w[index]);
        (class, level(values[index]) as i64)
    };
    let mut cells = Vec::new();
    for (j, &row_x2) in x2.iter().enumerate() {
        let mut start = 0;
        for i in 1..=n1 {
            if i == n1 || key(j * n1 + i) != key(j * n1 + start) {
                let (class, step) = key(j * n1 + start);
                let t = step as f64 / LEVELS;
                let (low, high) = colour_scale.range();
                let colour = match winners {
                    Some(_) => class_shade(class, t),
                    None => colour_scale.colour(low + (high - low) * t),
                };
                cells.push(Rectangle::new(
                    [
                        (x1[start] - step1 / 2.0, row_x2 - step2 / 2.0),
                        (x1[i - 1] + step1 / 2.0, row_x2 + step2 / 2.0),
                    ],
                    shade(colour).filled(),
                ));
                start = i;
            }
        }
    }
    chart.draw_series(cells).map_err(plot_error)?;
    let lines = if panel.classes {
        boundary(panel.surface)?
    } else {
        Vec::new()
    };
    for line in &lines {
        chart
            .draw_series(std::iter::once(PathElement::new(
                line.clone(),
                BLACK.stroke_width(2),
            )))
            .map_err(plot_error)?;
    }
    let points = &panel.points;
    let centre = |row: usize| {
        let p = points.row(row);
        (f64::from(p[0]), f64::from(p[1]))
    };
    let point_colour = |row: usize| {
        let target = f64::from(points.y[row]);
        if panel.classes {
            class_colour(target)
        } else {
            colour_scale.colour(target)
        }
    };
    chart
        .draw_series(
            (0..points.rows()).map(|row| Circle::new(centre(row), 3, point_colour(row).filled())),
        )
        .map_err(plot_error)?;
    chart
        .draw_series(
            (0..points.rows()).map(|row| Circle::new(centre(row), 3, WHITE.stroke_width(1))),
        )
        .map_err(plot_error)?;

    // The column beside: what the colours mean, then the legend.
    let (_, side_height) = side.dim_in_pixel();
    let bar_top = 26;
    let bar_bottom = (side_height as i32 * 55 / 100).max(bar_top + 80);
    let font = ("sans-serif", legend::FONT_SIZE).into_font().color(&BLACK);
    side.draw(&Text::new(panel.output_name.clone(), (6, 4), font.clone()))
        .map_err(plot_error)?;
    scale::draw_bar(&side, &colour_scale, (bar_top, bar_bottom), shade)?;
    let mut entries = Vec::new();
    if let Some(several) = several {
        for k in 0..several.classes {
            entries.push(Entry::dot(format!("class {k}"), class_shade(k, 1.0)));
        }
        entries.push(Entry::line(
            if lines.is_empty() {
                "one class everywhere"
            } else {
                "class boundary"
            },
            BLACK,
            2,
        ));
    } else if panel.classes {
        entries.push(Entry::dot("class 0", CLASS_0));
        entries.push(Entry::dot("class 1", CLASS_1));
        entries.push(Entry::line(
            if lines.is_empty() {
                "no 0.5 level here"
            } else {
                "0.5: boundary"
            },
            BLACK,
            2,
        ));
    } else {
        entries.push(Entry::dot(
            "points: target",
            colour_scale.colour(colour_scale.range().1),
        ));
    }
    let mut legend_top = bar_bottom + 24;
    if colour_scale.is_stretched() {
        // The bar's labels give the real range; say the colours were stretched to it.
        side.draw(&Text::new(
            "(stretched to",
            (6, bar_bottom + 10),
            font.clone(),
        ))
        .map_err(plot_error)?;
        side.draw(&Text::new(
            " this surface)",
            (6, bar_bottom + 26),
            font.clone(),
        ))
        .map_err(plot_error)?;
        legend_top += 36;
    }
    if let Some(several) = several {
        // Say what the striped bar is: a column per class, chance at its foot.
        let k = several.classes;
        for (line, text) in [
            "columns: classes".to_string(),
            format!("white = chance 1/{k}"),
        ]
        .into_iter()
        .enumerate()
        {
            side.draw(&Text::new(
                text,
                (6, bar_bottom + 14 + 16 * line as i32),
                font.clone(),
            ))
            .map_err(plot_error)?;
        }
        legend_top += 40;
    }
    legend::draw(&side, &entries, legend_top)?;
    Ok(())
}

/// Where a surface's class changes, as polylines in data coordinates: its
/// 0.5 contour for one output, for several classes the outline of each
/// class's winning region (the 0 level of its lead over the others).
pub fn boundary(surface: &Surface) -> anyhow::Result<Vec<Vec<(f64, f64)>>> {
    let Some(several) = &surface.classes else {
        return level_lines(surface, DECISION_LEVEL);
    };
    let mut lines = Vec::new();
    for k in 0..several.classes {
        let lead = Surface {
            values: several.lead(k),
            classes: None,
            ..surface.clone()
        };
        lines.extend(level_lines(&lead, 0.0)?);
    }
    Ok(lines)
}

/// The `level` contour of a surface, as polylines in data coordinates.
pub fn level_lines(surface: &Surface, level: f64) -> anyhow::Result<Vec<Vec<(f64, f64)>>> {
    let Surface { x1, x2, values, .. } = surface;
    let (n1, n2) = (x1.len(), x2.len());
    let (step1, step2) = (x1[1] - x1[0], x2[1] - x2[0]);
    // contour puts grid value i at i + 0.5 in its own units.
    let lines = contour::ContourBuilder::new(n1, n2, true)
        .x_origin(x1[0] - step1 / 2.0)
        .y_origin(x2[0] - step2 / 2.0)
        .x_step(step1)
        .y_step(step2)
        .lines(values, &[level])
        .map_err(|error| anyhow::anyhow!("cannot trace the {level} contour: {error:?}"))?;
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
    area: &DrawingArea<DB, Shift>,
    panel: &FitPanel,
) -> anyhow::Result<()> {
    let area = area
        .titled(&panel.title, ("sans-serif", TITLE_SIZE))
        .map_err(plot_error)?;
    let samples = &panel.samples;
    let sample_points: Vec<(f64, f64)> = (0..samples.rows())
        .map(|row| (f64::from(samples.x[row]), f64::from(samples.y[row])))
        .collect();
    let grey = RGBColor(150, 150, 150);
    let truth_style = BLACK.stroke_width(2);
    let fit_style = panel.colour.stroke_width(2);
    let mut entries = vec![Entry::dot("samples", grey)];
    if panel.truth.is_some() {
        entries.push(Entry::dashed("true function", BLACK, 2));
    }
    entries.push(Entry::line("network", panel.colour, 2));
    let (width, _) = area.dim_in_pixel();
    let (plot, side) = area.split_horizontally(width - legend::width(&entries));
    let all = panel
        .truth
        .unwrap_or(&[])
        .iter()
        .chain(panel.fit)
        .chain(&sample_points);
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in all.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        (x_lo, x_hi, y_lo, y_hi) = (x_lo.min(x), x_hi.max(x), y_lo.min(y), y_hi.max(y));
    }
    if x_hi.partial_cmp(&x_lo) != Some(std::cmp::Ordering::Greater) {
        (x_lo, x_hi) = (x_lo - 0.5, x_lo + 0.5);
    }
    let pad = ((y_hi - y_lo) * 0.08).max(1e-3);
    let (y_lo, y_hi) = (y_lo - pad, y_hi + pad);
    let mut chart = ChartBuilder::on(&plot)
        .margin(8)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .build_cartesian_2d(
            Ticked::new(x_lo, x_hi, linear_ticks(x_lo, x_hi, LINEAR_TICKS)),
            Ticked::new(y_lo, y_hi, linear_ticks(y_lo, y_hi, LINEAR_TICKS)),
        )
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .bold_line_style(RGBColor(232, 232, 232))
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", LABEL_SIZE))
        .axis_desc_style(("sans-serif", LABEL_SIZE))
        .x_desc(panel.axis_names[0].as_str())
        .y_desc(panel.axis_names[1].as_str())
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(
            sample_points
                .iter()
                .map(|&point| Circle::new(point, 2, grey.filled())),
        )
        .map_err(plot_error)?;
    if let Some(truth) = panel.truth {
        chart
            .draw_series(DashedLineSeries::new(
                truth.iter().copied(),
                6,
                4,
                truth_style,
            ))
            .map_err(plot_error)?;
    }
    chart
        .draw_series(LineSeries::new(panel.fit.iter().copied(), fit_style))
        .map_err(plot_error)?;
    legend::draw(&side, &entries, 24)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nearly_flat_surface_gets_its_boundary_a_stretched_colour_bar_and_a_class_legend() {
        let x: Vec<f64> = (0..21).map(|i| -1.0 + 0.1 * f64::from(i)).collect();
        // An identity network on the circle: 0.434 to 0.566, split at x1 = 0.
        let values = x
            .iter()
            .flat_map(|_| x.iter().map(|&a| 0.5 + 0.066 * a))
            .collect();
        let surface = Surface {
            x1: x.clone(),
            x2: x,
            values,
            classes: None,
        };
        let points = Dataset {
            features: 2,
            x: vec![-0.5, 0.0, 0.5, 0.0],
            y: vec![0.0, 1.0],
        };
        let svg = surfaces_svg(
            None,
            &[SurfacePanel {
                title: "identity".into(),
                surface: &surface,
                points: &points,
                classes: true,
                output_name: "p(class 1)".into(),
                axis_names: ["x1".into(), "x2".into()],
            }],
            1,
        )
        .unwrap();
        let texts = crate::plot::chart::tests::texts(&svg);
        for label in [
            "p(class 1)",
            "0.434",
            "0.5",
            "0.566",
            "(stretched to",
            "class 0",
            "class 1",
            "0.5: boundary",
        ] {
            assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
        }
        // The bar's 64 steps and the surface's cells are filled rectangles.
        assert!(svg.matches("<rect").count() > 64, "a colour bar is drawn");
    }

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
            classes: None,
        };
        let lines = boundary(&surface).unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].len() > 10);
        for &(x1, x2) in &lines[0] {
            assert!(x1.abs() < 1e-9, "({x1}, {x2}) of {:?}", lines[0]);
            assert!((-1.05..=1.05).contains(&x2));
        }
    }
}
