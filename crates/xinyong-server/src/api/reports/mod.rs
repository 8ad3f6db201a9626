//! `/reports`: issue a credit report, fetch it as PDF, HTML or JSON, verify a report file (public);
//! and the public verification page the report's QR code points to (`/verify/{number}`).

pub mod create;
pub mod get;
pub mod page;
pub mod verify;
