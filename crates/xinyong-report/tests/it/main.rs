//! The report crate end to end: arrangement (golden JSON), the three formats, signatures that fail on
//! any changed byte, key rotation, and the PDF's text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod formats;
mod golden;

pub use fixtures::*;
