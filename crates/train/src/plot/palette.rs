//! The lab's colours, one palette per meaning, shared with the live page
//! (`web/`): classes are red (0) and blue (1), as the diverging map their
//! surface is drawn in; runs and activations take the other palette, which
//! has neither, so a line is never mistaken for a class.

use plotters::style::RGBColor;

/// Class 0's colour (and the low end of the surface's colour map).
pub const CLASS_0: RGBColor = RGBColor(178, 24, 43);
/// Class 1's colour (and the high end of the surface's colour map).
pub const CLASS_1: RGBColor = RGBColor(33, 102, 172);

/// Runs and activations, in order: ColorBrewer's Dark2 (no red, no blue)
/// and two more dark, distinct colours.
pub const RUNS: [RGBColor; 10] = [
    RGBColor(27, 158, 119),
    RGBColor(217, 95, 2),
    RGBColor(117, 112, 179),
    RGBColor(231, 41, 138),
    RGBColor(102, 166, 30),
    RGBColor(230, 171, 2),
    RGBColor(166, 118, 29),
    RGBColor(102, 102, 102),
    RGBColor(0, 0, 0),
    RGBColor(23, 190, 207),
];

/// Reference lines (least squares): a mid grey, under every run's line.
pub const REFERENCE: RGBColor = RGBColor(120, 120, 120);

/// The colour of run (or activation) number `index`.
pub fn run_colour(index: usize) -> RGBColor {
    RUNS[index % RUNS.len()]
}

/// The colour of class `label` (0 or 1; anything above 0.5 is class 1).
pub fn class_colour(label: f64) -> RGBColor {
    if label > 0.5 { CLASS_1 } else { CLASS_0 }
}

/// `#rrggbb`, as the page writes colours.
pub fn hex(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// A value's colour on the diverging class map: 0 is class 0's red, 0.5
/// white, 1 class 1's blue (`t` clamped to [0, 1]).
pub fn diverging(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let colour = colorous::RED_BLUE.eval_continuous(t);
    RGBColor(colour.r, colour.g, colour.b)
}

/// A value's colour on the sequential map of numbers that are not classes
/// (a regression target, a heatmap's metric): `t` in [0, 1], dark to light.
pub fn sequential(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let colour = colorous::VIRIDIS.eval_continuous(t);
    RGBColor(colour.r, colour.g, colour.b)
}

/// `colour` moved `share` of the way to white (a surface is paled so the
/// points drawn on it, in full colour, stand out).
pub fn paled(colour: RGBColor, share: f64) -> RGBColor {
    let mix =
        |channel: u8| (f64::from(channel) + (255.0 - f64::from(channel)) * share).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_palette_holds_no_class_colour() {
        for run in RUNS {
            for class in [CLASS_0, CLASS_1] {
                let distance = [
                    run.0 as i32 - class.0 as i32,
                    run.1 as i32 - class.1 as i32,
                    run.2 as i32 - class.2 as i32,
                ]
                .iter()
                .map(|d| d * d)
                .sum::<i32>();
                assert!(distance > 60 * 60, "{run:?} is too close to {class:?}");
            }
        }
    }

    #[test]
    fn the_class_map_runs_from_red_through_white_to_blue() {
        let middle = diverging(0.5);
        assert!(
            middle.0 > 230 && middle.1 > 230 && middle.2 > 230,
            "{middle:?}"
        );
        assert!(diverging(0.0).0 > diverging(0.0).2, "0 is red");
        assert!(diverging(1.0).2 > diverging(1.0).0, "1 is blue");
        assert_eq!(diverging(-3.0), diverging(0.0));
        assert_eq!(hex(CLASS_1), "#2166ac");
    }
}
