//! The platform's Ed25519 signing keys: they sign audit checkpoints (and, later, reports), so that the
//! head of the audit chain cannot be rewritten unnoticed (DOMAIN.md §9).
//!
//! Keys live outside the database, in the store's key folder (mode 0700) beside the vault key:
//! ```text
//! keys/
//!   signing-<key_id>.key   32-byte Ed25519 secret, mode 0600, never rewritten
//!   signing-keys.json      every public key: [{ key_id, public_key, valid_from, valid_until, retired }]
//! ```
//! Invariants:
//! - exactly one key is *current* (no `valid_until`, not retired); only it signs;
//! - `key_id` is the first 8 bytes of SHA-256 of the public key, in hex, so a listed key cannot be
//!   swapped for another under the same id, and ids are safe in file names;
//! - rotating ends the current key's validity (`valid_until = now`) but keeps it listed, so material it
//!   signed still verifies; only the public part is needed for that ([`verify`]);
//! - a *retired* key is withdrawn (suspected compromise): its signatures no longer verify.
//!
//! ```no_run
//! # fn main() -> xinyong_store::Result<()> {
//! use xinyong_store::keyring::{Keyring, verify};
//! let now = chrono::DateTime::parse_from_rfc3339("2026-05-06T10:00:00+08:00").unwrap_or_default();
//! let ring = Keyring::create(std::path::Path::new("data/keys"), now)?;
//! let (key_id, signature) = ring.sign(b"message");
//! assert!(verify(ring.public_keys(), &key_id, b"message", &signature).is_ok());
//! # Ok(()) }
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::error::{Result, StoreError};

const LIST_FILE: &str = "signing-keys.json";

/// A signing key's public part and validity, as `/api/v1/keys` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub key_id: String,
    #[serde(with = "hex_key")]
    pub public_key: [u8; 32],
    pub valid_from: Timestamp,
    /// When the key stopped signing (it was rotated); `None` for the current key.
    pub valid_until: Option<Timestamp>,
    /// Withdrawn: signatures by this key are no longer trusted.
    pub retired: bool,
}

impl KeyInfo {
    fn is_current(&self) -> bool {
        self.valid_until.is_none() && !self.retired
    }
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("unknown signing key {0}")]
    UnknownKey(String),
    #[error("signing key {0} is retired")]
    Retired(String),
    #[error("malformed public key or signature for key {0}")]
    Malformed(String),
    #[error("signature by key {0} does not match")]
    BadSignature(String),
}

/// Checks `signature` over `message` against the listed public key `key_id`.
pub fn verify(public_keys: &[KeyInfo], key_id: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let info = public_keys.iter().find(|k| k.key_id == key_id).ok_or_else(|| VerifyError::UnknownKey(key_id.into()))?;
    if info.retired {
        return Err(VerifyError::Retired(key_id.into()));
    }
    let key = VerifyingKey::from_bytes(&info.public_key).map_err(|_| VerifyError::Malformed(key_id.into()))?;
    let signature = Signature::from_slice(signature).map_err(|_| VerifyError::Malformed(key_id.into()))?;
    key.verify_strict(message, &signature).map_err(|_| VerifyError::BadSignature(key_id.into()))
}

/// The signing keys of one platform. `Debug` prints key ids only.
pub struct Keyring {
    dir: PathBuf,
    keys: Vec<KeyInfo>,
    /// Index in `keys` of the current key, and its secret.
    current: usize,
    secret: SigningKey,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.key_id.as_str()).collect();
        f.debug_struct("Keyring").field("dir", &self.dir).field("keys", &ids).finish_non_exhaustive()
    }
}

impl Keyring {
    /// Makes the first signing key in `dir`. Fails if a key list exists there.
    pub fn create(dir: &Path, now: Timestamp) -> Result<Keyring> {
        fs::create_dir_all(dir)?;
        restrict_dir(dir)?;
        if dir.join(LIST_FILE).exists() {
            return Err(StoreError::Vault(format!("signing keys already exist in {}", dir.display())));
        }
        let (info, secret) = new_key(dir, now)?;
        let keys = vec![info];
        save_list(dir, &keys)?;
        Ok(Keyring { dir: dir.to_path_buf(), keys, current: 0, secret })
    }

