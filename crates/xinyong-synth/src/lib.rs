//! Deterministic synthetic agency files for xinyong (`xinyong synth`, CONTRACT.md §2).
//!
//! [`generate`] writes, into one folder, the files a city credit centre receives from its supplying
//! units — legal-person registration, 双公示 licences and penalties, reward and punishment lists — in
//! every format and encoding ingest reads (CSV in UTF-8 with and without BOM and in GB18030, XLSX, JSON
//! lines; current and 2015 legacy headers; national field codes as headers), plus `manifest.json`
//! listing them in ingestion order with their row counts.
//!
//! Invariants:
//! - Same `seed` and `subjects` → byte-identical files and manifest, whatever the number of threads.
//! - Every identifier is valid and every row is valid for the default catalog, except the rows counted
//!   in `invalid_rows`, which carry exactly one deliberate error each (see `faults`).
//! - About 10 rows per subject, streamed on all cores; memory stays bounded (XLSX worksheets, held in
//!   memory, stop at 20,000 rows). All names and identifiers are invented.
//!
//! ```no_run
//! let opts = xinyong_synth::SynthOptions { out: "synth-out".into(), subjects: 2_000, seed: 7 };
//! let manifest = xinyong_synth::generate(&opts)?;
//! for f in &manifest.files {
//!     println!("{} {} {} rows ({} invalid)", f.path, f.item, f.rows, f.invalid_rows);
//! }
//! # Ok::<(), xinyong_synth::SynthError>(())
//! ```

#![forbid(unsafe_code)]

mod faults;
mod layout;
mod manifest;
mod names;
mod plan;
mod rng;
mod rows;
mod run;
mod subjects;
mod units;
mod writers;

use std::path::PathBuf;

use chrono::NaiveDate;

pub use manifest::{MANIFEST_FILE, Manifest, ManifestFile};
pub use subjects::MAX_SUBJECTS;

/// The day the synthetic world stands still: no generated date (birth, decision, list entry, validity
/// end) lies after it.
pub const AS_OF: NaiveDate = match NaiveDate::from_ymd_opt(2026, 10, 31) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// What to generate and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// Output folder, created if missing; files of the same names are overwritten.
    pub out: PathBuf,
    /// Number of credit subjects (legal persons, individual businesses, natural persons).
    pub subjects: u64,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("cannot write spreadsheet {path}: {source}")]
    Xlsx { path: PathBuf, source: rust_xlsxwriter::XlsxError },
    #[error("cannot write the manifest: {0}")]
    Manifest(serde_json::Error),
    #[error("the default catalog does not fit the generator: {0}")]
    Catalog(String),
    #[error("could not complete identifier {0}")]
    Identifier(String),
    #[error("at most {max} subjects can have unique identifiers")]
    TooManySubjects { max: u64 },
    #[error("a generator thread panicked")]
    Thread,
}

/// Writes the files and `manifest.json` into `opts.out` and returns the manifest.
pub fn generate(opts: &SynthOptions) -> Result<Manifest, SynthError> {
    run::run(opts).map(|outcome| outcome.manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faults::Fault;

    #[test]
    fn a_default_run_shows_every_fault_and_every_file_of_200_rows_has_one() -> Result<(), SynthError> {
        let dir = tempfile::tempdir().map_err(|e| SynthError::Io { path: PathBuf::new(), source: e })?;
        let outcome = run::run(&SynthOptions { out: dir.path().into(), subjects: 20_000, seed: 0 })?;
        let mut codes = std::collections::BTreeSet::new();
        for (i, fault) in Fault::ALL.iter().enumerate() {
            let n: u64 = outcome.faults.iter().map(|f| f[i]).sum();
            assert!(n > 0, "{fault:?} never occurs");
            codes.insert(fault.code());
        }
        let contract = [
            "bad_char",
            "bad_check_digit",
            "bad_date",
            "bad_enum",
            "bad_length",
            "bad_number",
            "bad_period",
            "bad_region",
            "kind_mismatch",
            "mangled_number",
            "missing_id",
            "missing_uscc",
            "missing_value",
        ];
        assert_eq!(codes.into_iter().collect::<Vec<_>>(), contract);
        let mut rows = 0;
        let mut invalid = 0;
        for f in &outcome.manifest.files {
            assert!(f.rows < 200 || f.invalid_rows > 0, "{} has no invalid row", f.path);
            rows += f.rows;
            invalid += f.invalid_rows;
        }
        let per_subject = rows as f64 / 20_000.0;
        assert!((9.0..11.0).contains(&per_subject), "{per_subject} rows per subject");
        let share = invalid as f64 / rows as f64;
        assert!((0.005..0.02).contains(&share), "{share} invalid");
        Ok(())
    }
}
