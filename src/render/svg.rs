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
        "<figure class=\"chart\"><svg viewBox=\"0 0 {width} {total}\" width=\"{width}\" height=\"{total}\" role=\"group\" aria-labelledby=\"{id}\"><title id=\"{id}\">{title}</title>",
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

/// Country outlines for the map, cut once from Natural Earth (see `scripts/cut-map.mjs`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MapOutline {
    /// West, south, east and north edges in degrees.
    pub bbox: [f64; 4],
    /// Width of the drawing in SVG units.
    pub width: f64,
    /// Height of the drawing in SVG units.
    pub height: f64,
    /// Country shapes as SVG path data.
    pub shapes: Vec<MapShape>,
}

/// One country's outline.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MapShape {
    /// The country's name.
    pub name: String,
    /// SVG path data in the drawing's units.
    pub d: String,
}

/// A place drawn on the map.
pub struct MapPoint {
    /// Its name.
    pub name: String,
    /// Its page, relative to the page the map is on.
    pub url: String,
    /// Latitude and longitude.
    pub coords: (f64, f64),
    /// Articles that name it.
    pub articles: usize,
}

impl MapOutline {
    fn project(&self, (lat, lon): (f64, f64)) -> Option<(f64, f64)> {
        let [west, south, east, north] = self.bbox;
        if !(west..=east).contains(&lon) || !(south..=north).contains(&lat) {
            return None;
        }
        let x = (lon - west) / (east - west) * self.width;
        let y = (north - lat) / (north - south) * self.height;
        Some((x, y))
    }
}

/// The map with `points` sized by article count and linked to their pages; empty when no
/// point falls inside the outline's frame.
pub fn map(outline: &MapOutline, title: &str, points: &[MapPoint]) -> String {
    let mut placed: Vec<(f64, f64, &MapPoint)> = points
        .iter()
        .filter(|p| p.articles > 0)
        .filter_map(|p| outline.project(p.coords).map(|(x, y)| (x, y, p)))
        .collect();
    if placed.is_empty() {
        return String::new();
    }
    // Big circles first, so small ones stay clickable on top of them.
    placed.sort_by(|a, b| {
        b.2.articles
            .cmp(&a.2.articles)
            .then(a.2.name.cmp(&b.2.name))
    });
    let id = chart_id(title);
    let mut svg = format!(
        "<figure class=\"map\"><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"group\" aria-labelledby=\"{id}\"><title id=\"{id}\">{t}</title>",
        w = outline.width,
        h = outline.height,
        t = escape(title)
    );
    for shape in &outline.shapes {
        let _ = write!(
            svg,
            "<path class=\"land\" d=\"{}\"><title>{}</title></path>",
            escape(&shape.d),
            escape(&shape.name)
        );
    }
    let labelled = placed.len().min(8);
    for (i, (x, y, point)) in placed.iter().enumerate() {
        let r = 3.0 + 2.0 * (point.articles as f64).sqrt();
        let _ = write!(
            svg,
            "<a href=\"{url}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\"><title>{name}: {n} articles</title></circle>{label}</a>",
            url = escape(&point.url),
            name = escape(&point.name),
            n = point.articles,
            label = if i < labelled {
                format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    x + r + 2.0,
                    y + 4.0,
                    escape(&point.name)
                )
            } else {
                String::new()
            }
        );
    }
    svg.push_str("</svg><figcaption>Places named in the articles; circles grow with the number of articles. Outlines: Natural Earth.</figcaption></figure>");
    svg
}
