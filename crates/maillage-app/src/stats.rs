//! The national figures the coordinators ask for, computed from the views every node folds
//! (so every node that holds the same events gives the same figures).

use std::collections::BTreeMap;

use maillage_core::date::format_date;
use maillage_core::ledger::{ReferralStatus, VoucherStatus};
use maillage_core::vocab::Outcome;
use maillage_core::{HubId, Ledger};
use serde::{Deserialize, Serialize};

/// Vouchers of one issuing hub and one funder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VoucherLine {
    /// Issuing hub.
    pub hub: String,
    /// Issuing hub's key.
    pub hub_id: Option<HubId>,
    /// Funder.
    pub funder: String,
    /// Batches.
    pub batches: u64,
    /// Vouchers in those batches.
    pub issued: u64,
    /// Vouchers handed to a person (whatever happened next).
    pub handed_out: u64,
    /// Vouchers redeemed.
    pub redeemed: u64,
    /// Vouchers cancelled.
    pub cancelled: u64,
    /// Neither redeemed nor cancelled, past their redeem deadline.
    pub expired: u64,
    /// redeemed / handed out (None when nothing was handed out).
    pub usage_rate: Option<f64>,
    /// Amount settled to venues, in cents.
    pub settled_cents: u64,
}

/// Referrals by outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferralFigures {
    /// Open and not expired.
    pub open: u64,
    /// Open past their expiry.
    pub expired: u64,
    /// Accepted, not closed yet.
    pub accepted: u64,
    /// Declined.
    pub declined: u64,
    /// Closed: completed.
    pub completed: u64,
    /// Closed: the person did not come.
    pub no_show: u64,
    /// Closed: abandoned.
    pub abandoned: u64,
    /// Median days from opening to acceptance (referrals ever accepted).
    pub median_days_to_accept: Option<f64>,
}

/// Venues of one département.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DepartementVenues {
    /// INSEE code.
    pub departement: String,
    /// The hub holding it.
    pub hub: String,
    /// Open venues.
    pub venues: u64,
    /// Open venues whose qualification is valid on the as-of day.
    pub qualified: u64,
}

/// The national figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Day the figures are computed for.
    pub as_of: String,
    /// Vouchers by issuing hub and funder.
    pub vouchers: Vec<VoucherLine>,
    /// All vouchers.
    pub total: VoucherLine,
    /// Referrals.
    pub referrals: ReferralFigures,
    /// Venues by département.
    pub venues: Vec<DepartementVenues>,
    /// The national indicators (trends, funders, prescribers, delays, flows, liability).
    #[serde(default)]
    pub indicators: crate::indicators::Indicators,
}

fn rate(line: &mut VoucherLine) {
    line.usage_rate = (line.handed_out > 0).then(|| line.redeemed as f64 / line.handed_out as f64);
}

/// Computes the figures as of a day (days since the epoch), the indicators with them.
pub fn compute(ledger: &Ledger, as_of: i32) -> Stats {
    Stats {
        indicators: crate::indicators::compute(ledger, as_of),
        ..figures(ledger, as_of)
    }
}

