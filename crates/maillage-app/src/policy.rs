//! The owner side of a voucher: what a hub signs when another hub asks it for a transfer, and
//! how it answers claims on its vouchers. One policy, used by the node's daemon and by the
//! simulator; the rules that judge what is signed are the core's.

use std::collections::BTreeSet;

use maillage_core::ledger::{Claim, VoucherStatus};
use maillage_core::{Charter, EventId, HubId, Ledger, Role, VerifiedEvent, pb};

use crate::error::{AppError, ErrorKind};

/// Why an owner does not transfer vouchers to a hub that asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferRefusal {
    /// This node owns no vouchers.
    Observer,
    /// The caller is not a hub.
    NotAHub,
    /// A serial this node does not know.
    Unknown(String),
    /// A voucher another hub owns.
    NotOwner {
        /// The serial.
        serial: String,
        /// Its owner (short key).
        owner: String,
    },
    /// A voucher not in a person's carnet.
    NotInCarnet {
        /// The serial.
        serial: String,
        /// Its status.
        status: String,
    },
    /// The request is malformed.
    Serials(usize),
    /// This node cannot answer for its vouchers now: its own feed is frozen after a fork (a
    /// restored copy that signed again; a recovery names its successor), or its key is not a
    /// member in its views yet (a successor key catching up). The caller signs a claim, which
    /// the hub answers once it can.
    NotReady(String),
}

impl std::fmt::Display for TransferRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use maillage_core::tr;
        let text = match self {
            Self::Observer => tr!(
                "ce nœud est un observateur : il ne possède aucun pass",
                "this node is an observer: it owns no vouchers"
            ),
            Self::NotAHub => tr!(
                "seuls les hubs reçoivent des pass",
                "only hubs receive vouchers"
            ),
            Self::Unknown(serial) => tr!(
                "pass {serial} : inconnu de son propriétaire supposé",
                "voucher {serial}: unknown to its supposed owner"
            ),
            Self::NotOwner { serial, owner } => tr!(
                "le pass {serial} appartient au hub {owner}, pas à ce hub",
                "voucher {serial} is owned by hub {owner}, not by this hub"
            ),
            Self::NotInCarnet { serial, status } => tr!(
                "le pass {serial} est {status}, pas dans le carnet d'une personne : il ne peut pas être encaissé",
                "voucher {serial} is {status}, not in a person's carnet: it cannot be redeemed"
            ),
            Self::Serials(n) => tr!(
                "transfert : entre 1 et 1000 numéros de pass, {n} donnés",
                "transfer: between 1 and 1000 serials, found {n}"
            ),
            Self::NotReady(why) => tr!(
                "ce hub ne peut pas répondre de ses pass pour l'instant : {why} ; enregistrez une réclamation, elle aura une réponse",
                "this hub cannot answer for its vouchers now: {why}; record a claim, it will be answered"
            ),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for TransferRefusal {}

impl TransferRefusal {
    /// The kind of error this refusal is, for the status a caller gets.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotAHub => ErrorKind::Forbidden,
            Self::Unknown(_) => ErrorKind::NotFound,
            Self::Serials(_) => ErrorKind::InvalidArgument,
            Self::NotReady(_) => ErrorKind::Unavailable,
            Self::Observer | Self::NotOwner { .. } | Self::NotInCarnet { .. } => {
                ErrorKind::Rejected
            }
        }
    }

    /// A short stable name (counters, metrics).
    pub fn class(&self) -> &'static str {
        match self {
            Self::Observer => "observer",
            Self::NotAHub => "not_a_hub",
            Self::Unknown(_) => "unknown_voucher",
            Self::NotOwner { .. } => "not_owner",
            Self::NotInCarnet { .. } => "not_in_carnet",
            Self::Serials(_) => "bad_request",
            Self::NotReady(_) => "not_ready",
        }
    }
}

impl From<TransferRefusal> for AppError {
    fn from(refusal: TransferRefusal) -> Self {
        Self::new(refusal.kind(), refusal.to_string())
    }
}

