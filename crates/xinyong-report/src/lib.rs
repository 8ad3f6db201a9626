//! Credit reports (DOMAIN.md §8): the report model, its arrangement from a subject's records, the three
//! formats (PDF through typst, self-contained HTML, canonical JSON) and their Ed25519 signatures.
//!
//! Data flows one way: the server picks and masks the records ([`build::ReportRecord`]) →
//! [`build::build`] arranges them into a [`model::Report`] → [`render`] lays it out in a format and
//! signs the bytes with the platform's keyring → [`sign::verify`] checks any file offline.
//!
//! ```no_run
//! # fn demo(report: &xinyong_report::model::Report, keys: &xinyong_store::keyring::Keyring) -> Result<(), xinyong_report::Error> {
//! use xinyong_report::{render, sign::{verify, Format}};
//! let html = render(report, Format::Html, None, keys)?;
//! assert!(verify(&html, Some(keys.public_keys())).is_ok());
//! # Ok(()) }
//! ```

pub mod build;
pub mod html;
pub mod model;
pub mod pdf;
pub mod sign;

use xinyong_store::keyring::Keyring;

use crate::model::Report;
use crate::pdf::{PdfEngine, PdfError};
use crate::sign::Format;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("making the QR code: {0}")]
    Qr(String),
    #[error("signing the report: {0}")]
    Sign(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The QR code pointing at `url`, as an SVG document.
pub fn qr_svg(url: &str) -> Result<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Qr(e.to_string()))?;
    Ok(code.render::<svg::Color<'_>>().min_dimensions(160, 160).quiet_zone(true).build())
}

/// The report in `format`, signed with the keyring's current key. PDF needs an engine (fonts).
pub fn render(report: &Report, format: Format, pdf: Option<&PdfEngine>, keys: &Keyring) -> Result<Vec<u8>> {
    match format {
        Format::Json => sign::seal_json(report, keys).map_err(Error::Sign),
        Format::Html => {
            let svg = qr_svg(&report.verify_url)?;
            // Inline in HTML: without the XML declaration.
            let svg = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
            let doc = html::render(report, svg).into_bytes();
            sign::seal_document(Format::Html, doc, report, keys).map_err(Error::Sign)
        }
        Format::Pdf => {
            let engine = pdf.ok_or(PdfError::NoFont)?;
            let doc = engine.render(report, &qr_svg(&report.verify_url)?)?;
            sign::seal_document(Format::Pdf, doc, report, keys).map_err(Error::Sign)
        }
    }
}
