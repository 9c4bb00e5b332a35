//! The views' snapshot in sections that decode side by side. Decoding gigabytes of views on
//! one core was most of a reopen at ten million events; each section holds about half of
//! them, is encoded and decoded on its own (its lookup maps rebuilt as it is decoded), and
//! the sections are joined only to link each person to their vouchers and referrals.
//!
//! [`sections!`] lists every field of [`State`] once: in the section that stores it, among
//! the maps a section rebuilds, or among what is rebuilt (or set by the node) after the join.
//! `State::encode_section` names them all without `..`, so a field added to the views and to
//! no list does not compile.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::amendments::{Amendments, Cut};
use super::digest::Chains;
use super::model::{Claim, DomainRejection};
use super::referral_rec::{Names, ReferralRec};
use super::state::{BatchInfo, History, PersonRec, Pos, State, VenueSnapshot};
use super::state::{VoucherKey, VoucherRec};
use crate::causal::{CausalIndex, Map};
use crate::chunked::Chunked;
use crate::ids::{EventId, HubId};
use crate::venues::VenueDirectory;

macro_rules! sections {
    (
        $(
            section $section:ident / $view:ident, $index:literal, $reindex:ident {
                stored { $($field:ident: $ty:ty,)* }
                rebuilt { $($rebuilt:ident,)* }
            }
        )*
        joined { $($joined:ident,)* }
    ) => {
        $(
            /// A section of the snapshot as decoded.
            #[derive(Deserialize)]
            struct $section {
                $($field: $ty,)*
            }

            /// A section of the snapshot to encode.
            #[derive(Serialize)]
            struct $view<'a> {
                $($field: &'a $ty,)*
            }
        )*

        /// The sections, in the order they are written.
        pub const SECTIONS: usize = [$($index),*].len();

        impl State {
            /// Section `index` of the snapshot, encoded into `out` (postcard).
            pub(super) fn encode_section(
                &self,
                index: usize,
                out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
            ) -> std::io::Result<()> {
                #[allow(unused_variables)]
                let State {
                    $($($field,)* $($rebuilt: _,)*)*
                    $($joined: _,)*
                } = self;
                match index {
                    $($index => super::sink::encode(&$view { $($field,)* }, out),)*
                    _ => Err(std::io::Error::other(format!("no views section {index}"))),
                }
            }

            /// Section `index` of a snapshot decoded from `input`, in a state holding it alone,
            /// its lookup maps rebuilt; and the bytes read past it.
            pub(super) fn decode_section(
                index: usize,
                input: &mut dyn std::io::Read,
            ) -> Result<(State, Vec<u8>), String> {
                match index {
                    $($index => {
                        let ($section { $($field,)* }, rest) = super::source::decode(input)?;
                        let mut s = State { $($field,)* ..State::default() };
                        s.$reindex();
                        Ok((s, rest))
                    })*
                    _ => Err(format!("no views section {index}")),
                }
            }

            /// The state made of its sections (from [`State::decode_section`], each once, in
            /// order: `Ledger::from_sections` checks it), each person linked to their vouchers
            /// and referrals.
            pub(super) fn join(sections: Vec<State>) -> Result<State, String> {
                let mut s = State::default();
                let mut sections = sections.into_iter();
                $(
                    let section = sections.next().ok_or("a views section is missing")?;
                    $(s.$field = section.$field;)*
                    $(s.$rebuilt = section.$rebuilt;)*
                )*
                s.relink();
                Ok(s)
            }
        }
    };
}

sections! {
    section Vouchers / VouchersView, 0, reindex_vouchers {
        stored {
            causal: CausalIndex,
            venues: VenueDirectory,
            venue_history: Map<String, History<VenueSnapshot>>,
            batches: Vec<BatchInfo>,
            voucher_log: Chunked<VoucherRec>,
            claims: BTreeMap<EventId, Claim>,
            latest_day: BTreeMap<HubId, i64>,
            log_day: i64,
            rejections: BTreeMap<EventId, DomainRejection>,
            settlements: BTreeMap<(HubId, String), u64>,
            settled: Map<VoucherKey, Pos>,
            chains: Chains,
            amendments: Amendments,
            added_keys: Vec<HubId>,
            cuts: BTreeMap<HubId, Cut>,
            needs_refold: bool,
        }
        rebuilt {
            batch_index,
            vouchers,
            claims_by_serial,
            unanswered_claims,
        }
    }
    section People / PeopleView, 1, reindex_people {
        stored {
            referrals: Map<String, ReferralRec>,
            names: Names,
            people: Chunked<PersonRec>,
            forgotten: BTreeSet<[u8; 32]>,
            dropped: BTreeSet<EventId>,
            to_erase: Vec<EventId>,
            to_expire: Vec<EventId>,
        }
        rebuilt {
            persons,
            part_of,
            expiry,
        }
    }
    joined { links, forks, enacted, }
}
