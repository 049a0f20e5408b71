//! Charts drawn on the server as SVG strings: bars per day, a line of rates per day, and a
//! funnel meter. No script; a `viewBox` and `width: 100%` (the stylesheet's `svg.chart`) let
//! them shrink to a phone's width. Each chart is an image with a title (`role="img"`,
//! `aria-labelledby`); the page shows the same numbers as a table.
//!
//! The geometry is pure functions of the values (floats for drawing only, never for money).

use std::fmt::Write as _;

use paybridge_shared::html::escape;

/// The drawing's size in user units; narrow enough that its text stays legible on a phone.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 170.0;

/// The plotting area inside the drawing: room on the left for the axis's labels, below for the
/// days', and on the right for half of today's label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Plot {
    /// The area every chart here uses.
    pub const STANDARD: Self = Self {
        left: 48.0,
        top: 8.0,
        width: WIDTH - 48.0 - 14.0,
        height: HEIGHT - 8.0 - 22.0,
    };

    const fn bottom(self) -> f64 {
        self.top + self.height
    }
}

/// A rectangle in user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The smallest 1, 2 or 5 × 10ⁿ at least `max` (1 for nothing): the axis's top, a round number.
#[must_use]
pub fn nice_ceiling(max: i64) -> i64 {
    if max <= 1 {
        return 1;
    }
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let candidate = step.saturating_mul(m);
            if candidate >= max {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// One bar per value, left to right in equal slots, heights scaled so `top` fills the plot.
/// A zero value gets a zero-height bar.
#[must_use]
#[allow(clippy::cast_precision_loss)] // chart geometry, not money
pub fn bar_rects(values: &[i64], top: i64, plot: Plot) -> Vec<Rect> {
    if values.is_empty() {
        return Vec::new();
    }
    let slot = plot.width / values.len() as f64;
    let gap = (slot * 0.2).min(4.0);
    let top = top.max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let height = ((*v).max(0) as f64 / top).min(1.0) * plot.height;
            Rect {
                x: plot.left + slot * i as f64 + gap / 2.0,
                y: plot.bottom() - height,
                width: slot - gap,
                height,
            }
        })
        .collect()
}

/// The point of each value (a fraction, 0 to 1) at its slot's centre; `None` where there is
/// no value (the line breaks there).
#[must_use]
#[allow(clippy::cast_precision_loss)] // chart geometry
pub fn line_points(values: &[Option<f64>], plot: Plot) -> Vec<Option<(f64, f64)>> {
    if values.is_empty() {
        return Vec::new();
    }
    let slot = plot.width / values.len() as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|v| {
                let v = v.clamp(0.0, 1.0);
                (
                    plot.left + slot * (i as f64 + 0.5),
                    plot.bottom() - v * plot.height,
                )
            })
        })
        .collect()
}

/// An SVG path through `points`, lifting the pen over the gaps; empty for no points.
#[must_use]
pub fn path(points: &[Option<(f64, f64)>]) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for p in points {
        match p {
            Some((x, y)) => {
                let _ = write!(d, "{}{x:.1} {y:.1}", if pen_down { " L" } else { " M" });
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d.trim_start().to_owned()
}

/// Which of `n` slots get a label under the axis: about seven, always the last (today).
#[must_use]
pub fn labelled(n: usize, i: usize) -> bool {
    let every = n.div_ceil(7).max(1);
    (n - 1 - i).is_multiple_of(every)
}

/// One day's bar or point: the label under the axis, its value, and how to say the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub label: String,
    pub value: i64,
    pub text: String,
}

fn open(id: &str, title: &str) -> String {
    format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-labelledby=\"{id}-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{}</title>",
        escape(title)
    )
}

