//! A network's exact linear regions over the plane: each region a pale
//! fill with a thin border, the decision boundary bold, the data points on
//! top, the count in the title.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::TITLE_SIZE;
use super::figure::titled_grid_svg;
use super::legend::{self, Entry};
use super::palette::{class_colour, region_colour};
use super::plot_error;
use super::surface::plane_chart;
use crate::data::Dataset;
use crate::regions::Polygon as Region;

/// What to draw.
pub struct RegionMap<'a> {
    /// Title: the run and its count.
    pub title: String,
    /// The regions' polygons.
    pub regions: &'a [Region],
    /// Each polygon's colour index when several polygons make one region
    /// (a sampled map's runs of cells); by default every polygon its own.
    pub colours: Option<&'a [u32]>,
    /// The borders to draw when they are not the polygons' outlines (a
    /// sampled map's borders between patterns).
    pub borders: Option<&'a [[[f64; 2]; 2]]>,
    /// What a border is, for the legend (`region border`).
    pub border_name: &'static str,
    /// The decision boundary, as one segment per region it crosses.
    pub boundary: &'a [[[f64; 2]; 2]],
    /// What the boundary is, for the legend (`p = 0.5`).
    pub boundary_name: String,
    /// The box drawn.
    pub bounds: [(f64, f64); 2],
    /// The training points (`x1, x2`, target).
    pub points: &'a Dataset,
    /// The targets are 0/1 classes.
    pub classes: bool,
    /// The axes' names.
    pub axis_names: [String; 2],
}

/// Region maps as a grid of panels in one SVG document, under `title`.
pub fn region_maps_svg(
    title: Option<&str>,
    maps: &[RegionMap],
    columns: usize,
) -> anyhow::Result<String> {
    titled_grid_svg(title, maps.len(), columns, (780, 680), |area, index| {
        draw_region_map(area, &maps[index])
    })
}

/// One region map as an SVG document.
pub fn region_map_svg(map: &RegionMap) -> anyhow::Result<String> {
    region_maps_svg(None, std::slice::from_ref(map), 1)
}

fn draw_region_map<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: &RegionMap,
) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    if map.classes {
        // Every class the points have (two at least).
        let highest = map.points.y.iter().fold(1.0f32, |m, &y| m.max(y));
        for k in 0..=highest as usize {
            entries.push(Entry::dot(format!("class {k}"), class_colour(k as f64)));
        }
    }
    entries.push(Entry::line(map.boundary_name.clone(), BLACK, 3));
    entries.push(Entry::line(map.border_name, RGBColor(110, 110, 110), 1));
    let root = area
        .titled(&map.title, ("sans-serif", TITLE_SIZE))
        .map_err(plot_error)?;
    let (width, _) = root.dim_in_pixel();
    let (plot, legend_area) = root.split_horizontally(width - legend::width(&entries) - 10);
    let mut chart = plane_chart(&plot, map.bounds, &map.axis_names)?;
    let corners =
        |polygon: &Region| -> Vec<(f64, f64)> { polygon.0.iter().map(|p| (p[0], p[1])).collect() };
    chart
        .draw_series(map.regions.iter().enumerate().map(|(index, polygon)| {
            let colour = map.colours.map_or(index, |ids| ids[index] as usize);
            Polygon::new(corners(polygon), region_colour(colour).filled())
        }))
        .map_err(plot_error)?;
    let border = RGBColor(110, 110, 110).stroke_width(1);
    match map.borders {
        Some(segments) => chart.draw_series(
            segments
                .iter()
                .map(|[a, b]| PathElement::new([(a[0], a[1]), (b[0], b[1])], border)),
        ),
        None => chart.draw_series(map.regions.iter().map(|polygon| {
            let mut ring = corners(polygon);
            ring.push(ring[0]);
            PathElement::new(ring, border)
        })),
    }
    .map_err(plot_error)?;
    chart
        .draw_series(
            map.boundary.iter().map(|[a, b]| {
                PathElement::new([(a[0], a[1]), (b[0], b[1])], BLACK.stroke_width(3))
            }),
        )
        .map_err(plot_error)?;
    let points = map.points;
    let centre = |row: usize| {
        let p = points.row(row);
        (f64::from(p[0]), f64::from(p[1]))
    };
    let colour = |row: usize| {
        if map.classes {
            class_colour(f64::from(points.y[row]))
        } else {
            RGBColor(80, 80, 80)
        }
    };
    // Only the points inside the box (a smaller --box leaves some out).
    let [(x_low, x_high), (y_low, y_high)] = map.bounds;
    let inside: Vec<usize> = (0..points.rows())
        .filter(|&row| {
            let (x, y) = centre(row);
            (x_low..=x_high).contains(&x) && (y_low..=y_high).contains(&y)
        })
        .collect();
    chart
        .draw_series(
            inside
                .iter()
                .map(|&row| Circle::new(centre(row), 3, colour(row).filled())),
        )
        .map_err(plot_error)?;
    chart
        .draw_series(
            inside
                .iter()
                .map(|&row| Circle::new(centre(row), 3, WHITE.stroke_width(1))),
        )
        .map_err(plot_error)?;
    legend::draw(&legend_area, &entries, 40)?;
    Ok(())
}
