//! Signing report files and verifying them (DOMAIN.md §8): an Ed25519 signature over the file's own
//! bytes, so that changing any byte outside the signature makes verification fail, and the file still
//! opens in an ordinary reader.
//!
//! | format | file | signed message |
//! |---|---|---|
//! | JSON | `{"report":BODY,"signature":{"algorithm":"Ed25519","key_id":…,"public_key":…,"value":…}}\n` | `{"report":BODY` |
//! | HTML | the document, then `<!-- XINYONG-SIGNATURE HEAD SIG -->\n` | HEAD, then the document |
//! | PDF | the PDF with a comment line `%XINYONG-SIGNATURE HEAD SIG` just before its final `startxref` | HEAD, then the PDF without that line |
//!
//! HEAD is base64url of a small JSON object (number, subject, kind, issue time, key id, public key), so
//! `verify` can say what a PDF or HTML file is without parsing it; SIG is base64url of the 64-byte
//! signature. Every message is prefixed with a context string naming the format, so a signature of one
//! format is never valid for another. The trailer is parsed and written back; anything that does not
//! give the very same bytes (a changed letter case, an extra space) is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use xinyong_store::keyring::{KeyInfo, Keyring};

use crate::model::Report;

const CONTEXT: &[u8] = b"xinyong credit report signature v1\n";
const PDF_MARK: &[u8] = b"\n%XINYONG-SIGNATURE ";
const HTML_MARK: &[u8] = b"\n<!-- XINYONG-SIGNATURE ";
const PDF_TAIL: &[u8] = b"\nstartxref";
const JSON_START: &[u8] = b"{\"report\":";
const JSON_MARK: &[u8] = b",\"signature\":";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pdf,
    Html,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Some(Format::Pdf),
            "html" | "htm" => Some(Format::Html),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    /// Which format a file is, from its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"%PDF-") {
            Some(Format::Pdf)
        } else if bytes.starts_with(JSON_START) {
            Some(Format::Json)
        } else if bytes.starts_with(b"<!DOCTYPE html>") {
            Some(Format::Html)
        } else {
            None
        }
    }
}

/// What a signature vouches for, besides the bytes: carried in PDF and HTML trailers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub number: String,
    pub subject: String,
    pub kind: String,
    pub issued_at: String,
    pub key_id: String,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSignature {
    algorithm: String,
    key_id: String,
    public_key: String,
    value: String,
}

/// Why a file is not an authentic report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a report file (PDF, HTML or JSON report expected)")]
    UnknownFormat,
    #[error("the file carries no report signature, or it was altered")]
    Malformed,
    #[error("the signing key {0} is not one of the platform's published keys")]
    UnknownKey(String),
    #[error("the public key in the file does not match the platform's key {0}")]
    KeyMismatch(String),
    #[error("the signature does not match the file's content: it was altered or not issued by us")]
    BadSignature,
    #[error("{0}")]
    Keyring(String),
}

/// A verified file: what it is and who signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub format: Format,
    pub number: String,
    pub subject: String,
    pub kind: String,
    pub issued_at: String,
    pub key_id: String,
    /// Whether the key was checked against the platform's published keys (else only the key the
    /// file carries vouched for it).
    pub key_checked: bool,
}

fn head_of(report: &Report, key: &KeyInfo) -> Head {
    Head {
        number: report.number.clone(),
        subject: report.subject.name.clone(),
        kind: report.kind.as_str().to_owned(),
        issued_at: report.issued_at.to_rfc3339(),
        key_id: key.key_id.clone(),
        public_key: hex::encode(key.public_key),
    }
}

fn message(format: Format, head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + head.len() + body.len() + 8);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(format.extension().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(head);
    m.push(b'\n');
    m.extend_from_slice(body);
    m
}

fn trailer(format: Format, head_b64: &str, sig_b64: &str) -> Vec<u8> {
    match format {
        Format::Pdf => format!("\n%XINYONG-SIGNATURE {head_b64} {sig_b64}").into_bytes(),
        Format::Html => format!("\n<!-- XINYONG-SIGNATURE {head_b64} {sig_b64} -->").into_bytes(),
        Format::Json => Vec::new(),
    }
}

