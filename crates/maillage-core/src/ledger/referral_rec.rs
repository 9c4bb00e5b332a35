//! How the views keep a referral: what its opening set, once, then what each step left, its
//! venues and départements by number in the views' table of [`Names`] (which redemptions'
//! venues share). A referral has a few steps; each was a whole
//! [`Referral`] before, its five strings and three keys copied again (about 700 bytes a
//! referral in memory, a fifth of it now). Readers and rules get the whole [`Referral`] back.

use serde::{Deserialize, Serialize};

use super::Ledger;
use super::model::{Referral, ReferralStatus};
use super::state::{NONE, Pos, as_of};
use crate::causal::Past;
use crate::date::Day;
use crate::ids::HubId;
use crate::lookup::LookupMap;
use crate::vocab::{Autonomy, PrescriberKind, Service};

/// A referral: its opening, then its state after the opening and after each step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ReferralRec {
    pub(super) opened: Opening,
    /// In causal order (a referral's valid events form one chain), the opening's first.
    pub(super) steps: Vec<(Pos, Moved)>,
}

/// What no step changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Opening {
    /// Index in `State::people` ([`NONE`]: this node holds no personal part). The person
    /// stops being named when their links are erased, as the index then names no one.
    pub(super) person: u32,
    pub(super) personal: [u8; 32],
    pub(super) prescriber_kind: PrescriberKind,
    pub(super) prescriber_name: Box<str>,
    pub(super) opened_by: HubId,
    pub(super) needs: Box<[Service]>,
    pub(super) opened_on: Day,
    pub(super) expires_on: Day,
}

/// What a step may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Moved {
    pub(super) handler: HubId,
    /// Number in `State::names` ([`NONE`]: a département, not a venue).
    pub(super) target_venue: u32,
    /// Number in `State::names`.
    pub(super) target_territory: u32,
    pub(super) status: ReferralStatus,
    /// Number in `State::names` ([`NONE`] until a venue accepts).
    pub(super) venue: u32,
    pub(super) accepted_on: Option<Day>,
    pub(super) autonomy: Option<Autonomy>,
}

/// Strings many records repeat (venue ids, départements), each kept once and named by its
/// number. Only grows, like the views.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Names {
    list: Vec<Box<str>>,
    /// Rebuilt from `list` when a snapshot is read.
    #[serde(skip)]
    index: LookupMap<Box<str>, u32>,
}

impl Names {
    /// The number of `name`, known from now on; [`NONE`] for the empty string.
    pub(super) fn number(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return NONE;
        }
        if let Some(number) = self.index.get(name) {
            return *number;
        }
        let number = self.list.len() as u32;
        self.list.push(name.into());
        self.index.insert(name.into(), number);
        number
    }

    /// The name numbered `number` (empty for [`NONE`]).
    pub(super) fn get(&self, number: u32) -> &str {
        self.list.get(number as usize).map_or("", |name| name)
    }

    /// Rebuilds the index after a snapshot is decoded.
    pub(super) fn reindex(&mut self) {
        let mut index = LookupMap::default();
        index.reserve(self.list.len());
        for (number, name) in self.list.iter().enumerate() {
            index.insert(name.clone(), number as u32);
        }
        self.index = index;
    }
}

impl Ledger {
    /// The record of a referral just opened for the person at `person` (or [`NONE`]).
    pub(super) fn keep_opened(&mut self, referral: &Referral, at: Pos, person: u32) -> ReferralRec {
        ReferralRec {
            opened: Opening {
                person,
                personal: referral.personal,
                prescriber_kind: referral.prescriber_kind,
                prescriber_name: referral.prescriber_name.as_str().into(),
                opened_by: referral.opened_by,
                needs: referral.needs.as_slice().into(),
                opened_on: referral.opened_on,
                expires_on: referral.expires_on,
            },
            steps: vec![(at, self.keep_moved(referral))],
        }
    }

    /// What a referral's state holds that a step may change.
    pub(super) fn keep_moved(&mut self, referral: &Referral) -> Moved {
        let names = &mut self.s.names;
        Moved {
            handler: referral.handler,
            target_venue: names.number(&referral.target_venue_id),
            target_territory: names.number(&referral.target_territory),
            status: referral.status,
            venue: names.number(&referral.venue_id),
            accepted_on: referral.accepted_on,
            autonomy: referral.autonomy,
        }
    }

    /// A referral's state after `moved`, whole.
    pub(super) fn referral_at(&self, id: &str, rec: &ReferralRec, moved: &Moved) -> Referral {
        let names = &self.s.names;
        let opened = &rec.opened;
        Referral {
            referral_id: id.to_owned(),
            person: self.person_id(opened.person),
            personal: opened.personal,
            prescriber_kind: opened.prescriber_kind,
            prescriber_name: opened.prescriber_name.to_string(),
            opened_by: opened.opened_by,
            handler: moved.handler,
            needs: opened.needs.to_vec(),
            target_venue_id: names.get(moved.target_venue).to_owned(),
            target_territory: names.get(moved.target_territory).to_owned(),
            opened_on: opened.opened_on,
            expires_on: opened.expires_on,
            status: moved.status,
            venue_id: names.get(moved.venue).to_owned(),
            accepted_on: moved.accepted_on,
            autonomy: moved.autonomy,
        }
    }

    /// A referral's state as of `past` (`None`: not opened there, or unknown).
    pub(super) fn referral_as_of(&self, id: &str, past: &Past<'_>) -> Option<Referral> {
        let rec = self.s.referrals.get(id)?;
        let moved = as_of(&rec.steps, past)?;
        Some(self.referral_at(id, rec, moved))
    }

    /// A referral's latest state.
    pub(super) fn referral_now(&self, id: &str, rec: &ReferralRec) -> Option<Referral> {
        let (_, moved) = rec.steps.last()?;
        Some(self.referral_at(id, rec, moved))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_once_and_read_back_after_a_snapshot() {
        let mut names = Names::default();
        assert_eq!(names.number(""), NONE);
        assert_eq!(names.get(NONE), "");
        let venue = names.number("13-V1");
        let territory = names.number("13");
        assert_eq!(names.number("13-V1"), venue);
        assert_ne!(venue, territory);
        let bytes = postcard::to_allocvec(&names).unwrap();
        let mut read: Names = postcard::from_bytes(&bytes).unwrap();
        read.reindex();
        assert_eq!((read.get(venue), read.get(territory)), ("13-V1", "13"));
        // The index is rebuilt: a known name keeps its number, a new one gets the next.
        assert_eq!(read.number("13"), territory);
        assert_eq!(read.number("2A"), 2);
    }
}
