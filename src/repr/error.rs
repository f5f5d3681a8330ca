//! Why a preview could not be made, worded for the person who asked, with the HTTP status
//! each reason stands for.

/// A preview that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReprError {
    /// No URL, or not a URL the preview can read (422).
    #[error("{0}")]
    Invalid(String),
    /// This server does not read that URL: not one of its datasets, or credentials in it (403).
    #[error("{0}")]
    Refused(String),
    /// The storage refused to let us read (403).
    #[error("{0}")]
    Denied(String),
    /// No Zarr store there (404).
    #[error("{0}")]
    NotFound(String),
    /// The storage answered, but not with metadata a preview can be made of (502).
    #[error("{0}")]
    BadMetadata(String),
    /// The storage failed or could not be reached (502).
    #[error("{0}")]
    Storage(String),
    /// The storage did not answer in time (504).
    #[error("{0}")]
    Timeout(String),
    /// The preview is off on this server (`PFO_REPR_ENABLED=false`) (503).
    #[error("the dataset preview is off on this server (PFO_REPR_ENABLED=false)")]
    Off,
    /// Our side failed (the database); details are logged, not sent (500).
    #[error("the preview failed on the server")]
    Internal,
}

impl ReprError {
    /// The HTTP status this reason is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ReprError::Invalid(_) => 422,
            ReprError::Refused(_) | ReprError::Denied(_) => 403,
            ReprError::NotFound(_) => 404,
            ReprError::BadMetadata(_) | ReprError::Storage(_) => 502,
            ReprError::Timeout(_) => 504,
            ReprError::Off => 503,
            ReprError::Internal => 500,
        }
    }

    /// The GraphQL `extensions.code` of this reason.
    pub fn code(&self) -> &'static str {
        match self {
            ReprError::Invalid(_) => "BAD_USER_INPUT",
            ReprError::Refused(_) | ReprError::Denied(_) => "FORBIDDEN",
            ReprError::NotFound(_) => "NOT_FOUND",
            ReprError::BadMetadata(_) => "BAD_METADATA",
            ReprError::Storage(_) => "STORAGE_FAILED",
            ReprError::Timeout(_) => "STORAGE_TIMEOUT",
            ReprError::Off => "SERVICE_UNAVAILABLE",
            ReprError::Internal => "INTERNAL_SERVER_ERROR",
        }
    }

    /// Whether a later try may go otherwise without any change of ours (kept in the cache
    /// for a shorter time).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ReprError::Storage(_) | ReprError::Timeout(_) | ReprError::Internal
        )
    }
}
