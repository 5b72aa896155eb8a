//! Small charts for the terminal: what `whippet query` draws under its
//! table.
//!
//! Two shapes, both pure functions from points to text so they are tested
//! without a terminal:
//! - [`sparkline`]: one line of block characters (`▁▂▃▄▅▆▇█`) per series,
//!   shown in the table;
//! - [`chart`]: a grid `height` rows high and `width` columns wide, with a
//!   value axis on the left and a time axis below, where each series draws
//!   with its own marker.
//!
//! Points are `(timestamp_ms, Option<value>)` as the query API answers them;
//! a null draws nothing. Several points falling into one column are
//! averaged, so a chart narrower than the series still shows its shape.
//! Written by hand: the two crates that draw terminal charts pull in a full
//! TUI framework, and this is 200 lines.

/// Markers of the series in [`chart`], in table order; a 7th series reuses
/// the first marker.
pub const MARKERS: [char; 6] = ['●', '○', '×', '+', '◆', '■'];

/// The eight heights of a [`sparkline`] cell, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One series to draw.
pub struct Line<'a> {
    /// `(timestamp_ms, value)`; `None` is a gap.
    pub points: &'a [(i64, Option<f64>)],
}

/// The finite values of `points`, bucketed into `width` columns spanning
/// `[t0, t1]`, each column the mean of its values (`None` when it has none).
fn columns(points: &[(i64, Option<f64>)], t0: i64, t1: i64, width: usize) -> Vec<Option<f64>> {
    let mut sum = vec![0.0f64; width];
    let mut n = vec![0u32; width];
    let span = (t1 - t0).max(1) as f64;
    for &(t, v) in points {
        let Some(v) = v.filter(|v| v.is_finite()) else {
            continue;
        };
        let x = (((t - t0) as f64 / span) * (width - 1) as f64).round();
        let x = (x.max(0.0) as usize).min(width - 1);
        sum[x] += v;
        n[x] += 1;
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &c)| (c > 0).then(|| s / c as f64))
        .collect()
}

/// The time range of all points, or `None` when there are none.
fn time_range<'a>(lines: impl Iterator<Item = &'a [(i64, Option<f64>)]>) -> Option<(i64, i64)> {
    let mut range: Option<(i64, i64)> = None;
    for points in lines {
        for &(t, _) in points {
            range = Some(match range {
                None => (t, t),
                Some((a, b)) => (a.min(t), b.max(t)),
            });
        }
    }
    range
}

