//! `/`: the national figures of `maillage stats`, per territory (hub, département) and funder,
//! with the charts of [`super::charts`].

use std::collections::BTreeMap;

use maillage_app::stats::{Stats, VoucherLine};
use maud::{Markup, html};

use maillage_core::territory::departement_label;

use super::{
    Nav, Page, PageHead, day, days, euros, int, lang_field, layout, pct, referrals_chart, share,
    tile, venue_map, vouchers_chart,
};
use crate::lang::t;

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

/// Adds `other`'s counts to `line`, and computes its usage rate again.
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
            t("(aucun hub)", "(no hub)")
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

/// The header cells of the voucher figures, as [`voucher_cells`] fills them.
fn voucher_headers() -> Markup {
    html! {
        th class="num" { (t("Pass émis", "Vouchers issued")) }
        th class="num" { (t("Remis", "Handed out")) }
        th class="num" { (t("Utilisés", "Redeemed")) }
        th class="num" { (t("Expirés", "Expired")) }
        th class="num" title=(t("utilisés / remis", "redeemed / handed out")) { (t("Taux d'usage", "Usage rate")) }
        th class="num" { (t("Réglé aux lieux", "Settled to venues")) }
    }
}

/// The cells of one line of voucher figures, under [`voucher_headers`].
fn voucher_cells(v: &VoucherLine) -> Markup {
    html! {
        td class="num" { (int(v.issued)) }
        td class="num" { (int(v.handed_out)) }
        td class="num" { (int(v.redeemed)) }
        td class="num" { (int(v.expired)) }
        td class="num" { (pct(v.usage_rate)) }
        td class="num" { (euros(v.settled_cents)) }
    }
}

