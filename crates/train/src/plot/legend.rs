//! Legends drawn beside the data, never on it: a column to the right of a
//! panel's plot, each entry drawn in exactly the style of what it names
//! (a dashed line's entry is dashed).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::plot_error;

/// Legend text size in pixels.
pub const FONT_SIZE: u32 = 14;
/// Width of an entry's sample mark plus the gap before its text.
const MARK_WIDTH: i32 = 30;
/// Height of one entry.
const ROW_HEIGHT: i32 = 20;

/// How an entry's sample is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    /// A line: solid or dashed.
    Line {
        /// Its colour.
        colour: RGBColor,
        /// Its width in pixels.
        width: u32,
        /// Dashed (a reference or the true function) or solid.
        dashed: bool,
    },
    /// A filled dot with a white rim, as data points are drawn.
    Dot(RGBColor),
}

/// One legend entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// What it names.
    pub label: String,
    /// Its sample.
    pub mark: Mark,
}

impl Entry {
    /// An entry for a solid line.
    pub fn line(label: impl Into<String>, colour: RGBColor, width: u32) -> Self {
        Self {
            label: label.into(),
            mark: Mark::Line {
                colour,
                width,
                dashed: false,
            },
        }
    }

    /// An entry for a dashed line.
    pub fn dashed(label: impl Into<String>, colour: RGBColor, width: u32) -> Self {
        Self {
            label: label.into(),
            mark: Mark::Line {
                colour,
                width,
                dashed: true,
            },
        }
    }

    /// An entry for data points.
    pub fn dot(label: impl Into<String>, colour: RGBColor) -> Self {
        Self {
            label: label.into(),
            mark: Mark::Dot(colour),
        }
    }
}

/// Estimated pixel width of `text` at `size` (a sans face's average
/// advance; plotters without a font library cannot measure).
pub fn text_width(text: &str, size: u32) -> u32 {
    (text.chars().count() as f64 * f64::from(size) * 0.56).ceil() as u32
}

/// The width a legend column of `entries` needs (0 for none).
pub fn width(entries: &[Entry]) -> u32 {
    entries
        .iter()
        .map(|e| MARK_WIDTH as u32 + text_width(&e.label, FONT_SIZE) + 16)
        .max()
        .unwrap_or(0)
}

/// Draws `entries` as a column in `area`, starting `top` pixels down.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    top: i32,
) -> anyhow::Result<()> {
    let font = ("sans-serif", FONT_SIZE).into_font().color(&BLACK);
    for (row, entry) in entries.iter().enumerate() {
        let y = top + row as i32 * ROW_HEIGHT;
        let (x0, x1) = (6, 6 + MARK_WIDTH - 8);
        match entry.mark {
            Mark::Line {
                colour,
                width,
                dashed,
            } => {
                let style = colour.stroke_width(width);
                if dashed {
                    let mut x = x0;
                    while x < x1 {
                        let end = (x + 5).min(x1);
                        area.draw(&PathElement::new([(x, y), (end, y)], style))
                            .map_err(plot_error)?;
                        x += 8;
                    }
                } else {
                    area.draw(&PathElement::new([(x0, y), (x1, y)], style))
                        .map_err(plot_error)?;
                }
            }
            Mark::Dot(colour) => {
                let centre = ((x0 + x1) / 2, y);
                area.draw(&Circle::new(centre, 4, colour.filled()))
                    .map_err(plot_error)?;
                area.draw(&Circle::new(centre, 4, WHITE.stroke_width(1)))
                    .map_err(plot_error)?;
            }
        }
        area.draw(&Text::new(
            entry.label.clone(),
            (6 + MARK_WIDTH, y - FONT_SIZE as i32 / 2),
            font.clone(),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}