/// The finite min and max of the columns, or `None` when all are empty.
fn value_range<'a>(cols: impl Iterator<Item = &'a Option<f64>>) -> Option<(f64, f64)> {
    cols.flatten().fold(None, |r, &v| match r {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// One line of `width` block characters; empty columns are spaces. A flat
/// series sits at the middle height.
pub fn sparkline(points: &[(i64, Option<f64>)], width: usize) -> String {
    let width = width.max(1);
    let Some((t0, t1)) = time_range(std::iter::once(points)) else {
        return " ".repeat(width);
    };
    let cols = columns(points, t0, t1, width);
    let Some((lo, hi)) = value_range(cols.iter()) else {
        return " ".repeat(width);
    };
    cols.iter()
        .map(|c| match c {
            None => ' ',
            Some(_) if hi == lo => BLOCKS[3],
            Some(v) => {
                let level = ((v - lo) / (hi - lo) * (BLOCKS.len() - 1) as f64).round();
                BLOCKS[(level as usize).min(BLOCKS.len() - 1)]
            }
        })
        .collect()
}

/// A chart of `lines` on one grid: `height` rows of `width` columns, value
/// labels on the left, the first and last time below. Empty when no line
/// has a value.
pub fn chart(
    lines: &[Line<'_>],
    width: usize,
    height: usize,
    fmt_time: &dyn Fn(i64) -> String,
) -> String {
    let width = width.max(2);
    let height = height.max(2);
    let Some((t0, t1)) = time_range(lines.iter().map(|l| l.points)) else {
        return String::new();
    };
    let cols: Vec<Vec<Option<f64>>> = lines
        .iter()
        .map(|l| columns(l.points, t0, t1, width))
        .collect();
    let Some((lo, hi)) = value_range(cols.iter().flatten()) else {
        return String::new();
    };
    // A flat chart gets a band around its value so it draws mid-height.
    let (lo, hi) = if hi == lo {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let mut grid = vec![vec![' '; width]; height];
    // Later series draw first so that the first series stays on top.
    for (i, c) in cols.iter().enumerate().rev() {
        let marker = MARKERS[i % MARKERS.len()];
        for (x, v) in c.iter().enumerate() {
            if let Some(v) = v {
                let y = ((v - lo) / (hi - lo) * (height - 1) as f64).round() as usize;
                grid[height - 1 - y.min(height - 1)][x] = marker;
            }
        }
    }
    let labels: Vec<String> = (0..height)
        .map(|row| {
            if row == 0 {
                human(hi)
            } else if row == height - 1 {
                human(lo)
            } else if row == height / 2 {
                human(lo + (hi - lo) * (height - 1 - row) as f64 / (height - 1) as f64)
            } else {
                String::new()
            }
        })
        .collect();
    let pad = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, row) in labels.iter().zip(&grid) {
        out.push_str(&format!("{label:>pad$} ┤"));
        out.extend(row.iter());
        out.push('\n');
    }
    out.push_str(&format!("{:>pad$} └{}\n", "", "─".repeat(width)));
    let (a, b) = (fmt_time(t0), fmt_time(t1));
    let gap = width
        .saturating_sub(a.chars().count() + b.chars().count())
        .max(1);
    out.push_str(&format!("{:>pad$}  {a}{}{b}\n", "", " ".repeat(gap)));
    out
}

/// A number in at most about 7 characters: `0`, `12.5`, `0.0042`, `1.23k`,
/// `45.6M`, `-3.2G`, `1.2e-9`.
pub fn human(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let (scaled, suffix) = match a {
        a if a >= 1e15 => return format!("{v:.2e}"),
        a if a >= 1e12 => (v / 1e12, "T"),
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e4 => (v / 1e3, "k"),
        a if a >= 1e-3 => (v, ""),
        _ => return format!("{v:.1e}"),
    };
    let digits = match scaled.abs() {
        a if a >= 100.0 => 1,
        a if a >= 10.0 => 2,
        a if a >= 1.0 => 3,
        _ => 4,
    };
    let mut s = format!("{scaled:.digits$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s + suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[Option<f64>]) -> Vec<(i64, Option<f64>)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 10_000, *v))
            .collect()
    }

    #[test]
    fn sparkline_spans_lowest_to_highest_block() {
        let p = pts(&[
            Some(0.0),
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(4.0),
            Some(5.0),
            Some(6.0),
            Some(7.0),
        ]);
        assert_eq!(sparkline(&p, 8), "▁▂▃▄▅▆▇█");
        // Twice the columns: every other one empty.
        let s: Vec<char> = sparkline(&p, 15).chars().collect();
        assert_eq!((s[0], s[1], s[14]), ('▁', ' ', '█'));
    }

    #[test]
    fn sparkline_gaps_flat_and_empty() {
        let p = pts(&[Some(1.0), None, Some(3.0)]);
        assert_eq!(sparkline(&p, 3), "▁ █");
        assert_eq!(sparkline(&pts(&[Some(5.0), Some(5.0)]), 2), "▄▄");
        assert_eq!(sparkline(&[], 4), "    ");
        assert_eq!(sparkline(&pts(&[None, None]), 2), "  ");
    }

    #[test]
    fn narrow_columns_average_their_points() {
        // Four points into two columns: x = round(i / 3) puts 0,1 → col 0
        // and 2,3 → col 1.
        let c = columns(
            &pts(&[Some(1.0), Some(3.0), Some(10.0), Some(20.0)]),
            0,
            30_000,
            2,
        );
        assert_eq!(c, vec![Some(2.0), Some(15.0)]);
    }

    #[test]
    fn chart_puts_extremes_on_the_edges_with_labels() {
        let a = pts(&[Some(0.0), Some(50.0), Some(100.0)]);
        let b = pts(&[Some(100.0), None, Some(0.0)]);
        let lines = [Line { points: &a }, Line { points: &b }];
        let text = chart(&lines, 3, 3, &|t| format!("t{}", t / 1000));
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 5, "{text}");
        // Top row: 100 at x=2 for a, x=0 for b; middle: a's 50 at x=1.
        assert_eq!(rows[0], "100 ┤○ ●");
        assert_eq!(rows[1], " 50 ┤ ● ");
        assert_eq!(rows[2], "  0 ┤● ○");
        assert_eq!(rows[3], "    └───");
        assert!(rows[4].contains("t0") && rows[4].contains("t20"), "{text}");
    }

    #[test]
    fn chart_of_nothing_is_empty_and_flat_is_centred() {
        assert_eq!(chart(&[], 10, 4, &|t| t.to_string()), "");
        let flat = pts(&[Some(7.0), Some(7.0)]);
        let text = chart(&[Line { points: &flat }], 2, 3, &|t| t.to_string());
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[1].ends_with("●●"), "{text}");
    }

    #[test]
    fn human_numbers_are_short() {
        assert_eq!(human(0.0), "0");
        assert_eq!(human(12.5), "12.5");
        assert_eq!(human(3.0), "3");
        assert_eq!(human(0.00421), "0.0042");
        assert_eq!(human(1234.0), "1234");
        assert_eq!(human(12_346.0), "12.35k");
        assert_eq!(human(-45_600_000.0), "-45.6M");
        assert_eq!(human(3.2e9), "3.2G");
        assert_eq!(human(1.2e-9), "1.2e-9");
    }
}
