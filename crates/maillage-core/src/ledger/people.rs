//! What is kept about people: accompaniments recorded by venues, and the right to erasure.

use maillage_proto::v1 as pb;

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::model::{Accompaniment, StepDetail};
use super::state::NONE;
use super::state::as_of;
use crate::causal::Past;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
use crate::person::PersonId;
use crate::rejection::{Field, Rejection};
use crate::vocab::Mode;

/// Longest accompaniment, in minutes (a day).
const DURATION_MAX_MIN: u32 = 24 * 60;

impl Ledger {
    /// `AccompanimentRecorded`. Checks: a commitment to a personal part; the venue is held by the author and
    /// open in the event's causal past; v1 services; a day; the mode is individual, collective
    /// or remote; 1 to 1,440 minutes; the referral, if named, is in the event's causal past.
    pub(super) fn check_accompaniment(
        &self,
        a: &pb::AccompanimentRecorded,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let personal = fields::commitment(&a.personal)?;
        self.held_open_venue(&a.venue_id, event.author, past)?;
        let services = fields::services(Field::Services, &a.services)?;
        let date = fields::day(Field::Date, &a.date)?;
        let mode = Mode::parse(&a.mode).ok_or_else(|| Rejection::BadValue {
            field: Field::Mode,
            expected: Mode::labels(),
            found: a.mode.clone(),
        })?;
        if a.duration_min == 0 || a.duration_min > DURATION_MAX_MIN {
            return Err(Rejection::OutOfRange {
                field: Field::Duration,
                expected: format!("1..={DURATION_MAX_MIN} minutes"),
                found: u64::from(a.duration_min),
            });
        }
        if !a.referral_id.is_empty()
            && self
                .s
                .referrals
                .get(&a.referral_id)
                .and_then(|rec| as_of(&rec.steps, past))
                .is_none()
        {
            return Err(Rejection::ReferralUnknown {
                referral: a.referral_id.clone(),
            });
        }
        Ok(Effect::Accompanied {
            personal,
            record: Box::new(Accompaniment {
                event: event.id,
                venue_id: a.venue_id.clone(),
                referral_id: a.referral_id.clone(),
                services,
                date,
                duration_min: a.duration_min,
                mode,
            }),
            detail: StepDetail::Accompaniment {
                venue_id: a.venue_id.clone(),
                duration_min: a.duration_min,
                mode,
                date,
            },
        })
    }

    /// `PersonForgotten`. Checks: 1 to 1,000 distinct event ids (32 bytes each). The events
    /// need not be known: a part arriving later for one of them is erased on arrival.
    pub(super) fn check_forget(&self, f: &pb::PersonForgotten) -> Result<Effect, Rejection> {
        let events =
            crate::personal::forgotten_events(f).map_err(|error| Rejection::BadPerson { error })?;
        Ok(Effect::Forgotten { events })
    }
}

/// The day of an HLC value (days since 1970-01-01, from its physical part).
pub(super) fn event_day(hlc: u64) -> i64 {
    ((hlc >> 16) / 86_400_000) as i64
}

/// Personal parts: which this node keeps, erasure and retention (docs/protocol.md §2b, §5c).
/// None of this is in the digest: nodes that hold different parts agree on everything else.
impl Ledger {
    /// Links the part `event` carries to its person, unless it must not be kept (the event was
    /// named by an erasure, the person was forgotten, or the link is already past retention).
    /// Returns the person's index, or `NONE`.
    pub(super) fn link_person(&mut self, event: &VerifiedEvent) -> u32 {
        let Some(person) = event.person() else {
            return NONE;
        };
        let day = event_day(event.hlc);
        let name = crate::personal::forgotten_name(&person);
        let named = self.s.dropped.contains(&event.id);
        if named && !self.s.forgotten.contains(&name) {
            // An erasure named this event before it came: the person its part names is
            // forgotten now, as where the erasure came after it (every link to them erased,
            // their one-way name kept).
            if let Some(index) = self.s.persons.get(&person).copied() {
                self.erase_person(index, true);
            }
            self.s.forgotten.insert(name);
        }
        if named || self.s.forgotten.contains(&name) || self.expired(day) {
            self.drop_part(event.id);
            return NONE;
        }
        let index = self.person_index(person);
        let parts = &mut self.s.people[index].parts;
        // Most people have a few: no room kept for more.
        parts.reserve_exact(1);
        parts.push(event.id);
        self.s.part_of.insert(event.id, index);
        self.touch(index, day);
        index
    }

