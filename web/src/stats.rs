//! Small number helpers: statistics for the in-page benchmark, counts for readers.

/// Median of the values (mean of the middle two for an even count); `None` when empty or
/// when a value is not a number.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Rounds to `digits` decimals (for reports meant to be read).
pub fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `n` with a comma between groups of three digits (20000 → "20,000"), for counts shown
/// to readers.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun in the number that fits it ("1 relation", "2 relations", "0 entities").
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_groups() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(20005), "20,005");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn rounding() {
        assert_eq!(round_to(12.3456, 2), 12.35);
        assert_eq!(round_to(-0.004, 2), -0.0);
    }

    #[test]
    fn counts_take_the_right_number() {
        assert_eq!(counted(1, "relation", "relations"), "1 relation");
        assert_eq!(counted(0, "entity", "entities"), "0 entities");
        assert_eq!(counted(12000, "entity", "entities"), "12,000 entities");
    }
}