    /// Opens the keys in `dir`, checking the list against the current key's secret.
    pub fn open(dir: &Path) -> Result<Keyring> {
        let path = dir.join(LIST_FILE);
        let text = fs::read(&path).map_err(|e| vault(format!("cannot read {}: {e}", path.display())))?;
        let keys: Vec<KeyInfo> =
            serde_json::from_slice(&text).map_err(|e| vault(format!("{} is malformed: {e}", path.display())))?;
        if let Some(bad) = keys.iter().find(|k| k.key_id != key_id_of(&k.public_key)) {
            return Err(vault(format!("key {} does not match its public key", bad.key_id)));
        }
        let mut current = keys.iter().enumerate().filter(|(_, k)| k.is_current());
        let (Some((index, info)), None) = (current.next(), current.next()) else {
            return Err(vault(format!("{} must list exactly one current key", path.display())));
        };
        let secret = read_secret(dir, &info.key_id)?;
        if secret.verifying_key().to_bytes() != info.public_key {
            return Err(vault(format!("the secret of key {} does not match its public key", info.key_id)));
        }
        Ok(Keyring { dir: dir.to_path_buf(), current: index, keys, secret })
    }

    /// Opens the keys in `dir`, or makes the first one if there are none yet (stores created before
    /// signing existed).
    pub fn open_or_create(dir: &Path, now: Timestamp) -> Result<Keyring> {
        if dir.join(LIST_FILE).exists() { Keyring::open(dir) } else { Keyring::create(dir, now) }
    }

    /// Makes a new current key; the previous one stops signing at `now` but stays listed.
    pub fn rotate(&mut self, now: Timestamp) -> Result<KeyInfo> {
        let (info, secret) = new_key(&self.dir, now)?;
        let mut keys = self.keys.clone();
        for k in keys.iter_mut().filter(|k| k.is_current()) {
            k.valid_until = Some(now);
        }
        keys.push(info.clone());
        save_list(&self.dir, &keys)?;
        self.current = keys.len() - 1;
        self.keys = keys;
        self.secret = secret;
        Ok(info)
    }

    /// Withdraws a key that is no longer current (rotate first): its signatures stop verifying.
    pub fn retire(&mut self, key_id: &str) -> Result<()> {
        let mut keys = self.keys.clone();
        let key = keys.iter_mut().find(|k| k.key_id == key_id).ok_or_else(|| vault(format!("no key {key_id}")))?;
        if key.is_current() {
            return Err(vault(format!("key {key_id} is current: rotate before retiring it")));
        }
        key.retired = true;
        save_list(&self.dir, &keys)?;
        self.keys = keys;
        Ok(())
    }

    /// The key that signs now.
    pub fn current(&self) -> &KeyInfo {
        &self.keys[self.current]
    }

    /// Signs with the current key: `(key_id, 64-byte signature)`.
    pub fn sign(&self, message: &[u8]) -> (String, Vec<u8>) {
        (self.current().key_id.clone(), self.secret.sign(message).to_bytes().to_vec())
    }

    /// Every key ever made, oldest first.
    pub fn public_keys(&self) -> &[KeyInfo] {
        &self.keys
    }
}

/// Writes the list to a temporary file and renames it over the old one, so a crash leaves either.
fn save_list(dir: &Path, keys: &[KeyInfo]) -> Result<()> {
    let json = serde_json::to_vec_pretty(keys).map_err(|e| vault(format!("cannot encode key list: {e}")))?;
    let tmp = dir.join(format!("{LIST_FILE}.tmp"));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(&json)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(LIST_FILE))?;
    sync_dir(dir)
}

fn vault(message: String) -> StoreError {
    StoreError::Vault(message)
}

