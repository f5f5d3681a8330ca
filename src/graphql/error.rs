//! GraphQL errors with a machine-readable `extensions.code`.
//!
//! Codes: `BAD_USER_INPUT`, `NOT_FOUND`, `CONFLICT`, `UNAUTHENTICATED`, and
//! `INTERNAL_SERVER_ERROR` (details are logged, never sent); the dataset preview's fields add
//! `FORBIDDEN`, `BAD_METADATA`, `STORAGE_FAILED`, `STORAGE_TIMEOUT` and `SERVICE_UNAVAILABLE`
//! (see `dataset_summary`).

use crate::db::DbError;
use async_graphql::ErrorExtensions;

/// An error a resolver returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("internal server error")]
    Internal,
}

impl ApiError {
    /// The `extensions.code` value.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Internal => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound(m) => ApiError::NotFound(m),
            DbError::Conflict(m) => ApiError::Conflict(m),
            DbError::Invalid(m) => ApiError::BadUserInput(m),
            DbError::Db(e) => {
                tracing::error!(error = %e, "database error in a GraphQL resolver");
                ApiError::Internal
            }
        }
    }
}

impl From<std::sync::Arc<DbError>> for ApiError {
    fn from(err: std::sync::Arc<DbError>) -> Self {
        match &*err {
            DbError::NotFound(m) => ApiError::NotFound(m.clone()),
            DbError::Conflict(m) => ApiError::Conflict(m.clone()),
            DbError::Invalid(m) => ApiError::BadUserInput(m.clone()),
            DbError::Db(e) => {
                tracing::error!(error = %e, "database error in a GraphQL loader");
                ApiError::Internal
            }
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string())
            .extend_with(|_, ext| ext.set("code", self.code()))
    }
}

/// `?`-friendly conversion of our errors into GraphQL errors that keep their code.
pub trait OrGql<T> {
    /// Converts the error side into an `async_graphql::Error` with `extensions.code`.
    fn or_gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> OrGql<T> for Result<T, E> {
    fn or_gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().extend())
    }
}

/// The database handle a resolver needs, or an internal error if the schema was built
/// without one (only `schema` printing does that).
pub fn db<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a crate::db::Database> {
    ctx.data::<crate::db::Database>()
        .map_err(|_| ApiError::Internal.extend())
}
