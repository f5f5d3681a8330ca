//! Relay-style connections (`edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`)
//! over the offset pages of the database verbs.
//!
//! A cursor is the opaque (base64) position of a row in the ordered list; `after: cursor`
//! starts the next page right after it. `totalCount` runs its count only when selected.

use super::error::{ApiError, OrGql};
use crate::db::listing::{DatasetFilter, MAX_PAGE_SIZE, Page, RecipeRunFilter};
use crate::db::{Database, DbError, DeliveryFilter};
use async_graphql::{ErrorExtensions, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const CURSOR_PREFIX: &str = "offset:";

/// The opaque cursor of the row at `offset`.
pub fn encode_cursor(offset: u64) -> String {
    STANDARD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// The offset a cursor stands for.
pub fn decode_cursor(cursor: &str) -> Result<u64, ApiError> {
    STANDARD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse().ok())
        .ok_or_else(|| ApiError::BadUserInput(format!("`{cursor}` is not a cursor from this API")))
}

/// Turns `first`/`after` into a page; the page asks for one row more than it returns, to
/// learn whether a next page exists.
pub fn page_of(first: Option<i32>, after: Option<&str>) -> async_graphql::Result<Page> {
    let limit = match first {
        None => MAX_PAGE_SIZE,
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as u64,
        Some(n) => {
            return Err(ApiError::BadUserInput(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}, got {n}"
            ))
            .extend());
        }
    };
    let offset = match after {
        Some(cursor) => decode_cursor(cursor).map_err(|e| e.extend())? + 1,
        None => 0,
    };
    Ok(Page { offset, limit })
}

/// Where a page sits in its list.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
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
            cursor: String,
            node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            /// Pass this as `after` to get the rows that follow.
            async fn cursor(&self) -> &str {
                &self.cursor
            }
            async fn node(&self) -> &$node {
                &self.node
            }
        }

        #[doc = concat!("A page of `", stringify!($node), "`s.")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: $crate::graphql::connection::PageInfo,
            total: $crate::graphql::connection::TotalCount,
        }

        impl $connection {
            /// Builds a page from the rows fetched for `page` (up to `page.limit + 1`).
            pub fn new(
                mut rows: Vec<$node>,
                page: $crate::db::listing::Page,
                total: $crate::graphql::connection::TotalCount,
            ) -> Self {
                let has_next_page = rows.len() as u64 > page.limit;
                rows.truncate(page.limit as usize);
                let edges: Vec<$edge> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, node)| $edge {
                        cursor: $crate::graphql::connection::encode_cursor(page.offset + i as u64),
                        node,
                    })
                    .collect();
                let page_info = $crate::graphql::connection::PageInfo {
                    has_next_page,
                    has_previous_page: page.offset > 0,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
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
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
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

/// The page to ask the database for: one row more than `page`, to detect a next page.
pub fn probe(page: Page) -> Page {
    Page {
        offset: page.offset,
        limit: page.limit + 1,
    }
}
