//! Where a `recipeRunUpdated` subscriber is in the stream of run changes.

use crate::db::entities::recipe_run;
use crate::graphql::live::hooks::Resume;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Past this many remembered runs, those older than [`FORGET_AFTER`] behind the cursor are
/// forgotten (a repeat of such an old change is then possible, never a loss).
const MAX_REMEMBERED: usize = 10_000;
const FORGET_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// The newest `updatedAt` sent (where a resync resumes) and, per run, the last change sent —
/// so a change reaching the subscriber twice (by replay and live, or again after a resync)
/// is sent once, without trusting that replicas' clocks agree on the order of changes to
/// different runs.
pub(super) struct Cursor {
    pub(super) at: DateTime<Utc>,
    sent: HashMap<i32, DateTime<Utc>>,
    /// The runs sent at exactly `at` (what a [`Resume`] carries).
    runs_at: Vec<i32>,
}

impl Cursor {
    /// A cursor that has sent nothing, at `at`.
    pub(super) fn new(at: DateTime<Utc>) -> Self {
        Cursor {
            at,
            sent: HashMap::new(),
            runs_at: Vec::new(),
        }
    }

    /// A cursor that goes on from `resume` (the runs sent at `resume.at` count as sent).
    pub(super) fn resume(resume: Resume) -> Self {
        let sent = resume.runs_at.iter().map(|id| (*id, resume.at)).collect();
        Cursor {
            at: resume.at,
            sent,
            runs_at: resume.runs_at,
        }
    }

    /// Where this cursor stands, for a subscriber that takes over from here.
    pub(super) fn position(&self) -> Resume {
        Resume {
            at: self.at,
            runs_at: self.runs_at.clone(),
        }
    }

    /// Whether `run`'s change is new to this subscriber (and records it).
    pub(super) fn admit(&mut self, run: &recipe_run::Model) -> bool {
        if self
            .sent
            .get(&run.id)
            .is_some_and(|last| run.updated_at <= *last)
        {
            return false;
        }
        self.sent.insert(run.id, run.updated_at);
        if run.updated_at > self.at {
            self.at = run.updated_at;
            self.runs_at.clear();
        }
        if run.updated_at == self.at {
            self.runs_at.push(run.id);
        }
        if self.sent.len() > MAX_REMEMBERED {
            let horizon = self.at - FORGET_AFTER;
            self.sent.retain(|_, at| *at >= horizon);
        }
        true
    }
}
