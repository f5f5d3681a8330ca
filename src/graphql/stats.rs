//! `stats`: the counts on pangeo-forge.org's front page.

use super::error::{OrGql, db};
use crate::db::{Counts, Stats as Count};
use async_graphql::{Context, Object, Result};
use tokio::sync::OnceCell;

/// Counts of everything the orchestrator records. The first selected field reads every
/// counter in one statement; the others use that answer.
#[derive(Default)]
pub struct Stats {
    counts: OnceCell<Counts>,
}

impl Stats {
    async fn get(&self, ctx: &Context<'_>, what: Count) -> Result<i64> {
        let counts = self
            .counts
            .get_or_try_init(|| async { db(ctx)?.counts().await.or_gql() })
            .await?;
        Ok(counts.get(what).or_gql()? as i64)
    }
}

#[Object]
impl Stats {
    async fn recipe_runs(&self, ctx: &Context<'_>) -> Result<i64> {
        self.get(ctx, Count::RecipeRuns).await
    }
    async fn bakeries(&self, ctx: &Context<'_>) -> Result<i64> {
        self.get(ctx, Count::Bakeries).await
    }
    async fn feedstocks(&self, ctx: &Context<'_>) -> Result<i64> {
        self.get(ctx, Count::Feedstocks).await
    }
    /// Datasets produced; `excludeTestRuns: true` counts production datasets only.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] exclude_test_runs: bool,
    ) -> Result<i64> {
        self.get(ctx, Count::Datasets { exclude_test_runs }).await
    }
}

/// The `stats` query.
#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    async fn stats(&self) -> Stats {
        Stats::default()
    }
}
