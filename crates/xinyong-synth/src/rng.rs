//! Seeded randomness. Every subject and every record draws from its own ChaCha8 stream derived from the
//! run's seed, so the bytes of a file depend only on `(seed, subjects)`: not on the number of threads,
//! nor on which thread writes which file.
//!
//! ```text
//! let mut rng = subject_rng(7, 42); // subject 42 of a run with seed 7, always the same stream
//! let day = date_between(&mut rng, from, to);
//! ```

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) type Rand = ChaCha8Rng;

/// SplitMix64 finaliser: spreads nearby inputs (seeds, subject numbers) over the whole `u64` range.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of subject `index`: its attributes and the plan of its records.
pub(crate) fn subject_rng(seed: u64, index: u64) -> Rand {
    Rand::seed_from_u64(mix(mix(seed) ^ index))
}

/// The stream of one record, from a seed drawn out of its subject's stream.
pub(crate) fn record_rng(record_seed: u64) -> Rand {
    Rand::seed_from_u64(record_seed)
}

/// One element of a non-empty table.
pub(crate) fn pick<T: Copy>(rng: &mut Rand, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// An index in `0..len` (`len` > 0), small indices more likely.
pub(crate) fn skewed_index(rng: &mut Rand, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len.saturating_sub(1))
}

/// An index into `weights`, drawn in proportion to the weights (0 when they are all zero).
pub(crate) fn weighted(rng: &mut Rand, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

pub(crate) fn chance(rng: &mut Rand, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A Poisson count (Knuth's method; our means stay below 100).
pub(crate) fn poisson(rng: &mut Rand, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut product: f64 = rng.random();
    let mut n = 0;
    while product > limit && n < 1000 {
        product *= rng.random::<f64>();
        n += 1;
    }
    n
}

/// A day in `from..=to`.
pub(crate) fn date_between(rng: &mut Rand, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from.checked_add_days(Days::new(rng.random_range(0..=span))).unwrap_or(to)
}

/// `date + days`, or `None` past the end of the calendar.
pub(crate) fn add_days(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_subject_gets_the_same_stream() {
        let a: u64 = subject_rng(7, 3).random();
        let b: u64 = subject_rng(7, 3).random();
        let c: u64 = subject_rng(7, 4).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn poisson_counts_have_the_requested_mean() {
        let mut rng = subject_rng(1, 1);
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, 6.5))).sum();
        let mean = sum as f64 / n as f64;
        assert!((mean - 6.5).abs() < 0.1, "{mean}");
    }

    #[test]
    fn weighted_never_picks_a_zero_weight() {
        let mut rng = subject_rng(1, 2);
        for _ in 0..1000 {
            assert_ne!(weighted(&mut rng, &[3, 0, 5]), 1);
        }
    }
}
