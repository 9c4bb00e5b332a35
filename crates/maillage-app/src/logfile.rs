//! The portable log file: a federation's charter and signed events, exactly as signed, in one
//! file that any node (or anyone with the charter) can verify offline.
//!
//! ```text
//! magic     "MAILLAGE-LOG\0v1\n"                      16 bytes
//! charter   u32 BE length, charter bytes
//! events    repeated: 0x01, u32 BE length, SignedEvent bytes
//! trailer   0xFF, u64 BE event count, SHA-256 of every byte before the digest
//! ```
//!
//! Every byte is covered: event payloads and signatures by Ed25519, the chain by ids, the
//! framing, the charter and the count by the trailing digest. [`verify`] reports the first
//! problem with its byte offset.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use maillage_core::chain::{self, Head, Position};
use maillage_core::lang::t;
use maillage_core::tr;
use maillage_core::{Charter, HubId, VerifiedEvent, verify_encoded};
use sha2::{Digest, Sha256};

use crate::error::{AppError, Context, Result};

/// File magic.
pub const MAGIC: &[u8; 16] = b"MAILLAGE-LOG\0v1\n";
const EVENT_TAG: u8 = 0x01;
const TRAILER_TAG: u8 = 0xFF;

/// Writes a log file; hashes as it goes.
#[derive(Debug)]
pub struct LogWriter<W: Write> {
    out: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> LogWriter<W> {
    /// Starts a file with the magic and the charter.
    pub fn new(out: W, charter: &Charter) -> Result<Self> {
        let mut writer = Self {
            out,
            hasher: Sha256::new(),
            count: 0,
        };
        writer.put(MAGIC)?;
        let len = u32::try_from(charter.bytes().len()).map_err(|_| {
            AppError::internal(t(
                "la charte est trop grande pour un fichier de journal",
                "the charter is too large for a log file",
            ))
        })?;
        writer.put(&len.to_be_bytes())?;
        writer.put(charter.bytes())?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.out.write_all(bytes).with_context(writing)
    }

    /// Appends one event, with its personal part while this node holds it (§2b: a reader
    /// verifies events with or without parts; an erased part is in no later file).
    pub fn event(&mut self, event: &VerifiedEvent) -> Result<()> {
        let bytes = prost::Message::encode_to_vec(&event.wire());
        self.put(&[EVENT_TAG])?;
        let len = u32::try_from(bytes.len()).map_err(|_| {
            AppError::internal(t(
                "un événement est trop grand pour un fichier de journal",
                "an event is too large for a log file",
            ))
        })?;
        self.put(&len.to_be_bytes())?;
        self.put(&bytes)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the trailer; returns the number of events.
    pub fn finish(mut self) -> Result<u64> {
        self.put(&[TRAILER_TAG])?;
        let count = self.count;
        self.put(&count.to_be_bytes())?;
        let digest: [u8; 32] = self.hasher.finalize().into();
        self.out.write_all(&digest).with_context(writing)?;
        self.out.flush().with_context(writing)?;
        Ok(count)
    }
}

/// Where a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset of the item (event frame, charter, trailer).
    pub offset: usize,
    /// What the item is ("event #12 (feed 3b6a27bc, seq 12)", "charter", …).
    pub item: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (offset, item, reason) = (self.offset, &self.item, &self.reason);
        f.write_str(&tr!(
            "octet {offset} : {item} : {reason}",
            "byte {offset}: {item}: {reason}"
        ))
    }
}

/// What a verified file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Federation name, once the charter is read.
    pub federation: Option<String>,
    /// Events verified before the first problem (all of them if none).
    pub events: u64,
    /// Feeds and their heads.
    pub feeds: BTreeMap<HubId, Head>,
    /// The first problem.
    pub problem: Option<Problem>,
}

/// Verifies a whole log file: framing, charter, every signature, every chain, the trailer.
pub fn verify(bytes: &[u8]) -> FileReport {
    let mut report = FileReport::default();
    if let Err(problem) = verify_into(bytes, &mut report, &mut |_| {}) {
        report.problem = Some(problem);
    }
    report
}

/// Verifies a whole log file and returns its charter and events, or the first problem.
pub fn read(bytes: &[u8]) -> Result<(Charter, Vec<VerifiedEvent>), Problem> {
    let mut report = FileReport::default();
    let mut events = Vec::new();
    verify_into(bytes, &mut report, &mut |event| events.push(event))?;
    let len = be_u32(&bytes[MAGIC.len()..MAGIC.len() + 4]);
    let charter = Charter::from_bytes(bytes[MAGIC.len() + 4..MAGIC.len() + 4 + len].to_vec())
        .map_err(|e| Problem {
            offset: MAGIC.len(),
            item: "charter".into(),
            reason: e.to_string(),
        })?;
    Ok((charter, events))
}

