//! The chart of the ratios: one row per figure, one horizontal bar per
//! peer, the bar's length Whippet's advantage on a logarithmic axis
//! (greater than 1×: Whippet leads; for lower-is-better figures such as
//! latency the advantage is the peer's figure over Whippet's), and a tick
//! where the target is.
//!
//! Written as SVG by hand (a few dozen elements; a plotting crate would
//! cost more build time than the chart is worth) and turned into PNG by
//! `rsvg-convert` (Debian's `librsvg2-bin`, installed with apt-get when
//! missing), since a PNG is what renders everywhere.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// One figure.
pub struct Row {
    /// The label, left of the bars.
    pub label: String,
    /// (peer, advantage) per bar.
    pub bars: Vec<(&'static str, f64)>,
    /// The advantage the target asks for.
    pub target: Option<f64>,
}

/// Colour of each peer's bars.
fn colour(peer: &str) -> &'static str {
    match peer {
        "victoria-metrics" => "#5b4ccf",
        "prometheus" => "#e6522c",
        _ => "#777777",
    }
}

/// Layout, in SVG user units (pixels at the PNG's scale 1).
const LABEL_W: f64 = 430.0;
const PLOT_W: f64 = 560.0;
const BAR_H: f64 = 14.0;
const ROW_GAP: f64 = 10.0;
const TOP: f64 = 70.0;
/// The axis spans 0.25× to 64×: the slowest figure seen so far is about
/// 0.4×, the best about 30×.
const AXIS: (f64, f64) = (0.25, 64.0);

fn x_of(v: f64) -> f64 {
    let (lo, hi) = (AXIS.0.ln(), AXIS.1.ln());
    LABEL_W + (v.clamp(AXIS.0, AXIS.1).ln() - lo) / (hi - lo) * PLOT_W
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart as SVG.
pub fn svg(title: &str, rows: &[Row]) -> String {
    // Peers in the order their bars first appear.
    let mut peers: Vec<&str> = Vec::new();
    for (p, _) in rows.iter().flat_map(|r| &r.bars) {
        if !peers.contains(p) {
            peers.push(p);
        }
    }
    let row_h = |r: &Row| r.bars.len().max(1) as f64 * BAR_H + ROW_GAP;
    let height = TOP + rows.iter().map(row_h).sum::<f64>() + 50.0;
    let width = LABEL_W + PLOT_W + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" font-size="12">"##
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="white"/>"##);
    let _ = write!(
        s,
        r##"<text x="10" y="22" font-size="15" font-weight="bold">{}</text>"##,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<text x="10" y="42" fill="#444">Whippet's advantage (log scale; right of the 1× line Whippet leads; | marks the target)</text>"##
    );
    let mut lx = LABEL_W;
    for p in &peers {
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="50" width="12" height="10" fill="{}"/>"##,
            colour(p)
        );
        let _ = write!(s, r##"<text x="{}" y="59">vs {p}</text>"##, lx + 16.0);
        lx += 170.0;
    }
    let bottom = height - 40.0;
    let mut v = AXIS.0;
    while v <= AXIS.1 * 1.0001 {
        let x = x_of(v);
        let stroke = if (v - 1.0).abs() < 1e-9 {
            "#000"
        } else {
            "#ddd"
        };
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" stroke="{stroke}"/>"##
        );
        let label = if v < 1.0 {
            format!("{v}×")
        } else {
            format!("{v:.0}×")
        };
        let _ = write!(
            s,
            r##"<text x="{x}" y="{}" text-anchor="middle" fill="#444">{label}</text>"##,
            bottom + 16.0
        );
        v *= 2.0;
    }
    let mut y = TOP;
    for r in rows {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
            LABEL_W - 8.0,
            y + BAR_H * r.bars.len().max(1) as f64 / 2.0 + 4.0,
            esc(&r.label)
        );
        for (k, (peer, adv)) in r.bars.iter().enumerate() {
            let by = y + k as f64 * BAR_H;
            let (x0, x1) = (x_of(1.0), x_of(*adv));
            let (x, w) = if x1 >= x0 {
                (x0, x1 - x0)
            } else {
                (x1, x0 - x1)
            };
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{}" width="{}" height="{}" fill="{}"/>"##,
                by + 1.0,
                w.max(1.0),
                BAR_H - 2.0,
                colour(peer)
            );
            let tx = x_of(*adv).max(x0) + 4.0;
            let _ = write!(
                s,
                r##"<text x="{tx}" y="{}" font-size="10">{adv:.2}×</text>"##,
                by + BAR_H - 3.0
            );
        }
        if let Some(t) = r.target {
            let x = x_of(t);
            let _ = write!(
                s,
                r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#0a0" stroke-width="3"/>"##,
                y - 1.0,
                y + BAR_H * r.bars.len().max(1) as f64 + 1.0
            );
        }
        y += row_h(r);
    }
    s.push_str("</svg>\n");
    s
}

/// Renders `svg_path` to `png_path` with `rsvg-convert`, installing
/// Debian's `librsvg2-bin` when it is missing.
pub fn png(svg_path: &Path, png_path: &Path, say: impl Fn(&str)) -> Result<()> {
    let have = |_: ()| {
        Command::new("rsvg-convert")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have(()) {
        say("rsvg-convert is missing: apt-get install -y librsvg2-bin");
        let ok = Command::new("apt-get")
            .args(["install", "-y", "librsvg2-bin"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !have(()) {
            bail!(
                "no rsvg-convert: install Debian's librsvg2-bin to get the PNG chart (the SVG is written)"
            );
        }
    }
    let out = Command::new("rsvg-convert")
        .args(["--format", "png", "--output"])
        .arg(png_path)
        .arg(svg_path)
        .output()
        .context("running rsvg-convert")?;
    if !out.status.success() {
        bail!(
            "rsvg-convert failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_start_at_one_and_grow_with_the_advantage() {
        assert!((x_of(1.0) - (LABEL_W + PLOT_W * 2.0 / 8.0)).abs() < 1e-9);
        assert!(x_of(4.0) > x_of(2.0));
        assert_eq!(x_of(1000.0), x_of(AXIS.1), "clamped");
        let rows = [Row {
            label: "a <b>".into(),
            bars: vec![("victoria-metrics", 2.5), ("prometheus", 0.5)],
            target: Some(2.0),
        }];
        let s = svg("t", &rows);
        assert!(s.contains("a &lt;b&gt;"));
        assert!(s.contains("2.50×") && s.contains("0.50×"));
        assert_eq!(
            s.matches("stroke-width=\"3\"").count(),
            1,
            "one target tick"
        );
    }
}
