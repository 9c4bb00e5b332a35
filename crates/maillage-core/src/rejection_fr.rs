//! The French sentence of each rejection ([`Rejection`]'s `Display` when the language is
//! French; the English sentence is beside the rule in `rejection.rs`). Like the English one, it
//! is rendered from the facts when someone reads it: no digest, no verdict depends on it.
//! Field names (`valid_until`, `to_hub`…) are the event's own and stay as they are.

use std::fmt;

use crate::excerpt::Excerpt;
use crate::rejection::Rejection;

/// A voucher status code in French.
fn voucher_state(code: &str) -> &str {
    match code {
        "issued" => "émis",
        "handed_out" => "remis",
        "redeemed" => "utilisé",
        "cancelled" => "annulé",
        "expired" => "expiré",
        other => other,
    }
}

/// A referral status code in French.
fn referral_state(code: &str) -> &str {
    match code {
        "open" => "ouverte",
        "accepted" => "acceptée",
        "declined" => "refusée",
        "completed" => "terminée",
        "no_show" => "close (absence)",
        "abandoned" => "abandonnée",
        "expired" => "expirée",
        other => other,
    }
}

/// What a field expected (as the rule wrote it, in English) in French.
fn expected_fr(expected: &str) -> String {
    match expected {
        "a role: hub or observer" => "un rôle : hub ou observer".into(),
        "more than 0 cents" => "plus de 0 centime".into(),
        "a SIRET of 14 digits" => "un SIRET de 14 chiffres".into(),
        "département codes" => "des codes de département".into(),
        other => match other.strip_prefix("1..=") {
            Some(rest) => match rest.split_once(' ') {
                Some((n, "serials")) => format!("de 1 à {n} numéros"),
                Some((n, unit)) => format!("de 1 à {n} {unit}"),
                None => format!("de 1 à {rest}"),
            },
            None => other.into(),
        },
    }
}