fn take<'a>(bytes: &'a [u8], at: usize, len: usize, item: &str) -> Result<&'a [u8], Problem> {
    bytes
        .get(at..at.saturating_add(len))
        .ok_or_else(|| Problem {
            offset: at,
            item: item.to_owned(),
            reason: {
                let found = bytes.len().saturating_sub(at);
                tr!(
                    "tronqué : {len} octets attendus, {found} trouvés",
                    "truncated: expected {len} bytes, found {found}"
                )
            },
        })
}

fn be_u32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

fn verify_into(
    bytes: &[u8],
    report: &mut FileReport,
    sink: &mut dyn FnMut(VerifiedEvent),
) -> Result<(), Problem> {
    let magic_item = t("signature du format", "magic");
    let magic = take(bytes, 0, MAGIC.len(), magic_item)?;
    if magic != MAGIC {
        return Err(Problem {
            offset: 0,
            item: magic_item.into(),
            reason: t(
                "pas un fichier de journal maillage (attendu \"MAILLAGE-LOG\\0v1\\n\")",
                "not a maillage log file (expected \"MAILLAGE-LOG\\0v1\\n\")",
            )
            .into(),
        });
    }
    let mut at = MAGIC.len();
    let len = be_u32(take(
        bytes,
        at,
        4,
        t("longueur de la charte", "charter length"),
    )?);
    let charter_item = t("charte", "charter");
    let charter_bytes = take(bytes, at + 4, len, charter_item)?;
    let charter = Charter::from_bytes(charter_bytes.to_vec()).map_err(|e| Problem {
        offset: at,
        item: charter_item.into(),
        reason: e.to_string(),
    })?;
    report.federation = Some(charter.name().to_owned());
    at += 4 + len;
    let mut index = 0u64;
    loop {
        let tag = take(bytes, at, 1, t("étiquette de trame", "frame tag"))?[0];
        match tag {
            EVENT_TAG => {
                index += 1;
                let frame = tr!("événement #{index}", "event #{index}");
                let len = be_u32(take(bytes, at + 1, 4, &frame)?);
                let body = take(bytes, at + 5, len, &frame)?;
                let event = verify_encoded(body, &charter).map_err(|e| Problem {
                    offset: at,
                    item: frame.clone(),
                    reason: e.to_string(),
                })?;
                let (feed, seq) = (event.author.short(), event.seq);
                let item = tr!(
                    "événement #{index} (flux {feed}, position {seq})",
                    "event #{index} (feed {feed}, seq {seq})"
                );
                let head = report.feeds.get(&event.author).copied();
                match chain::position(head, &event) {
                    Ok(Position::Next) => {}
                    Ok(Position::Known) => {
                        return Err(Problem {
                            offset: at,
                            item,
                            reason: {
                                let at_seq = head.map_or(0, |h| h.seq);
                                tr!(
                                    "la position {seq} se répète ou recule (le flux est à {at_seq})",
                                    "seq {seq} repeats or goes back (feed is at {at_seq})"
                                )
                            },
                        });
                    }
                    Err(e) => {
                        return Err(Problem {
                            offset: at,
                            item,
                            reason: e.to_string(),
                        });
                    }
                }
                report.feeds.insert(
                    event.author,
                    Head {
                        seq: event.seq,
                        id: event.id,
                    },
                );
                report.events += 1;
                sink(event);
                at += 5 + len;
            }
            TRAILER_TAG => {
                let trailer = t("fin de fichier signée", "trailer");
                let count_bytes = take(bytes, at + 1, 8, trailer)?;
                let count = u64::from_be_bytes(count_bytes.try_into().unwrap_or([0; 8]));
                let digest = take(bytes, at + 9, 32, trailer)?;
                if count != report.events {
                    let expected = report.events;
                    return Err(Problem {
                        offset: at,
                        item: trailer.into(),
                        reason: tr!(
                            "nombre d'événements : {expected} attendus, {count} trouvés",
                            "event count: expected {expected}, found {count}"
                        ),
                    });
                }
                let expected: [u8; 32] = Sha256::digest(&bytes[..at + 9]).into();
                if digest != expected {
                    return Err(Problem {
                        offset: at + 9,
                        item: trailer.into(),
                        reason: t(
                            "l'empreinte du fichier ne correspond pas : un octet a changé dans la signature du format, la charte ou le découpage en trames",
                            "file digest does not match: a byte was changed in the magic, the charter or the framing",
                        )
                        .into(),
                    });
                }
                let end = at + 9 + 32;
                if end != bytes.len() {
                    let extra = bytes.len() - end;
                    return Err(Problem {
                        offset: end,
                        item: t("fin du fichier", "end of file").into(),
                        reason: tr!(
                            "{extra} octets inattendus après la fin signée",
                            "{extra} unexpected bytes after the trailer"
                        ),
                    });
                }
                return Ok(());
            }
            other => {
                return Err(Problem {
                    offset: at,
                    item: tr!(
                        "trame après l'événement #{index}",
                        "frame after event #{index}"
                    ),
                    reason: tr!(
                        "étiquette 0x01 (événement) ou 0xFF (fin) attendue, 0x{other:02x} trouvée",
                        "expected tag 0x01 (event) or 0xFF (trailer), found 0x{other:02x}"
                    ),
                });
            }
        }
    }
}

