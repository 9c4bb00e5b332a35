//! Identifier newtypes: 32-byte values shown as lowercase hex.
//!
//! Every identifier that crosses the wire is parsed with `TryFrom<&[u8]>`, which says how many
//! bytes it expected and how many it found.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A byte string of the wrong length, or hex text that is not a 32-byte identifier.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// Raw bytes of the wrong length.
    #[error("{}", crate::tr!(
        "{what} : {expected} octets attendus, {found} reçus",
        "{what}: expected {expected} bytes, found {found}"
    ))]
    Length {
        /// Which identifier was being parsed.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// Text that is not 64 lowercase or uppercase hex digits.
    #[error("{}", crate::tr!(
        "{what} : 64 chiffres hexadécimaux attendus, reçu {found:?}",
        "{what}: expected 64 hex digits, found {found:?}"
    ))]
    Hex {
        /// Which identifier was being parsed.
        what: &'static str,
        /// The text received (truncated for display).
        found: String,
    },
}

macro_rules! id32 {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lowercase hex, 64 digits.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// The first 8 hex digits, for logs and tables.
            pub fn short(&self) -> String {
                hex::encode(&self.0[..4])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, "({})"), self.short())
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = IdError;
            fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
                let array: [u8; 32] = bytes.try_into().map_err(|_| IdError::Length {
                    what: $what,
                    expected: 32,
                    found: bytes.len(),
                })?;
                Ok(Self(array))
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                let mut out = [0u8; 32];
                hex::decode_to_slice(text.trim(), &mut out).map_err(|_| IdError::Hex {
                    what: $what,
                    found: text.chars().take(80).collect(),
                })?;
                Ok(Self(out))
            }
        }

        /// Hex in human-readable formats (JSON), 32 raw bytes in binary ones.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&self.to_hex())
                } else {
                    serde::Serialize::serialize(&self.0, s)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    text.parse().map_err(serde::de::Error::custom)
                } else {
                    Ok(Self(<[u8; 32]>::deserialize(d)?))
                }
            }
        }
    };
}

id32!(
    /// A hub's (or observer's) identity: its Ed25519 public key.
    HubId,
    "HubId"
);
id32!(
    /// `SHA-256("maillage/v1/event\0" || payload)`: the signature is not part of it.
    EventId,
    "EventId"
);
id32!(
    /// `SHA-256("maillage/v1/charter\0" || charter_bytes)`: binds every event to one federation.
    FederationId,
    "FederationId"
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors_say_what_was_found() {
        let id = EventId([0xab; 32]);
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<EventId>().unwrap(), id);
        let err = "abc".parse::<EventId>().unwrap_err();
        assert!(
            err.to_string()
                .contains("64 chiffres hexadécimaux attendus"),
            "{err}"
        );
        let err = HubId::try_from(&[0u8; 31][..]).unwrap_err();
        assert_eq!(err.to_string(), "HubId : 32 octets attendus, 31 reçus");
        assert_eq!(
            crate::lang::with(crate::lang::Lang::En, || err.to_string()),
            "HubId: expected 32 bytes, found 31"
        );
        assert_eq!(format!("{id:?}"), "EventId(abababab)");
    }
}
