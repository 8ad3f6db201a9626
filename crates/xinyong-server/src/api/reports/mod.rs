//! `/reports`: issue a credit report, fetch it as PDF, HTML or JSON, verify a report file (public);
//! the public verification pages (`/verify`, `/verify/{number}`) are the portal's (`crate::web::reports`).

pub mod create;
pub mod get;
pub mod verify;
