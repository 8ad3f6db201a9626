//! Integration tests of `xinyong-synth`: determinism, the manifest against the files, the catalog,
//! format coverage, and row validity checked with the domain's own value parsers.

mod files;
mod manifest;
mod support;
mod validity;
