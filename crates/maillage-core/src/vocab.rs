//! The closed vocabularies the rules accept (protocol §4): services, prescriber kinds, referral
//! outcomes, autonomy levels, accompaniment modes. On the wire they are strings (the labels
//! below, exactly); in the views they are these enums, so no rule compares free text.
//!
//! Each enum's numeric tag ([`Service::tag`] …) is part of the digest's canonical encoding
//! (docs/protocol.md §5): variants are only ever appended, never renumbered.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $tag:literal => $label:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in tag order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every label, in tag order.
            pub const LABELS: &'static [&'static str] = &[$($label),+];

            /// The label on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }

            /// The value a wire label names, exactly (no case folding, no trimming).
            pub fn parse(label: &str) -> Option<Self> {
                match label {
                    $($label => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The tag in the digest's canonical encoding.
            pub fn tag(self) -> u8 {
                match self {
                    $(Self::$variant => $tag),+
                }
            }

            /// Every label, joined for a message.
            pub fn labels() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(" | ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Its label in human-readable formats (JSON), its tag in binary ones (snapshots).
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(self.as_str())
                } else {
                    s.serialize_u8(self.tag())
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                if d.is_human_readable() {
                    let label = String::deserialize(d)?;
                    Self::parse(&label).ok_or_else(|| {
                        D::Error::custom(format!("expected one of {}", Self::labels()))
                    })
                } else {
                    let tag = u8::deserialize(d)?;
                    Self::ALL
                        .iter()
                        .copied()
                        .find(|v| v.tag() == tag)
                        .ok_or_else(|| D::Error::custom(format!("unknown tag {tag}")))
                }
            }
        }
    };
}

/// The labels of `items`, in order.
pub fn labels_of<T: std::fmt::Display>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

vocabulary! {
    /// A service of the national venue standard v1 that a voucher or qualification may name.
    Service {
        /// Help with online administrative procedures.
        Demarches = 1 => "Aide aux démarches administratives",
        /// Everyday digital tools.
        Outils = 2 => "Maîtrise des outils numériques du quotidien",
        /// Getting a job through digital means.
        Insertion = 3 => "Insertion professionnelle via le numérique",
        /// Safe use of digital services.
        Securite = 4 => "Utilisation sécurisée du numérique",
        /// Parenting and education.
        Parentalite = 5 => "Parentalité et éducation avec le numérique",
        /// Leisure and creation.
        Loisirs = 6 => "Loisirs et créations numériques",
        /// Understanding the digital world.
        Comprehension = 7 => "Compréhension du monde numérique",
        /// Internet access and equipment.
        Acces = 8 => "Accès internet et matériel informatique",
        /// Buying equipment at a solidarity price.
        Materiel = 9 => "Acquisition de matériel informatique à prix solidaire",
    }
}

vocabulary! {
    /// Who referred a person or handed out vouchers.
    PrescriberKind {
        /// Caisse d'allocations familiales.
        Caf = 1 => "CAF",
        /// France Travail.
        Ft = 2 => "FT",
        /// Centre communal d'action sociale.
        Ccas = 3 => "CCAS",
        /// A municipality.
        Muni = 4 => "MUNI",
        /// A département.
        Dept = 5 => "DEPT",
        /// Mission locale.
        Ml = 6 => "ML",
        /// La Poste.
        LaPoste = 7 => "LA_POSTE",
        /// Réseau France Services.
        Rfs = 8 => "RFS",
        /// An association.
        Asso = 9 => "ASSO",
        /// Service pénitentiaire d'insertion et de probation.
        Spip = 10 => "SPIP",
        /// Another desk.
        Autre = 11 => "AUTRE",
    }
}

vocabulary! {
    /// How a referral ended.
    Outcome {
        /// The person was helped.
        Completed = 1 => "completed",
        /// The person did not come.
        NoShow = 2 => "no_show",
        /// The person gave up.
        Abandoned = 3 => "abandoned",
    }
}

vocabulary! {
    /// The person's autonomy when a referral closed.
    Autonomy {
        /// Autonomous.
        Autonomous = 1 => "autonomous",
        /// Partially autonomous.
        Partially = 2 => "partially",
        /// Not autonomous.
        NotAutonomous = 3 => "not_autonomous",
    }
}

vocabulary! {
    /// How an accompaniment took place.
    Mode {
        /// One person.
        Individual = 1 => "individual",
        /// A group.
        Collective = 2 => "collective",
        /// At a distance.
        Remote = 3 => "remote",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_nothing_else_parses() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Service::parse("aide aux démarches administratives"), None);
        assert_eq!(Service::parse(" Aide aux démarches administratives"), None);
        assert_eq!(PrescriberKind::parse("caf"), None);
        assert_eq!(Outcome::parse("completed"), Some(Outcome::Completed));
        let tags: Vec<u8> = Service::ALL.iter().map(|s| s.tag()).collect();
        assert_eq!(tags, (1..=9).collect::<Vec<u8>>());
    }
}
