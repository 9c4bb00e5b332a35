//! The dashboard's inline SVG charts: vouchers per hub, referral outcomes, a dot map of the
//! venues. Drawn on the server, so the pages need no script.
//!
//! SVG elements are written with an explicit closing tag (`rect … {}`): an HTML parser does not
//! treat them as void, so `<rect …>` without one would swallow the elements that follow it.

use maillage_app::stats::Stats;
use maud::{Markup, html};

use super::{DashboardData, HubFigures, int, pct, share};
use crate::lang::t;

/// The series of the vouchers chart: label (French, English) and colour.
const SERIES: [(&str, &str, &str); 4] = [
    ("Émis", "Issued", "#9fb7d9"),
    ("Remis", "Handed out", "#3b6fb6"),
    ("Utilisés", "Redeemed", "#2e8b57"),
    ("Expirés", "Expired", "#d9822b"),
];

/// `" : "` in French typography, `": "` in English.
fn colon() -> &'static str {
    t(" : ", ": ")
}

/// A coordinate with one decimal.
fn dec1(value: f64) -> String {
    format!("{value:.1}")
}

/// `text` cut to at most `chars` characters, an ellipsis standing for what was cut.
fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A legend entry's colour key.
fn key(style: &str) -> Markup {
    html! { span class="key" style=(style) {} }
}

/// Grouped horizontal bars: vouchers issued, handed out, redeemed and expired per hub.
pub fn vouchers_chart(hubs: &[HubFigures]) -> Markup {
    let rows: Vec<&HubFigures> = hubs.iter().filter(|h| h.vouchers.issued > 0).collect();
    if rows.is_empty() {
        return html! {
            p class="muted" { (t("Aucun lot de Pass numérique émis pour l'instant.", "No Pass numérique batch issued yet.")) }
        };
    }
    let max = rows
        .iter()
        .map(|h| h.vouchers.issued)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (label_w, bar_w, bar_h, gap, group_gap, top) = (180.0, 470.0, 11.0, 2.0, 16.0, 8.0);
    let group_h = SERIES.len() as f64 * (bar_h + gap);
    let height = top + rows.len() as f64 * (group_h + group_gap);
    let width = label_w + bar_w + 70.0;
    html! {
        ul class="legend" {
            @for (fr, en, color) in SERIES {
                li { (key(&format!("background:{color}"))) (t(fr, en)) }
            }
        }
        svg id="chart-vouchers" role="img" aria-labelledby="chart-vouchers-title"
            viewBox=(format!("0 0 {width} {height}")) width="100%"
            style=(format!("max-width:{width}px")) xmlns="http://www.w3.org/2000/svg" {
            title id="chart-vouchers-title" {
                (t(
                    "Pass numérique émis, remis, utilisés et expirés par hub",
                    "Pass numérique vouchers issued, handed out, redeemed and expired per hub",
                ))
            }
            @for (row, hub) in rows.iter().enumerate() {
                @let y0 = top + row as f64 * (group_h + group_gap);
                text x=(label_w - 8.0) y=(dec1(y0 + group_h / 2.0 + 4.0)) text-anchor="end"
                    font-size="12" fill="#1d2733" { (truncate(&hub.name, 26)) }
                @let v = &hub.vouchers;
                @for (i, ((fr, en, color), value)) in SERIES
                    .iter()
                    .zip([v.issued, v.handed_out, v.redeemed, v.expired])
                    .enumerate()
                {
                    @let y = y0 + i as f64 * (bar_h + gap);
                    @let w = (value as f64 / max * bar_w).max(if value > 0 { 1.0 } else { 0.0 });
                    rect x=(label_w) y=(dec1(y)) width=(dec1(w)) height=(bar_h) fill=(color) {
                        title { (hub.name) " — " (t(fr, en)) (colon()) (int(value)) }
                    }
                    text x=(dec1(label_w + w + 4.0)) y=(dec1(y + bar_h - 2.0)) font-size="10"
                        fill="#5b6776" { (int(value)) }
                }
            }
            line x1=(label_w) y1="0" x2=(label_w) y2=(height) stroke="#b9c3cf" {}
        }
    }
}

