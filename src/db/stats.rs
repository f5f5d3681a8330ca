//! The counts pangeo-forge.org shows on its front page, read from `row_count`: counters the
//! database's own triggers keep exact in every writing transaction (migration
//! `m20261125_000004_row_counts`), so a request reads five rows instead of counting
//! 100,000 runs.

use super::{Database, DbError};
use sea_orm::{ConnectionTrait, Statement};

/// What `stats` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stats {
    RecipeRuns,
    Bakeries,
    Feedstocks,
    /// Datasets; `exclude_test_runs` leaves out those of test runs.
    Datasets {
        exclude_test_runs: bool,
    },
}

impl Stats {
    /// The `row_count` counter holding this count.
    fn counter(self) -> &'static str {
        match self {
            Stats::RecipeRuns => "recipe_run",
            Stats::Bakeries => "bakery",
            Stats::Feedstocks => "feedstock",
            Stats::Datasets {
                exclude_test_runs: false,
            } => "dataset",
            Stats::Datasets {
                exclude_test_runs: true,
            } => "dataset_production",
        }
    }
}

/// Every front-page count, read in one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    counters: Vec<(String, u64)>,
}

impl Counts {
    /// One of the counts.
    pub fn get(&self, what: Stats) -> Result<u64, DbError> {
        self.counters
            .iter()
            .find(|(name, _)| name == what.counter())
            .map(|(_, n)| *n)
            .ok_or_else(|| missing(what))
    }
}

fn missing(what: Stats) -> DbError {
    DbError::Db(sea_orm::DbErr::Custom(format!(
        "row_count has no '{}' counter: the database is not fully migrated",
        what.counter()
    )))
}

impl Database {
    /// Counts one kind of row.
    pub async fn count(&self, what: Stats) -> Result<u64, DbError> {
        self.counts().await?.get(what)
    }

    /// Every count, in one statement (the GraphQL `stats` object reads them once).
    pub async fn counts(&self) -> Result<Counts, DbError> {
        let statement = Statement::from_string(self.backend(), "SELECT name, n FROM row_count");
        let counters = self
            .conn
            .query_all_raw(statement)
            .await?
            .into_iter()
            .map(|row| {
                let name: String = row.try_get("", "name")?;
                let n: i64 = row.try_get("", "n")?;
                Ok((name, n.max(0) as u64))
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        Ok(Counts { counters })
    }
}
