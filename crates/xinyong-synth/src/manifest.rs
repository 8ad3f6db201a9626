//! `manifest.json`: what a run wrote, in the order the files must be ingested (CONTRACT.md §2).
//!
//! ```
//! let m: xinyong_synth::Manifest = serde_json::from_str(
//!     r#"{"seed": 7, "subjects": 5000, "files": [{"path": "penalties-gb18030.csv", "unit": "sh_tax",
//!         "item": "admin_penalty", "format": "csv", "encoding": "gb18030", "rows": 812, "invalid_rows": 9}]}"#,
//! ).unwrap();
//! assert_eq!(m.files[0].rows - m.files[0].invalid_rows, 803);
//! ```

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SynthError;
use crate::plan::{Encoding, FileDef, Format};
use crate::writers::{create, io_error};

/// The file name of the manifest inside the output folder.
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub subjects: u64,
    /// In ingestion order: registration, licences, penalties, lists.
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the manifest's folder.
    pub path: String,
    pub unit: String,
    pub item: String,
    /// `csv`, `xlsx` or `jsonl`.
    pub format: String,
    /// `utf-8` or `gb18030` (`utf-8` for XLSX).
    pub encoding: String,
    /// Data rows, header excluded.
    pub rows: u64,
    /// Rows with exactly one deliberate error each; all other rows are valid.
    pub invalid_rows: u64,
}

impl ManifestFile {
    pub(crate) fn new(def: &FileDef, rows: u64, invalid_rows: u64) -> ManifestFile {
        ManifestFile {
            path: def.path.to_owned(),
            unit: def.unit.to_owned(),
            item: def.item.code().to_owned(),
            format: match def.format {
                Format::Csv => "csv",
                Format::Xlsx => "xlsx",
                Format::Jsonl => "jsonl",
            }
            .to_owned(),
            encoding: match def.encoding {
                Encoding::Gb18030 => "gb18030",
                Encoding::Utf8 | Encoding::Utf8Bom => "utf-8",
            }
            .to_owned(),
            rows,
            invalid_rows,
        }
    }
}

impl Manifest {
    /// Writes `dir/manifest.json` (pretty, with a final newline).
    pub(crate) fn write(&self, dir: &Path) -> Result<(), SynthError> {
        let path = dir.join(MANIFEST_FILE);
        let mut file = create(&path)?;
        serde_json::to_writer_pretty(&mut file, self).map_err(SynthError::Manifest)?;
        file.write_all(b"\n").and_then(|()| file.flush()).map_err(|e| io_error(&path, e))
    }
}
