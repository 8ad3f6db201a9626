//! Charts as inline SVG, drawn on the server: no script, no external library, readable without colour
//! (every bar carries its value as text) and by screen readers (`role="img"` with a title and a
//! description listing the figures). Labels are escaped here, since templates insert the SVG as is.

use std::fmt::Write;

/// XML-escapes text for SVG content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value as a chart label: integers without decimals, others with one.
fn figure(v: f64, suffix: &str) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}{suffix}") } else { format!("{v:.1}{suffix}") }
}

fn description(items: &[(String, f64)], suffix: &str) -> String {
    items.iter().map(|(l, v)| format!("{l}: {}", figure(*v, suffix))).collect::<Vec<_>>().join("; ")
}

/// Horizontal bars, one per item, longest first as given. `max`: the scale's end (e.g. 100 for
/// percentages); the largest value when `None`.
pub fn bars(title: &str, items: &[(String, f64)], suffix: &str, max: Option<f64>, empty: &str) -> String {
    if items.is_empty() {
        return format!("<p class=\"empty\">{}</p>", escape(empty));
    }
    let label_w = 190.0;
    let bar_w = 330.0;
    let row_h = 26.0;
    let width = label_w + bar_w + 80.0;
    let height = row_h * items.len() as f64 + 8.0;
    let top = max.unwrap_or_else(|| items.iter().map(|(_, v)| *v).fold(0.0, f64::max)).max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"t\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title>{}</title><desc>{}</desc>",
        escape(title),
        escape(&description(items, suffix))
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (value / top * bar_w).clamp(0.0, bar_w);
        let shown: String = label.chars().take(14).collect();
        let shown = if label.chars().count() > 14 { format!("{shown}…") } else { shown };
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"label\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" rx=\"2\" class=\"bar\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" class=\"value\">{value}</text>",
            lx = label_w - 8.0,
            ty = y + 14.0,
            label = escape(&shown),
            h = row_h - 8.0,
            vx = label_w + w + 6.0,
            value = escape(&figure(*value, suffix)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical columns over time (months), values above the columns.
pub fn columns(title: &str, items: &[(String, f64)], empty: &str) -> String {
    if items.is_empty() {
        return format!("<p class=\"empty\">{}</p>", escape(empty));
    }
    let col_w = 56.0;
    let chart_h = 160.0;
    let width = (col_w * items.len() as f64 + 20.0).max(520.0);
    let height = chart_h + 48.0;
    let top = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title>{}</title><desc>{}</desc><line x1=\"10\" y1=\"{base}\" x2=\"{x2}\" y2=\"{base}\" class=\"axis\"></line>",
        escape(title),
        escape(&description(items, "")),
        base = chart_h + 16.0,
        x2 = width - 10.0,
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let x = 10.0 + i as f64 * col_w;
        let h = (value / top * chart_h).clamp(0.0, chart_h);
        let y = chart_h + 16.0 - h;
        let _ = write!(
            svg,
            "<rect x=\"{bx:.1}\" y=\"{y:.1}\" width=\"{bw}\" height=\"{h:.1}\" rx=\"2\" class=\"bar\"></rect>\
             <text x=\"{cx:.1}\" y=\"{vy:.1}\" text-anchor=\"middle\" class=\"value small\">{value}</text>\
             <text x=\"{cx:.1}\" y=\"{ly}\" text-anchor=\"middle\" class=\"label small\">{label}</text>",
            bx = x + 6.0,
            bw = col_w - 12.0,
            cx = x + col_w / 2.0,
            vy = y - 4.0,
            ly = chart_h + 32.0,
            value = escape(&figure(*value, "")),
            label = escape(label),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_escape_labels_and_carry_values_as_text() {
        let svg = bars("t", &[("<a&b>".into(), 3.0), ("c".into(), 1.5)], "%", None, "none");
        assert!(svg.contains("&lt;a&amp;b&gt;"));
        assert!(!svg.contains("<a&b>"));
        assert!(svg.contains(">3%<") && svg.contains(">1.5%<"));
        assert!(svg.contains("<desc>&lt;a&amp;b&gt;: 3%; c: 1.5%</desc>"));
    }

    #[test]
    fn the_longest_bar_fills_the_scale_and_others_are_proportional() {
        let svg = bars("t", &[("a".into(), 10.0), ("b".into(), 5.0)], "", None, "none");
        assert!(svg.contains("width=\"330.0\""));
        assert!(svg.contains("width=\"165.0\""));
    }

    #[test]
    fn no_data_says_so_instead_of_drawing() {
        assert_eq!(columns("t", &[], "暂无数据"), "<p class=\"empty\">暂无数据</p>");
    }
}
