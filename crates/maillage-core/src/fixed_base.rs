//! Variable-time multiplication of a fixed public point by public scalars, with no doublings.
//!
//! Signature verification multiplies the basepoint and each signer's key by scalars that are
//! public (parts of the signature and of its hash), so it needs no constant-time table
//! lookups. A table holds `d · 2^(6i) · P` for every position `i` of a scalar's radix-64
//! digits and every magnitude `d` in `1..=32`; a scalar is rewritten with signed digits in
//! `[-32, 32)`, and its product is one table entry added or subtracted per non-zero digit: at
//! most 43 additions, against 64 additions and constant-time selections for
//! curve25519-dalek's radix-16 tables (which it ships for secret scalars). Every addition is
//! curve25519-dalek's complete addition law on `EdwardsPoint`s, so the result is exactly
//! `[k]P`; the tests compare it with curve25519-dalek's own multiplication.
//!
//! A table is 43 × 32 points of 160 bytes (about 215 KiB), built once per point.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

/// Bits per digit.
const WIDTH: usize = 6;
/// Magnitudes held per position: signed digits lie in `[-HALF, HALF)`.
const HALF: usize = 1 << (WIDTH - 1);
/// Digit positions: a reduced scalar is below 2^253, and the top position also takes the
/// last carry (its digit is at most 2).
const POSITIONS: usize = 253 / WIDTH + 1;

/// Multiples of one point for [`FixedBase::mul`].
#[derive(Clone)]
pub struct FixedBase {
    /// `multiples[i * HALF + d - 1] = d · 2^(WIDTH·i) · P`.
    multiples: Box<[EdwardsPoint]>,
}

impl std::fmt::Debug for FixedBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedBase({} multiples)", self.multiples.len())
    }
}

impl FixedBase {
    /// The table of `point` (about 1,400 point additions).
    pub fn new(point: &EdwardsPoint) -> Self {
        let mut multiples = Vec::with_capacity(POSITIONS * HALF);
        let mut base = *point;
        for _ in 0..POSITIONS {
            let mut multiple = base;
            for _ in 0..HALF {
                multiples.push(multiple);
                multiple += base;
            }
            // HALF · base, doubled: the next position's base, 2^WIDTH · base.
            let top = multiples[multiples.len() - 1];
            base = top + top;
        }
        Self {
            multiples: multiples.into_boxed_slice(),
        }
    }

    /// `[scalar]P`, in time that depends on the scalar (use for public scalars only).
    pub fn mul(&self, scalar: &Scalar) -> EdwardsPoint {
        let mut product = EdwardsPoint::identity();
        for (position, digit) in signed_digits(scalar.as_bytes()).into_iter().enumerate() {
            let magnitude = usize::from(digit.unsigned_abs());
            if magnitude == 0 {
                continue;
            }
            let multiple = &self.multiples[position * HALF + magnitude - 1];
            product = if digit > 0 {
                product + multiple
            } else {
                product - multiple
            };
        }
        product
    }
}

/// The scalar's radix-2^WIDTH digits, recentred into `[-HALF, HALF)` with carries, so that
/// `Σ digit_i · 2^(WIDTH·i)` is the scalar. `bytes` is a reduced scalar (below 2^253).
fn signed_digits(bytes: &[u8; 32]) -> [i8; POSITIONS] {
    let byte = |i: usize| u32::from(bytes.get(i).copied().unwrap_or(0));
    let mut digits = [0i8; POSITIONS];
    let mut carry = 0i32;
    for (position, digit) in digits.iter_mut().enumerate() {
        let bit = position * WIDTH;
        let window = (byte(bit / 8) | byte(bit / 8 + 1) << 8) >> (bit % 8);
        let mut value = (window & ((1 << WIDTH) - 1)) as i32 + carry;
        carry = 0;
        if value >= HALF as i32 {
            value -= 1 << WIDTH;
            carry = 1;
        }
        // In [-HALF, HALF): fits an i8.
        *digit = value as i8;
    }
    debug_assert_eq!(carry, 0, "scalar not reduced");
    digits
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};

    fn check(table: &FixedBase, point: &EdwardsPoint, scalar: &Scalar) {
        assert_eq!(table.mul(scalar), point * scalar, "scalar {scalar:?}");
    }

    #[test]
    fn edge_scalars() {
        // A point with a torsion component too: the table must be exact on the whole group.
        for point in [
            ED25519_BASEPOINT_POINT,
            ED25519_BASEPOINT_POINT * Scalar::from(987_654_321u64) + EIGHT_TORSION[3],
        ] {
            let table = FixedBase::new(&point);
            let mut scalars = vec![
                Scalar::ZERO,
                Scalar::ONE,
                -Scalar::ONE,
                -Scalar::from(2u64),
                Scalar::from(31u64),
                Scalar::from(32u64),
                Scalar::from(63u64),
                Scalar::from(64u64),
            ];
            // Every digit at its extremes: all-ones and alternating patterns, reduced.
            for fill in [0xffu8, 0xaa, 0x55, 0x80, 0x7f, 0x20, 0x1f] {
                scalars.push(Scalar::from_bytes_mod_order([fill; 32]));
            }
            for bit in 0..253 {
                let mut bytes = [0u8; 32];
                bytes[bit / 8] = 1 << (bit % 8);
                scalars.push(Scalar::from_bytes_mod_order(bytes));
            }
            for scalar in &scalars {
                check(&table, &point, scalar);
            }
        }
    }

    static POINT: std::sync::LazyLock<(EdwardsPoint, FixedBase)> = std::sync::LazyLock::new(|| {
        let point = ED25519_BASEPOINT_POINT * Scalar::from(424_242u64);
        (point, FixedBase::new(&point))
    });

    proptest::proptest! {
        #[test]
        fn random_scalars(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let (point, table) = &*POINT;
            check(table, point, &Scalar::from_bytes_mod_order(bytes));
        }

        #[test]
        fn digits_recompose(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let scalar = Scalar::from_bytes_mod_order(bytes);
            let digits = signed_digits(scalar.as_bytes());
            let mut total = Scalar::ZERO;
            let radix = Scalar::from(1u64 << WIDTH);
            for digit in digits.iter().rev() {
                proptest::prop_assert!((-(HALF as i8)..HALF as i8).contains(digit));
                let magnitude = Scalar::from(u64::from(digit.unsigned_abs()));
                total = total * radix + if *digit < 0 { -magnitude } else { magnitude };
            }
            proptest::prop_assert_eq!(total, scalar);
        }
    }
}
