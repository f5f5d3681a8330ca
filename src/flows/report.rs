//! Telling GitHub how a run ended: a comment on the PR whose head is a test run's commit and
//! the run's own check run there ([`test_check`]), or the deployment status of a production
//! run. Each post is journaled, so a retried report
//! posts nothing twice.

use super::{Doing, FlowContext, FlowError, journal::Journal, messages, test_check};
use crate::db::entities::{feedstock, recipe_run};
use crate::db::enums::RunConclusion;

/// The deployment state a production run's conclusion stands for.
pub fn deployment_state(conclusion: Option<RunConclusion>) -> &'static str {
    match conclusion {
        Some(RunConclusion::Success) => "success",
        Some(RunConclusion::Cancelled) => "inactive",
        None => "in_progress",
        Some(_) => "failure",
    }
}

/// The preview of a successful run's dataset, when it can be read; a failure only leaves the
/// list out of the comment (logged, never failing the report).
async fn contents(
    ctx: &FlowContext,
    run: &recipe_run::Model,
) -> Option<std::sync::Arc<crate::repr::Preview>> {
    let url = run.dataset_public_url.as_deref()?;
    if !ctx.previews.enabled() {
        return None;
    }
    match ctx.previews.preview(url).await {
        Ok(preview) => Some(preview),
        Err(err) => {
            tracing::info!(run = run.id, error = %err, "the comment lists no variables: no preview");
            None
        }
    }
}

/// Reports the end of `run`; returns a note of what was posted.
pub async fn report_completion(
    ctx: &FlowContext,
    journal: &mut Journal,
    run: &recipe_run::Model,
    feedstock: &feedstock::Model,
) -> Result<String, FlowError> {
    let Some(github) = ctx.github.as_ref() else {
        // Without the App there is no one to tell: not a failure (said once at start-up).
        return Ok("not reported to GitHub: the GitHub App is not configured".into());
    };
    let gh = github
        .installation_for_repo(&feedstock.spec)
        .await
        .doing(format!("finding the installation of {}", feedstock.spec))?;
    let link = messages::run_page(&ctx.app.dashboard_url, run.id, feedstock.id);

    if !run.is_test {
        let Some(deployment_id) = run.deployment_id else {
            return Ok(format!(
                "production run {} has no deployment to update",
                run.id
            ));
        };
        let state = deployment_state(run.conclusion);
        journal
            .once("deployment_status", || async {
                gh.create_deployment_status(
                    &feedstock.spec,
                    deployment_id,
                    state,
                    Some(run.environment_url.as_deref().unwrap_or(&link)),
                    &messages::deployment_description(&run.recipe_id),
                )
                .await
                .doing("posting the deployment status")
            })
            .await?;
        return Ok(format!("deployment {deployment_id} is {state}"));
    }

    let number: Option<u64> = journal
        .once("pull_request", || async {
            let open = gh
                .open_pull_requests(&feedstock.spec)
                .await
                .doing("listing open pull requests")?;
            Ok(open
                .into_iter()
                .find(|pr| pr.head_sha == run.head_sha)
                .map(|pr| pr.number))
        })
        .await?;
    let preview = match run.conclusion {
        Some(RunConclusion::Success) => contents(ctx, run).await,
        _ => None,
    };
    let summary = preview.as_ref().map(|p| &p.summary);
    let Some(number) = number else {
        let check_note =
            finish_check_run(&gh, journal, &feedstock.spec, run, summary, &link).await?;
        return Ok(format!(
            "no open PR has head {}: nothing to comment on{check_note}",
            run.head_sha
        ));
    };
    let body = match run.conclusion {
        Some(RunConclusion::Success) => messages::test_run_succeeded(
            &run.recipe_id,
            &run.head_sha,
            run.dataset_public_url.as_deref(),
            summary,
            &link,
        ),
        other => messages::test_run_failed(
            &run.recipe_id,
            &run.head_sha,
            messages::ended_how(other.unwrap_or(RunConclusion::Failure)),
            run.error_trace.as_deref(),
            &link,
        ),
    };
    journal
        .once("comment", || async {
            gh.comment_on_issue(&feedstock.spec, number, &body)
                .await
                .doing("commenting on the pull request")
        })
        .await
        .map(|_: u64| ())?;
    // After the comment, which a contributor waits for most.
    let check_note = finish_check_run(&gh, journal, &feedstock.spec, run, summary, &link).await?;
    Ok(format!("commented on #{number}{check_note}"))
}

/// Completes the check run a `/run` created on the head commit (runs never submitted by a
/// command have none); a note for the outcome.
async fn finish_check_run(
    gh: &crate::github::Installation,
    journal: &mut Journal,
    repo: &str,
    run: &recipe_run::Model,
    contents: Option<&crate::repr::Summary>,
    link: &str,
) -> Result<&'static str, FlowError> {
    let finished = test_check::finish_open(gh, journal, repo, run, contents, link).await?;
    Ok(if finished {
        "; completed its check run"
    } else {
        ""
    })
}
