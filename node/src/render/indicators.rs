//! The national indicators of `maillage stats` as text, each table after its definition.

use std::fmt::Write;

use maillage_app::indicators::Indicators;
use maillage_core::tr;

use crate::lang::t;

use super::euros;

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}

/// The indicators, in the current language (French by default), with their definitions.
pub fn indicators_text(i: &Indicators) -> String {
    let mut out = String::from(t("\nindicateurs nationaux\n", "\nnational indicators\n"));
    let definition = |out: &mut String, n: usize| {
        let (title, text) = maillage_app::indicators::definition(n);
        let _ = writeln!(out, "\n  {title}\n    ({text})");
    };
    definition(&mut out, 0);
    let _ = writeln!(
        out,
        "    {:<9} {:>10} {:>12} {:>12} {:>12}",
        t("TRIMESTRE", "QUARTER"),
        t("PASS UTIL.", "REDEEMED"),
        t("VALEUR", "VALUE"),
        t("ORIENT. OUV.", "REF. OPENED"),
        t("ORIENT. ACC.", "REF. ACCEPT.")
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
        let (kind, opened, accepted) = (&p.kind, p.opened, p.accepted);
        let part = share(p.accepted, p.opened);
        let _ = writeln!(
            out,
            "{}",
            tr!(
                "    {kind:<9} {opened:>5} ouvertes, {accepted:>5} acceptées ({part})",
                "    {kind:<9} {opened:>5} opened, {accepted:>5} accepted ({part})"
            )
        );
    }
    definition(&mut out, 3);
    let old = i.referrals_old_enough;
    let within_15 = share(i.accepted_within_15_days, old);
    let within_30 = share(i.accepted_within_30_days, old);
    let _ = writeln!(
        out,
        "{}",
        tr!(
            "    {old} orientations ouvertes depuis 30 jours au moins : {within_15} acceptées sous 15 jours, {within_30} sous 30 jours",
            "    {old} referrals opened at least 30 days ago: {within_15} accepted within 15 days, {within_30} within 30 days"
        )
    );
    definition(&mut out, 4);
    if i.flows.is_empty() {
        let _ = writeln!(out, "    {}", t("aucun", "none"));
    }
    for f in &i.flows {
        let (from, to, vouchers, referrals) = (&f.from, &f.to, f.vouchers, f.referrals);
        let _ = writeln!(
            out,
            "{}",
            tr!(
                "    {from} → {to} : {vouchers} pass, {referrals} orientations",
                "    {from} → {to}: {vouchers} vouchers, {referrals} referrals"
            )
        );
    }
    definition(&mut out, 5);
    for l in &i.liability {
        let _ = writeln!(
            out,
            "    {:<36} {:>6} {} {:>14}",
            l.funder,
            l.vouchers,
            t("pass", "vouchers"),
            euros(l.cents)
        );
    }
    let _ = writeln!(out, "    total {:>14}", euros(i.liability_cents));
    out
}
