//! `maillage stats` as text: the national figures, then the indicators, in the current
//! language (French by default, English with `--lang en`). `stats --json` does not depend on it.

use maillage_app::stats::Stats;
use maillage_core::tr;

use super::euros;
use super::views::percent;
use crate::lang::t;

/// The figures as text, in the current language, with the indicators.
pub fn stats_text(stats: &Stats) -> String {
    let day = crate::lang::day(&stats.as_of);
    let mut out = tr!(
        "chiffres nationaux au {day}\n\nPass numériques\n",
        "national figures on {day}\n\nPass numérique vouchers\n"
    );
    let headings: [&str; 9] = match crate::lang::current() {
        crate::lang::Lang::Fr => [
            "HUB ÉMETTEUR",
            "FINANCEUR",
            "ÉMIS",
            "REMIS",
            "UTILISÉS",
            "EXPIRÉS",
            "ANNULÉS",
            "USAGE",
            "RÉGLÉ",
        ],
        crate::lang::Lang::En => [
            "ISSUING HUB",
            "FUNDER",
            "ISSUED",
            "HANDED",
            "REDEEMED",
            "EXPIRED",
            "CANCELL.",
            "USAGE",
            "SETTLED",
        ],
    };
    let [h0, h1, h2, h3, h4, h5, h6, h7, h8] = headings;
    out.push_str(&format!(
        "  {h0:<20} {h1:<28} {h2:>7} {h3:>8} {h4:>8} {h5:>8} {h6:>8} {h7:>6} {h8:>12}\n"
    ));
    for line in stats.vouchers.iter().chain([&stats.total]) {
        let (hub, funder) = if std::ptr::eq(line, &stats.total) {
            (
                t("tous les hubs", "all hubs"),
                t("tous les financeurs", "all funders"),
            )
        } else {
            (line.hub.as_str(), line.funder.as_str())
        };
        out.push_str(&format!(
            "  {:<20} {:<28} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>12}\n",
            hub,
            funder,
            line.issued,
            line.handed_out,
            line.redeemed,
            line.expired,
            line.cancelled,
            percent(line.usage_rate),
            euros(line.settled_cents)
        ));
    }
    let tot = &stats.total;
    let (issued, handed_out, redeemed, usage) = (
        tot.issued,
        tot.handed_out,
        tot.redeemed,
        percent(tot.usage_rate),
    );
    out.push_str(&tr!(
        "  total : {issued} émis, {handed_out} remis, {redeemed} utilisés, taux d'usage {usage}\n",
        "  total: {issued} issued, {handed_out} handed out, {redeemed} redeemed, usage rate {usage}\n"
    ));
    let r = &stats.referrals;
    let (open, expired, accepted, declined, completed, no_show, abandoned) = (
        r.open,
        r.expired,
        r.accepted,
        r.declined,
        r.completed,
        r.no_show,
        r.abandoned,
    );
    out.push_str(&tr!(
        "\norientations : {open} ouvertes, {expired} expirées, {accepted} acceptées, {declined} refusées, {completed} terminées, {no_show} absences, {abandoned} abandons\n",
        "\nreferrals: {open} open, {expired} expired, {accepted} accepted, {declined} declined, {completed} completed, {no_show} no-shows, {abandoned} abandoned\n"
    ));
    let median = r
        .median_days_to_accept
        .map_or_else(|| "—".into(), |d| tr!("{d} j", "{d} d"));
    out.push_str(&tr!(
        "  délai médian entre ouverture et acceptation : {median}\n",
        "  median delay between opening and acceptance: {median}\n"
    ));
    out.push_str(t(
        "\nlieux par département (qualifié = qualification valide ce jour-là)\n",
        "\nvenues per département (qualified = qualification valid on that day)\n",
    ));
    for v in &stats.venues {
        let (venues, qualified) = (v.venues, v.qualified);
        out.push_str(&format!(
            "  {:<28} {:<24} {}\n",
            maillage_core::territory::departement_label(&v.departement),
            v.hub,
            tr!(
                "{venues:>5} lieux, {qualified:>4} qualifiés",
                "{venues:>5} venues, {qualified:>4} qualified"
            )
        ));
    }
    out.push_str(&super::indicators::indicators_text(&stats.indicators));
    out
}