/// Gridlines at 0, half and the top, labelled by `axis_text`; the days' labels below.
fn axes(out: &mut String, plot: Plot, ticks: [(f64, String); 3], labels: &[&str]) {
    for (fraction, text) in ticks {
        let y = plot.bottom() - fraction * plot.height;
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
            plot.left,
            plot.left + plot.width,
        );
        if !text.is_empty() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                plot.left - 4.0,
                y + 4.0,
                escape(&text)
            );
        }
    }
    let n = labels.len();
    #[allow(clippy::cast_precision_loss)] // chart geometry
    let slot = plot.width / n.max(1) as f64;
    for (i, label) in labels.iter().enumerate() {
        if labelled(n, i) {
            #[allow(clippy::cast_precision_loss)]
            let x = plot.left + slot * (i as f64 + 0.5);
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                plot.bottom() + 15.0,
                escape(label)
            );
        }
    }
}

/// A bar chart of `data`, titled `title`; `axis_text` says a value on the axis.
#[must_use]
pub fn bars(id: &str, title: &str, data: &[Datum], axis_text: impl Fn(i64) -> String) -> String {
    let plot = Plot::STANDARD;
    let top = nice_ceiling(data.iter().map(|d| d.value).max().unwrap_or(0));
    let mut out = open(id, title);
    let labels: Vec<&str> = data.iter().map(|d| d.label.as_str()).collect();
    axes(
        &mut out,
        plot,
        [
            (0.0, axis_text(0)),
            // No label halfway up an axis of 1: the half of one payment is no count.
            (
                0.5,
                if top % 2 == 0 {
                    axis_text(top / 2)
                } else {
                    String::new()
                },
            ),
            (1.0, axis_text(top)),
        ],
        &labels,
    );
    let values: Vec<i64> = data.iter().map(|d| d.value).collect();
    for (r, d) in bar_rects(&values, top, plot).iter().zip(data) {
        if d.value > 0 {
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
                 <title>{}: {}</title></rect>",
                r.x,
                r.y,
                r.width,
                r.height,
                escape(&d.label),
                escape(&d.text)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A line of fractions (0 to 1, shown as percentages) per day, titled `title`; a day without a
/// value breaks the line. Each point says its value.
#[must_use]
pub fn line(
    id: &str,
    title: &str,
    labels: &[&str],
    values: &[Option<f64>],
    texts: &[String],
) -> String {
    let plot = Plot::STANDARD;
    let mut out = open(id, title);
    axes(
        &mut out,
        plot,
        [
            (0.0, "0%".into()),
            (0.5, "50%".into()),
            (1.0, "100%".into()),
        ],
        labels,
    );
    let points = line_points(values, plot);
    let d = path(&points);
    if !d.is_empty() {
        let _ = write!(out, "<path class=\"line\" d=\"{d}\"/>");
    }
    for ((p, label), text) in points.iter().zip(labels).zip(texts) {
        if let Some((x, y)) = p {
            let _ = write!(
                out,
                "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"><title>{}: {}</title></circle>",
                escape(label),
                escape(text)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A funnel's meter: three horizontal bars (opened, attempted, paid) against `max` opened, for
/// a table row that states the numbers itself (so the meter is hidden from screen readers).
#[must_use]
#[allow(clippy::cast_precision_loss)] // chart geometry
pub fn funnel_meter(opened: i64, attempted: i64, paid: i64, max: i64) -> String {
    let max = max.max(1) as f64;
    let mut out = String::from(
        "<svg class=\"meter\" viewBox=\"0 0 100 18\" preserveAspectRatio=\"none\" \
         aria-hidden=\"true\" focusable=\"false\" xmlns=\"http://www.w3.org/2000/svg\">",
    );
    for (i, (class, n)) in [("opened", opened), ("attempted", attempted), ("paid", paid)]
        .into_iter()
        .enumerate()
    {
        let width = n.max(0) as f64 / max * 100.0;
        if width > 0.0 {
            let _ = write!(
                out,
                "<rect class=\"{class}\" x=\"0\" y=\"{}\" width=\"{width:.1}\" height=\"5\"/>",
                i * 6
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLOT: Plot = Plot {
        left: 10.0,
        top: 0.0,
        width: 100.0,
        height: 50.0,
    };

    #[test]
    fn the_axis_top_is_a_round_number_at_least_the_largest_value() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(10), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(123_456), 200_000);
        assert!(nice_ceiling(i64::MAX) >= i64::MAX / 2);
    }

    #[test]
    fn bars_fill_equal_slots_and_scale_to_the_top() {
        let r = bar_rects(&[0, 5, 10, 20], 20, PLOT);
        assert_eq!(r.len(), 4);
        // Slots of 25, gaps of 4.
        assert!((r[0].x - 12.0).abs() < 1e-9);
        assert!((r[1].x - 37.0).abs() < 1e-9);
        assert!((r[0].width - 21.0).abs() < 1e-9);
        assert!(r[0].height.abs() < 1e-9);
        assert!((r[1].height - 12.5).abs() < 1e-9);
        assert!((r[3].height - 50.0).abs() < 1e-9);
        // Bars stand on the axis.
        for b in &r {
            assert!((b.y + b.height - 50.0).abs() < 1e-9);
        }
        // Never outside the plot, even with a value above the top.
        let over = bar_rects(&[40], 20, PLOT);
        assert!(over[0].x >= PLOT.left && over[0].x + over[0].width <= PLOT.left + PLOT.width);
        assert!((over[0].height - PLOT.height).abs() < 1e-9);
        assert!(bar_rects(&[], 10, PLOT).is_empty());
        assert!(bar_rects(&[0, 0], 0, PLOT).iter().all(|b| b.height == 0.0));
    }

    #[test]
    fn a_line_breaks_where_a_day_has_no_value() {
        let points = line_points(&[Some(1.0), Some(0.5), None, Some(0.0)], PLOT);
        assert_eq!(points[0], Some((22.5, 0.0)));
        assert_eq!(points[1], Some((47.5, 25.0)));
        assert_eq!(points[2], None);
        assert_eq!(points[3], Some((97.5, 50.0)));
        assert_eq!(path(&points), "M22.5 0.0 L47.5 25.0 M97.5 50.0");
        assert_eq!(path(&[None]), "");
        // Out-of-range rates are held to the plot.
        assert_eq!(line_points(&[Some(2.0)], PLOT)[0], Some((60.0, 0.0)));
    }

    #[test]
    fn about_seven_days_are_labelled_always_today() {
        let shown = |n: usize| (0..n).filter(|i| labelled(n, *i)).count();
        assert_eq!(shown(7), 7);
        assert_eq!(shown(14), 7);
        assert_eq!(shown(30), 6);
        assert_eq!(shown(90), 7);
        assert!(labelled(30, 29) && labelled(90, 89));
    }

    #[test]
    fn a_chart_is_a_titled_image_that_scales() {
        let data = vec![
            Datum {
                label: "12-06".into(),
                value: 0,
                text: "¥0.00".into(),
            },
            Datum {
                label: "12-07".into(),
                value: 250,
                text: "¥2.50 <&>".into(),
            },
        ];
        let svg = bars("volume", "Paid volume", &data, |v| v.to_string());
        assert!(svg.starts_with("<svg class=\"chart\" id=\"volume\" viewBox=\"0 0 320 170\""));
        assert!(svg.contains("role=\"img\" aria-labelledby=\"volume-title\""));
        assert!(svg.contains("<title id=\"volume-title\">Paid volume</title>"));
        // Only the day with a value has a bar, and the text is escaped.
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 1);
        assert!(svg.contains("12-07: ¥2.50 &lt;&amp;&gt;"));
        assert!(svg.ends_with("</svg>"));
        // An axis of one payment has no label halfway.
        let one = vec![Datum {
            label: "12-07".into(),
            value: 1,
            text: "1".into(),
        }];
        let svg = bars("count", "Payments", &one, |v| v.to_string());
        assert_eq!(svg.matches("text-anchor=\"end\"").count(), 2, "{svg}");
    }

    #[test]
    fn a_funnel_meter_scales_to_the_largest_environment() {
        let svg = funnel_meter(4, 2, 1, 8);
        assert!(svg.contains("class=\"opened\" x=\"0\" y=\"0\" width=\"50.0\""));
        assert!(svg.contains("class=\"attempted\" x=\"0\" y=\"6\" width=\"25.0\""));
        assert!(svg.contains("class=\"paid\" x=\"0\" y=\"12\" width=\"12.5\""));
        assert!(!funnel_meter(0, 0, 0, 0).contains("<rect"));
    }
}