/// The transfer `me` signs for `caller`, who redeems `serials` at `venue_id`: only vouchers
/// `me` owns that sit in a person's carnet, to a hub.
pub fn transfer_for(
    charter: &Charter,
    ledger: &Ledger,
    me: &HubId,
    caller: &HubId,
    serials: &[String],
    venue_id: &str,
) -> Result<pb::event::Body, TransferRefusal> {
    match charter.member(me).map(|m| m.role) {
        None => {
            return Err(TransferRefusal::NotReady(
                maillage_core::lang::t(
                    "sa clé n'est pas encore membre dans ses vues",
                    "its key is not a member in its views yet",
                )
                .into(),
            ));
        }
        Some(Role::Hub) => {}
        Some(_) => return Err(TransferRefusal::Observer),
    }
    if let Some(valid) = ledger.frozen_at(me) {
        // Its views are those of one side of the fork: a refusal from them proves nothing.
        return Err(TransferRefusal::NotReady(maillage_core::tr!(
            "son propre flux est gelé après une bifurcation (valide jusqu'à la position {valid})",
            "its own feed is frozen after a fork (valid up to seq {valid})"
        )));
    }
    if charter.member(caller).map(|m| m.role) != Some(Role::Hub) {
        return Err(TransferRefusal::NotAHub);
    }
    if serials.is_empty() || serials.len() > 1000 {
        return Err(TransferRefusal::Serials(serials.len()));
    }
    // A key that succeeded the owner's (rotation, recovery) answers for its vouchers.
    let membership = ledger.membership();
    for serial in serials {
        let state = ledger
            .voucher(serial)
            .ok_or_else(|| TransferRefusal::Unknown(serial.clone()))?;
        if !membership.same_member(&state.owner, me) {
            return Err(TransferRefusal::NotOwner {
                serial: serial.clone(),
                owner: state.owner.short(),
            });
        }
        if state.status != VoucherStatus::HandedOut {
            return Err(TransferRefusal::NotInCarnet {
                serial: serial.clone(),
                status: format!("{:?}", state.status).to_lowercase(),
            });
        }
    }
    Ok(pb::event::Body::VoucherTransferred(
        pb::VoucherTransferred {
            serials: serials.to_vec(),
            to_hub: caller.0.to_vec(),
            reason: format!("online redemption at venue {venue_id}"),
        },
    ))
}

/// What an owner does when `caller` asks for `serials` to redeem them at `venue_id`: the
/// transfer of [`transfer_for`], judged and signed by `sign` (which refuses what the rules
/// reject, nothing signed). The refusal otherwise, as an error a caller can act on.
pub fn answer_transfer(
    charter: &Charter,
    ledger: &mut Ledger,
    me: &HubId,
    caller: &HubId,
    serials: &[String],
    venue_id: &str,
    sign: &mut dyn FnMut(&mut Ledger, pb::event::Body) -> Result<VerifiedEvent, AppError>,
) -> Result<VerifiedEvent, AppError> {
    let body = transfer_for(charter, ledger, me, caller, serials, venue_id)?;
    sign(ledger, body).map_err(|error| match error.kind {
        ErrorKind::Rejected | ErrorKind::Pending => error,
        _ => error.context(maillage_core::lang::t(
            "signature du transfert",
            "signing the transfer",
        )),
    })
}

/// Claims on vouchers `me` owns that nobody answered yet, by claim id. Vouchers issued under a
/// key `me` succeeded (rotation, recovery after a fork) are `me`'s.
pub fn open_claims(ledger: &Ledger, me: &HubId) -> Vec<Claim> {
    let membership = ledger.membership();
    ledger
        .unanswered_claims()
        .filter(|c| {
            ledger
                .voucher(&c.serial)
                .is_some_and(|v| membership.same_member(&v.owner, me))
        })
        .cloned()
        .collect()
}

