//! Ingestion (归集): a unit's file → raw rows → validated records with row-level errors → one atomic
//! batch in the store.
//!
//! - [`reader`] turns bytes into rows of cells (CSV, XLSX, JSON lines; UTF-8 or GB18030), streaming.
//! - [`header`] maps a file's header to the item's fields (label, key, field code, older generations).
//! - [`validate`] checks each row (typed values, identifiers, DOMAIN.md §4 consistency) and links it to a
//!   subject claim.
//! - [`screen`] answers many identifiers at once against the lists (batch screening).
//! - [`pipeline`] runs them on one thread and writes to the store on another, in one transaction.

pub mod header;
pub mod pipeline;
pub mod reader;
pub mod screen;
pub mod validate;
