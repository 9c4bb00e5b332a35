//! The reading side of [`super::sink`]: a postcard input read in pieces from a
//! [`std::io::Read`] instead of a buffer holding the whole encoding. A snapshot of ten million
//! events' views is gigabytes; read whole, it sat in memory beside the views it decoded to
//! (every page of it first zeroed by the kernel, then filled), for as long as the decoding took.
//!
//! The window holds what was read and not decoded yet: a piece at a time, more only for a
//! single string or byte buffer longer than a piece, and never more than the input really
//! holds (a length the input does not back ends the decoding at the input's end, whatever it
//! claims).

use std::io::{self, Read};

use serde::de::DeserializeOwned;

/// Bytes read from the input at a time.
const PIECE_BYTES: usize = 1 << 20;

/// Decodes one `T` from the start of `input`, and returns it with the bytes read past it
/// (the input is read a piece at a time, so up to a piece more than `T` may be taken from it).
/// The error says what went wrong: the input's own read error, or postcard's.
pub(super) fn decode<T: DeserializeOwned>(input: &mut dyn Read) -> Result<(T, Vec<u8>), String> {
    let mut deserializer = postcard::Deserializer::from_flavor(Source {
        input,
        window: Vec::new(),
        at: 0,
        failed: None,
    });
    let decoded = T::deserialize(&mut deserializer);
    let (failed, rest) = deserializer
        .finalize()
        .map_err(|e| format!("does not decode: {e}"))?;
    match (decoded, failed) {
        (_, Some(error)) => Err(format!("cannot be read: {error}")),
        (Err(error), None) => Err(format!("does not decode: {error}")),
        (Ok(value), None) => Ok((value, rest)),
    }
}

/// Postcard's input: the unread bytes of `window` from `at`, then `input`.
struct Source<'r> {
    input: &'r mut dyn Read,
    window: Vec<u8>,
    at: usize,
    /// The input's error, if a read failed (postcard's own error cannot carry it).
    failed: Option<io::Error>,
}

impl Source<'_> {
    /// Makes at least `needed` unread bytes available in the window, reading a piece at a
    /// time; the input's end first is an unexpected end.
    #[inline]
    fn fill(&mut self, needed: usize) -> postcard::Result<()> {
        if self.window.len() - self.at >= needed {
            return Ok(());
        }
        self.refill(needed)
    }

    #[cold]
    #[inline(never)]
    fn refill(&mut self, needed: usize) -> postcard::Result<()> {
        self.window.drain(..self.at);
        self.at = 0;
        while self.window.len() < needed {
            // Into the window's spare room, not zeroed first (`read_to_end` retries interrupted
            // reads and keeps what it read before an error).
            let read = (&mut *self.input)
                .take(PIECE_BYTES as u64)
                .read_to_end(&mut self.window);
            match read {
                Ok(0) => return Err(postcard::Error::DeserializeUnexpectedEnd),
                Ok(_) => {}
                Err(error) => {
                    self.failed = Some(error);
                    return Err(postcard::Error::DeserializeUnexpectedEnd);
                }
            }
        }
        Ok(())
    }
}