/// Referral outcomes in the order of a referral's life.
fn referral_parts(stats: &Stats) -> [(&'static str, &'static str, u64); 7] {
    let r = &stats.referrals;
    [
        (t("Ouvertes", "Open"), "#9fb7d9", r.open),
        (
            t("Acceptées (en cours)", "Accepted (ongoing)"),
            "#3b6fb6",
            r.accepted,
        ),
        (t("Terminées", "Completed"), "#2e8b57", r.completed),
        (t("Personne absente", "No-show"), "#d9822b", r.no_show),
        (t("Abandonnées", "Abandoned"), "#a05195", r.abandoned),
        (t("Refusées", "Declined"), "#b3261e", r.declined),
        (
            t("Expirées sans réponse", "Expired without answer"),
            "#8a8f98",
            r.expired,
        ),
    ]
}

/// One stacked bar of referral outcomes, with its legend.
pub fn referrals_chart(stats: &Stats) -> Markup {
    let parts = referral_parts(stats);
    let total: u64 = parts.iter().map(|p| p.2).sum();
    if total == 0 {
        return html! {
            p class="muted" { (t("Aucune orientation enregistrée pour l'instant.", "No referral recorded yet.")) }
        };
    }
    let width = 720.0;
    // Each drawn part starts where the previous one ends.
    let mut x = 0.0;
    let bars: Vec<(f64, f64, &str, &str, u64)> = parts
        .iter()
        .filter(|p| p.2 > 0)
        .map(|&(label, color, count)| {
            let w = count as f64 / total as f64 * width;
            let start = x;
            x += w;
            (start, w, label, color, count)
        })
        .collect();
    html! {
        svg id="chart-referrals" role="img" aria-labelledby="chart-referrals-title"
            viewBox=(format!("0 0 {width} 30")) width="100%"
            style=(format!("max-width:{width}px")) xmlns="http://www.w3.org/2000/svg" {
            title id="chart-referrals-title" { (t("Orientations par issue", "Referrals by outcome")) }
            @for (x, w, label, color, count) in bars {
                rect x=(dec1(x)) y="2" width=(dec1(w)) height="26" fill=(color) {
                    title { (label) (colon()) (int(count)) " (" (pct(share(count, total))) ")" }
                }
            }
        }
        ul class="legend" {
            @for (label, color, count) in parts {
                li {
                    (key(&format!("background:{color}"))) (label) (colon()) strong { (int(count)) }
                }
            }
        }
    }
}

/// Bounds of the metropolitan map (degrees): Corsica and the whole mainland.
const MAP_LAT: (f64, f64) = (41.3, 51.15);
const MAP_LON: (f64, f64) = (-5.2, 9.65);

/// Reference towns drawn on the map to find one's way without a coastline.
const TOWNS: [(&str, f64, f64); 9] = [
    ("Paris", 48.857, 2.352),
    ("Lyon", 45.764, 4.836),
    ("Marseille", 43.296, 5.370),
    ("Bordeaux", 44.838, -0.579),
    ("Lille", 50.629, 3.057),
    ("Nantes", 47.218, -1.554),
    ("Strasbourg", 48.573, 7.752),
    ("Toulouse", 43.604, 1.444),
    ("Dijon", 47.322, 5.041),
];

/// Whether a point falls on the metropolitan map.
pub fn on_map(lat: f64, lon: f64) -> bool {
    (MAP_LAT.0..=MAP_LAT.1).contains(&lat) && (MAP_LON.0..=MAP_LON.1).contains(&lon)
}

