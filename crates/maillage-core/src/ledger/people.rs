//! What is kept about people: accompaniments recorded by venues, the right to erasure, and
//! retention (a record per personal part, erased when its day passes).

use std::cmp::Reverse;

use maillage_proto::v1 as pb;

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::model::{Accompaniment, StepDetail};
use super::state::as_of;
use super::state::{NONE, part_at, person_of};
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
    /// Links the part `event` carries to its person in a new record, unless it must not be
    /// kept (the link is already past retention, the event was named by an erasure, or the
    /// person was forgotten). Returns the record's index, or `NONE`.
    pub(super) fn link_person(&mut self, event: &VerifiedEvent) -> u32 {
        let Some(person) = event.person() else {
            return NONE;
        };
        let day = event_day(event.hlc);
        if self.expired(day) {
            // Past retention on arrival: as if it had come in time and been erased since,
            // erasure included (a named part that expired forgets no one, wherever it came
            // first).
            self.drop_part(event.id, true);
            return NONE;
        }
        let name = crate::personal::forgotten_name(&person);
        let named = self.s.dropped.contains(&event.id);
        if named && !self.s.forgotten.contains(&name) {
            // An erasure named this event before it came: the person its part names is
            // forgotten now, as where the erasure came after it (every record of theirs
            // erased, their one-way name kept).
            self.forget_person(&person);
        }
        if named || self.s.forgotten.contains(&name) {
            self.drop_part(event.id, false);
            return NONE;
        }
        // A day past `i32::MAX` would be past 5 million years: expired everywhere already.
        let day = i32::try_from(day).unwrap_or(i32::MAX);
        let index = self.new_record(person, event.id, day);
        (self.s.part_of).insert(event.id, index, part_at(&self.s.people));
        self.s.expiry.push(Reverse((day, index)));
        index
    }

    /// Whether a part dated `day` is past retention at the log's day.
    fn expired(&self, day: i64) -> bool {
        day.saturating_add(i64::from(self.charter.retention_days())) < self.s.log_day
    }

    /// Records that this node never keeps the part of `event` (and erases it if stored).
    /// `may_wait`: no one asked for it (past retention, or a rejected event's), so the node
    /// may gather it with others; else an erasure dropped it, to be erased at once.
    pub(super) fn drop_part(&mut self, event: EventId, may_wait: bool) {
        self.s.dropped.insert(event);
        if may_wait {
            self.s.to_expire.push(event);
        } else {
            self.s.to_erase.push(event);
        }
    }

    /// `PersonForgotten`: the parts of `events` are dropped, and every record of each person
    /// they name on this node; the person's one-way name is kept so that their parts arriving
    /// later are erased on arrival.
    pub(super) fn forget(&mut self, events: &[EventId]) {
        for id in events {
            let record = (self.s.part_of).get(id, part_at(&self.s.people));
            if let Some(person) = record.and_then(|i| self.s.people[i].id) {
                self.forget_person(&person);
            }
            if self.s.dropped.insert(*id) {
                self.s.to_erase.push(*id);
            }
        }
    }

    /// Erases every record of `person` and keeps their one-way name.
    fn forget_person(&mut self, person: &PersonId) {
        let records: Vec<u32> = self.records(person).collect();
        for index in records {
            self.erase_record(index, false);
        }
        self.s
            .forgotten
            .insert(crate::personal::forgotten_name(person));
    }

    /// Erases the record at `index` and every link made through it: its part, its parcours
    /// lines and accompaniment, the "held by" of the vouchers it handed out and the person of
    /// the referral it opened (their states name the index, which names no one from now on).
    /// `expired`: past retention (else an erasure).
    fn erase_record(&mut self, index: u32, expired: bool) {
        let record = &self.s.people[index];
        let Some(person) = record.id else {
            return;
        };
        let (part, next, newer) = (record.part, record.next, record.newer);
        // Out of the maps first: they confirm a key by the record, which still names it.
        (self.s.part_of).remove(&part, part_at(&self.s.people));
        if newer == NONE {
            if next == NONE {
                (self.s.persons).remove(&person, person_of(&self.s.people));
            } else {
                (self.s.persons).insert(person, next, person_of(&self.s.people));
            }
        }
        let record = &mut self.s.people[index];
        record.id = None;
        record.parcours = Default::default();
        record.accompaniment = None;
        (record.next, record.newer) = (NONE, NONE);
        self.drop_part(part, expired);
        // Out of the person's chain.
        if next != NONE {
            self.s.people[next].newer = newer;
        }
        if newer != NONE {
            self.s.people[newer].next = next;
        }
    }

    /// An event of `author` dated `day` was applied: the log's day is the latest day that
    /// `k` authors (the charter's admission threshold) have reached, so that no single
    /// member's clock can expire anyone's links. Records whose part is dated more than the
    /// charter's retention before it are erased.
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
        while let Some(&Reverse((day, index))) = self.s.expiry.peek() {
            if !self.expired(i64::from(day)) {
                break;
            }
            self.s.expiry.pop();
            // An entry of a record an erasure took is skipped.
            self.erase_record(index, true);
        }
    }

    /// Parts dropped since the last call: the node erases them from its store (really gone
    /// from disk), then saves its views.
    pub fn take_erasures(&mut self) -> Vec<EventId> {
        let mut events = std::mem::take(&mut self.s.to_erase);
        events.append(&mut self.s.to_expire);
        events
    }

    /// What [`Ledger::take_erasures`] would give: parts dropped by an erasure (or a forgotten
    /// person's part arriving), parts past retention or of rejected events, and the parts
    /// still kept. A node erases the first at once; the second it may gather (erasing rewrites
    /// the parts file whole).
    pub fn erasures_waiting(&self) -> (usize, usize, usize) {
        (
            self.s.to_erase.len(),
            self.s.to_expire.len(),
            self.s.part_of.len(),
        )
    }

    /// Whether this node must not keep the personal part of `event` (erased, forgotten or
    /// expired).
    pub fn part_dropped(&self, event: &EventId) -> bool {
        self.s.dropped.contains(event)
    }

    /// Every event whose personal part this node erased or must never keep: the store's
    /// parts are checked against them when the node opens.
    pub fn parts_dropped(&self) -> impl Iterator<Item = &EventId> {
        self.s.dropped.iter()
    }

    /// The events whose parts this node links to `person`: what `PersonForgotten` names.
    pub fn person_events(&self, person: &PersonId) -> Vec<EventId> {
        let mut events: Vec<EventId> = (self.records(person))
            .map(|i| self.s.people[i].part)
            .collect();
        events.sort_unstable();
        events
    }

    /// The log's day (§5c) and the number of people whose links this node keeps.
    pub fn retention_state(&self) -> (i64, usize) {
        (self.s.log_day, self.s.persons.len())
    }
}
