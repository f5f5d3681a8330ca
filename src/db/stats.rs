//! The counts pangeo-forge.org shows on its front page.

use super::enums::DatasetScope;
use super::listing::{DatasetFilter, RecipeRunFilter};
use super::{Database, DbError};

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

impl Database {
    /// Counts one kind of row.
    pub async fn count(&self, what: Stats) -> Result<u64, DbError> {
        match what {
            Stats::RecipeRuns => self.count_recipe_runs(&RecipeRunFilter::default()).await,
            Stats::Bakeries => self.count_bakeries().await,
            Stats::Feedstocks => self.count_feedstocks().await,
            Stats::Datasets { exclude_test_runs } => {
                let scope = if exclude_test_runs {
                    DatasetScope::Production
                } else {
                    DatasetScope::All
                };
                self.count_datasets(&DatasetFilter {
                    feedstock_id: None,
                    scope,
                })
                .await
            }
        }
    }
}