fn key_id_of(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

fn secret_path(dir: &Path, key_id: &str) -> PathBuf {
    dir.join(format!("signing-{key_id}.key"))
}

/// A fresh key, its secret written with `create_new` and mode 0600.
fn new_key(dir: &Path, now: Timestamp) -> Result<(KeyInfo, SigningKey)> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = SigningKey::from_bytes(&bytes);
    let public_key = secret.verifying_key().to_bytes();
    let key_id = key_id_of(&public_key);
    let path = secret_path(dir, &key_id);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| vault(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    sync_dir(dir)?;
    let info = KeyInfo { key_id, public_key, valid_from: now, valid_until: None, retired: false };
    Ok((info, secret))
}

fn read_secret(dir: &Path, key_id: &str) -> Result<SigningKey> {
    let path = secret_path(dir, key_id);
    let bytes = fs::read(&path).map_err(|e| vault(format!("cannot read {}: {e}", path.display())))?;
    let bytes: [u8; 32] =
        bytes.as_slice().try_into().map_err(|_| vault(format!("{} must hold 32 bytes", path.display())))?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn restrict_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes a new or renamed file's directory entry durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

mod hex_key {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(hour: u32) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-05-06T{hour:02}:00:00+08:00")).unwrap()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let mut bytes = [0u8; 8];
        rand::fill(&mut bytes);
        std::env::temp_dir().join(format!("xinyong-keyring-{name}-{}", hex::encode(bytes))).join("keys")
    }

    struct Cleanup(PathBuf);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Some(parent) = self.0.parent() {
                let _ = fs::remove_dir_all(parent);
            }
        }
    }

    fn fresh(name: &str) -> (Keyring, Cleanup) {
        let dir = temp_dir(name);
        (Keyring::create(&dir, at(9)).unwrap(), Cleanup(dir))
    }

    #[test]
    fn a_signature_verifies_with_the_listed_public_key() {
        let (ring, _dir) = fresh("sign");
        let (key_id, sig) = ring.sign(b"checkpoint 7");
        assert_eq!(key_id, ring.current().key_id);
        assert_eq!(sig.len(), 64);
        assert_eq!(verify(ring.public_keys(), &key_id, b"checkpoint 7", &sig), Ok(()));
    }

    #[test]
    fn a_tampered_message_or_signature_fails() {
        let (ring, _dir) = fresh("tamper");
        let (key_id, mut sig) = ring.sign(b"checkpoint 7");
        assert_eq!(
            verify(ring.public_keys(), &key_id, b"checkpoint 8", &sig),
            Err(VerifyError::BadSignature(key_id.clone()))
        );
        sig[0] ^= 1;
        assert!(verify(ring.public_keys(), &key_id, b"checkpoint 7", &sig).is_err());
        assert_eq!(
            verify(ring.public_keys(), "0011223344556677", b"x", &sig),
            Err(VerifyError::UnknownKey("0011223344556677".into()))
        );
        assert!(matches!(verify(ring.public_keys(), &key_id, b"x", &sig[..10]), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn rotation_keeps_old_signatures_verifiable_after_reopening() {
        let (mut ring, dir) = fresh("rotate");
        let first = ring.current().clone();
        let (old_id, old_sig) = ring.sign(b"old");
        let second = ring.rotate(at(12)).unwrap();
        assert_ne!(second.key_id, first.key_id);
        assert_eq!(ring.current(), &second);
        let (new_id, new_sig) = ring.sign(b"new");
        assert_eq!(new_id, second.key_id);

        let reopened = Keyring::open(&dir.0).unwrap();
        assert_eq!(reopened.current().key_id, second.key_id);
        let keys = reopened.public_keys();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].valid_until, Some(at(12)));
        assert_eq!(keys[1].valid_until, None);
        assert_eq!(verify(keys, &old_id, b"old", &old_sig), Ok(()));
        assert_eq!(verify(keys, &new_id, b"new", &new_sig), Ok(()));
        assert!(dir.0.join(format!("signing-{}.key", first.key_id)).exists());
    }

    #[test]
    fn a_retired_key_no_longer_verifies_and_the_current_one_cannot_be_retired() {
        let (mut ring, _dir) = fresh("retire");
        let (old_id, old_sig) = ring.sign(b"old");
        assert!(ring.retire(&old_id).is_err());
        ring.rotate(at(12)).unwrap();
        ring.retire(&old_id).unwrap();
        assert_eq!(verify(ring.public_keys(), &old_id, b"old", &old_sig), Err(VerifyError::Retired(old_id)));
    }

    #[test]
    fn a_second_create_is_refused_and_a_swapped_public_key_is_detected() {
        let (ring, dir) = fresh("refuse");
        assert!(Keyring::create(&dir.0, at(10)).is_err());
        let mut keys = ring.public_keys().to_vec();
        keys[0].public_key[0] ^= 1;
        fs::write(dir.0.join(LIST_FILE), serde_json::to_vec(&keys).unwrap()).unwrap();
        assert!(Keyring::open(&dir.0).is_err());
    }

    #[test]
    fn the_key_list_is_public_json_and_debug_prints_no_secret() {
        let (ring, dir) = fresh("json");
        let json: serde_json::Value = serde_json::from_slice(&fs::read(dir.0.join(LIST_FILE)).unwrap()).unwrap();
        let first = &json[0];
        assert_eq!(first["key_id"], ring.current().key_id.as_str());
        assert_eq!(first["public_key"], hex::encode(ring.current().public_key).as_str());
        assert_eq!(first["valid_from"], "2026-05-06T09:00:00+08:00");
        assert_eq!(first["valid_until"], serde_json::Value::Null);
        assert_eq!(first["retired"], false);
        let secret = fs::read(secret_path(&dir.0, &ring.current().key_id)).unwrap();
        let debug = format!("{ring:?}");
        assert!(!debug.contains(&hex::encode(&secret)), "{debug}");
        assert!(debug.contains(&ring.current().key_id));
    }

    #[cfg(unix)]
    #[test]
    fn secrets_are_0600_in_a_0700_folder() {
        use std::os::unix::fs::PermissionsExt;
        let (mut ring, dir) = fresh("modes");
        ring.rotate(at(12)).unwrap();
        for key in ring.public_keys() {
            let mode = fs::metadata(secret_path(&dir.0, &key.key_id)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(fs::metadata(&dir.0).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
