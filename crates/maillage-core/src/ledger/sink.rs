//! A postcard output that hands its bytes on in pieces instead of holding them whole: a
//! snapshot of ten million events' views is gigabytes, and a `Vec` growing to that size
//! would hold it up to twice over, then be copied again to be framed.

use std::io;

/// Bytes handed on at a time.
pub(super) const PIECE_BYTES: usize = 1 << 20;

/// `value`'s postcard encoding handed to `out` in pieces of about [`PIECE_BYTES`]. The first
/// error `out` returns stops the encoding and is returned (it is the cause of the encoding
/// error that follows it).
pub(super) fn encode<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut serializer = postcard::Serializer {
        output: Sink::new(out),
    };
    let encoded = value.serialize(&mut serializer);
    let encoding = |e: postcard::Error| io::Error::other(format!("encoding the views: {e}"));
    postcard::ser_flavors::Flavor::finalize(serializer.output).map_err(encoding)??;
    encoded.map_err(encoding)
}

/// Collects postcard's output and passes every full piece to `out`.
struct Sink<'a> {
    piece: Vec<u8>,
    out: &'a mut dyn FnMut(&[u8]) -> io::Result<()>,
    /// The first error `out` returned: encoding stops there.
    failed: Option<io::Error>,
}

impl<'a> Sink<'a> {
    fn new(out: &'a mut dyn FnMut(&[u8]) -> io::Result<()>) -> Self {
        Self {
            piece: Vec::with_capacity(PIECE_BYTES),
            out,
            failed: None,
        }
    }

    /// Hands `bytes` to `out`, keeping its error.
    fn deliver(
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
        failed: &mut Option<io::Error>,
        bytes: &[u8],
    ) -> postcard::Result<()> {
        out(bytes).map_err(|error| {
            *failed = Some(error);
            postcard::Error::SerializeBufferFull
        })
    }

    fn pass_on(&mut self) -> postcard::Result<()> {
        if !self.piece.is_empty() {
            Self::deliver(self.out, &mut self.failed, &self.piece)?;
            self.piece.clear();
        }
        Ok(())
    }
}

impl postcard::ser_flavors::Flavor for Sink<'_> {
    /// What `out` said to the last piece.
    type Output = io::Result<()>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        if self.piece.len() == PIECE_BYTES {
            self.pass_on()?;
        }
        self.piece.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        if self.piece.len() + bytes.len() > PIECE_BYTES {
            self.pass_on()?;
        }
        if bytes.len() >= PIECE_BYTES {
            return Self::deliver(self.out, &mut self.failed, bytes);
        }
        self.piece.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(mut self) -> postcard::Result<io::Result<()>> {
        if self.failed.is_none() {
            let _ = self.pass_on();
        }
        Ok(self.failed.map_or(Ok(()), Err))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;

    /// A value of about three pieces, with large and small writes (the snapshot reader's
    /// tests read it back).
    pub(in crate::ledger) fn value() -> Vec<(u64, String, Vec<u8>)> {
        (0..30_000u64)
            .map(|n| {
                let blob = if n % 10_000 == 0 {
                    vec![7u8; PIECE_BYTES + 3]
                } else {
                    vec![n as u8; 3]
                };
                (n, format!("entry {n}"), blob)
            })
            .collect()
    }

    #[test]
    fn the_pieces_are_the_whole_encoding_in_order() {
        let value = value();
        let mut pieces: Vec<usize> = Vec::new();
        let mut bytes = Vec::new();
        encode(&value, &mut |piece| {
            pieces.push(piece.len());
            bytes.extend_from_slice(piece);
            Ok(())
        })
        .unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&value).unwrap());
        assert!(pieces.len() >= 4, "{pieces:?}");
        // Only a single write larger than a piece is passed on whole.
        assert!(
            pieces.iter().all(|n| *n <= PIECE_BYTES + 3 + 8),
            "{pieces:?}"
        );
    }

    #[test]
    fn the_first_error_of_the_output_stops_the_encoding_and_is_returned() {
        let value = value();
        let mut calls = 0;
        let error = encode(&value, &mut |_| {
            calls += 1;
            if calls == 2 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        assert_eq!(calls, 2, "nothing is written after the error");
    }
}
