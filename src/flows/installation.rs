//! Registering feedstocks from installation events: when the App is installed on, or given
//! access to, repositories named `*-feedstock` or `*staged-recipes`, each becomes a
//! feedstock (if it is not one already), so nobody has to insert them by hand. (The runs
//! of staged-recipes PRs belong to the staged-recipes "feedstock", as in the original.)
//! Other repositories are left alone.

use super::FlowError;
use crate::db::{Database, NewFeedstock};
use crate::webhooks::payload::{RepoKind, RepositoriesAdded, repo_kind};

/// Registers the Pangeo Forge repositories of `event`; returns a note of what it did.
pub async fn register_feedstocks(
    db: &Database,
    event: &RepositoriesAdded,
) -> Result<String, FlowError> {
    let mut added = Vec::new();
    let mut known = Vec::new();
    let mut skipped = 0;
    for spec in &event.repositories {
        if !matches!(
            repo_kind(spec),
            Some(RepoKind::Feedstock | RepoKind::StagedRecipes)
        ) {
            skipped += 1;
            continue;
        }
        if db.feedstock_by_spec(spec).await?.is_some() {
            known.push(spec.as_str());
            continue;
        }
        let new = NewFeedstock {
            spec: spec.clone(),
            provider: None,
        };
        match db.create_feedstock(new).await {
            Ok(_) => added.push(spec.as_str()),
            // Registered a moment ago by another delivery.
            Err(crate::db::DbError::Conflict(_)) => known.push(spec.as_str()),
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        ?added,
        ?known,
        skipped,
        "feedstocks registered from installation"
    );
    Ok(format!(
        "registered {} feedstock(s){}; {} already known; {} other repositories skipped",
        added.len(),
        if added.is_empty() {
            String::new()
        } else {
            format!(" ({})", added.join(", "))
        },
        known.len(),
        skipped
    ))
}
