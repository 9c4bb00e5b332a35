//! People: a random 128-bit [`PersonId`], printed on the carnet as a Crockford base-32 code
//! with a check character, so a typo copied from paper is caught rather than attached to
//! someone else's parcours. No name, address, phone, e-mail or birth date is ever an event
//! field.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
/// Base-32 digits of 128 bits.
const DIGITS: usize = 26;

/// A person, pseudonymous: 16 random bytes drawn by the first hub that meets them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(pub [u8; 16]);

/// A code that is not a person code.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersonCodeError {
    /// Wrong number of characters.
    #[error("{}", crate::tr!(
        "code de personne : {expected} caractères attendus (sans les tirets), {found} reçus",
        "person code: expected {expected} characters (without dashes), found {found}"
    ))]
    Length {
        /// Expected.
        expected: usize,
        /// Found.
        found: usize,
    },
    /// A character outside the alphabet.
    #[error("{}", crate::tr!(
        "code de personne : {found:?} n'est pas un caractère de code (0-9, A-Z sans I, L, O, U)",
        "person code: {found:?} is not a code character (0-9, A-Z without I, L, O, U)"
    ))]
    Character {
        /// The character.
        found: char,
    },
    /// The check character does not match: a typo.
    #[error("{}", crate::tr!(
        "code de personne : le caractère de contrôle est {found:?}, {expected:?} attendu : un caractère a été mal recopié",
        "person code: the check character is {found:?}, expected {expected:?}: a character was mistyped"
    ))]
    Check {
        /// Expected.
        expected: char,
        /// Found.
        found: char,
    },
    /// Raw bytes of the wrong length.
    #[error("{}", crate::tr!(
        "identifiant de personne : 16 octets attendus, {found} reçus",
        "person id: expected 16 bytes, found {found}"
    ))]
    Bytes {
        /// Found.
        found: usize,
    },
}

impl PersonId {
    /// A new random person id from the caller's generator.
    pub fn random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// From event bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, PersonCodeError> {
        let array: [u8; 16] = bytes
            .try_into()
            .map_err(|_| PersonCodeError::Bytes { found: bytes.len() })?;
        Ok(Self(array))
    }

    /// The code printed on the carnet: 26 base-32 digits and a check character, dashed by
    /// groups of five for reading aloud.
    pub fn code(&self) -> String {
        let value = u128::from_be_bytes(self.0);
        let mut digits = [0u8; DIGITS];
        for (i, digit) in digits.iter_mut().enumerate() {
            let shift = 5 * (DIGITS - 1 - i);
            *digit = ALPHABET[((value >> shift) & 31) as usize];
        }
        let check = CHECK_ALPHABET[(value % 37) as usize] as char;
        let mut out = String::with_capacity(DIGITS + 7);
        for (i, digit) in digits.iter().enumerate() {
            if i > 0 && i % 5 == 0 {
                out.push('-');
            }
            out.push(*digit as char);
        }
        out.push(check);
        out
    }
}

fn digit_value(c: char) -> Option<u32> {
    let upper = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&b| b as char == upper)
        .map(|p| p as u32)
}

impl FromStr for PersonId {
    type Err = PersonCodeError;

    /// Parses a code, ignoring dashes and spaces, case-insensitive, reading O as 0 and I, L as 1.
    fn from_str(text: &str) -> Result<Self, PersonCodeError> {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        if chars.len() != DIGITS + 1 {
            return Err(PersonCodeError::Length {
                expected: DIGITS + 1,
                found: chars.len(),
            });
        }
        let mut value: u128 = 0;
        for &c in &chars[..DIGITS] {
            let digit = digit_value(c).ok_or(PersonCodeError::Character { found: c })?;
            value = (value << 5) | u128::from(digit);
        }
        // 26 digits carry 130 bits: the two top bits must be zero.
        let first = digit_value(chars[0]).unwrap_or(0);
        if first > 7 {
            return Err(PersonCodeError::Character { found: chars[0] });
        }
        let expected = CHECK_ALPHABET[(value % 37) as usize] as char;
        let found = chars[DIGITS].to_ascii_uppercase();
        if found != expected {
            return Err(PersonCodeError::Check { expected, found });
        }
        Ok(Self(value.to_be_bytes()))
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonId({})", &self.code()[..11])
    }
}

/// The carnet code in human-readable formats (JSON), 16 raw bytes in binary ones.
impl serde::Serialize for PersonId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.code())
        } else {
            serde::Serialize::serialize(&self.0, s)
        }
    }
}

impl<'de> serde::Deserialize<'de> for PersonId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Self(<[u8; 16]>::deserialize(d)?))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn codes_round_trip(bytes in any::<[u8; 16]>()) {
            let id = PersonId(bytes);
            let code = id.code();
            prop_assert_eq!(code.parse::<PersonId>().unwrap(), id);
            prop_assert_eq!(code.to_lowercase().parse::<PersonId>().unwrap(), id);
        }

        #[test]
        fn a_single_mistyped_character_is_caught(bytes in any::<[u8; 16]>(), position in 0usize..26, delta in 1u32..32) {
            let id = PersonId(bytes);
            let mut chars: Vec<char> = id.code().chars().filter(|c| *c != '-').collect();
            let value = digit_value(chars[position]).unwrap();
            chars[position] = ALPHABET[((value + delta) % 32) as usize] as char;
            let typo: String = chars.into_iter().collect();
            prop_assert!(typo.parse::<PersonId>().map(|p| p != id).unwrap_or(true));
            prop_assert!(typo.parse::<PersonId>().is_err(), "typo {} accepted", typo);
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let code = PersonId([7; 16]).code();
        assert_eq!(code.len(), 26 + 5 + 1);
        let err = "ABC".parse::<PersonId>().unwrap_err();
        assert!(err.to_string().contains("27 caractères attendus"), "{err}");
    }
}