/// The redemption a claim asks for.
pub fn claim_redemption(claim: &Claim) -> pb::event::Body {
    pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
        serial: claim.serial.clone(),
        venue_id: claim.venue_id.clone(),
        service: claim.service.to_string(),
        date: claim.date.to_string(),
        claim: Some(claim.at.into()),
    })
}

/// The rejection of a claim, for `reason`.
pub fn claim_rejection(claim: &Claim, reason: String) -> pb::event::Body {
    pb::event::Body::VoucherClaimRejected(pb::VoucherClaimRejected {
        claim: Some(claim.at.into()),
        reason,
    })
}

/// How an owner answered one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimAnswer {
    /// The claim.
    pub claim: EventId,
    /// The voucher.
    pub serial: String,
    /// `None`: accepted (redeemed as claimed); `Some(reason)`: rejected with the rules'
    /// reason.
    pub rejected: Option<String>,
}

/// Answers every open claim on `me`'s vouchers not in `answered`: signs the redemption it asks
/// for if the rules accept it, else a rejection carrying the rules' reason. `sign` judges and
/// signs one event against the views (an [`ErrorKind::Rejected`] error: the rules refused it,
/// nothing was signed). A claim is tried once per run of the node (`answered` remembers it).
pub fn answer_claims(
    ledger: &mut Ledger,
    me: &HubId,
    answered: &mut BTreeSet<EventId>,
    sign: &mut dyn FnMut(&mut Ledger, pb::event::Body) -> Result<VerifiedEvent, AppError>,
) -> Vec<Result<ClaimAnswer, AppError>> {
    let mut outcomes = Vec::new();
    for claim in open_claims(ledger, me) {
        if !answered.insert(claim.event) {
            continue;
        }
        let outcome = match sign(ledger, claim_redemption(&claim)) {
            Ok(_) => Ok(ClaimAnswer {
                claim: claim.event,
                serial: claim.serial.clone(),
                rejected: None,
            }),
            Err(refused) if refused.kind == ErrorKind::Rejected => {
                let reason = refused.message;
                sign(ledger, claim_rejection(&claim, reason.clone())).map(|_| ClaimAnswer {
                    claim: claim.event,
                    serial: claim.serial.clone(),
                    rejected: Some(reason),
                })
            }
            Err(error) => Err(error),
        };
        outcomes.push(outcome);
    }
    outcomes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use maillage_core::{MemberSpec, SecretKey};
    use std::sync::Arc;

    fn charter(keys: &[HubId]) -> Arc<Charter> {
        let members = keys
            .iter()
            .zip(["13", "69"])
            .map(|(k, t)| MemberSpec {
                key: *k,
                name: format!("hub {t}"),
                role: Role::Hub,
                territories: vec![t.into()],
            })
            .collect();
        Arc::new(Charter::found("T", 1, members).unwrap())
    }

    #[test]
    fn a_hub_whose_own_feed_is_frozen_or_not_yet_admitted_answers_unavailable() {
        let me = SecretKey::from_seed(&[1; 32]).hub_id();
        let caller = SecretKey::from_seed(&[2; 32]).hub_id();
        let charter = charter(&[me, caller]);
        let serials = vec!["13-2026-X-1".to_owned()];
        let mut ledger = Ledger::new(charter.clone());
        // Not frozen: the views speak (the voucher is unknown to them).
        let refused = transfer_for(&charter, &ledger, &me, &caller, &serials, "v1").unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::NotFound, "{refused}");
        // A restored copy whose feed a fork froze: its views prove nothing.
        ledger.freeze(me, 3);
        let refused = transfer_for(&charter, &ledger, &me, &caller, &serials, "v1").unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unavailable, "{refused}");
        assert!(refused.to_string().contains("gelé"), "{refused}");
        // A key its views do not hold yet (a successor catching up): not an observer.
        let successor = SecretKey::from_seed(&[3; 32]).hub_id();
        let refused =
            transfer_for(&charter, &ledger, &successor, &caller, &serials, "v1").unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unavailable, "{refused}");
    }
}
