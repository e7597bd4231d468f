//! How figures are written for people, in the cockpit and on the command line.

use chrono::{DateTime, Utc};

/// Money in a few characters: $950, $12k, $1.2M.
pub fn money(v: u64) -> String {
    match v {
        0..=999 => format!("${v}"),
        1_000..=999_999 => format!("${}k", v / 1000),
        _ => format!("${:.1}M", v as f64 / 1_000_000.0),
    }
}

/// A span of time in a few characters: 5m, 3h, 12d.
pub fn ago(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let d = to - from;
    if d.num_days().abs() >= 1 {
        format!("{}d", d.num_days())
    } else if d.num_hours().abs() >= 1 {
        format!("{}h", d.num_hours())
    } else {
        format!("{}m", d.num_minutes().max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn short_forms() {
        assert_eq!(money(950), "$950");
        assert_eq!(money(12_500), "$12k");
        assert_eq!(money(1_250_000), "$1.2M");
        let t = Utc::now();
        assert_eq!(ago(t - Duration::days(3), t), "3d");
        assert_eq!(ago(t - Duration::hours(5), t), "5h");
        assert_eq!(ago(t - Duration::minutes(7), t), "7m");
    }
}
