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
/// and four more dark, distinct colours, so that a comparison of twelve
/// activations repeats none.
pub const RUNS: [RGBColor; 12] = [
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
    RGBColor(148, 0, 211),
    RGBColor(0, 100, 0),
];

/// The live diagram's edges: a positive weight dark grey, a negative one
/// orange (neither a class colour nor run A's or B's).
pub const WEIGHT_POSITIVE: RGBColor = RGBColor(60, 60, 60);
/// See [`WEIGHT_POSITIVE`].
pub const WEIGHT_NEGATIVE: RGBColor = RGBColor(217, 95, 2);

/// A pale colour for linear region `index`: neighbours differ, the data on
/// top stays readable (ColorBrewer's Set3, halfway to white).
pub fn region_colour(index: usize) -> RGBColor {
    let colour = colorous::SET3[index % colorous::SET3.len()];
    paled(RGBColor(colour.r, colour.g, colour.b), 0.5)
}

/// Reference lines (least squares): a mid grey, under every run's line.
pub const REFERENCE: RGBColor = RGBColor(120, 120, 120);

/// The colour of run (or activation) number `index`.
pub fn run_colour(index: usize) -> RGBColor {
    RUNS[index % RUNS.len()]
}

/// Every class's colour, in order: class 0's red and class 1's blue, then
/// ColorBrewer's Set1 without its red, blue and pale yellow, darkened
/// where white would wash it out.
pub const CLASSES: [RGBColor; 8] = [
    CLASS_0,
    CLASS_1,
    RGBColor(77, 175, 74),
    RGBColor(152, 78, 163),
    RGBColor(255, 127, 0),
    RGBColor(166, 86, 40),
    RGBColor(231, 41, 138),
    RGBColor(90, 90, 90),
];

/// The colour of class `label` (a class number; between 0 and 1, anything
/// above 0.5 is class 1).
pub fn class_colour(label: f64) -> RGBColor {
    if label <= 0.5 {
        return CLASS_0;
    }
    let number = (label.round() as usize).clamp(1, CLASSES.len() - 1);
    CLASSES[number]
}

/// Class `k`'s colour at confidence `t` in [0, 1]: white when the network
/// cannot tell (every class as likely), the class's full colour when sure.
pub fn class_shade(k: usize, t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let RGBColor(r, g, b) = CLASSES[k % CLASSES.len()];
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * t).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
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

/// The palette as the live page's `palette.js` (served by `train serve`
/// before `app.js`), so the page and the figures draw with the same colours:
/// the classes, the runs (A and B are the first and third) and the class
/// map sampled at 11 stops for the page to interpolate.
pub fn page_script() -> String {
    let rgb = |c: RGBColor| format!("[{}, {}, {}]", c.0, c.1, c.2);
    let runs: Vec<String> = RUNS.iter().map(|&c| format!("'{}'", hex(c))).collect();
    let map: Vec<String> = (0..=10)
        .map(|i| rgb(diverging(f64::from(i) / 10.0)))
        .collect();
    let regions: Vec<String> = (0..colorous::SET3.len())
        .map(|i| format!("'{}'", hex(region_colour(i))))
        .collect();
    format!(
        "// Generated by train::plot::palette: the colours of every figure the lab draws.\n\
         'use strict';\n\
         const PALETTE = {{\n  class0: {},\n  class1: {},\n  runs: [{}],\n  classMap: [{}],\n  \
         regions: [{}],\n  weights: ['{}', '{}'],\n}};\n",
        rgb(CLASS_0),
        rgb(CLASS_1),
        runs.join(", "),
        map.join(", "),
        regions.join(", "),
        hex(WEIGHT_POSITIVE),
        hex(WEIGHT_NEGATIVE)
    )
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
