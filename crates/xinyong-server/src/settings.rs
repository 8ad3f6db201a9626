//! Server configuration: one [`Settings`] struct.
//!
//! Precedence, lowest to highest: built-in defaults → the TOML file named by `--config` or
//! `XINYONG_CONFIG` → `XINYONG_*` environment variables → command-line flags. Unknown keys in the
//! file are an error, so a typo never silently falls back to a default.
//!
//! ```toml
//! listen = "0.0.0.0:8080"
//! max_body_bytes = 1048576
//! max_batch_bytes = 2147483648
//! rate_per_second = 100
//! rate_burst = 1000
//! request_timeout_secs = 30
//! batch_timeout_secs = 3600
//! audit_max_batch = 512
//! public_url = "https://credit.example.gov.cn"
//! platform_name = "上海市公共信用信息服务平台"
//! free_reports_per_year = 2
//! font_dir = "/path/to/cjk-fonts"
//! session_idle_minutes = 30
//! session_absolute_hours = 12
//! login_max_failures = 5
//! login_lockout_minutes = 15
//! login_address_max_failures = 20
//! login_address_window_minutes = 15
//! trust_forwarded_for = false
//! secure_cookies = true
//! daily_evaluation = true
//! daily_evaluation_hour = 2
//! ```

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Largest JSON request body (413 above).
    pub max_body_bytes: usize,
    /// Largest batch upload (413 above); uploads stream to disk, never into memory.
    pub max_batch_bytes: u64,
    /// Requests per second per account (429 above), with this burst.
    pub rate_per_second: u32,
    pub rate_burst: u32,
    pub request_timeout_secs: u64,
    pub batch_timeout_secs: u64,
    /// Most query-log entries one audit commit carries (group commit).
    pub audit_max_batch: usize,
    /// Where the portal is reachable (used in links, e.g. report QR codes).
    pub public_url: String,
    /// How often list changes are fanned out and due pushes attempted.
    pub push_interval_ms: u64,
    /// The first retry waits this long; each further one twice as long, up to an hour.
    pub push_backoff_ms: u64,
    /// A delivery is given up (status `failed`, still listed) after this many attempts.
    pub push_max_attempts: u32,
    /// The issuing platform printed on credit reports.
    pub platform_name: String,
    /// Credit reports a natural person may get free of charge per calendar year (DOMAIN.md §5).
    pub free_reports_per_year: u64,
    /// A folder of CJK fonts for PDF reports (else `XINYONG_FONT_DIR`, else the system's).
    pub font_dir: Option<std::path::PathBuf>,
    /// How long a breach of a credit commitment bars the subject from commitment-based handling, in
    /// months *(default 12; policy data, see `xinyong_domain::commitment`)*.
    pub commitment_bar_months: u32,
    /// A browser session ends after this long without a request …
    pub session_idle_minutes: u32,
    /// … and in any case this long after sign-in.
    pub session_absolute_hours: u32,
    /// Failed sign-ins in a row that lock an account …
    pub login_max_failures: u32,
    /// … for this long.
    pub login_lockout_minutes: u32,
    /// Failed sign-ins from one client address (an IPv6 client by its /64), whatever the accounts, that
    /// stop its password checks …
    pub login_address_max_failures: u32,
    /// … until the oldest of them is this old.
    pub login_address_window_minutes: u32,
    /// Take the client address from the last entry of `X-Forwarded-For` (set it only behind a load
    /// balancer that appends it; otherwise clients could choose their address).
    pub trust_forwarded_for: bool,
    /// Session cookies carry `Secure`. Unset: yes, except for requests to a loopback host
    /// (`localhost`, `127.0.0.1`), so a demo works over plain HTTP on one machine.
    pub secure_cookies: Option<bool>,
    /// Recompute every subject's score once a day, so that scores follow time alone (a penalty leaving
    /// its window) …
    pub daily_evaluation: bool,
    /// … at the first check after this hour of the platform's day (0–23; checked every 10 minutes).
    pub daily_evaluation_hour: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1 << 20,
            max_batch_bytes: 2 << 30,
            rate_per_second: 100,
            rate_burst: 1000,
            request_timeout_secs: 30,
            batch_timeout_secs: 3600,
            audit_max_batch: 512,
            public_url: "http://127.0.0.1:8080".to_owned(),
            push_interval_ms: 1000,
            push_backoff_ms: 5000,
            push_max_attempts: 16,
            platform_name: "上海市公共信用信息服务平台".to_owned(),
            free_reports_per_year: 2,
            font_dir: None,
            commitment_bar_months: xinyong_domain::commitment::CommitmentRules::default().bar_months,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 5,
            login_lockout_minutes: 15,
            login_address_max_failures: 20,
            login_address_window_minutes: 15,
            trust_forwarded_for: false,
            secure_cookies: None,
            daily_evaluation: true,
            daily_evaluation_hour: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Settings {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let mut s = match file {
            None => Settings::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| SettingsError::File { path: path.display().to_string(), message: e.to_string() })?;
                toml::from_str(&text)
                    .map_err(|e| SettingsError::File { path: path.display().to_string(), message: e.to_string() })?
            }
        };
        s.apply_env(env)?;
        if s.daily_evaluation_hour > 23 {
            return Err(SettingsError::Env {
                name: "daily_evaluation_hour".to_owned(),
                message: format!("{} is not an hour of the day (0–23)", s.daily_evaluation_hour),
            });
        }
        Ok(s)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, SettingsError>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e: T::Err| SettingsError::Env { name: name.to_owned(), message: e.to_string() })
        }
        if let Some(v) = env("XINYONG_LISTEN") {
            self.listen = parse("XINYONG_LISTEN", &v)?;
        }
        if let Some(v) = env("XINYONG_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("XINYONG_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = env("XINYONG_MAX_BATCH_BYTES") {
            self.max_batch_bytes = parse("XINYONG_MAX_BATCH_BYTES", &v)?;
        }
        if let Some(v) = env("XINYONG_RATE_PER_SECOND") {
            self.rate_per_second = parse("XINYONG_RATE_PER_SECOND", &v)?;
        }
        if let Some(v) = env("XINYONG_RATE_BURST") {
            self.rate_burst = parse("XINYONG_RATE_BURST", &v)?;
        }
        if let Some(v) = env("XINYONG_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = parse("XINYONG_REQUEST_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = env("XINYONG_COMMITMENT_BAR_MONTHS") {
            self.commitment_bar_months = parse("XINYONG_COMMITMENT_BAR_MONTHS", &v)?;
        }
        if let Some(v) = env("XINYONG_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = env("XINYONG_PLATFORM_NAME") {
            self.platform_name = v;
        }
        if let Some(v) = env("XINYONG_DAILY_EVALUATION") {
            self.daily_evaluation = parse("XINYONG_DAILY_EVALUATION", &v)?;
        }
        if let Some(v) = env("XINYONG_DAILY_EVALUATION_HOUR") {
            self.daily_evaluation_hour = parse("XINYONG_DAILY_EVALUATION_HOUR", &v)?;
        }
        if let Some(v) = env("XINYONG_TRUST_FORWARDED_FOR") {
            self.trust_forwarded_for = parse("XINYONG_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = env("XINYONG_SECURE_COOKIES") {
            self.secure_cookies = Some(parse("XINYONG_SECURE_COOKIES", &v)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "rate_per_second = 7\nrate_burst = 9\n").unwrap_or_else(|e| panic!("{e}"));
        let env = |k: &str| (k == "XINYONG_RATE_BURST").then(|| "11".to_owned());
        let s = Settings::load(Some(&path), env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.rate_per_second, s.rate_burst, s.request_timeout_secs), (7, 11, 30));
    }

    #[test]
    fn the_daily_evaluation_hour_must_be_an_hour() {
        let env = |k: &str| (k == "XINYONG_DAILY_EVALUATION_HOUR").then(|| "24".to_owned());
        let err = Settings::load(None, env).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("24 is not an hour of the day"), "{err}");
        let env = |k: &str| (k == "XINYONG_DAILY_EVALUATION").then(|| "false".to_owned());
        let s = Settings::load(None, env).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.daily_evaluation && s.daily_evaluation_hour == 2);
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "rate_per_secnod = 7\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(Settings::load(Some(&path), |_| None).is_err());
    }
}
