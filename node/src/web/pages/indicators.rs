//! The national indicators on the dashboard (`/`): each table under its definition, computed by
//! `maillage_app::indicators`, the code behind `maillage stats` and the exports too.

use maillage_app::indicators::{DEFINITIONS, Indicators};
use maud::{Markup, html};

use super::{euros, int, pct, share};

/// A table's heading and the definition beside it.
fn defined(n: usize, id: &str, table: Markup) -> Markup {
    let (title, definition) = DEFINITIONS[n];
    html! {
        div class="card" id=(id) {
            h3 { (title) }
            p class="small muted" { (definition) }
            (table)
        }
    }
}

/// The indicators section.
pub fn indicators(i: &Indicators) -> Markup {
    html! {
        h2 { "Indicateurs nationaux" }
        div class="grid2" {
            (defined(0, "indicator-quarters", html! {
                table {
                    thead { tr {
                        th { "Trimestre" } th class="num" { "Pass utilisés" } th class="num" { "Valeur" }
                        th class="num" { "Orientations ouvertes" } th class="num" { "acceptées" }
                    } }
                    tbody {
                        @if i.quarters.is_empty() { tr { td colspan="5" class="muted" { "Aucune activité." } } }
                        @for q in &i.quarters {
                            tr {
                                td { (q.quarter) } td class="num" { (int(q.redeemed)) }
                                td class="num" { (euros(q.redeemed_cents)) }
                                td class="num" { (int(q.referrals_opened)) }
                                td class="num" { (int(q.referrals_accepted)) }
                            }
                        }
                    }
                }
            }))
            (defined(1, "indicator-funders", html! {
                table {
                    thead { tr { th { "Trimestre" } th { "Financeur" } th class="num" { "Pass utilisés" } } }
                    tbody {
                        @if i.funders_by_quarter.is_empty() { tr { td colspan="3" class="muted" { "Aucun pass utilisé." } } }
                        @for f in &i.funders_by_quarter {
                            tr { td { (f.quarter) } td { (f.funder) } td class="num" { (int(f.redeemed)) } }
                        }
                    }
                }
            }))
            (defined(2, "indicator-prescribers", html! {
                table {
                    thead { tr { th { "Prescripteur" } th class="num" { "Ouvertes" } th class="num" { "Acceptées" } th class="num" { "Part" } } }
                    tbody {
                        @if i.prescribers.is_empty() { tr { td colspan="4" class="muted" { "Aucune orientation." } } }
                        @for p in &i.prescribers {
                            tr {
                                td { (p.kind) } td class="num" { (int(p.opened)) }
                                td class="num" { (int(p.accepted)) }
                                td class="num" { (pct(share(p.accepted, p.opened))) }
                            }
                        }
                    }
                }
            }))
            (defined(3, "indicator-delays", html! {
                p {
                    strong { (pct(share(i.accepted_within_15_days, i.referrals_old_enough))) }
                    " acceptées sous 15 jours, "
                    strong { (pct(share(i.accepted_within_30_days, i.referrals_old_enough))) }
                    " sous 30 jours, sur " (int(i.referrals_old_enough)) " orientations ouvertes depuis 30 jours au moins."
                }
            }))
            (defined(4, "indicator-flows", html! {
                table {
                    thead { tr { th { "De" } th { "Vers" } th class="num" { "Pass" } th class="num" { "Orientations" } } }
                    tbody {
                        @if i.flows.is_empty() { tr { td colspan="4" class="muted" { "Aucun flux entre territoires." } } }
                        @for f in &i.flows {
                            tr { td { (f.from) } td { (f.to) } td class="num" { (int(f.vouchers)) } td class="num" { (int(f.referrals)) } }
                        }
                    }
                }
            }))
            (defined(5, "indicator-liability", html! {
                table {
                    thead { tr { th { "Financeur" } th class="num" { "Pass" } th class="num" { "Montant" } } }
                    tbody {
                        @for l in &i.liability {
                            tr { td { (l.funder) } td class="num" { (int(l.vouchers)) } td class="num" { (euros(l.cents)) } }
                        }
                        tr class="total" { td { "Total" } td {} td class="num" { (euros(i.liability_cents)) } }
                    }
                }
            }))
        }
    }
}