impl Rejection {
    /// The sentence in French.
    pub(crate) fn write_fr(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = |s: &str| Excerpt::of(s).to_string();
        const PAST: &str = "dans le passé causal de l'événement";
        match self {
            Self::Missing { field } => write!(f, "{} : manquant", field.as_str()),
            Self::BadDate { field, found } => write!(
                f,
                "{} : date attendue au format AAAA-MM-JJ, reçu {}",
                field.as_str(),
                x(found)
            ),
            Self::NoReason { field } => {
                write!(
                    f,
                    "{} : un motif est requis, aucun n'est donné",
                    field.as_str()
                )
            }
            Self::BadService { field, found } => write!(
                f,
                "{} : service v1 attendu, reçu {}",
                field.as_str(),
                x(found)
            ),
            Self::BadPrescriberKind { found } => write!(
                f,
                "type de prescripteur : attendu l'un de {}, reçu {}",
                crate::vocab::PrescriberKind::labels(),
                x(found)
            ),
            Self::BadPrescriberName => {
                f.write_str("nom du prescripteur : le nom du guichet est attendu (1 à 200 octets)")
            }
            Self::BadPerson { error } => write!(f, "personne : {error}"),
            Self::BadEventRef { field, error } => write!(f, "{} : {error}", field.as_str()),
            Self::BadHub { field, error } => write!(f, "{} : {error}", field.as_str()),
            Self::OutOfRange {
                field,
                expected,
                found,
            } => write!(
                f,
                "{} : attendu {}, reçu {found}",
                field.as_str(),
                expected_fr(expected)
            ),
            Self::BadValue {
                field,
                expected,
                found,
            } => write!(
                f,
                "{} : attendu {}, reçu {}",
                field.as_str(),
                expected_fr(expected),
                x(found)
            ),
            Self::RepeatedSerial { serial } => {
                write!(f, "serials : {} est donné deux fois", x(serial))
            }
            Self::VenueIdMismatch { expected, found } => write!(
                f,
                "identifiant de lieu : attendu {expected} (dérivé de l'auteur et de l'identifiant de l'enregistrement), reçu {}",
                x(found)
            ),
            Self::VenueAlreadyRegistered { venue } => {
                write!(f, "le lieu {venue} est déjà enregistré")
            }
            Self::VenueTerritory { departement } => write!(
                f,
                "territoire : le département {departement} n'est pas tenu par l'auteur"
            ),
            Self::VenueUnknown { venue } => {
                write!(f, "le lieu {} est inconnu {PAST}", x(venue))
            }
            Self::VenueClosed { venue } => write!(f, "le lieu {venue} est fermé"),
            Self::VenueOpen { venue } => write!(
                f,
                "le lieu {venue} est ouvert : seul un lieu fermé peut rouvrir"
            ),
            Self::VenueNotHeld { venue, departement } => write!(
                f,
                "le lieu {venue} est dans le département {departement}, que l'auteur ne tient pas"
            ),
            Self::VenueNoPivot { venue, pivot } => write!(
                f,
                "le lieu {venue} n'a pas de vrai SIRET, RNA ou RIDET (pivot {}) : le bénéficiaire d'argent public doit être traçable",
                x(pivot)
            ),
            Self::VenueNotQualified { venue } => write!(
                f,
                "le lieu {venue} n'est pas qualifié {PAST} (mettez son VenueQualified dans deps)"
            ),
            Self::QualificationExpired { venue, until, date } => write!(
                f,
                "lieu {venue} : qualification expirée le {until}, usage daté du {date}"
            ),
            Self::ServiceNotQualified { venue, service } => {
                write!(f, "le lieu {venue} n'est pas qualifié pour {}", x(service))
            }
            Self::SchemeEmpty => f.write_str("le dispositif de qualification est vide"),
            Self::NoQualification { venue } => write!(f, "le lieu {venue} n'est pas qualifié"),
            Self::NoHolder { departement } => {
                write!(f, "aucun hub ne tient le département {}", x(departement))
            }
            Self::BatchIdInvalid { found, example } => write!(
                f,
                "identifiant de lot {} : attendu un des départements de l'auteur, un tiret, puis des lettres, des chiffres ou des tirets (par ex. \"{example}-2026-CAF-01\")",
                x(found)
            ),
            Self::BatchAlreadyIssued { batch } => write!(f, "le lot {batch} est déjà émis"),
            Self::BatchDatesOrder => {
                f.write_str("dates : attendu valid_from <= valid_until <= redeem_deadline")
            }
            Self::SerialInvalid { serial, count } => match count {
                Some(count) => write!(
                    f,
                    "numéro {} : attendu un nombre de 1 à {count}, sans zéro en tête",
                    x(serial)
                ),
                None => write!(f, "numéro {} : attendu \"{{lot}}-{{n}}\"", x(serial)),
            },
            Self::BatchUnknown { serial } => {
                write!(f, "numéro {} : son lot n'est pas {PAST}", x(serial))
            }
            Self::NotOwner { serial, owner } => write!(
                f,
                "le pass {serial} appartient à {} {PAST}, pas à l'auteur",
                owner.short()
            ),
            Self::NotIssued { serial, status } => write!(
                f,
                "le pass {serial} est {}, il ne peut pas être remis",
                voucher_state(status)
            ),
            Self::VoucherExpired { serial, until } => {
                write!(f, "le pass {serial} a expiré le {until}")
            }
            Self::AlreadyRedeemed { serial, by } => match by {
                #[cfg(test)]
                Some(by) if crate::switches::TYPO.get() => write!(
                    f,
                    "le pass {serial} est déja utilisé (événement {})",
                    by.short()
                ),
                Some(by) => write!(
                    f,
                    "le pass {serial} est déjà utilisé (événement {})",
                    by.short()
                ),
                None => write!(f, "le pass {serial} est déjà utilisé"),
            },
            Self::NotHandedOut { serial, status } => write!(
                f,
                "le pass {serial} est {} : seul un pass remis peut être utilisé",
                voucher_state(status)
            ),
            Self::VoucherTerritory {
                serial,
                allowed,
                departement,
            } => write!(
                f,
                "pass {serial} : son lot s'utilise dans {allowed}, le lieu est dans {departement}"
            ),
            Self::ServiceNotEligible { serial, service } => write!(
                f,
                "pass {serial} : {} n'est pas un service éligible de son lot",
                x(service)
            ),
            Self::NotYetValid { serial, from } => {
                write!(f, "le pass {serial} n'est valable qu'à partir du {from}")
            }
            Self::DeadlinePassed {
                serial,
                deadline,
                date,
            } => write!(
                f,
                "pass {serial} : la date limite d'encaissement était le {deadline}, l'encaissement est daté du {date}"
            ),
            Self::TransferTarget { to } => write!(
                f,
                "to_hub {} n'est pas un autre hub de la fédération",
                to.short()
            ),
            Self::NotTransferable { serial, status } => write!(
                f,
                "le pass {serial} est {} : rien à transférer",
                voucher_state(status)
            ),
            Self::NotCancellable { serial, status } => write!(
                f,
                "le pass {serial} est {} : il ne peut pas être annulé",
                voucher_state(status)
            ),
            Self::OwnerClaims { serial } => write!(
                f,
                "le pass {serial} appartient à l'auteur : le propriétaire encaisse, il ne réclame pas"
            ),
            Self::NotIssuer { serial, issuer } => write!(
                f,
                "le pass {serial} a été émis par {} : seul l'émetteur le règle",
                issuer.short()
            ),
            Self::OtherVenue {
                serial,
                redeemed_at,
                venue,
            } => write!(
                f,
                "le pass {serial} a été utilisé à {redeemed_at}, pas à {}",
                x(venue)
            ),
            Self::NotRedeemed { serial } => {
                write!(f, "le pass {serial} n'est pas utilisé {PAST}")
            }
            Self::AlreadySettled { serial } => write!(f, "le pass {serial} est déjà réglé"),
            Self::AmountMismatch { expected, found } => write!(
                f,
                "montant : attendu {expected} centimes (les valeurs faciales), reçu {found}"
            ),
            Self::ClaimNotInPast { claim } => write!(
                f,
                "la réclamation {} n'est pas {PAST} (mettez-la dans deps)",
                claim.short()
            ),
            Self::ClaimUnknown { claim } => write!(
                f,
                "l'événement {} n'est pas une réclamation valide",
                claim.short()
            ),
            Self::ClaimOtherVoucher {
                claim,
                claimed,
                serial,
            } => write!(
                f,
                "la réclamation {} porte sur le pass {claimed}, pas sur {}",
                claim.short(),
                x(serial)
            ),
            Self::ClaimAnswered { claim } => {
                write!(f, "la réclamation {} a déjà une réponse", claim.short())
            }
            Self::ClaimTermsDiffer { claim } => write!(
                f,
                "réclamation {} : l'encaissement accepté doit reprendre le lieu, le service et la date de la réclamation",
                claim.short()
            ),
            Self::ReferralIdInvalid { found } => write!(
                f,
                "identifiant d'orientation {} : attendu un des départements de l'auteur, un tiret, puis un identifiant",
                x(found)
            ),
            Self::ReferralExists { referral } => {
                write!(f, "l'orientation {referral} existe déjà")
            }
            Self::ExpiryBeforeOpening { opened, expires } => write!(
                f,
                "expires_on : attendu un jour égal ou postérieur à opened_on {opened}, reçu {expires}"
            ),
            Self::ReferralUnknown { referral } => {
                write!(f, "l'orientation {} n'est pas {PAST}", x(referral))
            }
            Self::NotHandler { referral, handler } => write!(
                f,
                "l'orientation {referral} est traitée par le hub {} {PAST}, pas par l'auteur",
                handler.short()
            ),
            Self::ReferralNotOpen { referral, status } => write!(
                f,
                "l'orientation {referral} est {}, pas ouverte",
                referral_state(status)
            ),
            Self::ReferralExpired { referral, on } => {
                write!(f, "l'orientation {referral} a expiré le {on}")
            }
            Self::NotClosable { referral, status } => write!(
                f,
                "l'orientation {referral} est {} : elle ne peut pas être close",
                referral_state(status)
            ),
            Self::NotCurrentMember { key } => write!(
                f,
                "la clé {} n'est pas celle d'un membre présent {PAST} (pas encore admis, retiré ou remplacé)",
                key.short()
            ),
            Self::AmendmentNotHub { key } => write!(
                f,
                "la clé {} n'est pas la clé actuelle d'un hub présent {PAST}",
                key.short()
            ),
            Self::AmendmentNumber { expected, found } => write!(
                f,
                "numéro d'amendement : attendu {expected} (1 + les amendements en vigueur {PAST}), reçu {found}"
            ),
            Self::AmendmentUnknownMember { key } => write!(
                f,
                "la clé {} n'est pas la clé actuelle d'un membre présent",
                key.short()
            ),
            Self::AmendmentKeyKnown { key } => {
                write!(f, "la clé {} est déjà connue de la fédération", key.short())
            }
            Self::AmendmentBadKey { key } => write!(
                f,
                "la clé {} n'est pas une clé publique Ed25519 valide",
                key.short()
            ),
            Self::AmendmentBadName => {
                f.write_str("nom : le nom du membre est attendu (1 à 200 octets)")
            }
            Self::AmendmentObserverTerritories => {
                f.write_str("territoires : un observateur n'en tient aucun")
            }
            Self::AmendmentTerritoryHeld { departement } => write!(
                f,
                "le département {} est tenu par un autre hub",
                x(departement)
            ),
            Self::AmendmentTerritoryNotHeld { departement } => write!(
                f,
                "le département {} n'est pas tenu par le hub d'où il serait déplacé",
                x(departement)
            ),
            Self::AmendmentNoTerritory => f.write_str("territoires : aucun à déplacer"),
            Self::AmendmentThreshold { threshold, hubs } => write!(
                f,
                "seuil : attendu de 1 à {hubs} (les hubs présents), reçu {threshold}"
            ),
            Self::AmendmentUnknown { proposal } => write!(
                f,
                "l'événement {} n'est pas une proposition d'amendement {PAST}",
                proposal.short()
            ),
            Self::AmendmentSuperseded { proposal, number } => write!(
                f,
                "la proposition {} porte sur l'amendement {number}, déjà en vigueur {PAST}",
                proposal.short()
            ),
            Self::AmendmentEndorsed { number, round } => write!(
                f,
                "l'auteur a déjà proposé ou approuvé une proposition pour l'amendement {number} dans ce tour de vote (tour {round} ; le suivant commence quand plus aucune proposition ne peut y atteindre le seuil)"
            ),
            Self::AmendmentPastStop { last_seq } => write!(
                f,
                "le changement arrête la clé de l'auteur après sa position {last_seq} : elle le propose ou l'approuve à cette position ou avant, pas après"
            ),
            Self::AmendmentProtocolVersion { expected, found } => write!(
                f,
                "un changement de protocole passe à la v{expected} (la version en vigueur + 1), pas à la v{found}"
            ),
            Self::AmendmentProtocolSwitch { hubs, problem } => write!(
                f,
                "un changement de protocole nomme une fois la clé actuelle de chacun des {hubs} hubs présents, chacune dès une position d'au moins 1 : {}",
                match problem.as_str() {
                    "named_twice" => "une clé est nommée deux fois",
                    "not_present" => "une clé n'est pas la clé actuelle d'un hub présent",
                    "missing" => "un hub présent n'est pas nommé",
                    "zero_seq" => "une position 0",
                    other => other,
                }
            ),
            Self::EventVersion { expected, found } => write!(
                f,
                "version du protocole : les amendements en vigueur dans le passé causal de l'événement attendent la v{expected} de son auteur à cette position, trouvé v{found}"
            ),
        }
    }
}
