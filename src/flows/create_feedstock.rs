//! *merged staged-recipes PR* → a new feedstock repository. When every file the merged PR
//! changed is under `recipes/<name>/`, the recipe moves to `<org>/<name>-feedstock`:
//! create the repository; branch `create-feedstock` from `main`; copy each file to
//! `feedstock/<basename>`; open the PR "Create <spec>"; register the feedstock and make its
//! dashboard page the repository's homepage (wiki and projects off); invite the PR's
//! author and commit authors as collaborators; merge the
//! PR (its merge starts the production runs, see [`super::production`]); delete the branch;
//! then on staged-recipes remove the recipe through a `cleanup-<ts>` branch and PR.
//!
//! Every step is idempotent or journaled, so a retry after a failure half-way resumes: an
//! existing repository, branch, file or PR is taken as done, never created twice.

use super::recipe_source::recipe_dirs;
use super::{Doing, FlowContext, FlowError, Outcome, journal::Journal, messages};
use crate::db::{DbError, NewFeedstock};
use crate::github::Installation;
use crate::webhooks::payload::PullRequestEvent;

const WORKING_BRANCH: &str = "create-feedstock";

/// Runs the flow for a merged staged-recipes PR.
pub async fn create_feedstock(
    ctx: &FlowContext,
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
) -> Result<Outcome, FlowError> {
    let staged = &pr.repository;
    let files = gh
        .pull_request_files(&staged.full_name, pr.number)
        .await
        .doing("listing the merged PR's files")?;
    if files.is_empty() || !files.iter().all(|f| f.starts_with("recipes/")) {
        return Ok(Outcome::Ignored(
            "the merged PR changes files outside recipes/: no feedstock to create".into(),
        ));
    }
    let name = match recipe_dirs(&files).as_slice() {
        [one] => one.clone(),
        dirs => {
            return Err(FlowError::fail(format!(
                "the merged PR changes {} recipe directories ({}); a feedstock is created from exactly one",
                dirs.len(),
                dirs.join(", ")
            )));
        }
    };
    let source_ref = pr.merge_commit_sha.as_deref().unwrap_or(&pr.head_sha);
    let org = staged.owner();
    let repo_name = format!("{name}-feedstock");
    let spec = format!("{org}/{repo_name}");

    // 1. The repository.
    if !gh
        .repository_exists(&spec)
        .await
        .doing("looking for the repository")?
    {
        gh.create_org_repository(org, &repo_name, &messages::feedstock_description(&name))
            .await
            .doing(format!("creating {spec}"))?;
    }
    // 2. The working branch from main (auto_init may take a moment to create main).
    let main = gh
        .branch_head(&spec, "main")
        .await
        .doing("reading main")?
        .ok_or_else(|| FlowError::Retry {
            error: format!("{spec} has no main branch yet"),
            wait: None,
        })?;
    gh.create_branch(&spec, WORKING_BRANCH, &main)
        .await
        .doing("creating the create-feedstock branch")?;
    // 3. The recipe files, under feedstock/.
    for file in &files {
        let basename = file.rsplit('/').next().unwrap_or(file);
        let content = gh
            .file_contents(&staged.full_name, file, source_ref)
            .await
            .doing(format!("reading {file}"))?
            .ok_or_else(|| {
                FlowError::fail(format!(
                    "{file} is not in {} at {source_ref}",
                    staged.full_name
                ))
            })?;
        let target = format!("feedstock/{basename}");
        gh.put_file(
            &spec,
            &target,
            WORKING_BRANCH,
            &format!("Adding {target}"),
            &content,
        )
        .await
        .doing(format!("writing {target}"))?;
    }
    // 4. The PR that creates the feedstock.
    let number: u64 = journal
        .once("create_pr", || async {
            if let Some(open) = gh
                .find_open_pull_request(&spec, WORKING_BRANCH)
                .await
                .doing("looking for an open create-feedstock PR")?
            {
                return Ok(open);
            }
            gh.create_pull_request(
                &spec,
                &messages::create_feedstock_title(&spec),
                WORKING_BRANCH,
                "main",
                &format!("Created from {} #{}.", staged.full_name, pr.number),
            )
            .await
            .doing("opening the create-feedstock PR")
        })
        .await?;
    // 5. The feedstock, registered before the merge whose webhook needs it.
    let feedstock_id = match ctx
        .db
        .create_feedstock(NewFeedstock {
            spec: spec.clone(),
            provider: None,
        })
        .await
    {
        Ok(feedstock) => feedstock.id,
        Err(DbError::Conflict(_)) => ctx
            .db
            .feedstock_by_spec(&spec)
            .await?
            .map(|f| f.id)
            .ok_or_else(|| FlowError::fail(format!("{spec} conflicts but is not registered")))?,
        Err(e) => return Err(e.into()),
    };
    // Its homepage is its dataset page, now that it has an id.
    let homepage = messages::feedstock_page(&ctx.app.dashboard_url, feedstock_id);
    gh.set_repository_homepage(&spec, &homepage)
        .await
        .doing("setting the repository's homepage")?;
    invite_contributors(gh, journal, pr, &spec).await?;
    // 6. Merge, and delete the branch.
    gh.merge_pull_request(&spec, number)
        .await
        .doing("merging the create-feedstock PR")?;
    gh.delete_branch(&spec, WORKING_BRANCH)
        .await
        .doing("deleting the create-feedstock branch")?;

    cleanup_staged_recipes(gh, journal, pr, &files, &spec).await?;
    Ok(Outcome::Done(format!("created {spec} from #{}", pr.number)))
}

