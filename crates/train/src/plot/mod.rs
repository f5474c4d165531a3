//! The figure layer: every picture the lab draws goes through it, so they
//! share one set of rules (see also the live page, `web/`, which follows
//! them and shares [`palette`]):
//!
//! - [`axis`]: ticks at 1-2-5 steps, whole numbers for epochs, at least three
//!   labels inside a log axis's data range, plain numbers (no `1.000e1`);
//! - [`legend`]: beside the data, in the style of what it names;
//! - [`palette`]: one palette for classes, another for runs;
//! - [`scale`]: a colour bar on every surface and heatmap;
//! - [`chart`], [`surface`], [`heatmap`]: the kinds of picture;
//! - [`figure`]: panels in a grid, SVG with a PNG beside it.

pub mod axis;
pub mod chart;
pub mod figure;
pub mod heatmap;
pub mod legend;
pub mod neurons;
pub mod palette;
pub mod parallel;
pub mod regions;
pub mod scale;
pub mod surface;

pub use chart::{LineChart, Reference, Series};
pub use figure::{
    FigureFiles, line_chart_svg, panels_svg, svg_to_png, titled_panels_svg, write_figure,
};

pub(crate) fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart failed: {error:?}")
}
