//! Bakery verbs.

use super::entities::{bakery, recipe_run};
use super::keyset::{self, KeysetPage, SortKey};
use super::listing::{BakeryField, Page, Sort};
use super::{Database, DbError, Stats, sorted};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

/// The fields of a new bakery.
#[derive(Debug, Clone)]
pub struct NewBakery {
    pub name: String,
    pub region: String,
    pub description: String,
}

/// A partial update of a bakery: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct BakeryPatch {
    pub name: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
}

fn check_name(name: &str) -> Result<(), DbError> {
    if name.trim().is_empty() {
        return Err(DbError::Invalid("a bakery name must not be empty".into()));
    }
    Ok(())
}

impl Database {
    /// One bakery by id.
    pub async fn bakery(&self, id: i32) -> Result<Option<bakery::Model>, DbError> {
        Ok(bakery::Entity::find_by_id(id).one(&self.conn).await?)
    }

    /// One bakery by its unique name.
    pub async fn bakery_by_name(&self, name: &str) -> Result<Option<bakery::Model>, DbError> {
        Ok(bakery::Entity::find()
            .filter(bakery::Column::Name.eq(name))
            .one(&self.conn)
            .await?)
    }

    /// The bakeries with these ids (any order; missing ids are simply absent).
    pub async fn bakeries_by_ids(&self, ids: &[i32]) -> Result<Vec<bakery::Model>, DbError> {
        Ok(bakery::Entity::find()
            .filter(bakery::Column::Id.is_in(ids.iter().copied()))
            .all(&self.conn)
            .await?)
    }

    /// A page of bakeries.
    pub async fn list_bakeries(
        &self,
        sort: Sort<BakeryField>,
        page: Page,
    ) -> Result<Vec<bakery::Model>, DbError> {
        let select = sorted(
            bakery::Entity::find(),
            sort.field.column(),
            bakery::Column::Id,
            sort.direction,
        );
        Ok(select
            .offset(page.offset)
            .limit(page.limit)
            .all(&self.conn)
            .await?)
    }

    /// The keyset page `page` of the bakeries in ordering `sort`.
    pub async fn bakeries_after(
        &self,
        sort: Sort<BakeryField>,
        page: &KeysetPage,
    ) -> Result<Vec<bakery::Model>, DbError> {
        keyset::fetch(&self.conn, bakery::Entity::find(), sort, page).await
    }

    /// How many bakeries exist (the trigger-kept counter).
    pub async fn count_bakeries(&self) -> Result<u64, DbError> {
        self.count(Stats::Bakeries).await
    }

    /// Records a new bakery; a taken name is a [`DbError::Conflict`].
    pub async fn create_bakery(&self, new: NewBakery) -> Result<bakery::Model, DbError> {
        check_name(&new.name)?;
        let name = new.name.clone();
        let created = bakery::ActiveModel {
            name: Set(new.name),
            region: Set(new.region),
            description: Set(new.description),
            ..Default::default()
        }
        .insert(&self.conn)
        .await
        .map_err(|e| {
            DbError::conflict_on_unique(e, || format!("a bakery named `{name}` already exists"))
        })?;
        self.changes.touched();
        Ok(created)
    }

    /// Changes the given fields of bakery `id`.
    pub async fn update_bakery(
        &self,
        id: i32,
        patch: BakeryPatch,
    ) -> Result<bakery::Model, DbError> {
        let existing = self
            .bakery(id)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("bakery {id} not found")))?;
        let name = patch.name.clone().unwrap_or_else(|| existing.name.clone());
        let mut row: bakery::ActiveModel = existing.into();
        if let Some(name) = patch.name {
            check_name(&name)?;
            row.name = Set(name);
        }
        if let Some(region) = patch.region {
            row.region = Set(region);
        }
        if let Some(description) = patch.description {
            row.description = Set(description);
        }
        let updated = row.update(&self.conn).await.map_err(|e| {
            DbError::conflict_on_unique(e, || format!("a bakery named `{name}` already exists"))
        })?;
        self.changes.touched();
        Ok(updated)
    }

    /// Deletes bakery `id`; refused while recipe runs still name it.
    pub async fn delete_bakery(&self, id: i32) -> Result<bakery::Model, DbError> {
        let existing = self
            .bakery(id)
            .await?
            .ok_or_else(|| DbError::NotFound(format!("bakery {id} not found")))?;
        let runs = recipe_run::Entity::find()
            .filter(recipe_run::Column::BakeryId.eq(id))
            .count(&self.conn)
            .await?;
        if runs > 0 {
            return Err(DbError::Conflict(format!(
                "bakery {id} still has {runs} recipe run(s); delete them first"
            )));
        }
        bakery::Entity::delete_by_id(id).exec(&self.conn).await?;
        self.changes.touched();
        Ok(existing)
    }
}
