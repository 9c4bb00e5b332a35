//! The national indicators of `maillage stats` as text, each table after its definition.

use std::fmt::Write;

use maillage_app::indicators::{DEFINITIONS, Indicators};

use super::euros;

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// The indicators, in French (the coordinators' language), with their definitions.
pub fn indicators_text(i: &Indicators) -> String {
    let mut out = String::from("\nindicateurs nationaux\n");
    let definition = |out: &mut String, n: usize| {
        let (title, text) = DEFINITIONS[n];
        let _ = writeln!(out, "\n  {title}\n    ({text})");
    };
    definition(&mut out, 0);
    let _ = writeln!(
        out,
        "    {:<9} {:>10} {:>12} {:>12} {:>12}",
        "TRIMESTRE", "PASS UTIL.", "VALEUR", "ORIENT. OUV.", "ORIENT. ACC."
    );
    for q in &i.quarters {
        let _ = writeln!(
            out,
            "    {:<9} {:>10} {:>12} {:>12} {:>12}",
            q.quarter,
            q.redeemed,
            euros(q.redeemed_cents),
            q.referrals_opened,
            q.referrals_accepted
        );
    }
    definition(&mut out, 1);
    for f in &i.funders_by_quarter {
        let _ = writeln!(
            out,
            "    {:<9} {:<36} {:>6}",
            f.quarter, f.funder, f.redeemed
        );
    }
    definition(&mut out, 2);
    for p in &i.prescribers {
        let _ = writeln!(
            out,
            "    {:<9} {:>5} ouvertes, {:>5} acceptées ({})",
            p.kind,
            p.opened,
            p.accepted,
            share(p.accepted, p.opened)
        );
    }
    definition(&mut out, 3);
    let _ = writeln!(
        out,
        "    {} orientations ouvertes depuis 30 jours au moins : {} acceptées sous 15 jours, {} sous 30 jours",
        i.referrals_old_enough,
        share(i.accepted_within_15_days, i.referrals_old_enough),
        share(i.accepted_within_30_days, i.referrals_old_enough)
    );
    definition(&mut out, 4);
    if i.flows.is_empty() {
        let _ = writeln!(out, "    aucun");
    }
    for f in &i.flows {
        let _ = writeln!(
            out,
            "    {} → {} : {} pass, {} orientations",
            f.from, f.to, f.vouchers, f.referrals
        );
    }
    definition(&mut out, 5);
    for l in &i.liability {
        let _ = writeln!(
            out,
            "    {:<36} {:>6} pass {:>14}",
            l.funder,
            l.vouchers,
            euros(l.cents)
        );
    }
    let _ = writeln!(out, "    total {:>14}", euros(i.liability_cents));
    out
}
