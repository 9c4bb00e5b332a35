//! `/venues`: the venue directory, searched with the logic of `maillage venues search`: a form
//! that keeps what was asked, then the first matches.

use maud::{Markup, html};

use super::{Nav, Page, PageHead, day, int, lang_field, layout};
use crate::lang::{Lang, current, t};

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

/// The search form, filled with what was asked. A filter value that is not among the choices
/// is kept as one more choice, selected.
fn search_form(view: &VenueSearchView) -> Markup {
    let departement_known = view
        .departements
        .iter()
        .any(|(code, _)| code.eq_ignore_ascii_case(&view.departement));
    let service_known = view.services.contains(&view.service);
    html! {
        form class="search" method="get" action="/venues" {
            label {
                (t("Mots recherchés", "Words searched"))
                input type="search" name="q" value=(view.q)
                    placeholder=(t("ex. médiathèque Marseille", "e.g. médiathèque Marseille"));
            }
            label {
                "Département"
                select name="departement" {
                    option value="" { (t("Tous", "All")) }
                    @for (code, hub) in &view.departements {
                        option value=(code)
                            selected[code.eq_ignore_ascii_case(&view.departement)] {
                            (code)
                            @if !hub.is_empty() { " — " (hub) }
                        }
                    }
                    @if !departement_known && !view.departement.is_empty() {
                        option value=(view.departement) selected { (view.departement) }
                    }
                }
            }
            label {
                "Service"
                select name="service" {
                    option value="" { (t("Tous", "All")) }
                    @for service in &view.services {
                        option value=(service) selected[*service == view.service] { (service) }
                    }
                    @if !service_known && !view.service.is_empty() {
                        option value=(view.service) selected { (view.service) }
                    }
                }
            }
            label class="check" {
                input type="checkbox" name="qualified" value="on" checked[view.qualified];
                (t(" qualifiés Pass numérique seulement", " qualified for the Pass numérique only"))
            }
            (lang_field())
            button type="submit" { (t("Rechercher", "Search")) }
        }
    }
}

/// How many venues were found, and how many are shown.
fn result_count(view: &VenueSearchView) -> Markup {
    let plural = view.total != 1;
    html! {
        p id="result-count" {
            strong { (int(view.total as u64)) }
            @if current() == Lang::En {
                " venue" @if plural { "s" } " found"
                @if view.rows.len() < view.total {
                    " — the first " (view.rows.len()) " are shown; narrow the search to see the others"
                }
            } @else {
                " lieu" @if plural { "x" } " trouvé" @if plural { "s" }
                @if view.rows.len() < view.total {
                    " — les " (view.rows.len()) " premiers sont affichés ; précisez la recherche pour \
                     voir les autres"
                }
            }
            "."
        }
    }
}

/// The table of the venues found.
fn results_table(rows: &[VenueRow]) -> Markup {
    html! {
        div class="card" {
            table id="venues" {
                thead {
                    tr {
                        th { (t("Lieu", "Venue")) }
                        th { (t("Adresse", "Address")) }
                        th { "Dépt" }
                        th { "Services" }
                        th { "Pass numérique" }
                        th { "Hub" }
                    }
                }
                tbody {
                    @for row in rows {
                        tr {
                            td {
                                strong { (row.nom) }
                                @if !row.typologie.is_empty() {
                                    br;
                                    span class="small muted" { (row.typologie.join(", ")) }
                                }
                            }
                            td { (row.adresse) br; (row.code_postal) " " (row.commune) }
                            td { (row.departement) }
                            td class="small" { (row.services.join(" · ")) }
                            td {
                                @if let Some(until) = &row.qualified_until {
                                    span class="badge ok" { (t("qualifié", "qualified")) }
                                    br;
                                    span class="small muted" { (t("jusqu'au ", "until ")) time datetime=(until) { (day(until)) } }
                                } @else {
                                    span class="muted" { "—" }
                                }
                            }
                            td { (row.hub) }
                        }
                    }
                }
            }
        }
    }
}

/// `/venues`: search form and results.
pub fn venues(head: &PageHead, view: &VenueSearchView) -> String {
    let body = html! {
        h1 { (t("Annuaire des lieux de médiation numérique", "Directory of digital mediation venues")) }
        p class="lead" {
            (t(
                "Lieux ouverts de toute la fédération (standard national des lieux de médiation \
                 numérique). Recherche sur le nom, la commune, l'adresse et le code postal, sans \
                 tenir compte des accents.",
                "Open venues of the whole federation (the national standard of digital mediation \
                 venues). Searches the name, town, address and postcode, ignoring accents.",
            ))
        }
        (search_form(view))
        @if let Some(error) = &view.error {
            div class="error" id="search-error" { (error) }
        } @else {
            (result_count(view))
            @if !view.rows.is_empty() {
                (results_table(&view.rows))
            }
        }
    };
    let title = t("Annuaire des lieux", "Venue directory");
    layout(head, Page::new(Nav::Venues, title), body)
}

#[cfg(test)]
mod tests {
    use super::super::tests::head;
    use super::*;

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
        assert!(html.contains("<option value=\"&lt;13&gt;\" selected>&lt;13&gt;</option>"));
        assert!(html.contains(
            "<div class=\"error\" id=\"search-error\">service &quot;&lt;svc&gt;&quot;: not a v1 service</div>"
        ));
    }

    #[test]
    fn the_search_page_escapes_the_venues_it_lists() {
        let view = VenueSearchView {
            q: "médiathèque".into(),
            departement: "13".into(),
            departements: vec![("13".into(), "Hub <du> Sud".into())],
            rows: vec![VenueRow {
                nom: "Médiathèque <script>alert(1)</script>".into(),
                typologie: vec!["BIB".into(), "<MUNI>".into()],
                adresse: "1 rue \"de\" l'Église & co".into(),
                code_postal: "13001".into(),
                commune: "Marseille".into(),
                departement: "13".into(),
                services: vec!["<svc>".into()],
                qualified_until: Some("2027-06-30".into()),
                hub: "Hub <du> Sud".into(),
            }],
            total: 3,
            ..VenueSearchView::default()
        };
        let html = venues(&head(), &view);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("<strong>Médiathèque &lt;script&gt;alert(1)&lt;/script&gt;</strong>"),
            "{html}"
        );
        assert!(html.contains("BIB, &lt;MUNI&gt;"));
        assert!(html.contains("1 rue &quot;de&quot; l'Église &amp; co"));
        assert!(html.contains("<option value=\"13\" selected>13 — Hub &lt;du&gt; Sud</option>"));
        assert!(!html.contains("<du>") && !html.contains("<svc>") && !html.contains("<MUNI>"));
        assert!(html.contains(
            "<p id=\"result-count\"><strong>3</strong> lieux trouvés — les 1 premiers sont affichés"
        ));
        assert_eq!(
            html.matches("<span class=\"badge ok\">qualifié</span>")
                .count(),
            1
        );
    }
}