/// Invites the PR's author and the authors of its commits as collaborators on the new
/// feedstock, each once (journaled; bots are left out).
async fn invite_contributors(
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
    spec: &str,
) -> Result<(), FlowError> {
    let mut logins: Vec<String> = pr.author.iter().cloned().collect();
    let authors = gh
        .pull_request_commit_authors(&pr.repository.full_name, pr.number)
        .await
        .doing("listing the merged PR's commits")?;
    for login in authors {
        if !logins.contains(&login) {
            logins.push(login);
        }
    }
    for login in logins.iter().filter(|l| !l.ends_with("[bot]")) {
        let invited: bool = journal
            .once(&format!("invite:{login}"), || async {
                gh.invite_collaborator(spec, login)
                    .await
                    .doing(format!("inviting {login} to {spec}"))
            })
            .await?;
        tracing::info!(spec, login = %login, invited, "feedstock contributor");
    }
    Ok(())
}

/// Removes the merged recipe from staged-recipes through a `cleanup-<ts>` PR.
async fn cleanup_staged_recipes(
    gh: &Installation,
    journal: &mut Journal,
    pr: &PullRequestEvent,
    files: &[String],
    spec: &str,
) -> Result<(), FlowError> {
    let staged = pr.repository.full_name.as_str();
    // The branch name is fixed once, so a retry continues on the same branch.
    let branch: String = journal
        .once("cleanup_branch", || async {
            Ok(format!("cleanup-{}", chrono::Utc::now().timestamp()))
        })
        .await?;
    if !journal.get::<bool>("cleanup_merged").unwrap_or(false) {
        let base = gh
            .branch_head(staged, &pr.base_ref)
            .await
            .doing("reading the staged-recipes base branch")?
            .ok_or_else(|| FlowError::fail(format!("{staged} has no branch {}", pr.base_ref)))?;
        gh.create_branch(staged, &branch, &base)
            .await
            .doing("creating the cleanup branch")?;
        for file in files {
            gh.delete_file(staged, file, &branch, &format!("Delete {file}"))
                .await
                .doing(format!("deleting {file}"))?;
        }
        let number: u64 = journal
            .once("cleanup_pr", || async {
                if let Some(open) = gh
                    .find_open_pull_request(staged, &branch)
                    .await
                    .doing("looking for an open cleanup PR")?
                {
                    return Ok(open);
                }
                gh.create_pull_request(
                    staged,
                    &messages::cleanup_title(spec),
                    &branch,
                    &pr.base_ref,
                    &format!("{spec} was created; its recipe leaves staged-recipes."),
                )
                .await
                .doing("opening the cleanup PR")
            })
            .await?;
        gh.merge_pull_request(staged, number)
            .await
            .doing("merging the cleanup PR")?;
        journal.record("cleanup_merged", &true).await?;
    }
    gh.delete_branch(staged, &branch)
        .await
        .doing("deleting the cleanup branch")
}
