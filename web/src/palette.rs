//! Colours of entity types and relation types, by their index in the model's label list.
//!
//! The palettes are chosen for reading, not by eye alone: the tests below compute that every
//! colour meets WCAG AA contrast where it carries text, and that the types of one model stay
//! apart (CIEDE2000 colour difference) with normal vision and as seen with protanopia,
//! deuteranopia and tritanopia (simulated with the Machado, Oliveira and Fernandes 2009
//! matrices at full severity). Relation types also differ in their dash pattern, so colour is
//! never the only cue.

/// Light fills with a darker border for entity types: (fill, border). The mention's text is
/// `INK` on the fill.
const ENTITY: [(&str, &str); 8] = [
    ("#ddd086", "#117788"),
    ("#63d6ff", "#446644"),
    ("#b4d3ae", "#662244"),
    ("#eeaabb", "#bb663d"),
    ("#ddf5e0", "#bb8888"),
    ("#c0eeff", "#8877aa"),
    ("#9cd1de", "#669944"),
    ("#ddeebf", "#000066"),
];

/// Colours of relation arcs and their labels (text on white).
const RELATION: [&str; 8] = [
    "#553388", "#667700", "#880044", "#885577", "#6666dd", "#aa4455", "#005500", "#0011ee",
];

/// Dash patterns of relation arcs (`stroke-dasharray`), a second cue beside colour.
const DASH: [&str; 4] = ["none", "7 3", "2 2.5", "9 2.5 2 2.5"];

/// The page's text colour (`--ink` in `style.css`).
pub const INK: &str = "#1d232b";

/// (fill, border) of the entity type with index `i`.
pub fn entity_colors(i: usize) -> (&'static str, &'static str) {
    ENTITY[i % ENTITY.len()]
}

/// Colour of the relation type with index `i`.
pub fn relation_color(i: usize) -> &'static str {
    RELATION[i % RELATION.len()]
}

/// Dash pattern of the relation type with index `i`: neighbours in the list differ.
pub fn relation_dash(i: usize) -> &'static str {
    DASH[i % DASH.len()]
}

/// The colour scale of the teaching view's tables, from white (0) to `color` (1).
pub fn heat_of(color: &str, p: f32) -> String {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let [r, g, b] = rgb(color).unwrap_or([16, 70, 160]);
    let mix = |hi: u8| (255.0 + (hi as f32 - 255.0) * p).round() as u8;
    format!("rgb({},{},{})", mix(r), mix(g), mix(b))
}

/// A heat-map colour for a probability in [0, 1]: white to deep blue.
pub fn heat(p: f32) -> String {
    heat_of("#1046a0", p)
}

/// `#rrggbb` as bytes.
pub fn rgb(hex: &str) -> Option<[u8; 3]> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([c(0)?, c(2)?, c(4)?])
}

/// Colour science for the tests: WCAG contrast, colour-vision simulation, CIEDE2000.
#[cfg(test)]
pub(crate) mod science {
    /// sRGB byte to linear light.
    fn linear(c: u8) -> f64 {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }

    pub fn linear_rgb(c: [u8; 3]) -> [f64; 3] {
        c.map(linear)
    }

