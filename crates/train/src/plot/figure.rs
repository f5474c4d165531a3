//! Whole figures: panels in a grid on one SVG document, rasterised to a PNG
//! beside it, both written atomically.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{LineChart, draw_line_chart};
use super::plot_error;
use crate::io::atomic::write_atomic;

/// Height of a figure's own title, above its panels.
const FIGURE_TITLE_HEIGHT: u32 = 40;

/// An SVG document of `count` panels in a grid of `columns`, each drawn by
/// `draw(area, index)`.
pub fn grid_svg(
    count: usize,
    columns: usize,
    panel_size: (u32, u32),
    draw: impl Fn(&DrawingArea<SVGBackend, Shift>, usize) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    titled_grid_svg(None, count, columns, panel_size, draw)
}

/// As [`grid_svg`], with `title` over the whole figure.
pub fn titled_grid_svg(
    title: Option<&str>,
    count: usize,
    columns: usize,
    panel_size: (u32, u32),
    draw: impl Fn(&DrawingArea<SVGBackend, Shift>, usize) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let columns = columns.clamp(1, count.max(1));
    let rows = count.div_ceil(columns).max(1);
    let title_height = if title.is_some() {
        FIGURE_TITLE_HEIGHT
    } else {
        0
    };
    let size = (
        panel_size.0 * columns as u32,
        panel_size.1 * rows as u32 + title_height,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = match title {
            Some(title) => root.titled(title, ("sans-serif", 22)).map_err(plot_error)?,
            None => root,
        };
        let areas = root.split_evenly((rows, columns));
        for (index, area) in areas.iter().take(count).enumerate() {
            draw(area, index)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// One chart as an SVG document.
pub fn line_chart_svg(chart: &LineChart) -> anyhow::Result<String> {
    panels_svg(std::slice::from_ref(chart), 1, (960, 560))
}

/// Several charts as a grid of panels in one SVG document.
pub fn panels_svg(
    panels: &[LineChart],
    columns: usize,
    panel_size: (u32, u32),
) -> anyhow::Result<String> {
    grid_svg(panels.len(), columns, panel_size, |area, index| {
        draw_line_chart(area, &panels[index])
    })
}

/// Several charts in a grid under one title.
pub fn titled_panels_svg(
    title: Option<&str>,
    panels: &[LineChart],
    columns: usize,
    panel_size: (u32, u32),
) -> anyhow::Result<String> {
    titled_grid_svg(title, panels.len(), columns, panel_size, |area, index| {
        draw_line_chart(area, &panels[index])
    })
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

/// The two files a figure is written as.
#[derive(Clone, Debug)]
pub struct FigureFiles {
    /// `NAME.svg`.
    pub svg: PathBuf,
    /// `NAME.png`, the same picture rasterised.
    pub png: PathBuf,
}

impl std::fmt::Display for FigureFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} and {}", self.svg.display(), self.png.display())
    }
}

/// Writes `svg` as `DIR/NAME.svg` and, rasterised, `DIR/NAME.png`.
pub fn write_figure(dir: &Path, name: &str, svg: &str) -> anyhow::Result<FigureFiles> {
    let files = FigureFiles {
        svg: dir.join(format!("{name}.svg")),
        png: dir.join(format!("{name}.png")),
    };
    write_atomic(&files.svg, svg.as_bytes())?;
    write_atomic(&files.png, &svg_to_png(svg)?)?;
    Ok(files)
}
