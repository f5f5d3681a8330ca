//! The errors the database verbs return, sorted by what a caller does about them.

use sea_orm::{DbErr, SqlErr};

/// What went wrong in a database verb.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A unique value (bakery name, feedstock spec) is taken, or a row is still referenced.
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule of the data model (unknown bakery id, conclusion without
    /// `completed`, …).
    #[error("{0}")]
    Invalid(String),
    /// The database itself failed (connection lost, engine error).
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl DbError {
    /// Turns a unique-constraint violation into [`DbError::Conflict`] with `message`,
    /// leaving every other error as it is.
    pub(crate) fn conflict_on_unique(err: DbErr, message: impl FnOnce() -> String) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DbError::Conflict(message()),
            _ => DbError::Db(err),
        }
    }
}