    /// Counts `day` as activity of the person at `index`.
    pub(super) fn touch(&mut self, index: u32, day: i64) {
        let record = &mut self.s.people[index];
        if day > record.last_day {
            self.s.expiry.remove(&(record.last_day, index));
            record.last_day = day;
            self.s.expiry.insert((day, index));
        }
    }

    /// Whether a link last active on `day` is past retention at the log's day.
    fn expired(&self, day: i64) -> bool {
        day.saturating_add(i64::from(self.charter.retention_days())) < self.s.log_day
    }

    /// Records that this node never keeps the part of `event` (and erases it if stored).
    pub(super) fn drop_part(&mut self, event: EventId) {
        self.s.dropped.insert(event);
        self.s.to_erase.push(event);
    }

    /// `PersonForgotten`: the parts of `events` are dropped, and everything linked to each
    /// person they name on this node; the person's one-way name is kept so that their parts
    /// arriving later are erased on arrival.
    pub(super) fn forget(&mut self, events: &[EventId]) {
        for id in events {
            if let Some(index) = self.s.part_of.get(id).copied() {
                self.erase_person(index, true);
            }
            if self.s.dropped.insert(*id) {
                self.s.to_erase.push(*id);
            }
        }
    }

    /// Erases every link of the person at `index`: their parts, parcours, accompaniments, the
    /// "held by" of their vouchers and the person of their referrals. `forgotten`: keep their
    /// one-way name (an erasure); otherwise (retention) they may come back with new links.
    fn erase_person(&mut self, index: u32, forgotten: bool) {
        let record = &mut self.s.people[index];
        let Some(person) = record.id.take() else {
            return;
        };
        let parts = std::mem::take(&mut record.parts);
        record.parcours = Default::default();
        record.accompaniments = Vec::new();
        let last_day = record.last_day;
        self.s.expiry.remove(&(last_day, index));
        self.s.persons.remove(&person);
        if forgotten {
            self.s
                .forgotten
                .insert(crate::personal::forgotten_name(&person));
        }
        for id in parts {
            self.s.part_of.remove(&id);
            self.drop_part(id);
        }
        // The person's referrals name them by index, which names no one from now on.
    }

    /// An event of `author` dated `day` was applied: the log's day is the latest day that
    /// `k` authors (the charter's admission threshold) have reached, so that no single
    /// member's clock can expire anyone's links. Links last active more than the charter's
    /// retention before it are erased.
    pub(super) fn advance_day(&mut self, author: HubId, day: i64) {
        let latest = self.s.latest_day.entry(author).or_insert(i64::MIN);
        if day <= *latest {
            return;
        }
        *latest = day;
        let k = (self.charter.admission_threshold() as usize).max(1);
        if self.s.latest_day.len() < k {
            return;
        }
        let mut days: Vec<i64> = self.s.latest_day.values().copied().collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        let log_day = days[k - 1];
        if log_day <= self.s.log_day {
            return;
        }
        self.s.log_day = log_day;
        while let Some(&(last_day, index)) = self.s.expiry.first() {
            if !self.expired(last_day) {
                break;
            }
            // Takes the person out of `expiry` too.
            self.erase_person(index, false);
        }
    }

    /// Parts dropped since the last call: the node erases them from its store (really gone
    /// from disk), then saves its views.
    pub fn take_erasures(&mut self) -> Vec<EventId> {
        std::mem::take(&mut self.s.to_erase)
    }

    /// Whether this node must not keep the personal part of `event` (erased, forgotten or
    /// expired): the store's parts are checked against it when the node opens.
    pub fn part_dropped(&self, event: &EventId) -> bool {
        self.s.dropped.contains(event)
    }

    /// The events whose parts this node links to `person`: what `PersonForgotten` names.
    pub fn person_events(&self, person: &PersonId) -> Vec<EventId> {
        self.s
            .persons
            .get(person)
            .map(|i| self.s.people[*i].parts.clone())
            .unwrap_or_default()
    }

    /// The log's day (§5c) and the number of people whose links this node keeps.
    pub fn retention_state(&self) -> (i64, usize) {
        (self.s.log_day, self.s.persons.len())
    }
}