/// `/`: the national figures.
pub fn dashboard(head: &PageHead, data: &DashboardData) -> String {
    let stats = &data.stats;
    let hubs = hub_figures(data);
    let funders = funder_figures(stats);
    let venues: u64 = stats.venues.iter().map(|v| v.venues).sum();
    let qualified: u64 = stats.venues.iter().map(|v| v.qualified).sum();
    let tot = &stats.total;
    let r = &stats.referrals;
    let referrals =
        r.open + r.expired + r.accepted + r.declined + r.completed + r.no_show + r.abandoned;
    let share_qualified = pct(share(qualified, venues));
    let qualified_label = maillage_core::tr!(
        "lieux qualifiés Pass numérique ({share_qualified} des lieux)",
        "venues qualified for the Pass numérique ({share_qualified} of venues)"
    );
    let title = t("Tableau de bord national", "National dashboard");
    let body = html! {
        h1 { (title) }
        p class="lead" {
            (t("Chiffres au ", "Figures on "))
            strong id="as-of" { time datetime=(stats.as_of) { (day(&stats.as_of)) } }
            (t(
                ", calculés par ce nœud à partir \
                 du registre répliqué de toute la fédération : tout nœud qui détient les mêmes \
                 événements affiche les mêmes chiffres.",
                ", computed by this node from the replicated ledger of the whole federation: \
                 every node that holds the same events shows the same figures.",
            ))
        }
        form class="search" method="get" action="/" {
            label { (t("Chiffres au", "Figures on")) input type="date" name="as_of" value=(stats.as_of); }
            (lang_field())
            button type="submit" { (t("Afficher", "Show")) }
        }

        h2 { (t("En bref", "At a glance")) }
        div class="tiles" {
            (tile("venues", &int(venues), t("lieux de médiation ouverts", "open mediation venues")))
            (tile("qualified", &int(qualified), &qualified_label))
            (tile("issued", &int(tot.issued), t("Pass numérique émis", "Pass numérique vouchers issued")))
            (tile("handed-out", &int(tot.handed_out), t("Pass remis à une personne", "vouchers handed out to a person")))
            (tile("redeemed", &int(tot.redeemed), t("Pass utilisés dans un lieu", "vouchers redeemed at a venue")))
            (tile("expired", &int(tot.expired), t("Pass expirés sans usage", "vouchers expired unused")))
            (tile("usage-rate", &pct(tot.usage_rate), t("taux d'usage (utilisés / remis)", "usage rate (redeemed / handed out)")))
            (tile("referrals", &int(referrals), t("orientations", "referrals")))
            (tile(
                "median-days",
                &days(r.median_days_to_accept),
                t("délai médian entre orientation et acceptation", "median delay between referral and acceptance"),
            ))
        }

        h2 { (t("Par territoire (hub)", "Per territory (hub)")) }
        div class="card" { (vouchers_chart(&hubs)) }
        div class="card" style="margin-top:.8rem" {
            table id="hubs" {
                thead {
                    tr {
                        th { "Hub" }
                        th { "Départements" }
                        th class="num" { (t("Lieux", "Venues")) }
                        th class="num" { (t("Qualifiés", "Qualified")) }
                        (voucher_headers())
                    }
                }
                tbody {
                    @for hub in &hubs {
                        tr {
                            td { (hub.name) }
                            td class="small" {
                                @for (i, code) in hub.departements.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (departement_label(code))
                                }
                            }
                            td class="num" { (int(hub.venues)) }
                            td class="num" { (int(hub.qualified)) }
                            (voucher_cells(&hub.vouchers))
                        }
                    }
                    tr class="total" {
                        td { "Total" }
                        td {}
                        td class="num" { (int(venues)) }
                        td class="num" { (int(qualified)) }
                        (voucher_cells(tot))
                    }
                }
            }
        }

        h2 { (t("Par financeur", "Per funder")) }
        @if funders.is_empty() {
            p class="muted" { (t("Aucun financeur : aucun lot émis pour l'instant.", "No funder: no batch issued yet.")) }
        } @else {
            div class="card" {
                table id="funders" {
                    thead {
                        tr {
                            th { (t("Financeur", "Funder")) }
                            th { (t("Hubs émetteurs", "Issuing hubs")) }
                            th class="num" { (t("Lots", "Batches")) }
                            (voucher_headers())
                            th class="num" { (t("Annulés", "Cancelled")) }
                        }
                    }
                    tbody {
                        @for (line, issuers) in &funders {
                            tr {
                                td { (line.funder) }
                                td class="small" { (issuers.join(", ")) }
                                td class="num" { (int(line.batches)) }
                                (voucher_cells(line))
                                td class="num" { (int(line.cancelled)) }
                            }
                        }
                    }
                }
            }
        }

        h2 { (t("Orientations par issue", "Referrals by outcome")) }
        div class="card" {
            (referrals_chart(stats))
            p class="small muted" {
                (t("Délai médian entre l'ouverture et l'acceptation : ", "Median delay between opening and acceptance: "))
                strong { (days(r.median_days_to_accept)) }
                (t(
                    " (orientations acceptées). Une orientation ouverte expire au bout de 30 jours \
                     sans réponse.",
                    " (accepted referrals). An open referral expires after 30 days without an \
                     answer.",
                ))
            }
        }

        h2 { (t("Lieux par département", "Venues per département")) }
        div class="grid2" {
            div class="card" { (venue_map(data)) }
            div class="card" {
                table id="departements" {
                    thead {
                        tr {
                            th { "Département" }
                            th { "Hub" }
                            th class="num" { (t("Lieux", "Venues")) }
                            th class="num" { (t("Qualifiés", "Qualified")) }
                            th class="num" { (t("Part qualifiée", "Share qualified")) }
                        }
                    }
                    tbody {
                        @if stats.venues.is_empty() {
                            tr { td colspan="5" class="muted" { (t("Aucun lieu enregistré.", "No venue recorded.")) } }
                        }
                        @for d in &stats.venues {
                            tr {
                                td { (departement_label(&d.departement)) }
                                td { (d.hub) }
                                td class="num" { (int(d.venues)) }
                                td class="num" { (int(d.qualified)) }
                                td class="num" { (pct(share(d.qualified, d.venues))) }
                            }
                        }
                    }
                }
            }
        }

        (super::indicators::indicators(&stats.indicators))
    };
    layout(head, Page::new(Nav::Dashboard, title), body)
}

#[cfg(test)]
mod tests {
    use super::super::tests::head;
    use super::*;
    use maillage_app::stats::DepartementVenues;

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
        assert!(html.contains("<a href=\"/\" class=\"current\" aria-current=\"page\">"));
        // One hub from the charter, found again in the figures: one row, not two.
        assert_eq!(hub_figures(&data).len(), 1);
    }
}
