//! SVG charts with plotters: loss curves (log scale) with optional dashed
//! reference lines; decision surfaces and 1-D fits in [`surface`].

use plotters::prelude::*;

pub mod surface;

/// One named line of `(x, y)` points, with an optional shaded band.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)` in x order, drawn as a translucent band under the
    /// line (e.g. a 95% confidence interval over seeds); empty for none.
    pub band: Vec<(f64, f64, f64)>,
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
    pub title: &'a str,
    /// x axis label.
    pub x_label: &'a str,
    /// y axis label.
    pub y_label: &'a str,
    /// Log-scale y axis (values must be > 0).
    pub log_y: bool,
    /// The lines.
    pub series: &'a [Series],
    /// Dashed horizontal lines.
    pub references: &'a [Reference],
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The color of series `index`.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Renders the chart as an SVG document.
pub fn line_chart_svg(chart: &LineChart) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw_line_chart(&root, chart)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Renders several charts as a grid of panels in one SVG document.
pub fn panels_svg(
    panels: &[LineChart],
    columns: usize,
    panel_size: (u32, u32),
) -> anyhow::Result<String> {
    grid_svg(panels.len(), columns, panel_size, |area, index| {
        draw_line_chart(area, &panels[index])
    })
}

/// An SVG document of `count` panels in a grid of `columns`, each drawn by
/// `draw(area, index)`.
pub fn grid_svg(
    count: usize,
    columns: usize,
    panel_size: (u32, u32),
    draw: impl Fn(&DrawingArea<SVGBackend, plotters::coord::Shift>, usize) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let columns = columns.clamp(1, count.max(1));
    let rows = count.div_ceil(columns).max(1);
    let size = (panel_size.0 * columns as u32, panel_size.1 * rows as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let areas = root.split_evenly((rows, columns));
        for (index, area) in areas.iter().take(count).enumerate() {
            draw(area, index)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Rasterises an SVG document to PNG (text uses the system's fonts; without
/// any, the curves are still drawn).
pub fn svg_to_png(svg: &str) -> anyhow::Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    // plotters asks for "sans-serif"; point it at a sans face this machine has.
    let sans = fonts
        .faces()
        .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
        .find(|name| name.contains("Sans") && !name.contains("Mono"));
    if let Some(family) = sans {
        fonts.set_sans_serif_family(family);
    }
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|error| anyhow::anyhow!("cannot read the SVG to rasterise: {error}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow::anyhow!("empty image"))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|error| anyhow::anyhow!("cannot encode the PNG: {error}"))
}

/// Draws a chart into an existing area (one panel of a larger figure).
pub fn draw_line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &LineChart,
) -> anyhow::Result<()> {
    let all_y = chart
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
        .filter(|v| v.is_finite() && (!chart.log_y || *v > 0.0));
    let (mut y_min, mut y_max) = all_y.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !y_min.is_finite() {
        (y_min, y_max) = (1e-3, 1.0);
    }
    let x_max = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let x_min = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(f64::INFINITY, f64::min)
        .min(x_max);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70);
    if chart.log_y {
        let span = (y_max / y_min).max(1.01);
        let range = (y_min / span.powf(0.05))..(y_max * span.powf(0.05));
        let mut ctx = builder
            .build_cartesian_2d(x_min..x_max, range.log_scale())
            .map_err(plot_error)?;
        ctx.configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .y_label_formatter(&|v| format!("{v:.3e}"))
            .draw()
            .map_err(plot_error)?;
        draw_series(&mut ctx, chart, x_min, x_max)?;
    } else {
        let pad = ((y_max - y_min) * 0.05).max(1e-6);
        let mut ctx = builder
            .build_cartesian_2d(x_min..x_max, (y_min - pad)..(y_max + pad))
            .map_err(plot_error)?;
        ctx.configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .draw()
            .map_err(plot_error)?;
        draw_series(&mut ctx, chart, x_min, x_max)?;
    }
    Ok(())
}

fn draw_series<'a, DB: DrawingBackend + 'a, Y>(
    ctx: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    chart: &LineChart,
    x_min: f64,
    x_max: f64,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    for (index, series) in chart.series.iter().enumerate() {
        if series.band.len() > 1 {
            // On a log axis a band reaching 0 or below is cut at the chart's floor.
            let floor = if chart.log_y {
                f64::MIN_POSITIVE
            } else {
                f64::NEG_INFINITY
            };
            let outline: Vec<(f64, f64)> = series
                .band
                .iter()
                .map(|&(x, _, high)| (x, high))
                .chain(
                    series
                        .band
                        .iter()
                        .rev()
                        .map(|&(x, low, _)| (x, low.max(floor))),
                )
                .collect();
            ctx.draw_series(std::iter::once(Polygon::new(
                outline,
                color(index).mix(0.2).filled(),
            )))
            .map_err(plot_error)?;
        }
    }
    for (index, series) in chart.series.iter().enumerate() {
        let style = color(index).stroke_width(2);
        ctx.draw_series(LineSeries::new(series.points.iter().copied(), style))
            .map_err(plot_error)?
            .label(series.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    for reference in chart.references {
        let style = BLACK.stroke_width(2);
        ctx.draw_series(DashedLineSeries::new(
            [(x_min, reference.value), (x_max, reference.value)],
            8,
            6,
            style,
        ))
        .map_err(plot_error)?
        .label(reference.name.clone())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 8, y)], style));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

pub(crate) fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart failed: {error:?}")
}
