//! The HTML format: one self-contained, print-friendly page (A4 `@page`, no external fonts, scripts or
//! styles; the QR code inline as SVG). Every text from the report is escaped.

use std::fmt::Write;

use crate::model::{EMPTY_TEXT, Entry, Report, Section};

const STYLE: &str = r#"
@page { size: A4; margin: 18mm 16mm 20mm;
  @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 8pt; color: #555; } }
* { box-sizing: border-box; }
body { margin: 0; background: #eef0f3; color: #1a1a1a;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif;
  font-size: 10.5pt; line-height: 1.6; }
.sheet { max-width: 210mm; margin: 0 auto; padding: 16mm; background: #fff; }
.top { display: flex; justify-content: space-between; border-bottom: 2px solid #8b0000; padding-bottom: 4px; font-size: 9pt; color: #444; }
h1 { text-align: center; font-size: 22pt; letter-spacing: 0.3em; margin: 14px 0 0; color: #8b0000; }
.subtitle { text-align: center; margin: 0 0 14px; color: #444; }
.head { display: flex; gap: 16px; align-items: flex-start; }
.head table { flex: 1; }
.qr { width: 32mm; text-align: center; font-size: 8pt; color: #444; }
.qr svg { width: 30mm; height: 30mm; }
table { width: 100%; border-collapse: collapse; margin: 4px 0 10px; }
th, td { border: 1px solid #9aa3ad; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #eef2f7; font-weight: 600; white-space: nowrap; width: 9em; }
h2 { font-size: 13pt; border-left: 4px solid #8b0000; padding-left: 8px; margin: 18px 0 6px; page-break-after: avoid; }
.entry caption { text-align: left; font-weight: 600; padding: 2px 0; }
.empty { color: #555; padding: 4px 0 8px; }
.date { color: #555; font-weight: 400; margin-left: 6px; }
.disputed { color: #b00000; font-weight: 600; margin-left: 6px; }
.found { color: #b00000; font-weight: 600; }
.clean { color: #1d6b2f; font-weight: 600; }
.notes { margin-top: 18px; font-size: 9pt; color: #333; border-top: 1px solid #9aa3ad; padding-top: 6px; }
.notes ol { padding-left: 1.5em; margin: 4px 0; }
.seal { text-align: right; margin-top: 16px; }
@media print { body { background: #fff; } .sheet { padding: 0; max-width: none; } tr, .entry { page-break-inside: avoid; } }
"#;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const NUMERALS: [&str; 15] =
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"];

pub fn numeral(i: usize) -> &'static str {
    NUMERALS.get(i).copied().unwrap_or("")
}

/// Renders the report as one HTML document (unsigned; see [`crate::sign`]).
pub fn render(report: &Report, qr_svg: &str) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let e = escape;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"report-number\" content=\"{}\">\n<title>{} {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main class=\"sheet\">\n",
        e(&report.number),
        e(&report.title),
        e(&report.number)
    );
    let _ = write!(
        h,
        "<div class=\"top\"><span>{}</span><span>报告编号：{}</span></div>\n<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n",
        e(&report.platform),
        e(&report.number),
        e(&report.title),
        e(&report.subtitle)
    );
    h.push_str("<div class=\"head\"><table>\n");
    let mut meta = vec![
        ("报告编号", report.number.clone()),
        ("信息主体", report.subject.name.clone()),
        (report.subject.identifier_label.as_str(), report.subject.identifier.clone()),
        ("出具时间", report.issued_at.format("%Y年%m月%d日 %H:%M:%S").to_string()),
        ("出具机构", report.platform.clone()),
        ("报告使用人", report.issued_to.clone()),
        ("查询用途", report.purpose.clone()),
    ];
    if let Some(p) = report.period {
        meta.push(("查询期间", format!("{} 至 {}", p.from, p.to)));
    }
    for (label, value) in meta {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", e(label), e(&value));
    }
    let _ = write!(h, "</table>\n<div class=\"qr\">{qr_svg}<div>扫码核验真伪</div></div></div>\n");
    let mut n = 0;
    for s in &report.sections {
        if s.key == "advice" && !report.verdicts.is_empty() {
            continue;
        }
        section(&mut h, n, s);
        n += 1;
    }
    if !report.verdicts.is_empty() {
        let _ = writeln!(h, "<section><h2>{}、核查结论</h2>", numeral(n));
        for v in &report.verdicts {
            let class = if v.found { "found" } else { "clean" };
            let mark = if v.found { "发现记录" } else { "未发现记录" };
            let _ = writeln!(
                h,
                "<table><tr><th>{}</th><td><span class=\"{class}\">{mark}</span> {}</td></tr></table>",
                e(&v.name),
                e(&v.conclusion)
            );
            for entry_ in &v.entries {
                entry(&mut h, entry_);
            }
        }
        h.push_str("</section>\n");
    }
    h.push_str("<div class=\"notes\"><strong>说明</strong><ol>\n");
    for note in &report.notes {
        let _ = writeln!(h, "<li>{}</li>", e(note));
    }
    let _ = write!(
        h,
        "</ol></div>\n<p class=\"seal\">{}<br>{}</p>\n</main>\n</body>\n</html>\n",
        e(&report.platform),
        report.issued_at.format("%Y年%m月%d日")
    );
    h
}

fn section(h: &mut String, n: usize, s: &Section) {
    let _ = writeln!(h, "<section><h2>{}、{}</h2>", numeral(n), escape(&s.title));
    if s.entries.is_empty() {
        let _ = writeln!(h, "<p class=\"empty\">{}</p>", escape(s.text.as_deref().unwrap_or(EMPTY_TEXT)));
    }
    for e in &s.entries {
        entry(h, e);
    }
    h.push_str("</section>\n");
}

fn entry(h: &mut String, e: &Entry) {
    if e.fields.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", escape(&e.title));
        return;
    }
    let disputed = if e.disputed { "<span class=\"disputed\">【异议中】</span>" } else { "" };
    let date = e.date.map(|d| format!(" <span class=\"date\">{d}</span>")).unwrap_or_default();
    let _ = writeln!(h, "<table class=\"entry\"><caption>{}{date}{disputed}</caption>", escape(&e.title));
    for f in &e.fields {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(&f.label), escape(&f.value));
    }
    h.push_str("</table>\n");
}
