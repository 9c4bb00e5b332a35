//! Checks of single fields of an event body, shared by the rules: each turns a wire value into
//! a typed one or names the field it rejects. No default is ever substituted for a bad value.

use std::collections::BTreeSet;

use maillage_proto::v1 as pb;

use super::SERIALS_PER_EVENT_MAX;
use crate::date::Day;
use crate::envelope::EventRef;
use crate::ids::{EventId, HubId};
use crate::rejection::{Field, Rejection};
use crate::vocab::{PrescriberKind, Service};

/// A day, strictly `YYYY-MM-DD`.
pub(super) fn day(field: Field, text: &str) -> Result<Day, Rejection> {
    Day::parse(text).ok_or_else(|| Rejection::BadDate {
        field,
        found: text.to_owned(),
    })
}

/// A reason a rule requires: the people reading the log later must know why.
pub(super) fn reason(field: Field, text: &str) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        return Err(Rejection::NoReason { field });
    }
    Ok(())
}

/// One service of the standard v1.
pub(super) fn service(field: Field, text: &str) -> Result<Service, Rejection> {
    Service::parse(text).ok_or_else(|| Rejection::BadService {
        field,
        found: text.to_owned(),
    })
}

/// Services of the standard v1, sorted, without repeats.
pub(super) fn services(field: Field, texts: &[String]) -> Result<Vec<Service>, Rejection> {
    let mut out = texts
        .iter()
        .map(|t| service(field, t))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Who referred or handed out: a known kind and the desk's name (1 to 200 bytes).
pub(super) fn prescriber(
    p: Option<&pb::Prescriber>,
) -> Result<(PrescriberKind, String), Rejection> {
    let p = p.ok_or(Rejection::Missing {
        field: Field::Prescriber,
    })?;
    let kind = PrescriberKind::parse(&p.kind).ok_or_else(|| Rejection::BadPrescriberKind {
        found: p.kind.clone(),
    })?;
    if p.name.trim().is_empty() || p.name.len() > 200 {
        return Err(Rejection::BadPrescriberName);
    }
    Ok((kind, p.name.clone()))
}

/// A commitment to a personal part (§2b): 32 bytes. The part itself is never read by a rule.
pub(super) fn commitment(bytes: &[u8]) -> Result<[u8; 32], Rejection> {
    <[u8; 32]>::try_from(bytes).map_err(|_| Rejection::BadPerson {
        error: format!(
            "the commitment to the personal part is 32 bytes, found {}",
            bytes.len()
        ),
    })
}

/// An event reference.
pub(super) fn event_ref(field: Field, wire: Option<&pb::EventRef>) -> Result<EventRef, Rejection> {
    let wire = wire.ok_or(Rejection::Missing { field })?;
    let bad = |error: String| Rejection::BadEventRef { field, error };
    Ok(EventRef {
        author: HubId::try_from(wire.author.as_slice()).map_err(|e| bad(e.to_string()))?,
        seq: wire.seq,
        id: EventId::try_from(wire.id.as_slice()).map_err(|e| bad(e.to_string()))?,
    })
}

/// A list of serials: 1 to [`SERIALS_PER_EVENT_MAX`], none twice.
pub(super) fn serials(serials: &[String]) -> Result<(), Rejection> {
    if serials.is_empty() || serials.len() > SERIALS_PER_EVENT_MAX {
        return Err(Rejection::OutOfRange {
            field: Field::Serials,
            expected: format!("1..={SERIALS_PER_EVENT_MAX} serials"),
            found: serials.len() as u64,
        });
    }
    let mut seen = BTreeSet::new();
    for serial in serials {
        if !seen.insert(serial) {
            return Err(Rejection::RepeatedSerial {
                serial: serial.clone(),
            });
        }
    }
    Ok(())
}