/// The figures without the indicators (`stats.csv`; `indicators.csv` has its own file).
pub fn figures(ledger: &Ledger, as_of: i32) -> Stats {
    let charter = ledger.charter();
    let name = |hub: &HubId| {
        charter
            .member(hub)
            .map_or_else(|| hub.short(), |m| m.name.clone())
    };
    let mut lines: BTreeMap<(HubId, String), VoucherLine> = BTreeMap::new();
    let mut touched: BTreeMap<&str, u64> = BTreeMap::new();
    for (serial, state) in ledger.touched_vouchers() {
        let Some(batch) = serial
            .rsplit_once('-')
            .and_then(|(b, _)| ledger.batch_by_id(b))
        else {
            continue;
        };
        *touched.entry(batch.batch_id.as_str()).or_insert(0) += 1;
        let line = lines
            .entry((batch.issuer, batch.funder.clone()))
            .or_default();
        let past_deadline = as_of > batch.redeem_deadline.0;
        if state.handed_out {
            line.handed_out += 1;
        }
        match state.status {
            VoucherStatus::Redeemed => line.redeemed += 1,
            VoucherStatus::Cancelled => line.cancelled += 1,
            VoucherStatus::Issued | VoucherStatus::HandedOut if past_deadline => line.expired += 1,
            _ => {}
        }
        if state.settled {
            line.settled_cents += batch.face_value_cents;
        }
    }
    for batch in ledger.batches() {
        let line = lines
            .entry((batch.issuer, batch.funder.clone()))
            .or_default();
        line.batches += 1;
        line.issued += u64::from(batch.count);
        let untouched = u64::from(batch.count)
            .saturating_sub(touched.get(batch.batch_id.as_str()).copied().unwrap_or(0));
        if as_of > batch.redeem_deadline.0 {
            line.expired += untouched;
        }
    }
    let mut total = VoucherLine {
        hub: "all hubs".into(),
        funder: "all funders".into(),
        ..VoucherLine::default()
    };
    let vouchers: Vec<VoucherLine> = lines
        .into_iter()
        .map(|((hub, funder), mut line)| {
            line.hub = name(&hub);
            line.hub_id = Some(hub);
            line.funder = funder;
            rate(&mut line);
            total.batches += line.batches;
            total.issued += line.issued;
            total.handed_out += line.handed_out;
            total.redeemed += line.redeemed;
            total.cancelled += line.cancelled;
            total.expired += line.expired;
            total.settled_cents += line.settled_cents;
            line
        })
        .collect();
    rate(&mut total);

    let mut referrals = ReferralFigures::default();
    let mut delays: Vec<i32> = Vec::new();
    for r in ledger.referrals() {
        match &r.status {
            ReferralStatus::Open => {
                if as_of > r.expires_on.0 {
                    referrals.expired += 1;
                } else {
                    referrals.open += 1;
                }
            }
            ReferralStatus::Accepted => referrals.accepted += 1,
            ReferralStatus::Declined => referrals.declined += 1,
            ReferralStatus::Closed { outcome } => match outcome {
                Outcome::Completed => referrals.completed += 1,
                Outcome::NoShow => referrals.no_show += 1,
                Outcome::Abandoned => referrals.abandoned += 1,
            },
        }
        if let Some(accepted) = r.accepted_on {
            delays.push(accepted.0 - r.opened_on.0);
        }
    }
    delays.sort_unstable();
    referrals.median_days_to_accept = match delays.len() {
        0 => None,
        n if n % 2 == 1 => Some(f64::from(delays[n / 2])),
        n => Some(f64::from(delays[n / 2 - 1] + delays[n / 2]) / 2.0),
    };

    let mut venues: BTreeMap<String, DepartementVenues> = BTreeMap::new();
    for v in ledger
        .venues()
        .venues()
        .values()
        .filter(|v| v.closed.is_none())
    {
        let entry = venues
            .entry(v.departement.clone())
            .or_insert_with(|| DepartementVenues {
                departement: v.departement.clone(),
                hub: charter
                    .holder_of(&v.departement)
                    .map(|h| name(&h))
                    .unwrap_or_default(),
                ..DepartementVenues::default()
            });
        entry.venues += 1;
        let qualified = ledger
            .qualification(&v.venue_id)
            .is_some_and(|q| q.valid_until.0 >= as_of);
        if qualified {
            entry.qualified += 1;
        }
    }
    Stats {
        as_of: format_date(as_of),
        vouchers,
        total,
        referrals,
        venues: venues.into_values().collect(),
        indicators: crate::indicators::Indicators::default(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use maillage_core::date::parse_date;
    use maillage_core::{Charter, FeedWriter, MemberSpec, PersonId, Role, SecretKey, pb};

    use super::*;

    const MS_PER_DAY: u64 = 86_400_000;

    struct Hub {
        writer: FeedWriter,
        ledger: Ledger,
        wall: u64,
    }

    impl Hub {
        fn new() -> (Self, HubId) {
            let secret = SecretKey::generate(&mut rand::rng());
            let id = secret.hub_id();
            let spec = MemberSpec {
                key: id,
                name: "Hub du Sud".into(),
                role: Role::Hub,
                territories: vec!["13".into(), "84".into()],
            };
            let charter = Arc::new(Charter::found("Test", 1, vec![spec]).unwrap());
            let writer = FeedWriter::new(secret, charter.federation_id(), None, 0, u64::MAX / 4);
            let wall = parse_date("2026-03-01").unwrap() as u64 * MS_PER_DAY;
            (
                Self {
                    writer,
                    ledger: Ledger::new(charter),
                    wall,
                },
                id,
            )
        }

        fn event(&mut self, body: pb::event::Body) {
            self.wall += 1000;
            let event = self.writer.next(body, Vec::new(), self.wall).unwrap();
            let id = event.id;
            self.ledger.offer(event);
            assert!(
                self.ledger.rejections().get(&id).is_none(),
                "{:?}",
                self.ledger.rejections()
            );
        }
    }

    fn prescriber() -> Option<pb::Prescriber> {
        Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF 13".into(),
        })
    }

    #[test]
    fn figures_of_a_small_federation() {
        let (mut hub, id) = Hub::new();
        let person = PersonId::random([9; 16]);
        let service = "Aide aux démarches administratives".to_owned();
        let record = pb::VenueRecord {
            id: "mediatheque".into(),
            pivot: "73282932000074".into(),
            nom: "Médiathèque".into(),
            commune: "Marseille".into(),
            code_postal: "13001".into(),
            adresse: "1 rue".into(),
            date_maj: "2026-01-01".into(),
            ..pb::VenueRecord::default()
        };
        let venue = maillage_core::venues::venue_id(&id, "mediatheque");
        hub.event(pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: venue.clone(),
            record: Some(record),
        }));
        hub.event(pb::event::Body::VenueQualified(pb::VenueQualified {
            venue_id: venue.clone(),
            scheme: "pass-numerique".into(),
            valid_until: "2026-06-30".into(),
            services: vec![service.clone()],
        }));
        for (batch, deadline) in [("13-A", "2026-12-31"), ("13-B", "2026-04-30")] {
            hub.event(pb::event::Body::VoucherBatchIssued(
                pb::VoucherBatchIssued {
                    batch_id: batch.into(),
                    funder: Some(pb::Funder {
                        name: "Région Sud".into(),
                        siret: "23130002100012".into(),
                    }),
                    face_value_cents: 1000,
                    count: 10,
                    valid_from: "2026-01-01".into(),
                    valid_until: deadline.into(),
                    redeem_deadline: deadline.into(),
                    ..pb::VoucherBatchIssued::default()
                },
            ));
        }
        hub.event(pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
            serials: (1..=5)
                .map(|n| format!("13-A-{n}"))
                .chain(["13-B-1".into()])
                .collect(),
            personal: maillage_core::personal::seal(person, "", [1; 16])
                .unwrap()
                .0
                .to_vec(),
            prescriber: prescriber(),
            referral_id: String::new(),
            date: "2026-03-01".into(),
        }));
        for n in 1..=2 {
            hub.event(pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
                serial: format!("13-A-{n}"),
                venue_id: venue.clone(),
                service: service.clone(),
                date: "2026-03-02".into(),
                claim: None,
            }));
        }
        hub.event(pb::event::Body::RedemptionsSettled(
            pb::RedemptionsSettled {
                venue_id: venue.clone(),
                serials: vec!["13-A-1".into()],
                amount_cents: 1000,
                period: "2026-03".into(),
            },
        ));
        hub.event(pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
            serials: vec!["13-A-10".into()],
            reason: "lost".into(),
        }));
        for (rid, opened) in [
            ("13-R1", "2026-02-20"),
            ("13-R2", "2026-02-25"),
            ("13-R3", "2026-01-01"),
        ] {
            hub.event(pb::event::Body::ReferralOpened(pb::ReferralOpened {
                referral_id: rid.into(),
                personal: maillage_core::personal::seal(person, "", [1; 16])
                    .unwrap()
                    .0
                    .to_vec(),
                prescriber: prescriber(),
                needs: vec![service.clone()],
                target_venue_id: venue.clone(),
                opened_on: opened.into(),
                ..pb::ReferralOpened::default()
            }));
        }
        for rid in ["13-R1", "13-R2"] {
            hub.event(pb::event::Body::ReferralAccepted(pb::ReferralAccepted {
                referral_id: rid.into(),
                venue_id: venue.clone(),
                appointment_on: String::new(),
                date: "2026-03-01".into(),
            }));
        }
        hub.event(pb::event::Body::ReferralClosed(pb::ReferralClosed {
            referral_id: "13-R1".into(),
            outcome: "no_show".into(),
            autonomy: String::new(),
        }));

        // In March: nothing expired; usage 2 of 6 handed out.
        let march = compute(&hub.ledger, parse_date("2026-03-15").unwrap());
        assert_eq!(march.vouchers.len(), 1);
        let line = &march.vouchers[0];
        assert_eq!(
            (line.hub.as_str(), line.funder.as_str()),
            ("Hub du Sud", "Région Sud")
        );
        assert_eq!(
            (line.batches, line.issued, line.handed_out, line.redeemed),
            (2, 20, 6, 2)
        );
        assert_eq!(
            (line.cancelled, line.expired, line.settled_cents),
            (1, 0, 1000)
        );
        assert!((line.usage_rate.unwrap() - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(march.total.issued, 20);
        let r = &march.referrals;
        assert_eq!(
            (r.open, r.expired, r.accepted, r.no_show),
            (0, 1, 1, 1),
            "{r:?}"
        );
        // Delays 9 and 4 days: the median is 6.5.
        assert_eq!(r.median_days_to_accept, Some(6.5));
        assert_eq!(march.venues.len(), 1);
        assert_eq!((march.venues[0].venues, march.venues[0].qualified), (1, 1));

        // The indicators, as of the same day.
        let i = &march.indicators;
        assert_eq!(i.quarters.len(), 1);
        let q = &i.quarters[0];
        assert_eq!(q.quarter, "2026-T1");
        assert_eq!(
            (
                q.redeemed,
                q.redeemed_cents,
                q.referrals_opened,
                q.referrals_accepted
            ),
            (2, 2000, 3, 2)
        );
        assert_eq!(i.funders_by_quarter.len(), 1);
        assert_eq!(
            (
                i.funders_by_quarter[0].funder.as_str(),
                i.funders_by_quarter[0].redeemed
            ),
            ("Région Sud", 2)
        );
        assert_eq!(
            (
                i.prescribers[0].kind.as_str(),
                i.prescribers[0].opened,
                i.prescribers[0].accepted
            ),
            ("CAF", 3, 2)
        );
        // Only 13-R3 (1 January, never accepted) was opened 30 days before 15 March.
        assert_eq!(
            (
                i.referrals_old_enough,
                i.accepted_within_15_days,
                i.accepted_within_30_days
            ),
            (1, 0, 0)
        );
        assert!(i.flows.is_empty(), "one hub: no flow");
        // Handed out and neither redeemed nor cancelled: 13-A-3..5 and 13-B-1.
        assert_eq!((i.liability[0].vouchers, i.liability_cents), (4, 4000));
        let april = compute(&hub.ledger, parse_date("2026-04-15").unwrap()).indicators;
        assert_eq!(
            (
                april.referrals_old_enough,
                april.accepted_within_15_days,
                april.accepted_within_30_days
            ),
            (3, 2, 2)
        );
        // Before the redemptions, nothing was redeemed in the quarter yet.
        let february = compute(&hub.ledger, parse_date("2026-02-28").unwrap()).indicators;
        assert_eq!(february.quarters[0].redeemed, 0);

        // In May: batch B (deadline April 30) expired, 1 handed out + 9 never handed out;
        // in July the qualification has lapsed too.
        let may = compute(&hub.ledger, parse_date("2026-05-01").unwrap());
        assert_eq!(may.vouchers[0].expired, 10);
        // 13-B-1 expired with its batch: no longer owed.
        assert_eq!(may.indicators.liability_cents, 3000);
        let july = compute(&hub.ledger, parse_date("2026-07-01").unwrap());
        assert_eq!(july.venues[0].qualified, 0);
        assert_eq!(
            march.vouchers[0].usage_rate.map(|r| (r * 100.0).round()),
            Some(33.0)
        );
        assert_eq!(march.vouchers[0].settled_cents, 1000);
    }
}
