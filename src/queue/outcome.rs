//! How a piece of queued work ends: an [`Outcome`], or a [`FlowError`] that says whether
//! trying again later may help.

use crate::db::DbError;
use std::time::Duration;

/// How a delivery's processing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Work was done; the note says what.
    Done(String),
    /// Nothing to do; the note says why.
    Ignored(String),
}

/// Why a flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Might pass later (GitHub 5xx or rate limit, a network error, the database away):
    /// the delivery is queued again, not before `wait` when given.
    #[error("{error}")]
    Retry {
        error: String,
        wait: Option<Duration>,
    },
    /// Will not pass by trying again (GitHub 4xx, a payload we cannot act on): the delivery
    /// ends as `failed` with this error.
    #[error("{0}")]
    Fail(String),
}

impl FlowError {
    /// A final failure with `message`.
    pub fn fail(message: impl Into<String>) -> Self {
        FlowError::Fail(message.into())
    }

    /// Adds what was being done to the message.
    pub fn context(self, doing: impl std::fmt::Display) -> Self {
        match self {
            FlowError::Retry { error, wait } => FlowError::Retry {
                error: format!("{doing}: {error}"),
                wait,
            },
            FlowError::Fail(error) => FlowError::Fail(format!("{doing}: {error}")),
        }
    }
}

impl From<DbError> for FlowError {
    fn from(err: DbError) -> Self {
        match err {
            // The database being away or busy passes; a broken invariant does not.
            DbError::Db(e) => FlowError::Retry {
                error: format!("database: {e}"),
                wait: None,
            },
            other => FlowError::Fail(other.to_string()),
        }
    }
}

/// Adds context to a fallible step's error: `step.await.doing("creating the check run")?`.
pub trait Doing<T> {
    /// Converts the error to a [`FlowError`] saying what was being done.
    fn doing(self, what: impl std::fmt::Display) -> Result<T, FlowError>;
}

impl<T, E: Into<FlowError>> Doing<T> for Result<T, E> {
    fn doing(self, what: impl std::fmt::Display) -> Result<T, FlowError> {
        self.map_err(|e| e.into().context(what))
    }
}
