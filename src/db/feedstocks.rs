//! Feedstock verbs.

use super::entities::{dataset, feedstock, recipe_run};
use super::keyset::{self, KeysetPage, SortKey};
use super::listing::{FeedstockField, Page, Sort};
use super::{Database, DbError, Stats, sorted};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

/// The only provider the original knew, and the default.
pub const GITHUB_PROVIDER: &str = "github";

/// The fields of a new feedstock.
#[derive(Debug, Clone)]
pub struct NewFeedstock {
    /// `org/name`, e.g. `pangeo-forge/gpcp-feedstock`.
    pub spec: String,
    /// Defaults to `github`.
    pub provider: Option<String>,
}

/// A partial update of a feedstock: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct FeedstockPatch {
    pub spec: Option<String>,
    pub provider: Option<String>,
}

/// A spec is `owner/repository` in GitHub's alphabet (letters, digits, `-`, `_`, `.`).
pub fn check_spec(spec: &str) -> Result<(), DbError> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match spec.split_once('/') {
        Some((owner, repo)) if valid_part(owner) && valid_part(repo) => Ok(()),
        _ => Err(DbError::Invalid(format!(
            "`{spec}` is not a feedstock spec: expected `owner/repository`, e.g. `pangeo-forge/gpcp-feedstock`"
        ))),
    }
}

fn check_provider(provider: &str) -> Result<(), DbError> {
    if provider != GITHUB_PROVIDER {
        return Err(DbError::Invalid(format!(
            "unknown provider `{provider}`: only `github` is supported"
        )));
    }
    Ok(())
}

impl Database {
    /// One feedstock by id.
    pub async fn feedstock(&self, id: i32) -> Result<Option<feedstock::Model>, DbError> {
        Ok(feedstock::Entity::find_by_id(id).one(&self.conn).await?)
    }

    /// One feedstock by its unique spec (`org/name`).
    pub async fn feedstock_by_spec(&self, spec: &str) -> Result<Option<feedstock::Model>, DbError> {
        Ok(feedstock::Entity::find()
            .filter(feedstock::Column::Spec.eq(spec))
            .one(&self.conn)
            .await?)
    }

    /// The feedstocks with these ids (any order).
    pub async fn feedstocks_by_ids(&self, ids: &[i32]) -> Result<Vec<feedstock::Model>, DbError> {
        Ok(feedstock::Entity::find()
            .filter(feedstock::Column::Id.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// A page of feedstocks.
    pub async fn list_feedstocks(
        &self,
        sort: Sort<FeedstockField>,
        page: Page,
    ) -> Result<Vec<feedstock::Model>, DbError> {
        let select = sorted(
            feedstock::Entity::find(),
            sort.field.column(),
            feedstock::Column::Id,
            sort.direction,
        );
        Ok(select
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.conn)
            .await?)
    }

    /// The keyset page `page` of the feedstocks in ordering `sort`.
    pub async fn feedstocks_after(
        &self,
        sort: Sort<FeedstockField>,
        page: &KeysetPage,
    ) -> Result<Vec<feedstock::Model>, DbError> {
        keyset::fetch(&self.conn, feedstock::Entity::find(), sort, page).await
    }

    /// How many feedstocks exist (the trigger-kept counter).
    pub async fn count_feedstocks(&self) -> Result<u64, DbError> {
        self.count(Stats::Feedstocks).await
    }

    /// Records a new feedstock; a taken spec is a [`DbError::Conflict`].
    pub async fn create_feedstock(&self, new: NewFeedstock) -> Result<feedstock::Model, DbError> {
        check_spec(&new.spec)?;
        let provider = new.provider.unwrap_or_else(|| GITHUB_PROVIDER.to_owned());
        check_provider(&provider)?;
        let spec = new.spec.clone();
        let created = feedstock::ActiveModel {
            spec: Set(new.spec),
            provider: Set(provider),
            ..Default::default()
        }
        .insert(&self.conn)
        .await
        .map_err(|e| {
            DbError::conflict_on_unique(e, || format!("feedstock `{spec}` already exists"))
        })?;
        self.changes.touched();
        Ok(created)
    }

    /// Changes the given fields of feedstock `id`.
    pub async fn update_feedstock(
        &self,
        id: i32,
        patch: FeedstockPatch,
    ) -> Result<feedstock::Model, DbError> {
        let existing = self
            .feedstock(id)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("feedstock {id} not found")))?;
        let spec = patch.spec.clone().unwrap_or_else(|| existing.spec.clone());
        let mut row: feedstock::ActiveModel = existing.into();
        if let Some(new_spec) = patch.spec {
            check_spec(&new_spec)?;
            row.spec = Set(new_spec);
        }
        if let Some(provider) = patch.provider {
            check_provider(&provider)?;
            row.provider = Set(provider);
        }
        let updated = row.update(&self.conn).await.map_err(|e| {
            DbError::conflict_on_unique(e, || format!("feedstock `{spec}` already exists"))
        })?;
        self.changes.touched();
        Ok(updated)
    }

    /// Deletes feedstock `id`; refused while recipe runs or datasets still name it.
    pub async fn delete_feedstock(&self, id: i32) -> Result<feedstock::Model, DbError> {
        let existing = self
            .feedstock(id)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("feedstock {id} not found")))?;
        let runs = recipe_run::Entity::find()
            .filter(recipe_run::Column::FeedstockId.eq(id))
            .count(&self.conn)
            .await?;
        let datasets = dataset::Entity::find()
            .filter(dataset::Column::FeedstockId.eq(id))
            .count(&self.conn)
            .await?;
        if runs + datasets > 0 {
            return Err(DbError::Conflict(format!(
                "feedstock {id} still has {runs} recipe run(s) and {datasets} dataset(s); delete them first"
            )));
        }
        feedstock::Entity::delete_by_id(id).exec(&self.conn).await?;
        self.changes.touched();
        Ok(existing)
    }
}
