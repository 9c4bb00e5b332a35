//! What readers get of the views: venues, batches, vouchers, claims, referrals, a person's
//! parcours and accompaniments, rejections, settlements, the digest.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;

use super::Ledger;
use super::digest::VIEWS;
use super::model::{
    Accompaniment, Batch, Claim, DomainRejection, ParcoursEntry, Qualification, Redemption,
    Referral, StepDetail, VoucherState,
};
use super::state::{Compact, VoucherKey};
use crate::charter::Charter;
use crate::ids::{EventId, HubId};
use crate::person::PersonId;
use crate::territory::departement_of;
use crate::venues::VenueDirectory;

impl Ledger {
    /// Applied events per feed.
    pub fn applied(&self) -> BTreeMap<HubId, u64> {
        self.s.causal.applied()
    }

    /// Per feed, the last seq up to which every event is applied or waiting in the views
    /// ([`crate::CausalIndex::offered`]).
    pub fn offered(&self) -> BTreeMap<HubId, u64> {
        self.s.causal.offered()
    }

    /// The id of an applied event.
    pub fn applied_id(&self, author: &HubId, seq: u64) -> Option<EventId> {
        self.s.causal.id_of(author, seq)
    }

    /// Total applied events.
    pub fn applied_count(&self) -> u64 {
        self.s.causal.applied_count()
    }

    /// Whether these views fold events of `key` (a founding member, or a key an amendment in
    /// effect here admitted).
    pub fn knows(&self, key: &HubId) -> bool {
        self.members.index(key).is_some()
    }

    /// Events waiting for their causal past.
    pub fn pending_count(&self) -> usize {
        self.s.causal.pending_count()
    }

    /// Events that may wait for their causal past at once, at most.
    pub fn pending_max(&self) -> usize {
        self.s.causal.pending_max()
    }

    /// What waiting events wait for, the first `limit`: the missing event's author (`None`:
    /// a key that is not a member in these views), its seq, and how many events wait on it.
    pub fn waiting_for(&self, limit: usize) -> Vec<(Option<HubId>, u64, usize)> {
        self.s.causal.waiting_for(limit)
    }

    /// The venue directory.
    pub fn venues(&self) -> &VenueDirectory {
        &self.s.venues
    }

    /// Open venues matching every criterion of `query`, nearest first when a point is given,
    /// else by venue id.
    pub fn search_venues(&self, query: &VenueQuery) -> Vec<(&crate::venues::Venue, Option<f64>)> {
        let mut found: Vec<(&crate::venues::Venue, Option<f64>)> = self
            .s
            .venues
            .venues()
            .values()
            .filter(|v| v.closed.is_none())
            .filter(|v| {
                query
                    .departement
                    .as_ref()
                    .is_none_or(|d| v.departement.eq_ignore_ascii_case(d))
            })
            .filter(|v| {
                query
                    .service
                    .as_ref()
                    .is_none_or(|s| v.record.services.iter().any(|x| x == s))
            })
            .filter(|v| {
                query.public.as_ref().is_none_or(|p| {
                    v.record
                        .publics_specifiquement_adresses
                        .iter()
                        .chain(&v.record.prise_en_charge_specifique)
                        .any(|x| x == p)
                })
            })
            .filter(|v| {
                query.qualified_on.is_none_or(|day| {
                    self.qualification(&v.venue_id)
                        .is_some_and(|q| q.valid_until.0 >= day)
                })
            })
            .filter_map(|v| match query.near {
                None => Some((v, None)),
                Some((lat, lon, within_km)) => {
                    let d = distance_km(
                        lat,
                        lon,
                        v.record.latitude_micro?,
                        v.record.longitude_micro?,
                    );
                    (d <= within_km).then_some((v, Some(d)))
                }
            })
            .collect();
        if query.near.is_some() {
            found.sort_by(|a, b| {
                a.1.unwrap_or(0.0)
                    .total_cmp(&b.1.unwrap_or(0.0))
                    .then_with(|| a.0.venue_id.cmp(&b.0.venue_id))
            });
        }
        found
    }

    /// A venue's current qualification.
    pub fn qualification(&self, venue_id: &str) -> Option<&Qualification> {
        self.venue_now(venue_id)
            .and_then(|s| s.qualification.as_ref())
    }

    /// Every batch, by batch id.
    pub fn batches(&self) -> Vec<&Batch> {
        let mut all: Vec<&Batch> = self.s.batches.iter().map(|b| &b.batch).collect();
        all.sort_unstable_by(|a, b| a.batch_id.cmp(&b.batch_id));
        all
    }

