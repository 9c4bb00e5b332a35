//! The national indicators coordinators report on, computed from the views as of a day by the
//! same code for the CLI (`maillage stats`), the dashboard and the exports, each with its
//! definition. Like every figure, they read the events' own dates (redemption, opening,
//! acceptance), never a node's clock, so every node holding the same events shows the same
//! numbers.

use std::collections::BTreeMap;

use maillage_core::ledger::VoucherStatus;
use maillage_core::{HubId, Ledger};
use serde::{Deserialize, Serialize};

/// A quarter's activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quarter {
    /// `2026-T1` (trimestre).
    pub quarter: String,
    /// Vouchers redeemed in the quarter (by redemption date).
    pub redeemed: u64,
    /// Their face value, in cents.
    pub redeemed_cents: u64,
    /// Referrals opened in the quarter.
    pub referrals_opened: u64,
    /// Referrals accepted in the quarter (by acceptance date).
    pub referrals_accepted: u64,
}

/// Vouchers of one funder redeemed in one quarter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunderQuarter {
    /// The funder.
    pub funder: String,
    /// `2026-T1`.
    pub quarter: String,
    /// Vouchers redeemed.
    pub redeemed: u64,
}

/// Referrals by the kind of desk that made them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrescriberFigures {
    /// `CAF`, `FT`, `CCAS`…
    pub kind: String,
    /// Referrals opened.
    pub opened: u64,
    /// Of which accepted by a venue (now or before).
    pub accepted: u64,
}

/// Redemptions at a venue of another hub than the voucher's issuer, or referrals handled by
/// another hub than the one that opened them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// The issuing (or opening) hub.
    pub from: String,
    /// The hub of the venue (or the handling hub).
    pub to: String,
    /// Vouchers redeemed across.
    pub vouchers: u64,
    /// Referrals handled across.
    pub referrals: u64,
}

/// What is owed if every voucher in people's hands were redeemed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Liability {
    /// The funder.
    pub funder: String,
    /// Vouchers handed out, neither redeemed nor cancelled, before their redeem deadline.
    pub vouchers: u64,
    /// Their face value, in cents.
    pub cents: u64,
}

/// The indicators, as of a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Indicators {
    /// Activity per quarter, oldest first, up to the quarter of the day.
    pub quarters: Vec<Quarter>,
    /// Redemptions per funder and quarter.
    pub funders_by_quarter: Vec<FunderQuarter>,
    /// Referrals by prescriber kind.
    pub prescribers: Vec<PrescriberFigures>,
    /// Referrals opened at least 30 days before the day (so that both delays are known).
    pub referrals_old_enough: u64,
    /// Of those, accepted within 15 days of opening.
    pub accepted_within_15_days: u64,
    /// Of those, accepted within 30 days of opening.
    pub accepted_within_30_days: u64,
    /// Flows between territories.
    pub flows: Vec<Flow>,
    /// Outstanding liability per funder.
    pub liability: Vec<Liability>,
    /// Outstanding liability, all funders, in cents.
    pub liability_cents: u64,
}

/// Each indicator's definition, as the dashboard, the CLI and the exports print it.
pub const DEFINITIONS: [(&str, &str); 6] = [
    (
        "Activité par trimestre",
        "Pass numériques utilisés (par date d'utilisation) et leur valeur faciale ; orientations ouvertes (par date d'ouverture) et acceptées (par date d'acceptation), par trimestre civil.",
    ),
    (
        "Pass utilisés par financeur",
        "Pass numériques utilisés par trimestre, selon le financeur du lot émis.",
    ),
    (
        "Orientations par prescripteur",
        "Orientations ouvertes selon le type de guichet qui oriente (CAF, France Travail, CCAS…), et la part acceptée par un lieu.",
    ),
    (
        "Orientations acceptées sous 15 et 30 jours",
        "Parmi les orientations ouvertes au moins 30 jours avant la date des chiffres, part acceptée par un lieu au plus 15 (puis 30) jours après l'ouverture.",
    ),
    (
        "Flux entre territoires",
        "Pass utilisés dans un lieu d'un autre hub que celui qui les a émis, et orientations traitées par un autre hub que celui qui les a ouvertes.",
    ),
    (
        "Encours",
        "Pass remis à une personne, ni utilisés ni annulés, dont la date limite d'utilisation n'est pas passée : ce que les financeurs devraient payer s'ils étaient tous utilisés.",
    ),
];

/// The same definitions in English (`--lang en`, the dashboard's `?lang=en`), in the same order.
pub const DEFINITIONS_EN: [(&str, &str); 6] = [
    (
        "Activity per quarter",
        "Pass numérique vouchers redeemed (by redemption date) and their face value; referrals opened (by opening date) and accepted (by acceptance date), per calendar quarter.",
    ),
    (
        "Vouchers redeemed per funder",
        "Pass numérique vouchers redeemed per quarter, by the funder of the batch they were issued in.",
    ),
    (
        "Referrals per prescriber",
        "Referrals opened by the kind of office that refers (CAF, France Travail, CCAS…), and the share accepted by a venue.",
    ),
    (
        "Referrals accepted within 15 and 30 days",
        "Among the referrals opened at least 30 days before the figures' date, the share accepted by a venue at most 15 (then 30) days after opening.",
    ),
    (
        "Flows between territories",
        "Vouchers redeemed at a venue of another hub than the one that issued them, and referrals handled by another hub than the one that opened them.",
    ),
    (
        "Outstanding liability",
        "Vouchers handed out to a person, neither redeemed nor cancelled, whose last day of use has not passed: what the funders would pay if they were all redeemed.",
    ),
];