    /// WCAG relative luminance of linear RGB.
    pub fn luminance(l: [f64; 3]) -> f64 {
        0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]
    }

    /// WCAG contrast ratio of two sRGB colours.
    pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let (la, lb) = (
            luminance(linear_rgb(a)) + 0.05,
            luminance(linear_rgb(b)) + 0.05,
        );
        la.max(lb) / la.min(lb)
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Vision {
        Normal,
        Protanopia,
        Deuteranopia,
        Tritanopia,
    }

    pub const ALL: [Vision; 4] = [
        Vision::Normal,
        Vision::Protanopia,
        Vision::Deuteranopia,
        Vision::Tritanopia,
    ];

    /// Linear RGB as seen with `v` (Machado et al. 2009, severity 1).
    pub fn simulate(l: [f64; 3], v: Vision) -> [f64; 3] {
        let m: [[f64; 3]; 3] = match v {
            Vision::Normal => return l,
            Vision::Protanopia => [
                [0.152286, 1.052583, -0.204868],
                [0.114503, 0.786281, 0.099216],
                [-0.003882, -0.048116, 1.051998],
            ],
            Vision::Deuteranopia => [
                [0.367322, 0.860646, -0.227968],
                [0.280085, 0.672501, 0.047413],
                [-0.011820, 0.042940, 0.968881],
            ],
            Vision::Tritanopia => [
                [1.255528, -0.076749, -0.178779],
                [-0.078411, 0.930809, 0.147602],
                [0.004733, 0.691367, 0.303900],
            ],
        };
        let row = |r: [f64; 3]| (r[0] * l[0] + r[1] * l[1] + r[2] * l[2]).clamp(0.0, 1.0);
        [row(m[0]), row(m[1]), row(m[2])]
    }

    /// CIELAB (D65) of linear RGB.
    pub fn lab(l: [f64; 3]) -> [f64; 3] {
        let x = (0.4124 * l[0] + 0.3576 * l[1] + 0.1805 * l[2]) / 0.95047;
        let y = 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
        let z = (0.0193 * l[0] + 0.1192 * l[1] + 0.9505 * l[2]) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    /// CIEDE2000 colour difference of two CIELAB colours.
    pub fn ciede2000(p: [f64; 3], q: [f64; 3]) -> f64 {
        let [l1, a1, b1] = p;
        let [l2, a2, b2] = q;
        let c_bar = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
        let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
        let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
        let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
        let hue = |b: f64, a: f64| {
            if a == 0.0 && b == 0.0 {
                0.0
            } else {
                b.atan2(a).to_degrees().rem_euclid(360.0)
            }
        };
        let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
        let dl = l2 - l1;
        let dc = c2p - c1p;
        let dh = if c1p * c2p == 0.0 {
            0.0
        } else if (h2p - h1p).abs() <= 180.0 {
            h2p - h1p
        } else if h2p - h1p > 180.0 {
            h2p - h1p - 360.0
        } else {
            h2p - h1p + 360.0
        };
        let d_hp = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).to_radians().sin();
        let l_bar = (l1 + l2) / 2.0;
        let cp_bar = (c1p + c2p) / 2.0;
        let hp_bar = if c1p * c2p == 0.0 {
            h1p + h2p
        } else if (h1p - h2p).abs() <= 180.0 {
            (h1p + h2p) / 2.0
        } else if h1p + h2p < 360.0 {
            (h1p + h2p + 360.0) / 2.0
        } else {
            (h1p + h2p - 360.0) / 2.0
        };
        let t = 1.0 - 0.17 * (hp_bar - 30.0).to_radians().cos()
            + 0.24 * (2.0 * hp_bar).to_radians().cos()
            + 0.32 * (3.0 * hp_bar + 6.0).to_radians().cos()
            - 0.20 * (4.0 * hp_bar - 63.0).to_radians().cos();
        let d_theta = 30.0 * (-((hp_bar - 275.0) / 25.0).powi(2)).exp();
        let r_c = 2.0 * (cp_bar.powi(7) / (cp_bar.powi(7) + 25f64.powi(7))).sqrt();
        let s_l = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
        let s_c = 1.0 + 0.045 * cp_bar;
        let s_h = 1.0 + 0.015 * cp_bar * t;
        let r_t = -(2.0 * d_theta).to_radians().sin() * r_c;
        ((dl / s_l).powi(2)
            + (dc / s_c).powi(2)
            + (d_hp / s_h).powi(2)
            + r_t * (dc / s_c) * (d_hp / s_h))
            .sqrt()
    }

    /// CIEDE2000 difference of two sRGB colours as seen with `v`.
    pub fn difference(a: [u8; 3], b: [u8; 3], v: Vision) -> f64 {
        ciede2000(
            lab(simulate(linear_rgb(a), v)),
            lab(simulate(linear_rgb(b), v)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::science::{contrast, difference, ALL};
    use super::*;

    const WHITE: [u8; 3] = [255, 255, 255];

    fn c(hex: &str) -> [u8; 3] {
        rgb(hex).unwrap_or_else(|| panic!("{hex} is not #rrggbb"))
    }

    /// Most types a shipped model has: SciERC's 6 entity and 7 relation types.
    const MOST_ENTITY_TYPES: usize = 6;
    const MOST_RELATION_TYPES: usize = 7;

    #[test]
    fn ciede2000_matches_published_pairs() {
        // Sharma, Wu and Dalal (2005), test data pairs 1, 7 and 17.
        let pairs = [
            ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
            ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
            ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
        ];
        for (p, q, want) in pairs {
            let got = science::ciede2000(p, q);
            assert!((got - want).abs() < 1e-3, "{p:?} {q:?}: {got} != {want}");
        }
        // Contrast: black on white is 21:1.
        assert!((contrast([0, 0, 0], WHITE) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn text_meets_wcag_aa() {
        for (i, (fill, border)) in ENTITY.iter().enumerate() {
            let k = contrast(c(INK), c(fill));
            assert!(k >= 7.0, "entity {i}: text on {fill} has contrast {k:.2}");
            // A mention's border is a graphic: 3:1 against the white page.
            let k = contrast(c(border), WHITE);
            assert!(k >= 3.0, "entity {i}: border {border} has contrast {k:.2}");
        }
        for (i, col) in RELATION.iter().enumerate() {
            // Arc labels are 12 px text in the relation's colour on white.
            let k = contrast(c(col), WHITE);
            assert!(k >= 4.5, "relation {i}: {col} has contrast {k:.2} on white");
        }
    }

    #[test]
    fn relation_types_of_a_model_stay_apart_with_colour_blindness() {
        let used = &RELATION[..MOST_RELATION_TYPES];
        for v in ALL {
            for (i, x) in used.iter().enumerate() {
                for (j, y) in used.iter().enumerate().skip(i + 1) {
                    let d = difference(c(x), c(y), v);
                    assert!(
                        d >= 11.0,
                        "{v:?}: relations {i} ({x}) and {j} ({y}) differ by only {d:.1}"
                    );
                }
            }
        }
        // Neighbouring types also differ in dash.
        for i in 0..MOST_RELATION_TYPES - 1 {
            assert_ne!(relation_dash(i), relation_dash(i + 1));
        }
    }

    #[test]
    fn entity_types_of_a_model_stay_apart_with_colour_blindness() {
        let used = &ENTITY[..MOST_ENTITY_TYPES];
        for v in ALL {
            for (i, &(fi, bi)) in used.iter().enumerate() {
                for (j, &(fj, bj)) in used.iter().enumerate().skip(i + 1) {
                    let fill = difference(c(fi), c(fj), v);
                    let border = difference(c(bi), c(bj), v);
                    // A mention shows both colours: at least one must tell the types apart,
                    // and the fills, the larger area, may not be near twins.
                    assert!(
                        fill.max(border) >= 11.0 && fill >= 6.0,
                        "{v:?}: entity types {i} and {j} differ by {fill:.1} (fill) and {border:.1} (border)"
                    );
                }
            }
        }
    }

    #[test]
    fn colours_cycle() {
        assert_eq!(entity_colors(0), entity_colors(ENTITY.len()));
        assert_eq!(relation_color(1), relation_color(RELATION.len() + 1));
    }

    #[test]
    fn heat_ends_and_bad_values() {
        assert_eq!(heat(0.0), "rgb(255,255,255)");
        assert_eq!(heat(1.0), "rgb(16,70,160)");
        assert_eq!(heat(f32::NAN), heat(0.0));
        assert_eq!(heat(7.0), heat(1.0));
        assert_eq!(heat_of("#553388", 1.0), "rgb(85,51,136)");
        assert_eq!(rgb("#12345"), None);
        assert_eq!(rgb("#ééé"), None);
    }
}