/// Where the trailer goes, and what must follow it: in a PDF, a comment line just before the final
/// `startxref` (readers find `startxref` within the last bytes of the file, and the cross-reference
/// offsets before it stay right); in HTML, the last line.
fn follows(format: Format) -> &'static [u8] {
    if format == Format::Pdf { PDF_TAIL } else { b"\n" }
}

/// Signs a rendered PDF or HTML document (`body`) with the keyring's current key.
pub fn seal_document(format: Format, mut body: Vec<u8>, report: &Report, keys: &Keyring) -> Result<Vec<u8>, String> {
    if format == Format::Json {
        return Err("use seal_json for JSON".to_owned());
    }
    if body.last() != Some(&b'\n') {
        body.push(b'\n');
    }
    let at = rfind(&body, follows(format)).ok_or("the document has no end to sign at")?;
    let head = serde_json::to_vec(&head_of(report, keys.current())).map_err(|e| e.to_string())?;
    let (_, signature) = keys.sign(&message(format, &head, &body));
    let t = trailer(format, &B64.encode(&head), &B64.encode(signature));
    body.splice(at..at, t);
    Ok(body)
}

/// The JSON format: the canonical body and a detached signature over it.
pub fn seal_json(report: &Report, keys: &Keyring) -> Result<Vec<u8>, String> {
    let body = report.canonical_json().map_err(|e| e.to_string())?;
    let mut signed = Vec::with_capacity(body.len() + 256);
    signed.extend_from_slice(JSON_START);
    signed.extend_from_slice(body.as_bytes());
    let key = keys.current();
    let (_, signature) = keys.sign(&message(Format::Json, key.key_id.as_bytes(), &signed));
    let sig = JsonSignature {
        algorithm: "Ed25519".to_owned(),
        key_id: key.key_id.clone(),
        public_key: hex::encode(key.public_key),
        value: B64.encode(signature),
    };
    signed.extend_from_slice(JSON_MARK);
    signed.extend_from_slice(&serde_json::to_vec(&sig).map_err(|e| e.to_string())?);
    signed.extend_from_slice(b"}\n");
    Ok(signed)
}