impl<'de, 'r: 'de> postcard::de_flavors::Flavor<'de> for Source<'r> {
    /// The input's error, if one stopped the decoding, and the bytes read past the value.
    type Remainder = (Option<io::Error>, Vec<u8>);
    type Source = ();

    #[inline]
    fn pop(&mut self) -> postcard::Result<u8> {
        self.fill(1)?;
        let byte = self.window[self.at];
        self.at += 1;
        Ok(byte)
    }

    /// Nothing in the views borrows from its encoding: a borrowed read is a wrong encoding.
    fn try_take_n(&mut self, _count: usize) -> postcard::Result<&'de [u8]> {
        Err(postcard::Error::DeserializeBadEncoding)
    }

    #[inline]
    fn try_take_n_temp<'a>(&'a mut self, count: usize) -> postcard::Result<&'a [u8]>
    where
        'de: 'a,
    {
        self.fill(count)?;
        let taken = &self.window[self.at..self.at + count];
        self.at += count;
        Ok(taken)
    }

    fn finalize(mut self) -> postcard::Result<(Option<io::Error>, Vec<u8>)> {
        self.window.drain(..self.at);
        Ok((self.failed, self.window))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ledger::sink::tests::value;
    use serde::Deserialize;

    /// Hands out its bytes a few at a time, as a pipe or a slow disk may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7_001);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct ByteBuf(#[serde(with = "serde_bytes_buf")] Vec<u8>);

    mod serde_bytes_buf {
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
            }
            d.deserialize_byte_buf(V)
        }
    }

    #[test]
    fn what_is_read_in_pieces_is_what_was_written_in_pieces() {
        let value = value();
        let mut bytes = Vec::new();
        super::super::sink::encode(&value, &mut |piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })
        .unwrap();
        let (read, _): (Vec<(u64, String, Vec<u8>)>, _) = decode(&mut Trickle(&bytes)).unwrap();
        assert_eq!(read, value);
        let (read, _): (Vec<(u64, String, Vec<u8>)>, _) = decode(&mut &bytes[..]).unwrap();
        assert_eq!(read, value);
    }

    #[test]
    fn the_bytes_read_past_the_value_are_handed_back() {
        let mut bytes = postcard::to_stdvec(&(5u32, String::from("cinq"))).unwrap();
        bytes.extend_from_slice(b"tail");
        let mut input = &bytes[..];
        let (read, rest): ((u32, String), _) = decode(&mut input).unwrap();
        assert_eq!(read, (5, "cinq".into()));
        assert_eq!([rest.as_slice(), input].concat(), b"tail");
        // Read a few bytes at a time, the same.
        let mut trickle = Trickle(&bytes);
        let (read, rest): ((u32, String), _) = decode(&mut trickle).unwrap();
        assert_eq!(read, (5, "cinq".into()));
        assert_eq!([rest.as_slice(), trickle.0].concat(), b"tail");
    }

    #[test]
    fn a_length_the_input_does_not_back_ends_at_the_input_end() {
        // A byte buffer claiming 2^60 bytes, followed by three: the window never grows past
        // what was read.
        let mut bytes = vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
        bytes.extend_from_slice(b"abc");
        let error = decode::<ByteBuf>(&mut &bytes[..]).unwrap_err();
        assert!(error.contains("does not decode"), "{error}");
        let error = decode::<String>(&mut &bytes[..]).unwrap_err();
        assert!(error.contains("does not decode"), "{error}");
        // The same claim, backed: read whole.
        let blob = vec![3u8; 3 * PIECE_BYTES];
        let encoded = postcard::to_stdvec(&ByteBufRef(&blob)).unwrap();
        assert_eq!(
            decode::<ByteBuf>(&mut Trickle(&encoded)).unwrap().0,
            ByteBuf(blob)
        );
    }

    #[derive(serde::Serialize)]
    struct ByteBufRef<'a>(#[serde(with = "serde_bytes_ref")] &'a [u8]);

    mod serde_bytes_ref {
        pub fn serialize<S: serde::Serializer>(v: &&[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn a_read_error_is_reported_as_such() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let error = decode::<(u32, String)>(&mut Failing).unwrap_err();
        assert!(error.contains("cannot be read: disk gone"), "{error}");
    }

    #[test]
    fn borrowed_data_is_refused() {
        let bytes = postcard::to_stdvec(&"borrowed").unwrap();
        #[derive(Deserialize)]
        struct Borrows<'a>(#[allow(dead_code)] &'a str);
        let mut input = &bytes[..];
        let mut deserializer = postcard::Deserializer::from_flavor(Source {
            input: &mut input,
            window: Vec::new(),
            at: 0,
            failed: None,
        });
        assert!(Borrows::deserialize(&mut deserializer).is_err());
    }
}