    /// A batch by its id.
    pub fn batch_by_id(&self, batch_id: &str) -> Option<&Batch> {
        self.s
            .batch_index
            .get(batch_id)
            .map(|i| &self.s.batches[*i as usize].batch)
    }

    /// A voucher's current state (`None` if its batch is unknown or the number is out of range).
    pub fn voucher(&self, serial: &str) -> Option<VoucherState> {
        let (batch_id, number) = serial.rsplit_once('-')?;
        let index = *self.s.batch_index.get(batch_id)?;
        let info = &self.s.batches[index as usize];
        let n: u32 = number.parse().ok()?;
        if n == 0 || n > info.batch.count || number.starts_with('0') {
            return None;
        }
        Some(match self.s.vouchers.get(&(index, n)) {
            Some(at) => self.public((index, n), &self.s.voucher_log[*at].state),
            None => {
                let mut state = VoucherState::issued(self.members.hub(info.issuer));
                state.settled = self.s.settled.contains_key(&(index, n));
                state
            }
        })
    }

    /// The public form of a voucher's state.
    fn public(&self, key: VoucherKey, state: &Compact) -> VoucherState {
        let more = state.more.as_deref();
        VoucherState {
            owner: self.members.hub(state.owner),
            status: state.status,
            person: self.person_id(state.person),
            handed_out: state.handed_out,
            redemption: state.redemption.as_ref().and_then(|r| {
                Some(Box::new(Redemption {
                    venue_id: self.s.names.get(r.venue).to_owned(),
                    service: r.service,
                    date: r.date,
                    event: self
                        .redemption_at(r)
                        .and_then(|(feed, seq)| self.s.causal.id_at(feed, seq))?,
                    claim: more.and_then(|m| m.redeemed_claim),
                }))
            }),
            settled: self.s.settled.contains_key(&key),
            answered_claims: more.map(|m| m.answered_claims.clone()).unwrap_or_default(),
            transfers: more.map(|m| m.transfers.clone()).unwrap_or_default(),
        }
    }

