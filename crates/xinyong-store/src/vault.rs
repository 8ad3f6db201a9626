//! The vault: encryption of personal data at rest and keyed lookup hashes (DOMAIN.md §9).
//!
//! Keys live outside the database, in `keys/vault.key` beside the store (mode 0600): 32 bytes for
//! XChaCha20-Poly1305 and 32 bytes for HMAC-SHA256. A resident ID is stored as ciphertext and found by
//! `HMAC(key, normalised ID)`, so the database alone reveals neither the ID nor a way to test guesses.
//! Record content hashes are keyed too, for the same reason.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Result, StoreError};

const KEY_FILE: &str = "vault.key";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Encryption and lookup keys. `Debug` prints nothing secret.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
    /// HMAC-SHA256 already keyed: each hash clones it instead of hashing the key's two pads again,
    /// two of the ~13 SHA-256 blocks a licence's content hash costs.
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// Makes new keys in `dir/vault.key` (created with mode 0600). Fails if the file exists.
    pub fn create(dir: &Path) -> Result<Vault> {
        fs::create_dir_all(dir)?;
        restrict_dir(dir)?;
        let path = dir.join(KEY_FILE);
        let mut bytes = [0u8; 64];
        rand::fill(&mut bytes);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file =
            options.open(&path).map_err(|e| StoreError::Vault(format!("cannot create {}: {e}", path.display())))?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        Vault::from_bytes(&bytes)
    }

    /// Opens the keys in `dir/vault.key`.
    pub fn open(dir: &Path) -> Result<Vault> {
        let path: PathBuf = dir.join(KEY_FILE);
        let bytes = fs::read(&path).map_err(|e| StoreError::Vault(format!("cannot read {}: {e}", path.display())))?;
        Vault::from_bytes(&bytes)
    }

    /// Keys from 64 bytes (tests, and deployments that inject the key from a secret store).
    pub fn from_bytes(bytes: &[u8]) -> Result<Vault> {
        if bytes.len() != 64 {
            return Err(StoreError::Vault("vault key must be 64 bytes".into()));
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes[..32])
            .map_err(|_| StoreError::Vault("bad encryption key".into()))?;
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&bytes[32..])
            .map_err(|_| StoreError::Vault("bad lookup key".into()))?;
        Ok(Vault { cipher, mac })
    }

    /// Nonce ‖ ciphertext ‖ tag, sealed in place in the one buffer it is returned in (a load seals the
    /// personal fields of every row of a natural person).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        // A random 192-bit nonce from the thread's CSPRNG (ChaCha, seeded from the OS): no system call
        // per sealed row, and no realistic chance of a repeat.
        let mut bytes = [0u8; NONCE_LEN];
        rand::fill(&mut bytes);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&bytes);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_in_place_detached(&XNonce::from(bytes), b"", &mut out[NONCE_LEN..])
            .map_err(|_| StoreError::Vault("encryption failed".into()))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(StoreError::Vault("ciphertext too short".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| StoreError::Vault("ciphertext does not authenticate (wrong key or altered data)".into()))
    }

    /// Keyed hash used to find a resident ID (32 bytes).
    pub fn lookup_hash(&self, value: &str) -> Vec<u8> {
        self.mac(b"lookup\0", value.as_bytes())
    }

    /// Keyed hash of a record's canonical content (16 bytes: change detection, not secrecy).
    pub fn content_hash(&self, canonical: &[u8]) -> Vec<u8> {
        let mut h = self.mac(b"content\0", canonical);
        h.truncate(16);
        h
    }

    fn mac(&self, domain: &[u8], value: &[u8]) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(domain);
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }
}

fn restrict_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_bytes(&[7u8; 64]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ciphertext_round_trips_and_differs_each_time() {
        let v = vault();
        let a = v.encrypt(b"310101199001011234").unwrap_or_default();
        let b = v.encrypt(b"310101199001011234").unwrap_or_default();
        assert_ne!(a, b);
        assert_eq!(v.decrypt(&a).unwrap_or_default(), b"310101199001011234");
    }

    #[test]
    fn an_altered_ciphertext_is_refused() {
        let v = vault();
        let mut a = v.encrypt(b"secret").unwrap_or_default();
        let last = a.len() - 1;
        a[last] ^= 1;
        assert!(v.decrypt(&a).is_err());
    }

    #[test]
    fn lookup_hashes_are_keyed() {
        let other = Vault::from_bytes(&[8u8; 64]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(vault().lookup_hash("x"), vault().lookup_hash("x"));
        assert_ne!(vault().lookup_hash("x"), other.lookup_hash("x"));
    }

    /// Stores hold these hashes: they are HMAC-SHA256 under the key's second half with a domain
    /// prefix, and must stay so (the expected values come from Python's `hmac` module).
    #[test]
    fn hashes_are_standard_hmac_sha256() {
        assert_eq!(
            hex::encode(vault().lookup_hash("310101199001011234")),
            "e17a5af107d20a46fed7db674d11ffa1cc456ed4994a1ac9b4ecaade33864ff1"
        );
        assert_eq!(
            hex::encode(vault().content_hash("name\u{1f}张三\u{1e}".as_bytes())),
            "1b9cf8739a69f49b7f5153dfad5dcd0f"
        );
    }

    /// Sealed in place, the layout is the one `Aead::encrypt` gives (stores hold such values):
    /// nonce, then ciphertext and tag as one call seals them.
    #[test]
    fn a_sealed_value_is_nonce_then_what_aead_encrypt_gives() {
        let v = vault();
        let sealed = v.encrypt("沪A12345 张三".as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let again =
            v.cipher.encrypt(XNonce::from_slice(nonce), "沪A12345 张三".as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body, again.as_slice());
        assert_eq!(v.decrypt(&sealed).unwrap_or_else(|e| panic!("{e}")), "沪A12345 张三".as_bytes());
    }

    /// A value sealed by a build whose poly1305 ran its AVX2 backend (before `.cargo/config.toml` chose
    /// the portable one) opens: the backend changes the speed, never the bytes.
    #[test]
    fn a_value_sealed_by_the_avx2_backend_opens() {
        let sealed = "85270ce71f97ed64327171459f878c28125732770d8ac1e81858e524e95478ba83719580c99d07162555d258b6994\
                      efebf6b116f748796ca06621f32c1ef448827fb";
        let bytes = hex::decode(sealed).unwrap_or_else(|e| panic!("{e}"));
        let opened = vault().decrypt(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened, br#"{"8":"310101199001011234"}"#);
    }
}
