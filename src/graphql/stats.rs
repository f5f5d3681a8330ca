//! `stats`: the counts on pangeo-forge.org's front page.

use super::error::{OrGql, db};
use crate::db::Stats as Count;
use async_graphql::{Context, Object, Result};

/// Counts of everything the orchestrator records; each runs only if selected.
pub struct Stats;

#[Object]
impl Stats {
    async fn recipe_runs(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(db(ctx)?.count(Count::RecipeRuns).await.or_gql()? as i64)
    }
    async fn bakeries(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(db(ctx)?.count(Count::Bakeries).await.or_gql()? as i64)
    }
    async fn feedstocks(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(db(ctx)?.count(Count::Feedstocks).await.or_gql()? as i64)
    }
    /// Datasets produced; `excludeTestRuns: true` counts production datasets only.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] exclude_test_runs: bool,
    ) -> Result<i64> {
        Ok(db(ctx)?
            .count(Count::Datasets { exclude_test_runs })
            .await
            .or_gql()? as i64)
    }
}

/// The `stats` query.
#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    async fn stats(&self) -> Stats {
        Stats
    }
}