fn writing() -> &'static str {
    t("écriture du fichier de journal", "writing the log file")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
    use maillage_core::{FeedWriter, MemberSpec, Role, SecretKey, pb};

    fn sample() -> (Vec<u8>, Vec<(usize, usize)>) {
        let keys: Vec<SecretKey> = (1..=2u8).map(|n| SecretKey::from_seed(&[n; 32])).collect();
        let members = keys
            .iter()
            .zip(["13", "69"])
            .map(|(k, t)| MemberSpec {
                key: k.hub_id(),
                name: format!("hub {t}"),
                role: Role::Hub,
                territories: vec![t.into()],
            })
            .collect();
        let charter = Charter::found("F", 1, members).unwrap();
        let mut out = Vec::new();
        let mut writer = LogWriter::new(&mut out, &charter).unwrap();
        let mut frames = Vec::new();
        for key in &keys {
            let mut feed = FeedWriter::new(
                SecretKey::from_seed(&key.seed()),
                charter.federation_id(),
                None,
                0,
                MAX_AHEAD_MS_DEFAULT,
            );
            for n in 0..3 {
                let body = pb::event::Body::VenueClosed(pb::VenueClosed {
                    venue_id: format!("v{n}"),
                    reason: "closed".into(),
                    ..Default::default()
                });
                let event = feed.next(body, vec![], 1_000_000).unwrap();
                writer.event(&event).unwrap();
            }
        }
        writer.finish().unwrap();
        // Recover frame boundaries for the location check.
        let mut at = MAGIC.len() + 4 + charter.bytes().len();
        while out[at] == EVENT_TAG {
            let len = be_u32(&out[at + 1..at + 5]);
            frames.push((at, at + 5 + len));
            at += 5 + len;
        }
        (out, frames)
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_and_splices_never_panic(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cut in 0usize..2000,
        ) {
            let _ = verify(&noise);
            let (bytes, _) = sample();
            let mut spliced = bytes[..cut.min(bytes.len())].to_vec();
            spliced.extend_from_slice(&noise);
            proptest::prop_assert!(verify(&spliced).problem.is_some() || spliced == bytes);
            let _ = read(&spliced);
        }
    }

    #[test]
    fn an_intact_file_verifies() {
        let (bytes, _) = sample();
        let report = verify(&bytes);
        assert_eq!(report.problem, None);
        assert_eq!(report.events, 6);
        assert_eq!(report.feeds.len(), 2);
    }

    #[test]
    fn every_flipped_byte_is_detected_and_located() {
        let (bytes, frames) = sample();
        for position in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut tampered = bytes.clone();
                tampered[position] ^= mask;
                let report = verify(&tampered);
                let problem = report.problem.unwrap_or_else(|| {
                    panic!("flip of byte {position} (mask {mask:#x}) went unnoticed")
                });
                // Inside an event frame, the problem is that frame (or, for its length
                // prefix, the frame itself or the next one read at a wrong offset).
                if let Some(index) = frames
                    .iter()
                    .position(|(start, end)| (*start..*end).contains(&position))
                {
                    let (start, _) = frames[index];
                    assert!(
                        problem.offset == start
                            || problem.item.contains(&format!("#{}", index + 1)),
                        "flip at {position} in frame {index} reported as {problem}"
                    );
                }
            }
        }
    }
}
