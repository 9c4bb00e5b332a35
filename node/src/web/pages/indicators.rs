//! The national indicators on the dashboard (`/`): each table under its definition, computed by
//! `maillage_app::indicators`, the code behind `maillage stats` and the exports too.

use maillage_app::indicators::{Indicators, definition};
use maud::{Markup, html};

use super::{euros, int, pct, share};
use crate::lang::t;

/// A table's heading and the definition beside it.
fn defined(n: usize, id: &str, table: Markup) -> Markup {
    let (title, text) = definition(n);
    html! {
        div class="card" id=(id) {
            h3 { (title) }
            p class="small muted" { (text) }
            (table)
        }
    }
}

/// The indicators section.
pub fn indicators(i: &Indicators) -> Markup {
    html! {
        h2 { (t("Indicateurs nationaux", "National indicators")) }
        div class="grid2" {
            (defined(0, "indicator-quarters", html! {
                table {
                    thead { tr {
                        th { (t("Trimestre", "Quarter")) } th class="num" { (t("Pass utilisés", "Vouchers redeemed")) }
                        th class="num" { (t("Valeur", "Value")) }
                        th class="num" { (t("Orientations ouvertes", "Referrals opened")) } th class="num" { (t("acceptées", "accepted")) }
                    } }
                    tbody {
                        @if i.quarters.is_empty() { tr { td colspan="5" class="muted" { (t("Aucune activité.", "No activity.")) } } }
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
                    thead { tr {
                        th { (t("Trimestre", "Quarter")) } th { (t("Financeur", "Funder")) }
                        th class="num" { (t("Pass utilisés", "Vouchers redeemed")) }
                    } }
                    tbody {
                        @if i.funders_by_quarter.is_empty() { tr { td colspan="3" class="muted" { (t("Aucun pass utilisé.", "No voucher redeemed.")) } } }
                        @for f in &i.funders_by_quarter {
                            tr { td { (f.quarter) } td { (f.funder) } td class="num" { (int(f.redeemed)) } }
                        }
                    }
                }
            }))
            (defined(2, "indicator-prescribers", html! {
                table {
                    thead { tr {
                        th { (t("Prescripteur", "Prescriber")) } th class="num" { (t("Ouvertes", "Opened")) }
                        th class="num" { (t("Acceptées", "Accepted")) } th class="num" { (t("Part", "Share")) }
                    } }
                    tbody {
                        @if i.prescribers.is_empty() { tr { td colspan="4" class="muted" { (t("Aucune orientation.", "No referral.")) } } }
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
                    (t(" acceptées sous 15 jours, ", " accepted within 15 days, "))
                    strong { (pct(share(i.accepted_within_30_days, i.referrals_old_enough))) }
                    (t(" sous 30 jours, sur ", " within 30 days, of "))
                    (int(i.referrals_old_enough))
                    (t(" orientations ouvertes depuis 30 jours au moins.", " referrals opened at least 30 days ago."))
                }
            }))
            (defined(4, "indicator-flows", html! {
                table {
                    thead { tr {
                        th { (t("De", "From")) } th { (t("Vers", "To")) } th class="num" { (t("Pass", "Vouchers")) }
                        th class="num" { (t("Orientations", "Referrals")) }
                    } }
                    tbody {
                        @if i.flows.is_empty() { tr { td colspan="4" class="muted" { (t("Aucun flux entre territoires.", "No flow between territories.")) } } }
                        @for f in &i.flows {
                            tr { td { (f.from) } td { (f.to) } td class="num" { (int(f.vouchers)) } td class="num" { (int(f.referrals)) } }
                        }
                    }
                }
            }))
            (defined(5, "indicator-liability", html! {
                table {
                    thead { tr {
                        th { (t("Financeur", "Funder")) } th class="num" { (t("Pass", "Vouchers")) }
                        th class="num" { (t("Montant", "Amount")) }
                    } }
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
