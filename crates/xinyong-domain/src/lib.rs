//! The credit domain of xinyong, without I/O: identifiers, the catalog of information items, typed
//! field values, records, subjects and masking. Everything here is pure: time is passed in, nothing
//! reads a clock, a file or a socket.

pub mod access;
pub mod calendar;
pub mod catalog;
pub mod commitment;
pub mod disclosure;
pub mod ids;
pub mod masking;
pub mod measures;
pub mod record;
pub mod subject;
pub mod value;
pub mod workflow;
