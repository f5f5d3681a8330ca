//! Relay-style connections (`edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`)
//! over keyset pages of the database verbs (`db::keyset`).
//!
//! A cursor ([`super::cursor`]) holds a row's sort key and id in the connection's ordering;
//! `after: cursor` returns the rows that follow that row in the same ordering, found by
//! comparing keys, so a deep page costs what the first costs and rows written between two
//! requests neither repeat nor hide rows of the pages still to come. `totalCount` runs its
//! count only when selected.
//!
//! `pageInfo.hasNextPage` is exact (the page asks for one row more than it returns).
//! `hasPreviousPage` is `true` exactly when `after` was given: rows came before this page
//! when its cursor was made. Paging is forward only (`first`/`after`; no `last`/`before`),
//! so it is not checked whether those rows still exist.

use super::cursor::Ordering;
use super::error::{ApiError, OrGql};
use crate::db::keyset::{KeysetPage, SortKey};
use crate::db::listing::{DatasetFilter, MAX_PAGE_SIZE, RecipeRunFilter};
use crate::db::{Database, DbError, DeliveryFilter};
use async_graphql::{ErrorExtensions, SimpleObject};

/// A connection's arguments, checked: its ordering, how many rows and where they start.
#[derive(Debug, Clone)]
pub struct PageRequest<F> {
    /// The list and ordering the cursors are bound to.
    pub ordering: Ordering<F>,
    /// `first`: the most rows to return.
    pub first: u64,
    /// The page the database is asked for: after `after`, one row more than `first`.
    pub page: KeysetPage,
}

/// Turns `first`/`after` of the list `list` in ordering `sort` into a page request. A
/// cursor of another list or ordering, an old offset cursor and anything that is not a
/// cursor are `BAD_USER_INPUT`.
pub fn page_of<F: SortKey>(
    list: &'static str,
    sort: crate::db::listing::Sort<F>,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<PageRequest<F>> {
    let first = match first {
        None => MAX_PAGE_SIZE,
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as u64,
        Some(n) => {
            return Err(ApiError::BadUserInput(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}, got {n}"
            ))
            .extend());
        }
    };
    let ordering = Ordering { list, sort };
    let after = after
        .map(|cursor| ordering.position(cursor))
        .transpose()
        .map_err(|e| e.extend())?;
    Ok(PageRequest {
        ordering,
        first,
        page: KeysetPage {
            after,
            limit: first + 1,
        },
    })
}

/// Where a page sits in its list.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether rows follow this page (exact).
    pub has_next_page: bool,
    /// Whether `after` was given, i.e. rows came before this page when its cursor was made
    /// (paging is forward only; whether they still exist is not checked).
    pub has_previous_page: bool,
    /// The first row's cursor, or null for an empty page.
    pub start_cursor: Option<String>,
    /// The last row's cursor: pass it as `after` for the next page; null for an empty page.
    pub end_cursor: Option<String>,
}

/// The count behind a connection's `totalCount`, run only if selected.
#[derive(Debug, Clone)]
pub enum TotalCount {
    Bakeries,
    Feedstocks,
    RecipeRuns(RecipeRunFilter),
    Datasets(DatasetFilter),
    Deliveries(DeliveryFilter),
}

impl TotalCount {
    /// Runs the count.
    pub async fn get(&self, db: &Database) -> async_graphql::Result<i64> {
        let count: Result<u64, DbError> = match self {
            TotalCount::Bakeries => db.count_bakeries().await,
            TotalCount::Feedstocks => db.count_feedstocks().await,
            TotalCount::RecipeRuns(filter) => db.count_recipe_runs(filter).await,
            TotalCount::Datasets(filter) => db.count_datasets(filter).await,
            TotalCount::Deliveries(filter) => db.count_deliveries(filter).await,
        };
        Ok(count.or_gql()? as i64)
    }
}

/// Declares `<Node>Connection` and `<Node>Edge` for one node type.
macro_rules! connection_type {
    ($connection:ident, $edge:ident, $node:ty) => {
        #[doc = concat!("One `", stringify!($node), "` of a page, with its cursor.")]
        pub struct $edge {
            cursor: $crate::graphql::cursor::Place,
            node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            /// Pass this as `after` to get the rows that follow, in the same ordering (a
            /// cursor of another ordering is refused).
            async fn cursor(&self) -> String {
                self.cursor.encode()
            }
            async fn node(&self) -> $crate::graphql::plain::Plain<&$node> {
                $crate::graphql::plain::Plain(&self.node)
            }
        }

        #[doc = concat!("A page of `", stringify!($node), "`s.")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: $crate::graphql::connection::PageInfo,
            total: $crate::graphql::connection::TotalCount,
        }

        impl $connection {
            /// Builds a page from the rows fetched for `request` (up to `first + 1`),
            /// minting each row's cursor before `wrap` turns the rows into nodes.
            pub fn new<F: $crate::db::keyset::SortKey>(
                mut rows: Vec<<F::Entity as sea_orm::EntityTrait>::Model>,
                request: &$crate::graphql::connection::PageRequest<F>,
                wrap: impl FnOnce(Vec<<F::Entity as sea_orm::EntityTrait>::Model>) -> Vec<$node>,
                total: $crate::graphql::connection::TotalCount,
            ) -> Self {
                let has_next_page = rows.len() as u64 > request.first;
                rows.truncate(request.first as usize);
                let cursors: Vec<$crate::graphql::cursor::Place> =
                    rows.iter().map(|row| request.ordering.place(row)).collect();
                let edges: Vec<$edge> = cursors
                    .into_iter()
                    .zip(wrap(rows))
                    .map(|(cursor, node)| $edge { cursor, node })
                    .collect();
                let page_info = $crate::graphql::connection::PageInfo {
                    has_next_page,
                    has_previous_page: request.page.after.is_some(),
                    start_cursor: edges.first().map(|e| e.cursor.encode()),
                    end_cursor: edges.last().map(|e| e.cursor.encode()),
                };
                $connection {
                    edges,
                    page_info,
                    total,
                }
            }
        }

        #[async_graphql::Object]
        impl $connection {
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }
            /// The nodes of `edges`, without cursors.
            async fn nodes(&self) -> Vec<$crate::graphql::plain::Plain<&$node>> {
                self.edges
                    .iter()
                    .map(|e| $crate::graphql::plain::Plain(&e.node))
                    .collect()
            }
            async fn page_info(&self) -> &$crate::graphql::connection::PageInfo {
                &self.page_info
            }
            /// How many rows the whole list holds (all pages).
            async fn total_count(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<i64> {
                self.total.get($crate::graphql::error::db(ctx)?).await
            }
        }
    };
}
pub(crate) use connection_type;