/// Indicator `n`'s title and definition in the current language
/// ([`maillage_core::lang::current`]): [`DEFINITIONS`] or [`DEFINITIONS_EN`].
pub fn definition(n: usize) -> (&'static str, &'static str) {
    match maillage_core::lang::current() {
        maillage_core::lang::Lang::Fr => DEFINITIONS[n],
        maillage_core::lang::Lang::En => DEFINITIONS_EN[n],
    }
}

/// `2026-T1` for a day (days since the epoch).
fn quarter_of(day: i32) -> String {
    let (year, month, _) = maillage_core::date::civil_from_days(day);
    format!("{year}-T{}", (month - 1) / 3 + 1)
}

/// Computes the indicators as of a day (days since the epoch): what happened on or before it.
pub fn compute(ledger: &Ledger, as_of: i32) -> Indicators {
    let charter = ledger.charter();
    let membership = ledger.membership();
    let name = |hub: &HubId| {
        charter
            .member(hub)
            .map_or_else(|| hub.short(), |m| m.name.clone())
    };
    let mut quarters: BTreeMap<String, Quarter> = BTreeMap::new();
    fn quarter(quarters: &mut BTreeMap<String, Quarter>, day: i32) -> &mut Quarter {
        let key = quarter_of(day);
        quarters.entry(key.clone()).or_insert_with(|| Quarter {
            quarter: key,
            ..Quarter::default()
        })
    }
    let mut funders: BTreeMap<(String, String), u64> = BTreeMap::new();
    // (issuing or opening hub, venue's or handling hub) → (vouchers, referrals).
    let mut flows: BTreeMap<(HubId, HubId), (u64, u64)> = BTreeMap::new();
    let mut liability: BTreeMap<String, Liability> = BTreeMap::new();
    let venues = ledger.venues().venues();
    for (serial, state) in ledger.touched_vouchers() {
        let Some(batch) = serial
            .rsplit_once('-')
            .and_then(|(b, _)| ledger.batch_by_id(b))
        else {
            continue;
        };
        if let Some(redemption) = state
            .redemption
            .as_ref()
            .filter(|r| r.date.0 <= as_of && state.status == VoucherStatus::Redeemed)
        {
            let q = quarter(&mut quarters, redemption.date.0);
            q.redeemed += 1;
            q.redeemed_cents += batch.face_value_cents;
            *funders
                .entry((batch.funder.clone(), quarter_of(redemption.date.0)))
                .or_default() += 1;
            if let Some(venue) = venues.get(&redemption.venue_id)
                && !membership.same_member(&venue.hub, &batch.issuer)
            {
                flows.entry((batch.issuer, venue.hub)).or_default().0 += 1;
            }
        }
        if state.handed_out
            && state.status == VoucherStatus::HandedOut
            && as_of <= batch.redeem_deadline.0
        {
            let line = liability
                .entry(batch.funder.clone())
                .or_insert_with(|| Liability {
                    funder: batch.funder.clone(),
                    ..Liability::default()
                });
            line.vouchers += 1;
            line.cents += batch.face_value_cents;
        }
    }
    let mut prescribers: BTreeMap<String, PrescriberFigures> = BTreeMap::new();
    let (mut old_enough, mut within_15, mut within_30) = (0, 0, 0);
    for referral in ledger.referrals().filter(|r| r.opened_on.0 <= as_of) {
        quarter(&mut quarters, referral.opened_on.0).referrals_opened += 1;
        let accepted_on = referral.accepted_on.filter(|d| d.0 <= as_of);
        if let Some(day) = accepted_on {
            quarter(&mut quarters, day.0).referrals_accepted += 1;
        }
        let kind = referral.prescriber_kind.as_str().to_owned();
        let line = prescribers
            .entry(kind.clone())
            .or_insert_with(|| PrescriberFigures {
                kind,
                ..PrescriberFigures::default()
            });
        line.opened += 1;
        if accepted_on.is_some() {
            line.accepted += 1;
        }
        if as_of - referral.opened_on.0 >= 30 {
            old_enough += 1;
            let delay = accepted_on.map(|d| d.0 - referral.opened_on.0);
            if delay.is_some_and(|d| d <= 15) {
                within_15 += 1;
            }
            if delay.is_some_and(|d| d <= 30) {
                within_30 += 1;
            }
        }
        if !membership.same_member(&referral.opened_by, &referral.handler) {
            flows
                .entry((referral.opened_by, referral.handler))
                .or_default()
                .1 += 1;
        }
    }
    let liability: Vec<Liability> = liability.into_values().collect();
    Indicators {
        quarters: quarters.into_values().collect(),
        funders_by_quarter: funders
            .into_iter()
            .map(|((funder, quarter), redeemed)| FunderQuarter {
                funder,
                quarter,
                redeemed,
            })
            .collect(),
        prescribers: prescribers.into_values().collect(),
        referrals_old_enough: old_enough,
        accepted_within_15_days: within_15,
        accepted_within_30_days: within_30,
        flows: flows
            .into_iter()
            .map(|((from, to), (vouchers, referrals))| Flow {
                from: name(&from),
                to: name(&to),
                vouchers,
                referrals,
            })
            .collect(),
        liability_cents: liability.iter().map(|l| l.cents).sum(),
        liability,
    }
}