/// A file taken apart: the signed message, the signature and the key it names.
struct Opened {
    format: Format,
    message: Vec<u8>,
    signature: Vec<u8>,
    head: Head,
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn open(bytes: &[u8]) -> Result<Opened, VerifyError> {
    let format = Format::sniff(bytes).ok_or(VerifyError::UnknownFormat)?;
    if format == Format::Json {
        return open_json(bytes);
    }
    let mark = if format == Format::Pdf { PDF_MARK } else { HTML_MARK };
    let at = rfind(bytes, mark).ok_or(VerifyError::Malformed)?;
    let end = bytes[at + 1..].iter().position(|&b| b == b'\n').map(|n| at + 1 + n).ok_or(VerifyError::Malformed)?;
    let (tail, rest) = (&bytes[at..end], &bytes[end..]);
    // The trailer sits where the signer put it: before the last `startxref`, or last in the page.
    let tail_ok = match format {
        Format::Pdf => rest.starts_with(PDF_TAIL) && rfind(rest, PDF_TAIL) == Some(0),
        _ => rest == b"\n",
    };
    if !tail_ok {
        return Err(VerifyError::Malformed);
    }
    let text = std::str::from_utf8(&tail[mark.len()..]).map_err(|_| VerifyError::Malformed)?;
    let mut parts = text.split(' ');
    let (Some(head_b64), Some(sig_b64)) = (parts.next(), parts.next()) else { return Err(VerifyError::Malformed) };
    if trailer(format, head_b64, sig_b64) != tail {
        return Err(VerifyError::Malformed);
    }
    let head_bytes = B64.decode(head_b64).map_err(|_| VerifyError::Malformed)?;
    let signature = B64.decode(sig_b64).map_err(|_| VerifyError::Malformed)?;
    if B64.encode(&head_bytes) != head_b64 || B64.encode(&signature) != sig_b64 {
        return Err(VerifyError::Malformed);
    }
    let head: Head = serde_json::from_slice(&head_bytes).map_err(|_| VerifyError::Malformed)?;
    let mut unsigned = Vec::with_capacity(bytes.len() - tail.len());
    unsigned.extend_from_slice(&bytes[..at]);
    unsigned.extend_from_slice(rest);
    Ok(Opened { format, message: message(format, &head_bytes, &unsigned), signature, head })
}

fn open_json(bytes: &[u8]) -> Result<Opened, VerifyError> {
    let at = rfind(bytes, JSON_MARK).ok_or(VerifyError::Malformed)?;
    let (signed, tail) = bytes.split_at(at);
    let sig_text = tail[JSON_MARK.len()..].strip_suffix(b"}\n").ok_or(VerifyError::Malformed)?;
    let sig: JsonSignature = serde_json::from_slice(sig_text).map_err(|_| VerifyError::Malformed)?;
    if serde_json::to_vec(&sig).map_err(|_| VerifyError::Malformed)? != sig_text || sig.algorithm != "Ed25519" {
        return Err(VerifyError::Malformed);
    }
    let signature = B64.decode(&sig.value).map_err(|_| VerifyError::Malformed)?;
    if B64.encode(&signature) != sig.value {
        return Err(VerifyError::Malformed);
    }
    let body = std::str::from_utf8(&signed[JSON_START.len()..]).map_err(|_| VerifyError::Malformed)?;
    let report = Report::from_json(body).map_err(|_| VerifyError::Malformed)?;
    let head = Head {
        number: report.number.clone(),
        subject: report.subject.name.clone(),
        kind: report.kind.as_str().to_owned(),
        issued_at: report.issued_at.to_rfc3339(),
        key_id: sig.key_id.clone(),
        public_key: sig.public_key.clone(),
    };
    Ok(Opened { format: Format::Json, message: message(Format::Json, sig.key_id.as_bytes(), signed), signature, head })
}

/// Verifies a report file. With `platform_keys`, the signing key must be one of them (and not
/// retired); without, only the public key the file carries is used (offline, nothing to check it
/// against) and [`Verified::key_checked`] is false.
pub fn verify(bytes: &[u8], platform_keys: Option<&[KeyInfo]>) -> Result<Verified, VerifyError> {
    let o = open(bytes)?;
    let mut carried = [0u8; 32];
    hex::decode_to_slice(&o.head.public_key, &mut carried).map_err(|_| VerifyError::Malformed)?;
    if hex::encode(carried) != o.head.public_key {
        return Err(VerifyError::Malformed);
    }
    let key_id = o.head.key_id.clone();
    let own;
    let keys: &[KeyInfo] = match platform_keys {
        Some(keys) => {
            let listed =
                keys.iter().find(|k| k.key_id == key_id).ok_or_else(|| VerifyError::UnknownKey(key_id.clone()))?;
            if listed.public_key != carried {
                return Err(VerifyError::KeyMismatch(key_id));
            }
            keys
        }
        None => {
            own = [KeyInfo {
                key_id: key_id.clone(),
                public_key: carried,
                valid_from: chrono::DateTime::default(),
                valid_until: None,
                retired: false,
            }];
            &own
        }
    };
    xinyong_store::keyring::verify(keys, &key_id, &o.message, &o.signature).map_err(|e| match e {
        xinyong_store::keyring::VerifyError::BadSignature(_) => VerifyError::BadSignature,
        xinyong_store::keyring::VerifyError::Malformed(_) => VerifyError::Malformed,
        other => VerifyError::Keyring(other.to_string()),
    })?;
    Ok(Verified {
        format: o.format,
        number: o.head.number,
        subject: o.head.subject,
        kind: o.head.kind,
        issued_at: o.head.issued_at,
        key_id,
        key_checked: platform_keys.is_some(),
    })
}
