//! The dashboard's pages, rendered to HTML strings: no template engine, no script. Every text
//! that comes from the ledger (names, addresses, funders), from a peer (errors, reasons) or
//! from the request (search terms) goes through [`esc`].
//!
//! Labels are French first (the coordinators' language), with the figure's definition where it
//! is not obvious.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use maillage_core::pb;

use maillage_app::stats::{Stats, VoucherLine};

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A count with a narrow no-break space between thousands (French typography).
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// A rate as a percentage (whole, or with one decimal under 10 % so that a small share does
/// not read as none), `—` when undefined.
pub fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(
        || "—".into(),
        |r| {
            let percent = r * 100.0;
            if percent > 0.0 && percent < 9.95 {
                format!("{percent:.1}\u{202F}%").replace('.', ",")
            } else {
                format!("{percent:.0}\u{202F}%")
            }
        },
    )
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Days with a decimal comma, `—` when undefined.
fn days(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".into(),
        |d| {
            format!("{d:.1}\u{A0}j")
                .replace(".0\u{A0}", "\u{A0}")
                .replace('.', ",")
        },
    )
}

fn euros(cents: u64) -> String {
    format!("{},{:02}\u{A0}€", int(cents / 100), cents % 100)
}

/// Who serves the page (shown in every header).
#[derive(Debug, Clone)]
pub struct PageHead {
    /// The federation's name.
    pub federation: String,
    /// This node's display name.
    pub node: String,
    /// `hub` or `observer`.
    pub role: String,
    /// This node's key, shortened.
    pub key_short: String,
}

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/`.
    Dashboard,
    /// `/federation`.
    Federation,
    /// `/venues`.
    Venues,
    /// Anything else.
    None,
}

const STYLE: &str = r#"
:root { --ink:#1d2733; --muted:#5b6776; --line:#d8dee6; --bg:#f5f7fa; --brand:#1f4e8c;
        --ok:#2e8b57; --warn:#c77700; --bad:#b3261e; --blue:#3b6fb6; }
* { box-sizing:border-box; }
body { margin:0; font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
       color:var(--ink); background:var(--bg); font-size:15px; line-height:1.45; }
header { background:var(--brand); color:#fff; padding:.7rem 1.5rem; display:flex; flex-wrap:wrap;
         align-items:baseline; gap:.4rem 1.5rem; }
header .brand { font-weight:700; font-size:1.25rem; letter-spacing:.02em; }
header .who { opacity:.85; font-size:.9rem; }
header nav { margin-left:auto; display:flex; gap:1rem; }
header nav a { color:#fff; text-decoration:none; padding:.15rem .1rem; border-bottom:2px solid transparent; }
header nav a.current { border-bottom-color:#fff; font-weight:600; }
main { max-width:1240px; margin:0 auto; padding:1.2rem 1.5rem 3rem; }
h1 { font-size:1.55rem; margin:.3rem 0 .2rem; }
h2 { font-size:1.15rem; margin:2rem 0 .6rem; padding-bottom:.25rem; border-bottom:1px solid var(--line); }
p.lead { color:var(--muted); margin:.1rem 0 1rem; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill,minmax(165px,1fr)); gap:.7rem; }
.tile { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.65rem .8rem; }
.tile .value { display:block; font-size:1.6rem; font-weight:700; font-variant-numeric:tabular-nums; }
.tile .label { color:var(--muted); font-size:.85rem; }
.grid2 { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:1.2rem; align-items:start; }
@media (max-width:900px) { .grid2 { grid-template-columns:1fr; } }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; overflow-x:auto; }
table { border-collapse:collapse; width:100%; background:#fff; font-size:.9rem; }
th, td { padding:.35rem .55rem; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#eef2f7; font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.total td { font-weight:700; background:#f7f9fc; }
.muted { color:var(--muted); }
.small { font-size:.82rem; }
.mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.85rem; word-break:break-all; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.8rem; font-weight:600;
         color:#fff; background:var(--muted); white-space:nowrap; }
.badge.live, .badge.ok { background:var(--ok); }
.badge.catching-up, .badge.connecting { background:var(--warn); }
.badge.backing-off, .badge.bad, .badge.stopped { background:var(--bad); }
.badge.pulling-from-us { background:var(--blue); }
.legend { display:flex; flex-wrap:wrap; gap:.3rem 1rem; font-size:.85rem; margin:.4rem 0; padding:0; list-style:none; }
.legend .key { display:inline-block; width:.8rem; height:.8rem; border-radius:2px; margin-right:.3rem; vertical-align:-1px; }
form.search { display:flex; flex-wrap:wrap; gap:.6rem 1rem; align-items:end; background:#fff;
              border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; }
form.search label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); gap:.2rem; }
form.search label.check { flex-direction:row; align-items:center; gap:.35rem; color:var(--ink); }
input, select, button { font:inherit; padding:.35rem .5rem; border:1px solid #b9c3cf; border-radius:5px; background:#fff; }
input[type=search] { min-width:18rem; }
button { background:var(--brand); color:#fff; border-color:var(--brand); cursor:pointer; }
.error { background:#fdecea; border:1px solid #f5c2bd; color:var(--bad); padding:.6rem .9rem; border-radius:6px; margin:.8rem 0; }
.note { background:#fff8e5; border:1px solid #f1dfa8; padding:.6rem .9rem; border-radius:6px; margin:.8rem 0; }
svg text { font-family:inherit; }
footer { color:var(--muted); font-size:.8rem; text-align:center; padding:1rem; }
"#;

fn layout(head: &PageHead, nav: Nav, title: &str, body: &str) -> String {
    let mut html = String::with_capacity(body.len() + 6_000);
    w!(
        html,
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — {} — maillage</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n\
         <span class=\"brand\">maillage</span>\n\
         <span class=\"who\">{} · nœud <strong>{}</strong> ({}, {})</span>\n<nav>",
        esc(title),
        esc(&head.federation),
        esc(&head.federation),
        esc(&head.node),
        esc(&head.role),
        esc(&head.key_short)
    );
    for (entry, href, label) in [
        (Nav::Dashboard, "/", "Tableau national"),
        (Nav::Federation, "/federation", "Réplication"),
        (Nav::Venues, "/venues", "Annuaire des lieux"),
        (Nav::None, "/metrics", "Métriques"),
    ] {
        let current = if entry == nav && nav != Nav::None {
            " class=\"current\" aria-current=\"page\""
        } else {
            ""
        };
        w!(html, "<a href=\"{href}\"{current}>{label}</a>");
    }
    w!(
        html,
        "</nav>\n</header>\n<main>\n{body}</main>\n<footer>maillage · registre signé et répliqué des \
         hubs du numérique inclusif · page générée sans script</footer>\n</body>\n</html>\n"
    );
    html
}

fn tile(html: &mut String, id: &str, value: &str, label: &str) {
    w!(
        html,
        "<div class=\"tile\" id=\"{id}\"><span class=\"value\">{value}</span><span class=\"label\">{label}</span></div>\n"
    );
}

/// One hub's line of the dashboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HubFigures {
    /// Display name.
    pub name: String,
    /// Départements it holds.
    pub departements: Vec<String>,
    /// Open venues in them.
    pub venues: u64,
    /// Of which qualified on the day.
    pub qualified: u64,
    /// Vouchers issued by the hub (all funders).
    pub vouchers: VoucherLine,
}

/// A venue on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dot {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Qualified for vouchers on the day.
    pub qualified: bool,
}

/// Everything `/` shows, computed from the live ledger.
#[derive(Debug, Clone, Default)]
pub struct DashboardData {
    /// The national figures (`maillage stats`).
    pub stats: Stats,
    /// The charter's hubs, in charter order, with their départements.
    pub hubs: Vec<(String, Vec<String>)>,
    /// Open venues with coordinates in metropolitan France.
    pub dots: Vec<Dot>,
    /// Open venues with coordinates elsewhere, by département.
    pub elsewhere: BTreeMap<String, u64>,
    /// Open venues without coordinates.
    pub unplaced: u64,
}

fn add(line: &mut VoucherLine, other: &VoucherLine) {
    line.batches += other.batches;
    line.issued += other.issued;
    line.handed_out += other.handed_out;
    line.redeemed += other.redeemed;
    line.cancelled += other.cancelled;
    line.expired += other.expired;
    line.settled_cents += other.settled_cents;
    line.usage_rate = share(line.redeemed, line.handed_out);
}

/// The position of hub `name` in `hubs`, added at the end if absent.
fn hub_index(hubs: &mut Vec<HubFigures>, name: &str) -> usize {
    if let Some(i) = hubs.iter().position(|h| h.name == name) {
        return i;
    }
    hubs.push(HubFigures {
        name: name.to_owned(),
        ..HubFigures::default()
    });
    hubs.len() - 1
}

/// The figures per hub: the charter's hubs first (even without figures), then any other name
/// the figures mention.
pub fn hub_figures(data: &DashboardData) -> Vec<HubFigures> {
    let mut hubs: Vec<HubFigures> = data
        .hubs
        .iter()
        .map(|(name, departements)| HubFigures {
            name: name.clone(),
            departements: departements.clone(),
            ..HubFigures::default()
        })
        .collect();
    for line in &data.stats.vouchers {
        let i = hub_index(&mut hubs, &line.hub);
        add(&mut hubs[i].vouchers, line);
    }
    for venues in &data.stats.venues {
        let name = if venues.hub.is_empty() {
            "(aucun hub)"
        } else {
            venues.hub.as_str()
        };
        let i = hub_index(&mut hubs, name);
        hubs[i].venues += venues.venues;
        hubs[i].qualified += venues.qualified;
    }
    hubs
}

/// The figures per funder, all hubs together, with the hubs that issued for it.
pub fn funder_figures(stats: &Stats) -> Vec<(VoucherLine, Vec<String>)> {
    let mut funders: BTreeMap<&str, (VoucherLine, Vec<String>)> = BTreeMap::new();
    for line in &stats.vouchers {
        let entry = funders.entry(line.funder.as_str()).or_default();
        entry.0.funder = line.funder.clone();
        add(&mut entry.0, line);
        if !entry.1.contains(&line.hub) {
            entry.1.push(line.hub.clone());
        }
    }
    funders.into_values().collect()
}

const SERIES: [(&str, &str); 4] = [
    ("Émis", "#9fb7d9"),
    ("Remis", "#3b6fb6"),
    ("Utilisés", "#2e8b57"),
    ("Expirés", "#d9822b"),
];

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Grouped horizontal bars: vouchers issued, handed out, redeemed and expired per hub.
pub fn vouchers_chart(hubs: &[HubFigures]) -> String {
    let rows: Vec<&HubFigures> = hubs.iter().filter(|h| h.vouchers.issued > 0).collect();
    if rows.is_empty() {
        return "<p class=\"muted\">Aucun lot de Pass numérique émis pour l'instant.</p>\n".into();
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
    let mut svg = String::new();
    w!(
        svg,
        "<svg id=\"chart-vouchers\" role=\"img\" aria-labelledby=\"chart-vouchers-title\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"chart-vouchers-title\">Pass numérique \
         émis, remis, utilisés et expirés par hub</title>\n"
    );
    for (row, hub) in rows.iter().enumerate() {
        let y0 = top + row as f64 * (group_h + group_gap);
        w!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1d2733\">{}</text>\n",
            label_w - 8.0,
            y0 + group_h / 2.0 + 4.0,
            esc(&truncate(&hub.name, 26))
        );
        let v = &hub.vouchers;
        for (i, ((label, color), value)) in SERIES
            .iter()
            .zip([v.issued, v.handed_out, v.redeemed, v.expired])
            .enumerate()
        {
            let y = y0 + i as f64 * (bar_h + gap);
            let w = (value as f64 / max * bar_w).max(if value > 0 { 1.0 } else { 0.0 });
            w!(
                svg,
                "<rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{color}\">\
                 <title>{} — {label} : {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#5b6776\">{}</text>\n",
                esc(&hub.name),
                int(value),
                label_w + w + 4.0,
                y + bar_h - 2.0,
                int(value)
            );
        }
    }
    w!(
        svg,
        "<line x1=\"{label_w}\" y1=\"0\" x2=\"{label_w}\" y2=\"{height}\" stroke=\"#b9c3cf\"/>\n</svg>\n"
    );
    let mut html = String::from("<ul class=\"legend\">");
    for (label, color) in SERIES {
        w!(
            html,
            "<li><span class=\"key\" style=\"background:{color}\"></span>{label}</li>"
        );
    }
    html.push_str("</ul>\n");
    html.push_str(&svg);
    html
}

/// Referral outcomes in the order of a referral's life.
fn referral_parts(stats: &Stats) -> [(&'static str, &'static str, u64); 7] {
    let r = &stats.referrals;
    [
        ("Ouvertes", "#9fb7d9", r.open),
        ("Acceptées (en cours)", "#3b6fb6", r.accepted),
        ("Terminées", "#2e8b57", r.completed),
        ("Personne absente", "#d9822b", r.no_show),
        ("Abandonnées", "#a05195", r.abandoned),
        ("Refusées", "#b3261e", r.declined),
        ("Expirées sans réponse", "#8a8f98", r.expired),
    ]
}

/// One stacked bar of referral outcomes, with its legend.
pub fn referrals_chart(stats: &Stats) -> String {
    let parts = referral_parts(stats);
    let total: u64 = parts.iter().map(|p| p.2).sum();
    if total == 0 {
        return "<p class=\"muted\">Aucune orientation enregistrée pour l'instant.</p>\n".into();
    }
    let width = 720.0;
    let mut svg = String::new();
    w!(
        svg,
        "<svg id=\"chart-referrals\" role=\"img\" aria-labelledby=\"chart-referrals-title\" \
         viewBox=\"0 0 {width} 30\" width=\"100%\" style=\"max-width:{width}px\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"chart-referrals-title\">Orientations par \
         issue</title>\n"
    );
    let mut x = 0.0;
    for (label, color, count) in parts.iter().filter(|p| p.2 > 0) {
        let w = *count as f64 / total as f64 * width;
        w!(
            svg,
            "<rect x=\"{x:.1}\" y=\"2\" width=\"{w:.1}\" height=\"26\" fill=\"{color}\"><title>{label} : {} ({})</title></rect>\n",
            int(*count),
            pct(share(*count, total))
        );
        x += w;
    }
    svg.push_str("</svg>\n<ul class=\"legend\">");
    for (label, color, count) in parts {
        w!(
            svg,
            "<li><span class=\"key\" style=\"background:{color}\"></span>{label} : <strong>{}</strong></li>",
            int(count)
        );
    }
    svg.push_str("</ul>\n");
    svg
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
pub fn venue_map(data: &DashboardData) -> String {
    let width = 460.0;
    let kx = (46.2f64).to_radians().cos();
    let scale = width / ((MAP_LON.1 - MAP_LON.0) * kx);
    let height = ((MAP_LAT.1 - MAP_LAT.0) * scale).round();
    let project = |lat: f64, lon: f64| ((lon - MAP_LON.0) * kx * scale, (MAP_LAT.1 - lat) * scale);
    let qualified = data.dots.iter().filter(|d| d.qualified).count();
    let mut svg = String::new();
    w!(
        svg,
        "<svg id=\"map-venues\" role=\"img\" aria-labelledby=\"map-venues-title\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"map-venues-title\">Carte des lieux \
         ouverts géolocalisés en métropole : {} lieux dont {} qualifiés</title>\n\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#eef3f9\" rx=\"6\"/>\n",
        int(data.dots.len() as u64),
        int(qualified as u64)
    );
    for lat in [42.0, 44.0, 46.0, 48.0, 50.0] {
        let (_, y) = project(lat, 0.0);
        w!(
            svg,
            "<line x1=\"0\" y1=\"{y:.1}\" x2=\"{width}\" y2=\"{y:.1}\" stroke=\"#dbe3ee\"/>\
             <text x=\"4\" y=\"{:.1}\" font-size=\"9\" fill=\"#8a94a3\">{lat}°N</text>\n",
            y - 2.0
        );
    }
    for lon in [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0] {
        let (x, _) = project(MAP_LAT.0, lon);
        w!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{height}\" stroke=\"#dbe3ee\"/>\n"
        );
    }
    for dot in data.dots.iter().filter(|d| !d.qualified) {
        let (x, y) = project(dot.lat, dot.lon);
        w!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"1.9\" fill=\"#3b6fb6\" fill-opacity=\"0.55\"/>\n"
        );
    }
    for dot in data.dots.iter().filter(|d| d.qualified) {
        let (x, y) = project(dot.lat, dot.lon);
        w!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.2\" fill=\"#2e8b57\" stroke=\"#fff\" stroke-width=\"0.8\"/>\n"
        );
    }
    for (town, lat, lon) in TOWNS {
        let (x, y) = project(lat, lon);
        w!(
            svg,
            "<path d=\"M{:.1} {y:.1}h6M{x:.1} {:.1}v6\" stroke=\"#1d2733\" stroke-width=\"1.2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#1d2733\">{town}</text>\n",
            x - 3.0,
            y - 3.0,
            x + 5.0,
            y - 4.0
        );
    }
    svg.push_str("</svg>\n");
    let mut html = String::from(
        "<ul class=\"legend\"><li><span class=\"key\" style=\"background:#3b6fb6;opacity:.6\"></span>Lieu ouvert</li>\
         <li><span class=\"key\" style=\"background:#2e8b57\"></span>Lieu qualifié Pass numérique</li>\
         <li class=\"muted\">+ repères : grandes villes</li></ul>\n",
    );
    html.push_str(&svg);
    if !data.elsewhere.is_empty() {
        let list: Vec<String> = data
            .elsewhere
            .iter()
            .map(|(dep, n)| format!("{} ({})", esc(dep), int(*n)))
            .collect();
        w!(
            html,
            "<p class=\"small muted\">Hors de cette carte (outre-mer) : {} lieux — département : {}.</p>\n",
            int(data.elsewhere.values().sum()),
            list.join(", ")
        );
    }
    if data.unplaced > 0 {
        w!(
            html,
            "<p class=\"small muted\">{} lieux ouverts sans coordonnées ne figurent pas sur la carte.</p>\n",
            int(data.unplaced)
        );
    }
    html
}

fn voucher_cells(html: &mut String, v: &VoucherLine) {
    w!(
        html,
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        int(v.issued),
        int(v.handed_out),
        int(v.redeemed),
        int(v.expired),
        pct(v.usage_rate),
        euros(v.settled_cents)
    );
}

const VOUCHER_HEADERS: &str = "<th class=\"num\">Pass émis</th><th class=\"num\">Remis</th>\
    <th class=\"num\">Utilisés</th><th class=\"num\">Expirés</th>\
    <th class=\"num\" title=\"utilisés / remis\">Taux d'usage</th><th class=\"num\">Réglé aux lieux</th>";

/// `/`: the national figures.
pub fn dashboard(head: &PageHead, data: &DashboardData) -> String {
    let stats = &data.stats;
    let hubs = hub_figures(data);
    let venues: u64 = stats.venues.iter().map(|v| v.venues).sum();
    let qualified: u64 = stats.venues.iter().map(|v| v.qualified).sum();
    let t = &stats.total;
    let r = &stats.referrals;
    let referrals =
        r.open + r.expired + r.accepted + r.declined + r.completed + r.no_show + r.abandoned;
    let mut body = String::new();
    w!(
        body,
        "<h1>Tableau de bord national</h1>\n<p class=\"lead\">Chiffres au <strong id=\"as-of\">{}</strong>, \
         calculés par ce nœud à partir du registre répliqué de toute la fédération : tout nœud qui \
         détient les mêmes événements affiche les mêmes chiffres.</p>\n\
         <form class=\"search\" method=\"get\" action=\"/\"><label>Chiffres au\
         <input type=\"date\" name=\"as_of\" value=\"{}\"></label><button type=\"submit\">Afficher</button></form>\n",
        esc(&stats.as_of),
        esc(&stats.as_of)
    );
    body.push_str("<h2>En bref</h2>\n<div class=\"tiles\">\n");
    tile(
        &mut body,
        "venues",
        &int(venues),
        "lieux de médiation ouverts",
    );
    tile(
        &mut body,
        "qualified",
        &int(qualified),
        &format!(
            "lieux qualifiés Pass numérique ({} des lieux)",
            pct(share(qualified, venues))
        ),
    );
    tile(&mut body, "issued", &int(t.issued), "Pass numérique émis");
    tile(
        &mut body,
        "handed-out",
        &int(t.handed_out),
        "Pass remis à une personne",
    );
    tile(
        &mut body,
        "redeemed",
        &int(t.redeemed),
        "Pass utilisés dans un lieu",
    );
    tile(
        &mut body,
        "expired",
        &int(t.expired),
        "Pass expirés sans usage",
    );
    tile(
        &mut body,
        "usage-rate",
        &pct(t.usage_rate),
        "taux d'usage (utilisés / remis)",
    );
    tile(&mut body, "referrals", &int(referrals), "orientations");
    tile(
        &mut body,
        "median-days",
        &days(r.median_days_to_accept),
        "délai médian entre orientation et acceptation",
    );
    body.push_str("</div>\n");

    body.push_str("<h2>Par territoire (hub)</h2>\n<div class=\"card\">\n");
    body.push_str(&vouchers_chart(&hubs));
    body.push_str("</div>\n<div class=\"card\" style=\"margin-top:.8rem\"><table id=\"hubs\">\n<thead><tr><th>Hub</th><th>Départements</th>\
        <th class=\"num\">Lieux</th><th class=\"num\">Qualifiés</th>");
    body.push_str(VOUCHER_HEADERS);
    body.push_str("</tr></thead>\n<tbody>\n");
    for hub in &hubs {
        w!(
            body,
            "<tr><td>{}</td><td class=\"small\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            esc(&hub.name),
            esc(&hub.departements.join(", ")),
            int(hub.venues),
            int(hub.qualified)
        );
        voucher_cells(&mut body, &hub.vouchers);
        body.push_str("</tr>\n");
    }
    w!(
        body,
        "<tr class=\"total\"><td>Total</td><td></td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        int(venues),
        int(qualified)
    );
    voucher_cells(&mut body, t);
    body.push_str("</tr>\n</tbody></table></div>\n");

    body.push_str("<h2>Par financeur</h2>\n");
    let funders = funder_figures(stats);
    if funders.is_empty() {
        body.push_str("<p class=\"muted\">Aucun financeur : aucun lot émis pour l'instant.</p>\n");
    } else {
        body.push_str("<div class=\"card\"><table id=\"funders\">\n<thead><tr><th>Financeur</th><th>Hubs émetteurs</th><th class=\"num\">Lots</th>");
        body.push_str(VOUCHER_HEADERS);
        body.push_str("<th class=\"num\">Annulés</th></tr></thead>\n<tbody>\n");
        for (line, issuers) in &funders {
            w!(
                body,
                "<tr><td>{}</td><td class=\"small\">{}</td><td class=\"num\">{}</td>",
                esc(&line.funder),
                esc(&issuers.join(", ")),
                int(line.batches)
            );
            voucher_cells(&mut body, line);
            w!(
                body,
                "<td class=\"num\">{}</td></tr>\n",
                int(line.cancelled)
            );
        }
        body.push_str("</tbody></table></div>\n");
    }

    body.push_str("<h2>Orientations par issue</h2>\n<div class=\"card\">\n");
    body.push_str(&referrals_chart(stats));
    w!(
        body,
        "<p class=\"small muted\">Délai médian entre l'ouverture et l'acceptation : <strong>{}</strong> \
         (orientations acceptées). Une orientation ouverte expire au bout de 30 jours sans réponse.</p>\n</div>\n",
        days(r.median_days_to_accept)
    );

    body.push_str("<h2>Lieux par département</h2>\n<div class=\"grid2\">\n<div class=\"card\">\n");
    body.push_str(&venue_map(data));
    body.push_str("</div>\n<div class=\"card\"><table id=\"departements\">\n<thead><tr><th>Département</th><th>Hub</th>\
        <th class=\"num\">Lieux</th><th class=\"num\">Qualifiés</th><th class=\"num\">Part qualifiée</th></tr></thead>\n<tbody>\n");
    if stats.venues.is_empty() {
        body.push_str("<tr><td colspan=\"5\" class=\"muted\">Aucun lieu enregistré.</td></tr>\n");
    }
    for d in &stats.venues {
        w!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&d.departement),
            esc(&d.hub),
            int(d.venues),
            int(d.qualified),
            pct(share(d.qualified, d.venues))
        );
    }
    body.push_str("</tbody></table></div>\n</div>\n");
    layout(head, Nav::Dashboard, "Tableau de bord national", &body)
}

/// "il y a 3 s" from two Unix times in milliseconds.
fn ago(now_ms: u64, then_ms: u64) -> String {
    if then_ms == 0 {
        return "jamais".into();
    }
    let s = now_ms.saturating_sub(then_ms) / 1000;
    match s {
        0..=59 => format!("il y a {s}\u{A0}s"),
        60..=3599 => format!("il y a {}\u{A0}min", s / 60),
        3600..=86_399 => format!("il y a {}\u{A0}h", s / 3600),
        _ => format!("il y a {}\u{A0}j", s / 86_400),
    }
}

fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}\u{A0}s"),
        60..=3599 => format!("{}\u{A0}min {}\u{A0}s", s / 60, s % 60),
        3600..=86_399 => format!("{}\u{A0}h {}\u{A0}min", s / 3600, s / 60 % 60),
        _ => format!("{}\u{A0}j {}\u{A0}h", s / 86_400, s / 3600 % 24),
    }
}

fn state_label(state: &str) -> &str {
    match state {
        "live" => "à jour, en direct",
        "catching-up" => "rattrapage",
        "connecting" => "connexion",
        "backing-off" => "en échec, nouvel essai",
        "stopped" => "arrêté",
        "pulling-from-us" => "tire nos événements",
        other => other,
    }
}

/// `/federation`: replication health.
pub fn federation(head: &PageHead, status: &pb::StatusResponse, now_ms: u64) -> String {
    let feed_name = |author: &[u8]| {
        status
            .feeds
            .iter()
            .find(|f| f.author == author)
            .map(|f| f.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| hex::encode(&author[..author.len().min(4)]))
    };
    // Links this node dials, and peers that dial in to pull from it.
    let pulling = status
        .peers
        .iter()
        .filter(|p| p.state == "pulling-from-us")
        .count();
    let links = status.peers.len() - pulling;
    let live = status.peers.iter().filter(|p| p.state == "live").count();
    let frozen: Vec<&pb::FeedStatus> = status.feeds.iter().filter(|f| f.frozen).collect();
    let total_lag: u64 = status
        .peers
        .iter()
        .flat_map(|p| &p.lags)
        .map(|l| l.lag)
        .sum();
    let mut body = String::from(
        "<h1>Réplication de la fédération</h1>\n<p class=\"lead\">État de ce nœud et de ses liens avec les \
         autres nœuds. Page rafraîchie toutes les 15 secondes.</p>\n<div class=\"tiles\">\n",
    );
    tile(
        &mut body,
        "events-stored",
        &int(status.events_stored),
        "événements stockés (tous les flux)",
    );
    tile(
        &mut body,
        "peers-live",
        &format!("{live}\u{A0}/\u{A0}{links}"),
        &if pulling > 0 {
            format!(
                "liens vers les pairs à jour en direct ; {pulling} pair{} tire{} nos événements",
                if pulling > 1 { "s" } else { "" },
                if pulling > 1 { "nt" } else { "" }
            )
        } else {
            "liens vers les pairs à jour en direct".to_owned()
        },
    );
    tile(
        &mut body,
        "lag",
        &int(total_lag),
        "événements de retard sur les pairs",
    );
    tile(
        &mut body,
        "forks",
        &int(frozen.len() as u64),
        "flux gelés (fork détecté)",
    );
    tile(
        &mut body,
        "pending",
        &int(status.events_pending),
        "événements en attente de dépendances",
    );
    tile(
        &mut body,
        "domain-rejections",
        &int(status.domain_rejections),
        "événements sans effet (règle métier)",
    );
    tile(
        &mut body,
        "uptime",
        &duration(status.uptime_ms),
        "depuis le démarrage",
    );
    body.push_str("</div>\n");
    w!(
        body,
        "<h2>Ce nœud</h2>\n<div class=\"card\"><table>\n\
         <tr><th>Nom</th><td>{} ({})</td></tr>\n\
         <tr><th>Clé (HubId)</th><td class=\"mono\">{}</td></tr>\n\
         <tr><th>Empreinte des vues</th><td class=\"mono\" id=\"digest\">{}</td></tr>\n\
         <tr><th></th><td class=\"small muted\">Deux nœuds qui détiennent les mêmes événements ont la \
         même empreinte : la comparer d'un nœud à l'autre vérifie leur accord.</td></tr>\n\
         </table></div>\n",
        esc(&status.name),
        esc(&status.role),
        hex::encode(&status.node),
        hex::encode(&status.digest)
    );

    body.push_str("<h2>Pairs</h2>\n");
    if status.peers.is_empty() {
        body.push_str("<p class=\"muted\" id=\"peers\">Aucun pair : ce nœud n'a pas de lien configuré et personne ne tire ses événements.</p>\n");
    } else {
        body.push_str("<div class=\"card\"><table id=\"peers\">\n<thead><tr><th>Pair</th><th>Nœud</th><th>État</th>\
            <th class=\"num\">Retard</th><th class=\"num\">Reçus</th><th class=\"num\">Refusés</th>\
            <th>Dernier contact</th><th>Dernière erreur</th></tr></thead>\n<tbody>\n");
        for peer in &status.peers {
            let lag: u64 = peer.lags.iter().map(|l| l.lag).sum();
            let detail: Vec<String> = peer
                .lags
                .iter()
                .map(|l| format!("{} : {}", esc(&feed_name(&l.author)), int(l.lag)))
                .collect();
            let state_class: String = peer
                .state
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let address = if peer.state == "pulling-from-us" {
                format!(
                    "<span class=\"small muted\">connexion entrante</span><br>{}",
                    esc(&peer.address)
                )
            } else {
                esc(&peer.address)
            };
            w!(
                body,
                "<tr><td class=\"mono\">{address}</td><td>{}</td><td><span class=\"badge {state_class}\">{}</span> \
                 <span class=\"small muted\">{}</span></td><td class=\"num\">{}{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td class=\"small\">{}</td></tr>\n",
                esc(&peer.name),
                esc(&peer.state),
                esc(state_label(&peer.state)),
                int(lag),
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(
                        "<br><span class=\"small muted\">{}</span>",
                        detail.join(", ")
                    )
                },
                int(peer.events_received),
                int(peer.events_rejected),
                ago(now_ms, peer.last_contact_ms),
                esc(&peer.last_error)
            );
        }
        body.push_str("</tbody></table></div>\n");
    }

    body.push_str("<h2>Flux détenus</h2>\n<div class=\"card\"><table id=\"feeds\">\n<thead><tr><th>Flux (auteur)</th><th>Clé</th>\
        <th class=\"num\">Dernier n°</th><th class=\"num\">Intégrés aux vues</th><th>État</th></tr></thead>\n<tbody>\n");
    for feed in &status.feeds {
        let state = if feed.frozen {
            format!(
                "<span class=\"badge bad\">gelé</span> fork au n°\u{A0}{}",
                feed.fork_seq
            )
        } else if feed.applied < feed.seq {
            "<span class=\"badge catching-up\">intégration en cours</span>".into()
        } else {
            "<span class=\"badge ok\">intégré</span>".into()
        };
        w!(
            body,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{state}</td></tr>\n",
            esc(&feed.name),
            hex::encode(&feed.author[..feed.author.len().min(4)]),
            int(feed.seq),
            int(feed.applied)
        );
    }
    body.push_str("</tbody></table></div>\n");
    if !frozen.is_empty() {
        body.push_str("<div class=\"error\"><strong>Forks détectés.</strong> Ces flux ont signé deux événements différents \
            à la même position ; ils sont gelés sur tous les nœuds à la dernière position valide.<ul>");
        for feed in &frozen {
            w!(
                body,
                "<li>{} — fork au n°\u{A0}{}</li>",
                esc(&feed.name),
                feed.fork_seq
            );
        }
        body.push_str("</ul></div>\n");
    }
    if !status.rejected_from_peers.is_empty() {
        body.push_str("<h2>Derniers événements refusés venant des pairs</h2>\n<div class=\"card\"><table id=\"rejections\">\
            <thead><tr><th>Venant de</th><th>Flux</th><th class=\"num\">N°</th><th>Raison</th></tr></thead>\n<tbody>\n");
        for r in status.rejected_from_peers.iter().rev() {
            w!(
                body,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"small\">{}</td></tr>\n",
                esc(&r.peer),
                if r.author.is_empty() {
                    "—".into()
                } else {
                    esc(&feed_name(&r.author))
                },
                r.seq,
                esc(&r.reason)
            );
        }
        body.push_str("</tbody></table></div>\n");
    }
    let html = layout(head, Nav::Federation, "Réplication", &body);
    html.replacen(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"15\">",
        1,
    )
}

/// One venue of the search results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueRow {
    /// Name.
    pub nom: String,
    /// Kinds of structure (typologie codes).
    pub typologie: Vec<String>,
    /// Street address.
    pub adresse: String,
    /// Postcode.
    pub code_postal: String,
    /// Town.
    pub commune: String,
    /// Département.
    pub departement: String,
    /// v1 services.
    pub services: Vec<String>,
    /// Last day of a voucher qualification valid on the day.
    pub qualified_until: Option<String>,
    /// The hub that registered it.
    pub hub: String,
}

/// What `/venues` shows.
#[derive(Debug, Clone, Default)]
pub struct VenueSearchView {
    /// Words searched.
    pub q: String,
    /// Département filter.
    pub departement: String,
    /// Service filter (as asked).
    pub service: String,
    /// Only qualified venues.
    pub qualified: bool,
    /// Départements that have venues, with their hub, for the filter.
    pub departements: Vec<(String, String)>,
    /// The v1 services, for the filter.
    pub services: Vec<String>,
    /// The first matches.
    pub rows: Vec<VenueRow>,
    /// All matches.
    pub total: usize,
    /// Why the search could not run.
    pub error: Option<String>,
}

/// `/venues`: search form and results.
pub fn venues(head: &PageHead, view: &VenueSearchView) -> String {
    let mut body = String::from(
        "<h1>Annuaire des lieux de médiation numérique</h1>\n<p class=\"lead\">Lieux ouverts de toute la \
         fédération (standard national des lieux de médiation numérique). Recherche sur le nom, la \
         commune, l'adresse et le code postal, sans tenir compte des accents.</p>\n",
    );
    w!(
        body,
        "<form class=\"search\" method=\"get\" action=\"/venues\">\n\
         <label>Mots recherchés<input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"ex. médiathèque Marseille\"></label>\n\
         <label>Département<select name=\"departement\"><option value=\"\">Tous</option>",
        esc(&view.q)
    );
    let mut known = false;
    for (code, hub) in &view.departements {
        let selected = if code.eq_ignore_ascii_case(&view.departement) {
            known = true;
            " selected"
        } else {
            ""
        };
        w!(
            body,
            "<option value=\"{}\"{selected}>{}{}</option>",
            esc(code),
            esc(code),
            if hub.is_empty() {
                String::new()
            } else {
                format!(" — {}", esc(hub))
            }
        );
    }
    if !known && !view.departement.is_empty() {
        w!(
            body,
            "<option value=\"{0}\" selected>{0}</option>",
            esc(&view.departement)
        );
    }
    body.push_str("</select></label>\n<label>Service<select name=\"service\"><option value=\"\">Tous</option>");
    let mut known = false;
    for service in &view.services {
        let selected = if *service == view.service {
            known = true;
            " selected"
        } else {
            ""
        };
        w!(
            body,
            "<option value=\"{0}\"{selected}>{0}</option>",
            esc(service)
        );
    }
    if !known && !view.service.is_empty() {
        w!(
            body,
            "<option value=\"{0}\" selected>{0}</option>",
            esc(&view.service)
        );
    }
    w!(
        body,
        "</select></label>\n<label class=\"check\"><input type=\"checkbox\" name=\"qualified\" value=\"on\"{}> \
         qualifiés Pass numérique seulement</label>\n<button type=\"submit\">Rechercher</button>\n</form>\n",
        if view.qualified { " checked" } else { "" }
    );
    if let Some(error) = &view.error {
        w!(
            body,
            "<div class=\"error\" id=\"search-error\">{}</div>\n",
            esc(error)
        );
        return layout(head, Nav::Venues, "Annuaire des lieux", &body);
    }
    w!(
        body,
        "<p id=\"result-count\"><strong>{}</strong> lieu{} trouvé{}{}.</p>\n",
        int(view.total as u64),
        if view.total == 1 { "" } else { "x" },
        if view.total == 1 { "" } else { "s" },
        if view.rows.len() < view.total {
            format!(
                " — les {} premiers sont affichés ; précisez la recherche pour voir les autres",
                view.rows.len()
            )
        } else {
            String::new()
        }
    );
    if view.rows.is_empty() {
        return layout(head, Nav::Venues, "Annuaire des lieux", &body);
    }
    body.push_str("<div class=\"card\"><table id=\"venues\">\n<thead><tr><th>Lieu</th><th>Adresse</th><th>Dépt</th>\
        <th>Services</th><th>Pass numérique</th><th>Hub</th></tr></thead>\n<tbody>\n");
    for row in &view.rows {
        w!(
            body,
            "<tr><td><strong>{}</strong>{}</td><td>{}<br>{} {}</td><td>{}</td><td class=\"small\">{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&row.nom),
            if row.typologie.is_empty() {
                String::new()
            } else {
                format!(
                    "<br><span class=\"small muted\">{}</span>",
                    esc(&row.typologie.join(", "))
                )
            },
            esc(&row.adresse),
            esc(&row.code_postal),
            esc(&row.commune),
            esc(&row.departement),
            esc(&row.services.join(" · ")),
            row.qualified_until.as_deref().map_or_else(
                || "<span class=\"muted\">—</span>".to_owned(),
                |until| format!("<span class=\"badge ok\">qualifié</span><br><span class=\"small muted\">jusqu'au {}</span>", esc(until))
            ),
            esc(&row.hub)
        );
    }
    body.push_str("</tbody></table></div>\n");
    layout(head, Nav::Venues, "Annuaire des lieux", &body)
}

/// A page for a path that does not exist.
pub fn not_found(head: &PageHead, path: &str) -> String {
    let body = format!(
        "<h1>Page introuvable</h1>\n<p>Il n'y a pas de page <code>{}</code> sur ce nœud. \
         Voir le <a href=\"/\">tableau national</a>, la <a href=\"/federation\">réplication</a> ou \
         l'<a href=\"/venues\">annuaire des lieux</a>.</p>\n",
        esc(path)
    );
    layout(head, Nav::None, "Page introuvable", &body)
}

/// A page for a request that could not be answered.
pub fn failure(head: &PageHead, message: &str) -> String {
    let body = format!(
        "<h1>Erreur</h1>\n<div class=\"error\">{}</div>\n",
        esc(message)
    );
    layout(head, Nav::None, "Erreur", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_app::stats::DepartementVenues;

    fn head() -> PageHead {
        PageHead {
            federation: "Fédé <test>".into(),
            node: "Hub \"du\" Sud".into(),
            role: "hub".into(),
            key_short: "abcd1234".into(),
        }
    }

    #[test]
    fn escaping_and_french_numbers() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_234), "1\u{202F}234");
        assert_eq!(int(1_234_567), "1\u{202F}234\u{202F}567");
        assert_eq!(pct(Some(1.0 / 3.0)), "33\u{202F}%");
        assert_eq!(pct(Some(2.0 / 835.0)), "0,2\u{202F}%");
        assert_eq!(pct(Some(0.0)), "0\u{202F}%");
        assert_eq!(pct(Some(1.0)), "100\u{202F}%");
        assert_eq!(pct(None), "—");
        assert_eq!(days(Some(6.5)), "6,5\u{A0}j");
        assert_eq!(days(Some(4.0)), "4\u{A0}j");
        assert_eq!(euros(123_456), "1\u{202F}234,56\u{A0}€");
    }

    #[test]
    fn the_dashboard_escapes_what_the_ledger_says() {
        let line = VoucherLine {
            hub: "Hub <b>".into(),
            funder: "CAF <script>alert(1)</script>".into(),
            batches: 1,
            issued: 50,
            handed_out: 10,
            redeemed: 4,
            usage_rate: Some(0.4),
            ..VoucherLine::default()
        };
        let data = DashboardData {
            stats: Stats {
                as_of: "2026-03-15".into(),
                total: line.clone(),
                vouchers: vec![line],
                venues: vec![DepartementVenues {
                    departement: "13".into(),
                    hub: "Hub <b>".into(),
                    venues: 3,
                    qualified: 1,
                }],
                ..Stats::default()
            },
            hubs: vec![("Hub <b>".into(), vec!["13".into()])],
            dots: vec![
                Dot {
                    lat: 43.3,
                    lon: 5.4,
                    qualified: true,
                },
                Dot {
                    lat: 43.5,
                    lon: 5.5,
                    qualified: false,
                },
            ],
            elsewhere: [("988".to_owned(), 2)].into_iter().collect(),
            unplaced: 1,
        };
        let html = dashboard(&head(), &data);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("CAF &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Fédé &lt;test&gt;"));
        assert!(html.contains("Hub &quot;du&quot; Sud"));
        assert!(html.contains("<svg id=\"chart-vouchers\""));
        assert!(html.contains("<svg id=\"map-venues\""));
        assert_eq!(html.matches("<circle").count(), 2);
        assert!(html.contains("988 (2)"));
        assert!(html.contains("40\u{202F}%"));
        // One hub from the charter, found again in the figures: one row, not two.
        assert_eq!(hub_figures(&data).len(), 1);
    }

    #[test]
    fn the_search_page_escapes_the_request() {
        let view = VenueSearchView {
            q: "\"><script>x</script>".into(),
            departement: "<13>".into(),
            service: "<svc>".into(),
            error: Some("service \"<svc>\": not a v1 service".into()),
            ..VenueSearchView::default()
        };
        let html = venues(&head(), &view);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<13>"), "{html}");
        assert!(!html.contains("<svc>"), "{html}");
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
    }

    #[test]
    fn relative_times() {
        assert_eq!(ago(10_000, 0), "jamais");
        assert_eq!(ago(10_000, 7_000), "il y a 3\u{A0}s");
        assert_eq!(ago(4_000_000, 1), "il y a 1\u{A0}h");
        assert_eq!(duration(90_000), "1\u{A0}min 30\u{A0}s");
    }
}
