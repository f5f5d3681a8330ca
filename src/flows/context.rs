//! What every flow can reach, and the conversions of our dependencies' errors into
//! [`FlowError`]s.

use super::FlowError;
use crate::bakery::local::LocalJobs;
use crate::bakery::registry::BakeryRegistry;
use crate::config::{AppSettings, ServerSecrets};
use crate::db::Database;
use crate::db::entities::recipe_run;
use crate::db::entities::webhook_delivery;
use crate::github::{GithubApp, GithubError, Installation};
use crate::repr::Previews;

/// What a flow needs: the database, GitHub, the bakeries and this deployment's settings.
#[derive(Clone)]
pub struct FlowContext {
    pub db: Database,
    pub app: AppSettings,
    /// `None` when the GitHub App is not configured: flows that call GitHub fail, saying so.
    pub github: Option<GithubApp>,
    pub bakeries: BakeryRegistry,
    /// Jobs of local bakeries running in the background.
    pub local_jobs: LocalJobs,
    /// The server's own secrets, masked in what flows store and post (bakeries' secrets
    /// mask them too).
    pub secrets: ServerSecrets,
    /// The dataset preview, for the variables a test-run comment lists.
    pub previews: Previews,
}

impl FlowContext {
    /// Run `id`; its absence is a final failure (a task or report naming a deleted run).
    /// Every later log line of the flow carries the run id.
    pub async fn recipe_run(&self, id: i32) -> Result<recipe_run::Model, FlowError> {
        tracing::Span::current().record("run", id);
        self.db
            .recipe_run(id)
            .await?
            .ok_or_else(|| FlowError::fail(format!("recipe run {id} does not exist")))
    }

    /// The GitHub client acting as the installation the delivery came from (the original
    /// took the first installation it saw).
    pub fn installation_for(
        &self,
        delivery: &webhook_delivery::Model,
    ) -> Result<Installation, FlowError> {
        let github = self.github.as_ref().ok_or_else(|| {
            FlowError::fail(
                "the GitHub App is not configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_PATH)",
            )
        })?;
        let id = delivery
            .installation_id
            .and_then(|id| u64::try_from(id).ok())
            .ok_or_else(|| FlowError::fail("the delivery names no GitHub App installation"))?;
        Ok(github.installation(id)?)
    }
}

impl From<GithubError> for FlowError {
    fn from(err: GithubError) -> Self {
        if err.is_retryable() {
            FlowError::Retry {
                wait: err.wait(),
                error: format!("GitHub: {err}"),
            }
        } else {
            FlowError::Fail(format!("GitHub: {err}"))
        }
    }
}
