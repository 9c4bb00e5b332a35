//! `maillage bench signatures`: the signature rule's verdicts compared three ways (fast single
//! path, reference, batch equation) over a generated corpus of honest and adversarial
//! signatures, and the throughput of each path against bare `verify_strict`, on one core and
//! on every core, measured in the same run.

use std::time::Instant;

use anyhow::{Result, ensure};
use maillage_core::batch::{PayloadSignature, verify_messages};
use maillage_core::sigcorpus::{self, Agreement, Sample};
use maillage_core::{CryptoError, PublicKey};
use rayon::prelude::*;
use serde::Serialize;

use crate::bench::median;

/// Parameters.
#[derive(Debug, Clone)]
pub struct SignatureBench {
    /// Signatures whose verdicts are compared.
    pub count: usize,
    /// Signatures per batch (one key each).
    pub batch: usize,
    /// Throughput runs (medians are reported).
    pub runs: usize,
    /// Corpus seed.
    pub seed: u64,
}

/// One verification path's throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    /// The path.
    pub path: &'static str,
    /// Signatures per second on one core, median.
    pub one_core_per_s: f64,
    /// Signatures per second on every core (rayon), median.
    pub all_cores_per_s: f64,
}

/// What the run found.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureSummary {
    /// Signatures compared.
    pub samples: u64,
    /// Accepted by the three paths (and built to be valid).
    pub accepted: u64,
    /// Refused by the three paths (and built to be invalid).
    pub refused: u64,
    /// Signatures on which a path disagreed (with another or with the construction).
    pub disagreements: u64,
    /// Signatures per batch.
    pub batch: usize,
    /// Honest signatures per throughput run.
    pub timed: usize,
    /// Each path's throughput; the first is bare `verify_strict`.
    pub rates: Vec<Rate>,
}

impl SignatureSummary {
    /// A path's rate over bare `verify_strict`'s: (one core, every core).
    pub fn ratio(&self, rate: &Rate) -> (f64, f64) {
        let strict = &self.rates[0];
        (
            rate.one_core_per_s / strict.one_core_per_s,
            rate.all_cores_per_s / strict.all_cores_per_s,
        )
    }
}

/// A batch of honest signatures with its admitted key.
struct Timed {
    key: PublicKey,
    samples: Vec<Sample>,
}

type Path = fn(&Timed) -> usize;

fn accepted(verdicts: impl Iterator<Item = Result<(), CryptoError>>) -> usize {
    verdicts.filter(Result::is_ok).count()
}

const PATHS: [(&str, Path); 4] = [
    ("verify_strict (ed25519-dalek, protocol v1's rule)", |t| {
        accepted(t.samples.iter().map(|s| {
            t.key
                .verify_strict_cofactorless_raw(&s.message, &s.signature)
        }))
    }),
    ("v2 rule, reference (double-scalar multiplication)", |t| {
        accepted(
            t.samples
                .iter()
                .map(|s| t.key.verify_raw_reference(&s.message, &s.signature)),
        )
    }),
    ("v2 rule, single (fixed-base tables)", |t| {
        accepted(
            t.samples
                .iter()
                .map(|s| t.key.verify_raw(&s.message, &s.signature)),
        )
    }),
    ("v2 rule, batch equation (one key per batch)", |t| {
        let items: Vec<PayloadSignature<'_>> = t
            .samples
            .iter()
            .map(|s| PayloadSignature {
                key: &t.key,
                payload: &s.message,
                signature: &s.signature,
            })
            .collect();
        accepted(verify_messages(&items).into_iter())
    }),
];

/// Runs the comparison, then the throughput measurements; `progress` gets a line now and then.
pub fn run(params: &SignatureBench, progress: &mut dyn FnMut(&str)) -> Result<SignatureSummary> {
    ensure!(params.batch >= 1, "--batch must be at least 1");
    ensure!(params.runs >= 1, "--runs must be at least 1");
    let batches = params.count.div_ceil(params.batch) as u64;
    let mut total = Agreement::default();
    let step = (batches / 10).max(1);
    let mut start = 0;
    while start < batches {
        let end = (start + step).min(batches);
        let part = (start..end)
            .into_par_iter()
            .map(|index| {
                // Every other batch holds one adversarial signature.
                let samples = sigcorpus::batch(params.seed, index, params.batch, index % 2 == 0);
                sigcorpus::check_batch(&samples)
            })
            .reduce(Agreement::default, |mut a, b| {
                a.add(b);
                a
            });
        total.add(part);
        start = end;
        progress(&format!(
            "compared {} signatures, {} disagreements so far",
            total.samples, total.disagreements
        ));
    }

    // Honest batches by prime-order keys, tables warmed, for the throughput.
    // (Batch numbers that are multiples of 7 never use a mixed-order key.)
    let timed: Vec<Timed> = (0..64u64)
        .map(|i| sigcorpus::batch(params.seed ^ 0x5eed, i * 7, params.batch, false))
        .filter_map(|samples| {
            let key = PublicKey::from_hub_id(samples.first()?.key).ok()?;
            Some(Timed { key, samples })
        })
        .collect();
    let signatures: usize = timed.iter().map(|t| t.samples.len()).sum();
    for t in &timed {
        PATHS[2].1(t);
    }
    let mut rates = Vec::new();
    for (name, path) in PATHS {
        let mut one = Vec::new();
        let mut all = Vec::new();
        for _ in 0..params.runs {
            let clock = Instant::now();
            let ok: usize = timed.iter().map(path).sum();
            one.push(signatures as f64 / clock.elapsed().as_secs_f64());
            ensure!(
                ok == signatures,
                "{name}: {ok} of {signatures} honest signatures accepted"
            );
            let clock = Instant::now();
            let ok: usize = timed.par_iter().map(path).sum();
            all.push(signatures as f64 / clock.elapsed().as_secs_f64());
            ensure!(
                ok == signatures,
                "{name}: {ok} of {signatures} honest signatures accepted"
            );
        }
        progress(&format!("timed {name}"));
        rates.push(Rate {
            path: name,
            one_core_per_s: median(one),
            all_cores_per_s: median(all),
        });
    }
    Ok(SignatureSummary {
        samples: total.samples,
        accepted: total.accepted,
        refused: total.refused,
        disagreements: total.disagreements,
        batch: params.batch,
        timed: signatures,
        rates,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_finds_no_disagreement_and_times_every_path() {
        let summary = run(
            &SignatureBench {
                count: 640,
                batch: 32,
                runs: 1,
                seed: 3,
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(summary.samples, 640);
        assert_eq!(summary.disagreements, 0);
        assert!(summary.refused >= 4, "{summary:?}");
        assert_eq!(summary.rates.len(), 4);
        assert!(summary.rates.iter().all(|r| r.one_core_per_s > 0.0));
    }
}
