//! The dashboard's pages, rendered to HTML strings with [`maud`] templates: no script, no
//! hand-written escaping. Every text interpolated into a template, whether it comes from the
//! ledger (names, addresses, funders), from a peer (errors, reasons) or from the request
//! (search terms), is escaped by maud; [`PreEscaped`] wraps only constants written here (the
//! style sheet).
//!
//! Labels are French first (the coordinators' language), English when the request asks for it
//! (`?lang=en` or `Accept-Language`, see [`crate::web::lang`]): a page is rendered inside
//! [`maillage_core::lang::with`], and its words are chosen with [`t`] like the command line's.
//! Every page has a FR | EN switch, and its links keep the language.
//!
//! - this module: the layout shared by every page, French number formatting, the error pages
//!   ([`not_found`], [`failure`]);
//! - [`dashboard()`]: `/`, the national figures, with inline SVG charts ([`vouchers_chart`],
//!   [`referrals_chart`], [`venue_map`]);
//! - [`federation()`]: `/federation`, replication health;
//! - [`venues()`]: `/venues`, the venue directory.

mod charts;
mod dashboard;
mod federation;
mod indicators;
mod venues;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::lang::{Lang, current, t};
use crate::web::lang::link_suffix;

pub use charts::{on_map, referrals_chart, venue_map, vouchers_chart};
pub use dashboard::{DashboardData, Dot, HubFigures, dashboard, funder_figures, hub_figures};
pub use federation::federation;
pub use venues::{VenueRow, VenueSearchView, venues};

/// A count with a narrow no-break space between thousands (French typography), a comma in
/// English.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let separator = if current() == Lang::En {
        ','
    } else {
        '\u{202F}'
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
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
            if current() == Lang::En {
                return if percent > 0.0 && percent < 9.95 {
                    format!("{percent:.1}%")
                } else {
                    format!("{percent:.0}%")
                };
            }
            if percent > 0.0 && percent < 9.95 {
                format!("{percent:.1}\u{202F}%").replace('.', ",")
            } else {
                format!("{percent:.0}\u{202F}%")
            }
        },
    )
}

/// `part / whole`, undefined when `whole` is zero.
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Days with a decimal comma, `—` when undefined.
fn days(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".into(),
        |d| {
            if current() == Lang::En {
                return format!("{d:.1}\u{A0}d").replace(".0\u{A0}", "\u{A0}");
            }
            format!("{d:.1}\u{A0}j")
                .replace(".0\u{A0}", "\u{A0}")
                .replace('.', ",")
        },
    )
}

/// A day written the French way (`1er mars 2026`): the command line's helper, shared.
pub use crate::lang::date_fr;

/// A day for people in the page's language (`6 décembre 2026`, `6 December 2026`).
pub use crate::lang::day;

/// A link to `path` that keeps the page's language.
fn href(path: &str) -> String {
    format!("{path}{}", link_suffix(current()))
}

/// A form's hidden field that keeps the page's language (nothing in French, the default).
fn lang_field() -> Markup {
    html! {
        @if current() == Lang::En {
            input type="hidden" name="lang" value="en";
        }
    }
}

/// An amount in euros from cents, French style (`1 234,56 €`), or English (`€1,234.56`).
fn euros(cents: u64) -> String {
    if current() == Lang::En {
        return format!("€{}.{:02}", int(cents / 100), cents % 100);
    }
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

/// The navigation entries of every header: which page, its path, its label.
const NAV: [(Nav, &str, &str, &str); 4] = [
    (
        Nav::Dashboard,
        "/",
        "Tableau national",
        "National dashboard",
    ),
    (Nav::Federation, "/federation", "Réplication", "Replication"),
    (
        Nav::Venues,
        "/venues",
        "Annuaire des lieux",
        "Venue directory",
    ),
    (Nav::None, "/metrics", "Métriques", "Metrics"),
];

/// The style sheet of every page (a constant: the only text rendered without escaping).
const STYLE: &str = r#"
:root { --ink:#1d2733; --muted:#5b6776; --line:#d8dee6; --bg:#f5f7fa; --brand:#1f4e8c;
        --ok:#1e7145; --warn:#8f5500; --bad:#b3261e; --blue:#3b6fb6; }
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
header .lang { font-size:.85rem; opacity:.9; }
header .lang a { color:#fff; }
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
.badge.backing-off, .badge.incompatible-protocol, .badge.bad, .badge.stopped { background:var(--bad); }
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
@media (max-width:600px) {
  header { padding:.6rem .9rem; }
  header nav { margin-left:0; flex-wrap:wrap; gap:.3rem .9rem; }
  main { padding:.8rem .8rem 2rem; }
  .tiles { grid-template-columns:repeat(2,minmax(0,1fr)); }
  input[type=search] { min-width:0; width:100%; }
  form.search label { flex:1 1 100%; }
  table { display:block; overflow-x:auto; }
}
"#;

/// What a page says about itself to [`layout`].
#[derive(Debug, Clone, Copy)]
struct Page<'a> {
    /// The navigation entry shown as current.
    nav: Nav,
    /// The page's title (before the federation's name in the window title).
    title: &'a str,
    /// Reload the page every this many seconds, if set.
    refresh_seconds: Option<u32>,
}

impl<'a> Page<'a> {
    /// A page that does not reload itself.
    fn new(nav: Nav, title: &'a str) -> Self {
        Self {
            nav,
            title,
            refresh_seconds: None,
        }
    }
}

/// The whole document around `body`: head, style, header with navigation, footer.
fn layout(head: &PageHead, page: Page<'_>, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(current().code()) {
            head {
                meta charset="utf-8";
                @if let Some(seconds) = page.refresh_seconds {
                    meta http-equiv="refresh" content=(seconds);
                }
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " — " (head.federation) " — maillage" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    span class="brand" { "maillage" }
                    span class="who" {
                        (head.federation) (t(" · nœud ", " · node ")) strong { (head.node) }
                        " (" (head.role) ", " (head.key_short) ")"
                    }
                    nav {
                        @for (entry, path, fr, en) in NAV {
                            @let current = entry == page.nav && page.nav != Nav::None;
                            // The metrics are for machines: the same in both languages.
                            @let link = if entry == Nav::None { path.to_owned() } else { href(path) };
                            a href=(link)
                                class=[current.then_some("current")]
                                aria-current=[current.then_some("page")] { (t(fr, en)) }
                        }
                    }
                    (switch(page.nav))
                }
                main { (body) }
                footer {
                    (t(
                        "maillage · registre signé et répliqué des hubs du numérique inclusif · page \
                         générée sans script",
                        "maillage · the signed, replicated ledger of the digital-inclusion hubs · \
                         page made without script",
                    ))
                }
            }
        }
    }
    .into_string()
}

