//! Who is calling: the HTTP layer puts a [`Caller`] in each request, and [`AdminGuard`]
//! refuses mutations to callers without a valid admin key before any resolver runs.

use super::error::ApiError;
use async_graphql::{Context, ErrorExtensions, Guard};

/// The identity of the caller of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Caller {
    /// No key, or a key that matched none of `PFO_ADMIN_API_KEYS`.
    #[default]
    Anonymous,
    /// A valid admin key was presented.
    Admin,
}

/// Lets a field run only for [`Caller::Admin`].
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match ctx.data_opt::<Caller>() {
            Some(Caller::Admin) => Ok(()),
            _ => Err(ApiError::Unauthenticated(
                "this mutation needs an admin API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
                    .into(),
            )
            .extend()),
        }
    }
}