    /// Every voucher that left the `Issued` state with its serial, by batch id then number
    /// (the same order on every node).
    pub fn touched_vouchers(&self) -> impl Iterator<Item = (String, VoucherState)> + '_ {
        let rank: BTreeMap<&str, u32> = self
            .s
            .batches
            .iter()
            .enumerate()
            .map(|(i, b)| (b.batch.batch_id.as_str(), i as u32))
            .collect();
        let mut order = vec![0u32; self.s.batches.len()];
        for (sorted, (_, index)) in rank.iter().enumerate() {
            order[*index as usize] = sorted as u32;
        }
        let mut touched: Vec<(u32, u32, u32)> = self
            .s
            .vouchers
            .sorted()
            .into_iter()
            .map(|((batch, number), at)| (order[*batch as usize], *number, *at))
            .collect();
        touched.sort_unstable();
        touched.into_iter().map(|(_, number, at)| {
            let rec = &self.s.voucher_log[at];
            let batch = &self.s.batches[rec.batch as usize].batch.batch_id;
            (
                format!("{batch}-{number}"),
                self.public((rec.batch, number), &rec.state),
            )
        })
    }

    /// The vouchers whose latest state names `person`, with their serials, by batch id then
    /// number (the order of [`Ledger::touched_vouchers`]).
    pub fn person_vouchers(&self, person: &PersonId) -> Vec<(String, VoucherState)> {
        let mut found: Vec<(&str, u32, u32)> = (self.records(person))
            .flat_map(|index| self.s.links.vouchers(index).map(move |key| (index, key)))
            .filter_map(|(index, key)| {
                let at = *self.s.vouchers.get(key)?;
                (self.s.voucher_log[at].state.person == index).then(|| {
                    let batch = self.s.batches[key.0 as usize].batch.batch_id.as_str();
                    (batch, key.1, at)
                })
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|(batch, number, at)| {
                let key = self.s.voucher_log[at].batch;
                (
                    format!("{batch}-{number}"),
                    self.public((key, number), &self.s.voucher_log[at].state),
                )
            })
            .collect()
    }

    /// The current state of every referral opened for `person`, by referral id.
    pub fn person_referrals(&self, person: &PersonId) -> Vec<Referral> {
        let mut ids: Vec<&str> = (self.records(person))
            .flat_map(|index| self.s.links.referrals(index))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.referral(id))
            .filter(|r| r.person == Some(*person))
            .collect()
    }

    /// Claims and their answers.
    pub fn claims(&self) -> &BTreeMap<EventId, Claim> {
        &self.s.claims
    }

    /// The claims nobody answered yet, by event id (the order of [`Ledger::claims`]).
    pub fn unanswered_claims(&self) -> impl Iterator<Item = &Claim> + '_ {
        self.s
            .unanswered_claims
            .iter()
            .filter_map(|id| self.s.claims.get(id))
    }

    /// The claims on one serial, by event id (the order of [`Ledger::claims`]).
    pub fn claims_on(&self, serial: &str) -> impl Iterator<Item = &Claim> + '_ {
        self.s
            .claims_by_serial
            .get(serial)
            .into_iter()
            .flatten()
            .filter_map(|id| self.s.claims.get(id))
    }

    /// A referral's current state.
    pub fn referral(&self, referral_id: &str) -> Option<Referral> {
        let rec = self.s.referrals.get(referral_id)?;
        self.referral_now(referral_id, rec)
    }

    /// Every referral's current state, by referral id.
    pub fn referrals(&self) -> impl Iterator<Item = Referral> + '_ {
        self.s
            .referrals
            .sorted()
            .into_iter()
            .filter_map(|(id, rec)| self.referral_now(id, rec))
    }

    /// A person's parcours, in causal order (HLC, then event id); `None` if forgotten. Each
    /// of their records keeps its lines in that order (an event's line is in one record
    /// only): they are merged.
    pub fn parcours(&self, person: &PersonId) -> Option<Vec<ParcoursEntry>> {
        if self.is_forgotten(person) {
            return None;
        }
        let mut lines: Vec<ParcoursEntry> = (self.records(person))
            .flat_map(|i| self.s.people[i].parcours.iter())
            .filter_map(|step| {
                Some(ParcoursEntry {
                    hlc: step.hlc,
                    // Every line's event is applied.
                    event: self.s.causal.id_at(step.hub, step.seq)?,
                    hub: self.members.hub(step.hub),
                    kind: step.detail.kind(),
                    summary: self.summary(&step.detail),
                    detail: step.detail,
                })
            })
            .collect();
        lines.sort_by(|a, b| (a.hlc, a.event, &a.detail).cmp(&(b.hlc, b.event, &b.detail)));
        Some(lines)
    }

    /// Accompaniments of a person, by event id.
    pub fn accompaniments(&self, person: &PersonId) -> Vec<&Accompaniment> {
        let mut found: Vec<&Accompaniment> = (self.records(person))
            .filter_map(|i| self.s.people[i].accompaniment.as_deref())
            .collect();
        found.sort_by_key(|a| a.event);
        found
    }

    /// True if the person asked to be forgotten.
    pub fn is_forgotten(&self, person: &PersonId) -> bool {
        self.s
            .forgotten
            .contains(&crate::personal::forgotten_name(person))
    }

    /// Events kept in the log without effect, by event id.
    pub fn rejections(&self) -> &BTreeMap<EventId, DomainRejection> {
        &self.s.rejections
    }

    /// Settled amounts by (issuing hub, venue).
    pub fn settlements(&self) -> &BTreeMap<(HubId, String), u64> {
        &self.s.settlements
    }

    /// The charter.
    pub fn charter(&self) -> &Charter {
        &self.charter
    }

    /// The state digest (docs/protocol.md §5): SHA-256 over each member's applied seq and the
    /// chains of typed effects and rejection codes of its feed, per view. Kept up to date by
    /// every applied event: a call hashes a few kilobytes, whatever the number of events.
    pub fn digest(&self) -> [u8; 32] {
        let order = self.charter_order();
        (self.s.chains).digest(&self.members, &order, &|feed| {
            self.s.causal.applied_in(feed)
        })
    }

    /// One hash per view, to tell which view differs between two nodes.
    pub fn digest_parts(&self) -> Vec<(&'static str, [u8; 32])> {
        let order = self.charter_order();
        VIEWS
            .iter()
            .map(|(view, name)| (*name, self.s.chains.part(*view, &self.members, &order)))
            .collect()
    }

    /// A parcours step in a sentence (hubs by name).
    fn summary(&self, detail: &StepDetail) -> String {
        let list = |services: &[crate::vocab::Service]| {
            services
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        use crate::tr;
        match detail {
            StepDetail::HandedOut {
                serials,
                prescriber_kind,
                prescriber_name,
            } => {
                let (n, all) = (serials.len(), serials.join(", "));
                tr!(
                    "{n} pass remis par {prescriber_name} ({prescriber_kind}) : {all}",
                    "{n} voucher(s) handed out by {prescriber_name} ({prescriber_kind}): {all}"
                )
            }
            StepDetail::Redeemed {
                serial,
                venue_id,
                service,
                date,
            } => tr!(
                "pass {serial} utilisé au lieu {venue_id} pour {service} le {date}",
                "voucher {serial} redeemed at venue {venue_id} for {service} on {date}"
            ),
            StepDetail::Claimed { serial, venue_id } => tr!(
                "pass {serial} réclamé au lieu {venue_id} pendant que son propriétaire était injoignable",
                "voucher {serial} claimed at venue {venue_id} while its owner was unreachable"
            ),
            StepDetail::ReferralOpened {
                prescriber_kind,
                prescriber_name,
                needs,
                handler,
                territory,
                ..
            } => {
                let (needs, hub) = (list(needs), self.hub_name(handler));
                tr!(
                    "orientée par {prescriber_name} ({prescriber_kind}) pour {needs} ; traitée par le hub {hub} (territoire {territory})",
                    "referred by {prescriber_name} ({prescriber_kind}) for {needs}; handled by hub {hub} (territory {territory})"
                )
            }
            StepDetail::ReferralAccepted {
                referral_id,
                venue_id,
                date,
            } => tr!(
                "orientation {referral_id} acceptée au lieu {venue_id} le {date}",
                "referral {referral_id} accepted at venue {venue_id} on {date}"
            ),
            StepDetail::ReferralDeclined {
                referral_id,
                reason,
            } => tr!(
                "orientation {referral_id} refusée : {reason}",
                "referral {referral_id} declined: {reason}"
            ),
            StepDetail::ReferralForwarded {
                referral_id,
                venue_id,
                handler,
            } => {
                let hub = self.hub_name(handler);
                tr!(
                    "orientation {referral_id} réorientée vers le lieu {venue_id} (hub {hub})",
                    "referral {referral_id} forwarded to venue {venue_id} (hub {hub})"
                )
            }
            StepDetail::ReferralClosed {
                referral_id,
                outcome,
            } => {
                let outcome = match (crate::lang::current(), outcome.as_str()) {
                    (crate::lang::Lang::Fr, "completed") => "terminée",
                    (crate::lang::Lang::Fr, "no_show") => "absence",
                    (crate::lang::Lang::Fr, "abandoned") => "abandonnée",
                    (_, code) => code,
                };
                tr!(
                    "orientation {referral_id} close : {outcome}",
                    "referral {referral_id} closed: {outcome}"
                )
            }
            StepDetail::Accompaniment {
                venue_id,
                duration_min,
                mode,
                date,
            } => {
                let mode = match (crate::lang::current(), mode.as_str()) {
                    (crate::lang::Lang::Fr, "individual") => "individuel",
                    (crate::lang::Lang::Fr, "collective") => "collectif",
                    (crate::lang::Lang::Fr, "remote") => "à distance",
                    (_, code) => code,
                };
                tr!(
                    "accompagnement {mode} de {duration_min} min au lieu {venue_id} le {date}",
                    "{duration_min} min {mode} accompaniment at venue {venue_id} on {date}"
                )
            }
        }
    }
}

/// Criteria of a venue search (all optional).
#[derive(Debug, Clone, Default)]
pub struct VenueQuery {
    /// Département code.
    pub departement: Option<String>,
    /// Exact v1 service label.
    pub service: Option<String>,
    /// Exact v1 public or specific-support label.
    pub public: Option<String>,
    /// Qualified for vouchers on this day (days since 1970-01-01).
    pub qualified_on: Option<i32>,
    /// Within `km` of a point given in micro-degrees: (latitude, longitude, km).
    pub near: Option<(i64, i64, f64)>,
}

/// Great-circle distance between two points in micro-degrees (query time only: no float is
/// ever signed or folded).
pub fn distance_km(lat1: i64, lon1: i64, lat2: i64, lon2: i64) -> f64 {
    let radians = |micro: i64| (micro as f64 / 1e6).to_radians();
    let (p1, p2) = (radians(lat1), radians(lat2));
    let dp = p2 - p1;
    let dl = radians(lon2) - radians(lon1);
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// The département of a venue record (for callers building events).
pub fn record_departement(record: &pb::VenueRecord) -> Option<String> {
    departement_of(
        Some(record.code_insee.as_str()).filter(|c| !c.is_empty()),
        &record.code_postal,
    )
    .ok()
}