/// The FR | EN switch of the header: the current page in the other language (the current one
/// is not a link).
fn switch(nav: Nav) -> Markup {
    let path = NAV
        .iter()
        .find(|(entry, ..)| *entry == nav && nav != Nav::None)
        .map_or("/", |(_, path, ..)| *path);
    let english = current() == Lang::En;
    html! {
        span class="lang" lang=(if english { "fr" } else { "en" }) {
            @if english {
                a href=(format!("{path}?lang=fr")) hreflang="fr" { "FR" }
            } @else {
                strong { "FR" }
            }
            " | "
            @if english {
                strong { "EN" }
            } @else {
                a href=(format!("{path}?lang=en")) hreflang="en" { "EN" }
            }
        }
    }
}

/// A figure of a row of tiles: its value in large, what it counts below.
fn tile(id: &str, value: &str, label: &str) -> Markup {
    html! {
        div class="tile" id=(id) {
            span class="value" { (value) }
            span class="label" { (label) }
        }
    }
}

/// A page for a path that does not exist.
pub fn not_found(head: &PageHead, path: &str) -> String {
    let title = t("Page introuvable", "Page not found");
    let body = html! {
        h1 { (title) }
        @if current() == Lang::En {
            p {
                "There is no page " code { (path) } " on this node. See the "
                a href=(href("/")) { "national dashboard" } ", "
                a href=(href("/federation")) { "replication" } " or the "
                a href=(href("/venues")) { "venue directory" } "."
            }
        } @else {
            p {
                "Il n'y a pas de page " code { (path) } " sur ce nœud. Voir le "
                a href="/" { "tableau national" } ", la "
                a href="/federation" { "réplication" } " ou l'"
                a href="/venues" { "annuaire des lieux" } "."
            }
        }
    };
    layout(head, Page::new(Nav::None, title), body)
}

/// A page for a request that could not be answered.
pub fn failure(head: &PageHead, message: &str) -> String {
    let title = t("Erreur", "Error");
    let body = html! {
        h1 { (title) }
        div class="error" { (message) }
    };
    layout(head, Page::new(Nav::None, title), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_the_french_way() {
        assert_eq!(date_fr("2026-03-15"), "15\u{A0}mars 2026");
        assert_eq!(date_fr("2027-08-01"), "1er\u{A0}août 2027");
        assert_eq!(date_fr("2026-12-31"), "31\u{A0}décembre 2026");
        for not_a_day in [
            "",
            "2026-13-01",
            "2026-02-30",
            "2026-3-15",
            "hier",
            "2026-03-15T10:00",
        ] {
            assert_eq!(date_fr(not_a_day), not_a_day);
        }
    }

    /// A header whose every text needs escaping.
    pub(super) fn head() -> PageHead {
        PageHead {
            federation: "Fédé <test>".into(),
            node: "Hub \"du\" Sud".into(),
            role: "hub".into(),
            key_short: "abcd1234".into(),
        }
    }

    #[test]
    fn french_numbers() {
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
        let english = maillage_core::lang::with(Lang::En, || {
            (
                int(1_234),
                pct(Some(2.0 / 835.0)),
                days(Some(6.5)),
                euros(123_456),
            )
        });
        assert_eq!(
            english,
            (
                "1,234".into(),
                "0.2%".into(),
                "6.5\u{A0}d".into(),
                "€1,234.56".into()
            )
        );
    }

    #[test]
    fn the_error_pages_escape_what_they_repeat() {
        let html = not_found(&head(), "/<script>alert(1)</script>");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<code>/&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
        assert!(html.contains("<title>Page introuvable — Fédé &lt;test&gt; — maillage</title>"));
        assert!(html.contains("<strong>Hub &quot;du&quot; Sud</strong>"));
        let html = failure(&head(), "a <b>bold</b> claim & more");
        assert!(
            html.contains("<div class=\"error\">a &lt;b&gt;bold&lt;/b&gt; claim &amp; more</div>")
        );
        assert!(
            !html.contains("class=\"current\""),
            "no current entry: {html}"
        );
    }
}