/// A dot map of venues (equirectangular, scaled at the latitude of the centre of France).
pub fn venue_map(data: &DashboardData) -> Markup {
    let width = 460.0;
    let kx = (46.2f64).to_radians().cos();
    let scale = width / ((MAP_LON.1 - MAP_LON.0) * kx);
    let height = ((MAP_LAT.1 - MAP_LAT.0) * scale).round();
    let project = |lat: f64, lon: f64| ((lon - MAP_LON.0) * kx * scale, (MAP_LAT.1 - lat) * scale);
    let qualified = data.dots.iter().filter(|d| d.qualified).count();
    html! {
        ul class="legend" {
            li { (key("background:#3b6fb6;opacity:.6")) (t("Lieu ouvert", "Open venue")) }
            li { (key("background:#2e8b57")) (t("Lieu qualifié Pass numérique", "Venue qualified for the Pass numérique")) }
            li class="muted" { (t("+ repères : grandes villes", "+ landmarks: large cities")) }
        }
        svg id="map-venues" role="img" aria-labelledby="map-venues-title"
            viewBox=(format!("0 0 {width} {height}")) width="100%"
            style=(format!("max-width:{width}px")) xmlns="http://www.w3.org/2000/svg" {
            title id="map-venues-title" {
                (t(
                    "Carte des lieux ouverts géolocalisés en métropole : ",
                    "Map of the open venues located in metropolitan France: ",
                ))
                (int(data.dots.len() as u64)) (t(" lieux dont ", " venues, of which "))
                (int(qualified as u64)) (t(" qualifiés", " qualified"))
            }
            rect width=(width) height=(height) fill="#eef3f9" rx="6" {}
            @for lat in [42.0, 44.0, 46.0, 48.0, 50.0] {
                @let (_, y) = project(lat, 0.0);
                line x1="0" y1=(dec1(y)) x2=(width) y2=(dec1(y)) stroke="#dbe3ee" {}
                text x="4" y=(dec1(y - 2.0)) font-size="9" fill="#8a94a3" { (lat) "°N" }
            }
            @for lon in [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0] {
                @let (x, _) = project(MAP_LAT.0, lon);
                line x1=(dec1(x)) y1="0" x2=(dec1(x)) y2=(height) stroke="#dbe3ee" {}
            }
            // Qualified venues are drawn last, on top of the others.
            @for dot in data.dots.iter().filter(|d| !d.qualified) {
                @let (x, y) = project(dot.lat, dot.lon);
                circle cx=(dec1(x)) cy=(dec1(y)) r="1.9" fill="#3b6fb6" fill-opacity="0.55" {}
            }
            @for dot in data.dots.iter().filter(|d| d.qualified) {
                @let (x, y) = project(dot.lat, dot.lon);
                circle cx=(dec1(x)) cy=(dec1(y)) r="3.2" fill="#2e8b57" stroke="#fff"
                    stroke-width="0.8" {}
            }
            @for (town, lat, lon) in TOWNS {
                @let (x, y) = project(lat, lon);
                path d=(format!("M{:.1} {y:.1}h6M{x:.1} {:.1}v6", x - 3.0, y - 3.0))
                    stroke="#1d2733" stroke-width="1.2" {}
                text x=(dec1(x + 5.0)) y=(dec1(y - 4.0)) font-size="10" fill="#1d2733" { (town) }
            }
        }
        @if !data.elsewhere.is_empty() {
            p class="small muted" {
                (t("Hors de cette carte (outre-mer) : ", "Off this map (overseas): "))
                (int(data.elsewhere.values().sum()))
                (t(" lieux — département : ", " venues — département: "))
                @for (i, (departement, count)) in data.elsewhere.iter().enumerate() {
                    @if i > 0 { ", " }
                    (departement) " (" (int(*count)) ")"
                }
                "."
            }
        }
        @if data.unplaced > 0 {
            p class="small muted" {
                (int(data.unplaced))
                (t(
                    " lieux ouverts sans coordonnées ne figurent pas sur la carte.",
                    " open venues without coordinates are not on the map.",
                ))
            }
        }
    }
}
