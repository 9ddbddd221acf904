//! Colours of entity types and relation types, by their index in the model's label list.

/// Light fills with a darker border for entity types: (fill, border).
const ENTITY: [(&str, &str); 10] = [
    ("#ffe1a8", "#d99a1e"),
    ("#c9e7ff", "#3a8ed6"),
    ("#d6f5d0", "#4aa23c"),
    ("#f6d3f0", "#b34fa3"),
    ("#ffd3cf", "#d9534f"),
    ("#e2dcff", "#6f5bd6"),
    ("#cff3ef", "#22998c"),
    ("#f1e6d0", "#9a7b45"),
    ("#e6e6e6", "#7a7a7a"),
    ("#fbf3b5", "#b8a21a"),
];

/// Strong colours for relation arcs and labels.
const RELATION: [&str; 8] = [
    "#1f5fa8", "#b0322a", "#2f7d32", "#7b3fa0", "#b36b00", "#00796b", "#5d4037", "#c2185b",
];

/// (fill, border) of the entity type with index `i`.
pub fn entity_colors(i: usize) -> (&'static str, &'static str) {
    ENTITY[i % ENTITY.len()]
}

/// Colour of the relation type with index `i`.
pub fn relation_color(i: usize) -> &'static str {
    RELATION[i % RELATION.len()]
}

/// A heat-map colour for a probability in [0, 1]: white to deep blue.
pub fn heat(p: f32) -> String {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |lo: f32, hi: f32| (lo + (hi - lo) * p).round() as u8;
    format!(
        "rgb({},{},{})",
        mix(255.0, 16.0),
        mix(255.0, 70.0),
        mix(255.0, 160.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_cycle() {
        assert_eq!(entity_colors(0), entity_colors(10));
        assert_eq!(relation_color(1), relation_color(9));
    }

    #[test]
    fn heat_ends_and_bad_values() {
        assert_eq!(heat(0.0), "rgb(255,255,255)");
        assert_eq!(heat(1.0), "rgb(16,70,160)");
        assert_eq!(heat(f32::NAN), heat(0.0));
        assert_eq!(heat(7.0), heat(1.0));
    }
}
