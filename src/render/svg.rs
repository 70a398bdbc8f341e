//! Inline SVG charts: articles published per year, and per month for the busiest years. Bars
//! link to the year pages; every bar has a text label, so the chart reads without colour.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::Datelike;

use crate::graph::Dossier;
use crate::render::escape;

const BAR: u32 = 28;
const GAP: u32 = 8;
const HEIGHT: u32 = 120;

/// A bar chart of articles per year for a page `root` levels below the output root; empty when
/// no article is dated.
pub fn timeline(dossier: &Dossier, root: &str) -> String {
    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    for article in &dossier.articles {
        if let Some(date) = article.metadata.date {
            *per_year.entry(date.year()).or_default() += 1;
        }
    }
    let (Some(&first), Some(&last)) = (per_year.keys().next(), per_year.keys().next_back()) else {
        return String::new();
    };
    let bars: Vec<(String, usize, Option<String>)> = (first..=last)
        .map(|y| {
            let count = per_year.get(&y).copied().unwrap_or(0);
            let link = dossier
                .years
                .contains_key(&y)
                .then(|| format!("{root}years/{y}.html"));
            (y.to_string(), count, link)
        })
        .collect();
    let mut out = chart("Articles published per year", &bars);
    // The busiest years, month by month.
    let mut busiest: Vec<(i32, usize)> = per_year
        .iter()
        .map(|(y, n)| (*y, *n))
        .filter(|(_, n)| *n >= 2)
        .collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    for (year, _) in busiest.into_iter().take(2) {
        let mut months = [0usize; 12];
        for article in &dossier.articles {
            if let Some(date) = article.metadata.date.filter(|d| d.year() == year) {
                months[date.month0() as usize] += 1;
            }
        }
        let link = format!("{root}years/{year}.html");
        let bars: Vec<(String, usize, Option<String>)> = months
            .iter()
            .enumerate()
            .map(|(m, &n)| (MONTHS[m].to_string(), n, Some(link.clone())))
            .collect();
        out.push_str(&chart(
            &format!("Articles published per month in {year}"),
            &bars,
        ));
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn chart(title: &str, bars: &[(String, usize, Option<String>)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let width = bars.len() as u32 * (BAR + GAP) + GAP;
    let total = HEIGHT + 40;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {width} {total}\" width=\"{width}\" height=\"{total}\" role=\"img\" aria-labelledby=\"{id}\"><title id=\"{id}\">{title}</title>",
        id = chart_id(title),
        title = escape(title)
    );
    for (i, (label, count, link)) in bars.iter().enumerate() {
        let x = GAP + i as u32 * (BAR + GAP);
        let h = (*count as u32 * HEIGHT) / max as u32;
        let y = 20 + HEIGHT - h;
        let bar = format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{BAR}\" height=\"{h}\"><title>{label}: {count} articles</title></rect><text x=\"{cx}\" y=\"{ty}\" class=\"n\">{count}</text><text x=\"{cx}\" y=\"{ly}\">{label}</text>",
            cx = x + BAR / 2,
            ty = y.saturating_sub(4).max(12),
            ly = 20 + HEIGHT + 14,
            label = escape(label),
        );
        match link.as_deref().filter(|_| *count > 0) {
            Some(href) => {
                let _ = write!(svg, "<a href=\"{}\">{bar}</a>", escape(href));
            }
            None => svg.push_str(&bar),
        }
    }
    svg.push_str("</svg></figure>");
    svg
}

fn chart_id(title: &str) -> String {
    let slug: String = title.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("chart-{}", slug.to_lowercase())
}
