//! Stacking of relation arcs above a line of text.
//!
//! Every arc occupies a horizontal extent on its line (from one end point to the other,
//! widened by its label where the label is wider than the arc). Arcs are put on levels,
//! level 0 being the one closest to the text. Two rules:
//!
//! - arcs whose extents overlap get different levels (so neither the arcs nor their labels
//!   cross);
//! - an arc nested inside another one gets a lower level (it is drawn under the enclosing
//!   arc).
//!
//! Placing arcs from the narrowest to the widest on the lowest level that none of the
//! already placed, overlapping arcs uses satisfies both: when an enclosing arc is placed,
//! every arc it contains is already placed, and every level below a contained arc's level
//! is used by an arc that overlaps the contained one and hence the enclosing one too.

/// The horizontal extent of one arc on its line, in pixels (`lo <= hi`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    pub lo: f64,
    pub hi: f64,
}

impl Extent {
    /// The extent of an arc between `a` and `b` (either order) with a label of `label_width`
    /// centred between them.
    pub fn of_arc(a: f64, b: f64, label_width: f64) -> Self {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mid = (lo + hi) / 2.0;
        let half = label_width / 2.0;
        Self {
            lo: lo.min(mid - half),
            hi: hi.max(mid + half),
        }
    }

    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }

    /// Whether the two extents share more than a `gap`-wide margin. Arcs that only touch
    /// (one ends where the next begins) count as overlapping when `gap > 0`.
    pub fn overlaps(&self, other: &Extent, gap: f64) -> bool {
        self.lo < other.hi + gap && other.lo < self.hi + gap
    }

    /// Whether `other` lies within `self`.
    pub fn contains(&self, other: &Extent) -> bool {
        self.lo <= other.lo && other.hi <= self.hi
    }
}

/// The level of each arc (same order as `extents`), level 0 nearest to the text.
///
/// `gap` is the horizontal margin two arcs on one level keep between them.
pub fn assign_levels(extents: &[Extent], gap: f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..extents.len()).collect();
    order.sort_by(|&a, &b| {
        let (ea, eb) = (extents[a], extents[b]);
        ea.width()
            .total_cmp(&eb.width())
            .then(ea.lo.total_cmp(&eb.lo))
            .then(a.cmp(&b))
    });
    let mut levels = vec![0usize; extents.len()];
    let mut placed: Vec<usize> = Vec::with_capacity(extents.len());
    for &i in &order {
        let mut used: Vec<usize> = placed
            .iter()
            .filter(|&&j| extents[i].overlaps(&extents[j], gap))
            .map(|&j| levels[j])
            .collect();
        used.sort_unstable();
        used.dedup();
        let mut level = 0;
        for u in used {
            if u == level {
                level += 1;
            } else if u > level {
                break;
            }
        }
        levels[i] = level;
        placed.push(i);
    }
    levels
}

/// Number of levels in use (0 when there are no arcs).
pub fn level_count(levels: &[usize]) -> usize {
    levels.iter().map(|l| l + 1).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(lo: f64, hi: f64) -> Extent {
        Extent { lo, hi }
    }

    /// The two rules, checked on any layout.
    fn check(extents: &[Extent], levels: &[usize], gap: f64) {
        for i in 0..extents.len() {
            for j in 0..extents.len() {
                if i == j {
                    continue;
                }
                if extents[i].overlaps(&extents[j], gap) {
                    assert_ne!(
                        levels[i], levels[j],
                        "arcs {i} and {j} overlap on one level"
                    );
                }
                if extents[i].contains(&extents[j]) && extents[i] != extents[j] {
                    assert!(
                        levels[j] < levels[i],
                        "arc {j} is nested in {i} but not under it"
                    );
                }
            }
        }
    }

    #[test]
    fn no_arcs_no_levels() {
        assert!(assign_levels(&[], 2.0).is_empty());
        assert_eq!(level_count(&[]), 0);
    }

    #[test]
    fn disjoint_arcs_share_the_lowest_level() {
        let ext = [e(0.0, 10.0), e(20.0, 30.0), e(40.0, 50.0)];
        let levels = assign_levels(&ext, 2.0);
        assert_eq!(levels, vec![0, 0, 0]);
        assert_eq!(level_count(&levels), 1);
    }

    #[test]
    fn overlapping_arcs_get_different_levels() {
        let ext = [e(0.0, 30.0), e(20.0, 50.0)];
        let levels = assign_levels(&ext, 0.0);
        assert_ne!(levels[0], levels[1]);
        check(&ext, &levels, 0.0);
    }

    #[test]
    fn touching_arcs_are_separated_by_the_gap() {
        let ext = [e(0.0, 10.0), e(10.0, 20.0)];
        assert_eq!(assign_levels(&ext, 0.0), vec![0, 0]);
        let levels = assign_levels(&ext, 4.0);
        assert_ne!(levels[0], levels[1]);
    }

    #[test]
    fn nested_arcs_go_under_the_enclosing_one() {
        // Given widest first, so the order of the input does not decide.
        let ext = [e(0.0, 100.0), e(10.0, 60.0), e(20.0, 30.0)];
        let levels = assign_levels(&ext, 2.0);
        assert_eq!(levels, vec![2, 1, 0]);
        check(&ext, &levels, 2.0);
    }

    #[test]
    fn two_nested_arcs_side_by_side_share_a_level() {
        let ext = [e(0.0, 100.0), e(10.0, 40.0), e(60.0, 90.0)];
        let levels = assign_levels(&ext, 2.0);
        assert_eq!(levels, vec![1, 0, 0]);
    }

    #[test]
    fn identical_spans_are_stacked() {
        // A relation in both directions between the same two mentions.
        let ext = [e(5.0, 50.0), e(5.0, 50.0)];
        let levels = assign_levels(&ext, 2.0);
        let mut sorted = levels.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1]);
    }

    #[test]
    fn a_gap_below_is_reused() {
        // A sits at 0, B over it at 1; C overlaps only B and so can use level 0.
        let ext = [e(0.0, 10.0), e(5.0, 40.0), e(30.0, 60.0)];
        let levels = assign_levels(&ext, 0.0);
        check(&ext, &levels, 0.0);
        assert_eq!(level_count(&levels), 2);
    }

    #[test]
    fn label_wider_than_arc_widens_the_extent() {
        let x = Extent::of_arc(50.0, 40.0, 30.0);
        assert_eq!(x, e(30.0, 60.0));
        let y = Extent::of_arc(0.0, 100.0, 30.0);
        assert_eq!(y, e(0.0, 100.0));
    }

    #[test]
    fn rules_hold_on_many_pseudo_random_layouts() {
        // A small linear congruential generator: deterministic, no dependency.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..200 {
            let n = 1 + (next() * 12.0) as usize;
            let ext: Vec<Extent> = (0..n)
                .map(|_| {
                    let a = (next() * 600.0).round();
                    let b = (next() * 600.0).round();
                    Extent::of_arc(a, b, (next() * 80.0).round())
                })
                .collect();
            let levels = assign_levels(&ext, 3.0);
            check(&ext, &levels, 3.0);
        }
    }
}
