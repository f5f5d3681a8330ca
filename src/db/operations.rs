//! Counts for operations (`/metrics`): deliveries by event and state, the queue's depth and
//! age, runs by status. Each is one grouped query, run at scrape time.

use super::{Database, DbError};
use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, Statement};

#[derive(Debug, FromQueryResult)]
struct Grouped {
    label_a: String,
    label_b: String,
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct ByStatus {
    label: String,
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct QueueRow {
    depth: i64,
    oldest: Option<DateTime<Utc>>,
}

/// The queue as a worker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    /// Deliveries queued or being processed.
    pub depth: i64,
    /// When the oldest of them was received.
    pub oldest: Option<DateTime<Utc>>,
}

impl Database {
    fn statement(&self, sql: &str) -> Statement {
        Statement::from_string(self.backend(), sql.to_owned())
    }

    /// `(event, state, count)` for every delivery.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, String, i64)>, DbError> {
        let sql = "SELECT event AS label_a, state AS label_b, CAST(COUNT(*) AS BIGINT) AS n \
                   FROM webhook_delivery GROUP BY event, state ORDER BY event, state";
        let rows = Grouped::find_by_statement(self.statement(sql))
            .all(self.connection())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.label_a, r.label_b, r.n))
            .collect())
    }

    /// How much work waits, and since when.
    pub async fn queue_stats(&self) -> Result<QueueStats, DbError> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS depth, MIN(received_at) AS oldest \
                   FROM webhook_delivery WHERE state IN ('queued', 'processing')";
        let row = QueueRow::find_by_statement(self.statement(sql))
            .one(self.connection())
            .await?;
        Ok(row
            .map(|r| QueueStats {
                depth: r.depth,
                oldest: r.oldest,
            })
            .unwrap_or(QueueStats {
                depth: 0,
                oldest: None,
            }))
    }

    /// `(status, count)` of recipe runs.
    pub async fn run_counts(&self) -> Result<Vec<(String, i64)>, DbError> {
        let sql = "SELECT status AS label, CAST(COUNT(*) AS BIGINT) AS n \
                   FROM recipe_run GROUP BY status ORDER BY status";
        let rows = ByStatus::find_by_statement(self.statement(sql))
            .all(self.connection())
            .await?;
        Ok(rows.into_iter().map(|r| (r.label, r.n)).collect())
    }
}
