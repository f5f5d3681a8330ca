//! The check run of a `/run` (or `/rerun`) test run, on the PR's head commit (the
//! original's TODO): `in_progress` when the job is submitted, completed with the run's
//! conclusion and the dataset or the end of the failure trace when the run ends. The
//! completing delivery finds it on GitHub by name, so no column records it.

use super::{Doing, FlowError, journal::Journal, messages};
use crate::db::entities::recipe_run;
use crate::github::{Installation, NewCheckRun};
use crate::repr::Summary;

/// Creates the check run of `run` on `repo` (journaled: a retry does not create another).
pub async fn start(
    gh: &Installation,
    journal: &mut Journal,
    repo: &str,
    run: &recipe_run::Model,
    link: &str,
) -> Result<u64, FlowError> {
    journal
        .once("test_check_run", || async {
            let started = messages::test_check_started(&run.recipe_id, &run.head_sha, link);
            gh.create_check_run(
                repo,
                &NewCheckRun {
                    name: messages::test_check_name(&run.recipe_id),
                    head_sha: run.head_sha.clone(),
                    status: "in_progress".into(),
                    title: started.title,
                    summary: started.summary,
                    details_url: Some(link.to_owned()),
                },
            )
            .await
            .doing("creating the test run's check run")
        })
        .await
}

/// Completes check run `id` as `run` (completed) ended, listing the dataset's `contents`
/// when its preview could be read.
pub async fn finish(
    gh: &Installation,
    journal: &mut Journal,
    repo: &str,
    id: u64,
    run: &recipe_run::Model,
    contents: Option<&Summary>,
    link: &str,
) -> Result<(), FlowError> {
    let output = messages::test_check_finished(
        &run.recipe_id,
        &run.head_sha,
        run.conclusion,
        run.dataset_public_url.as_deref(),
        contents,
        run.error_trace.as_deref(),
        link,
    );
    let conclusion = messages::check_conclusion(run.conclusion);
    journal
        .once("test_check_run_done", || async {
            gh.complete_check_run(repo, id, conclusion, &output.title, &output.summary, &[])
                .await
                .doing("completing the test run's check run")
                .map(|()| true)
        })
        .await?;
    Ok(())
}

/// Completes the open check run of `run` on `repo`, if a `/run` created one; returns
/// whether there was one.
pub async fn finish_open(
    gh: &Installation,
    journal: &mut Journal,
    repo: &str,
    run: &recipe_run::Model,
    contents: Option<&Summary>,
    link: &str,
) -> Result<bool, FlowError> {
    let name = messages::test_check_name(&run.recipe_id);
    let found: Option<u64> = journal
        .once("test_check_run_found", || async {
            gh.open_check_run_named(repo, &run.head_sha, &name)
                .await
                .doing("finding the test run's check run")
        })
        .await?;
    let Some(id) = found else {
        return Ok(false);
    };
    finish(gh, journal, repo, id, run, contents, link).await?;
    Ok(true)
}
