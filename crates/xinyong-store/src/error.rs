//! The store's error type. Backends map their driver errors into it; messages never carry personal data.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no platform at {0}: run `xinyong init` first")]
    NotInitialised(String),
    #[error("a platform already exists at {0} (use --force to replace it)")]
    AlreadyInitialised(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("vault: {0}")]
    Vault(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Stable snake_case code (API error bodies, logs).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotInitialised(_) => "not_initialised",
            StoreError::AlreadyInitialised(_) => "already_initialised",
            StoreError::NotFound(_) => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Invalid(_) => "invalid",
            StoreError::Vault(_) => "vault",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::Backend(_) => "backend",
            StoreError::Io(_) => "io",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
