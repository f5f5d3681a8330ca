//! Everything the bot says on GitHub: check-run titles and summaries, PR comments and
//! deployment descriptions. Functions returning values, so tests can compare them.

use super::commands;
use crate::github::Annotation;

pub mod meta_problems;
use crate::repr::Summary;
use crate::repr::summary::human_bytes;

/// The check run's name on every PR commit.
pub const CHECK_RUN_NAME: &str = "synchronize";
/// The check run's title while it runs.
pub const CHECK_RUN_TITLE: &str = "Syncing latest commit to Pangeo Forge Cloud";

/// A check run's title, Markdown summary and annotations (problems on lines of files).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
}

/// The summary while synchronizing.
pub fn check_started(head_sha: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: CHECK_RUN_TITLE.into(),
        summary: format!("Reading `meta.yaml` at commit `{head_sha}`."),
    }
}

/// The link to a feedstock's dashboard page.
pub fn feedstock_page(dashboard_url: &str, feedstock_id: i32) -> String {
    format!("{dashboard_url}/feedstock/{feedstock_id}")
}

/// The link to a run's dashboard page.
pub fn run_page(dashboard_url: &str, run_id: i32, feedstock_id: i32) -> String {
    format!("{dashboard_url}/recipe-run/{run_id}?feedstock_id={feedstock_id}")
}

/// Success: the runs created, with their dashboard links.
pub fn check_succeeded(head_sha: &str, links: &[String]) -> CheckOutput {
    let mut summary = format!("Recipe runs created at commit `{head_sha}`:");
    for link in links {
        summary.push_str(&format!("\n- {link}"));
    }
    summary.push_str(
        "\n\nA maintainer can start a test run of a recipe by commenting `/run <recipe_id>`.",
    );
    CheckOutput {
        annotations: Vec::new(),
        title: "Recipe runs queued for latest commit".into(),
        summary,
    }
}

/// The PR's head repository (a fork) was deleted: its commits cannot be read or run.
pub fn head_repository_gone(number: u64) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "The pull request's fork was deleted".into(),
        summary: format!(
            "The repository that held the head commit of #{number} no longer exists, so its \
             `meta.yaml` cannot be read and its recipes cannot be run. Push the branch to a fork \
             again and open a new pull request."
        ),
    }
}

/// meta.yaml was not found where it must be.
pub fn meta_missing(path: &str, head_sha: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "meta.yaml not found".into(),
        summary: format!(
            "There is no `{path}` at commit `{head_sha}`. Add it (see \
             https://pangeo-forge.readthedocs.io/en/latest/pangeo_forge_cloud/core_concepts.html) \
             and push again."
        ),
    }
}

/// meta.yaml does not parse or lacks something.
pub fn meta_invalid(path: &str, problem: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "meta.yaml is not valid".into(),
        summary: format!(
            "`{path}` could not be used:\n\n```\n{problem}\n```\n\nFix it and push again."
        ),
    }
}

/// The recipe directory could not be copied for the runner.
pub fn checkout_refused(dir: &str, problem: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "The recipe could not be read".into(),
        summary: format!(
            "To expand the `dict_object` recipes, Pangeo Forge copies `{dir}` from this commit, \
             but {problem}."
        ),
    }
}

/// `expand-meta` found no recipe ids in a `dict_object`.
pub fn expansion_failed(path: &str, runner_said: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "The dict_object recipes could not be expanded".into(),
        summary: format!(
            "`{path}` names its recipes with `dict_object`, so `pangeo-forge-runner \
             expand-meta` imported the recipe module to learn their ids, and it failed:\n\n\
             ```\n{runner_said}\n```\n\nThe module must import with only the packages \
             pangeo-forge-runner has, and the `dict_object` must name a dictionary whose keys \
             are the recipe ids. Fix it and push again."
        ),
    }
}

/// A staged-recipes PR must add exactly one directory under `recipes/`.
pub fn recipe_dirs_wrong(found: &[String]) -> CheckOutput {
    let summary = if found.is_empty() {
        "This PR changes no file under `recipes/<name>/`. A staged-recipes PR adds one \
         directory `recipes/<name>/` with `meta.yaml` and the recipe module."
            .to_owned()
    } else {
        format!(
            "This PR changes files in {} recipe directories ({}). Propose one recipe \
             directory per PR.",
            found.len(),
            found
                .iter()
                .map(|d| format!("`recipes/{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    CheckOutput {
        annotations: Vec::new(),
        title: "One recipe directory per PR".into(),
        summary,
    }
}

/// The feedstock or the bakery is not registered.
pub fn not_registered(
    feedstock: &str,
    feedstock_known: bool,
    bakery: &str,
    bakery_known: bool,
    known_bakeries: &[String],
) -> CheckOutput {
    let mut summary =
        String::from("To resolve, a maintainer must ensure both of the following are registered:");
    let mark = |known: bool| if known { "registered" } else { "**missing**" };
    summary.push_str(&format!(
        "\n- **Feedstock**: `{feedstock}` ({})",
        mark(feedstock_known)
    ));
    summary.push_str(&format!(
        "\n- **Bakery**: `{bakery}` ({})",
        mark(bakery_known)
    ));
    if !bakery_known {
        summary.push_str(&format!(
            "\n\nKnown bakeries: {}. Check `bakery.id` in meta.yaml.",
            if known_bakeries.is_empty() {
                "none".to_owned()
            } else {
                known_bakeries
                    .iter()
                    .map(|b| format!("`{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
    }
    if !feedstock_known {
        summary.push_str(
            "\n\nFeedstock repositories are registered when the Pangeo Forge GitHub App is \
             installed on them; an admin can also add one with the `createFeedstock` mutation.",
        );
    }
    CheckOutput {
        annotations: Vec::new(),
        title: "Feedstock and/or bakery not registered".into(),
        summary,
    }
}

/// Something on our side failed for good.
pub fn check_internal_error(delivery_guid: &str, error: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: "Pangeo Forge could not process this commit".into(),
        summary: format!(
            "An error on Pangeo Forge's side stopped the sync:\n\n```\n{error}\n```\n\n\
             Maintainers can find it as webhook delivery `{delivery_guid}`."
        ),
    }
}

/// Reply to a comment whose command was not understood.
pub fn command_not_understood(problem: &str) -> String {
    format!(
        "I did not understand that: {problem}.\n\nCommands I know:\n{}",
        commands::help()
    )
}

/// Reply to a command from someone without write access.
pub fn command_not_allowed(author: &str, association: &str) -> String {
    format!(
        "@{author}, only people with write access to this repository (owners, organization \
         members and collaborators) can start runs, and your association here is \
         `{association}`. A maintainer can comment `/run <recipe_id>` for you."
    )
}

/// Reply when the recipe id is not one of the PR's runs.
pub fn unknown_recipe(recipe_id: &str, head_sha: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!(
            "There is no recipe run at the latest commit `{head_sha}` (the `synchronize` check \
             creates them; has it succeeded?), so `{recipe_id}` cannot be run."
        )
    } else {
        format!(
            "There is no recipe `{recipe_id}` at the latest commit `{head_sha}`. Recipes here: {}.",
            known
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Reply when the run was already submitted.
pub fn already_running(recipe_id: &str, status: &str, link: &str) -> String {
    format!(
        "The test run of `{recipe_id}` is already {status}: {link}\n\nComment `/rerun {recipe_id}` for a fresh run."
    )
}

/// Reply when a test job could not be submitted.
pub fn submission_failed(recipe_id: &str, message: &str, link: &str) -> String {
    format!("The test run of `{recipe_id}` could not be submitted: {message}\n\nDetails: {link}")
}

/// Reply when production runs could not start because of meta.yaml.
pub fn production_meta_problem(problem: &str) -> String {
    format!("Production runs could not start:\n\n```\n{problem}\n```")
}

/// The description of a production deployment.
pub fn deployment_description(recipe_id: &str) -> String {
    format!("Production run of recipe `{recipe_id}`")
}

/// The new feedstock repository's description.
pub fn feedstock_description(name: &str) -> String {
    format!("Pangeo Forge feedstock for {name}.")
}

/// The title of the PR that creates a feedstock.
pub fn create_feedstock_title(spec: &str) -> String {
    format!("Create {spec}")
}

/// The title of the PR that removes a merged recipe from staged-recipes.
pub fn cleanup_title(spec: &str) -> String {
    format!("Cleanup {spec}")
}

/// The comment on a PR when a test run succeeded; `contents` (the dataset's preview, when it
/// could be read) lists its dimensions and variables under the snippet.
pub fn test_run_succeeded(
    recipe_id: &str,
    sha: &str,
    dataset_url: Option<&str>,
    contents: Option<&Summary>,
    link: &str,
) -> String {
    let to_open = match dataset_url {
        Some(url) => format!(
            "```python\nimport xarray as xr\n\nstore = \"{url}\"\nds = xr.open_dataset(store, engine=\"zarr\", chunks={{}})\nds\n```"
        ),
        None => "The bakery's storage has no public URL, so there is no snippet to open it.".into(),
    };
    let listed = contents.map(dataset_contents).unwrap_or_default();
    format!(
        ":tada: The test run of `{recipe_id}` at {sha} succeeded!\n\n{to_open}\n{listed}\nDetails: {link}"
    )
}

/// The name of the check run of a `/run` test run of `recipe_id`.
pub fn test_check_name(recipe_id: &str) -> String {
    format!("test run: {recipe_id}")
}

/// A test run's check run once its job is being submitted.
pub fn test_check_started(recipe_id: &str, sha: &str, link: &str) -> CheckOutput {
    CheckOutput {
        annotations: Vec::new(),
        title: format!("Test run of `{recipe_id}` submitted"),
        summary: format!(
            "The test run of `{recipe_id}` at commit `{sha}` is being submitted to its bakery. \
             Its progress and logs are on its page: {link}"
        ),
    }
}

/// The check run's conclusion for a run's.
pub fn check_conclusion(conclusion: Option<crate::db::enums::RunConclusion>) -> &'static str {
    use crate::db::enums::RunConclusion::*;
    match conclusion {
        Some(Success) => "success",
        Some(Cancelled) => "cancelled",
        Some(TimedOut) => "timed_out",
        Some(Neutral) => "neutral",
        Some(Skipped) => "skipped",
        Some(ActionRequired) => "action_required",
        Some(Failure) | Some(Stale) | None => "failure",
    }
}

/// A test run's check run once the run ended: the dataset, or the end of the trace.
pub fn test_check_finished(
    recipe_id: &str,
    sha: &str,
    conclusion: Option<crate::db::enums::RunConclusion>,
    dataset_url: Option<&str>,
    contents: Option<&Summary>,
    trace: Option<&str>,
    link: &str,
) -> CheckOutput {
    use crate::db::enums::RunConclusion;
    if conclusion == Some(RunConclusion::Success) {
        return CheckOutput {
            annotations: Vec::new(),
            title: format!("Test run of `{recipe_id}` succeeded"),
            summary: test_run_succeeded(recipe_id, sha, dataset_url, contents, link),
        };
    }
    let how = ended_how(conclusion.unwrap_or(RunConclusion::Failure));
    CheckOutput {
        annotations: Vec::new(),
        title: format!("Test run of `{recipe_id}` {how}"),
        summary: test_run_failed(recipe_id, sha, how, trace, link),
    }
}

/// Variables a success comment lists at most.
pub const VARIABLES_LISTED: usize = 50;

/// The dataset's dimensions and variables as Markdown (names in code spans, their backticks
/// and pipes replaced, so a contributor's names cannot format the comment).
pub fn dataset_contents(summary: &Summary) -> String {
    let code = |text: &str| {
        format!(
            "`{}`",
            text.replace('`', "'").replace(['|', '\n', '\r'], " ")
        )
    };
    let dims = summary
        .dims
        .iter()
        .map(|d| format!("{} {}", code(&d.name), d.size))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "\nThe dataset (Zarr v{}, {}): dimensions {dims}.\n\n| | variable | dimensions | type |\n|---|---|---|---|\n",
        summary.zarr_format,
        human_bytes(summary.size_bytes)
    );
    let rows: Vec<(&str, &crate::repr::Variable)> = summary
        .coords
        .iter()
        .map(|v| ("coordinate", v))
        .chain(summary.data_vars.iter().map(|v| ("data", v)))
        .collect();
    for (kind, variable) in rows.iter().take(VARIABLES_LISTED) {
        let dims = variable
            .dims
            .iter()
            .map(|d| code(d))
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!(
            "| {kind} | {} | {dims} | {} |\n",
            code(&variable.name),
            code(&variable.dtype)
        ));
    }
    let more = rows.len().saturating_sub(VARIABLES_LISTED) + summary.variables_not_shown;
    if more > 0 {
        text.push_str(&format!("\n… and {more} more variables.\n"));
    }
    text
}

/// How many trailing lines of a trace a failure comment quotes.
pub const TRACE_LINES_QUOTED: usize = 20;

/// The comment on a PR when a test run failed, timed out or was cancelled.
pub fn test_run_failed(
    recipe_id: &str,
    sha: &str,
    how: &str,
    trace: Option<&str>,
    link: &str,
) -> String {
    let mut text = format!("The test run of `{recipe_id}` at {sha} {how}.");
    if let Some(trace) = trace.filter(|t| !t.trim().is_empty()) {
        let lines: Vec<&str> = trace.lines().collect();
        let tail = &lines[lines.len().saturating_sub(TRACE_LINES_QUOTED)..];
        text.push_str(&format!(
            "\n\nThe end of the trace:\n\n```\n{}\n```",
            tail.join("\n")
        ));
    }
    text.push_str(&format!(
        "\n\nThe full logs are on the run's page: {link}\n\nA maintainer can try again with `/rerun {recipe_id}`."
    ));
    text
}

/// How a run ended, in words, for failure comments.
pub fn ended_how(conclusion: crate::db::enums::RunConclusion) -> &'static str {
    use crate::db::enums::RunConclusion as C;
    match conclusion {
        C::Success => "succeeded",
        C::TimedOut => "timed out",
        C::Cancelled => "was cancelled",
        _ => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_summary_links_every_run() {
        let links = [
            run_page("https://pangeo-forge.org/dashboard", 7, 3),
            run_page("https://pangeo-forge.org/dashboard", 8, 3),
        ];
        let out = check_succeeded("abc", &links);
        assert_eq!(
            out.summary.lines().take(3).collect::<Vec<_>>(),
            [
                "Recipe runs created at commit `abc`:",
                "- https://pangeo-forge.org/dashboard/recipe-run/7?feedstock_id=3",
                "- https://pangeo-forge.org/dashboard/recipe-run/8?feedstock_id=3",
            ]
        );
    }

    #[test]
    fn success_comment_has_the_xarray_snippet() {
        let text = test_run_succeeded("gpcp", "abc", Some("https://x/y.zarr"), None, "https://d/1");
        assert!(text.starts_with(":tada: The test run of `gpcp` at abc succeeded!"));
        assert!(text.contains("xr.open_dataset(store, engine=\"zarr\", chunks={})"));
        assert!(text.contains("store = \"https://x/y.zarr\""));
    }

    #[test]
    fn failure_comment_quotes_the_end_of_the_trace() {
        let trace: String = (1..=30).map(|n| format!("line {n}\n")).collect();
        let text = test_run_failed("gpcp", "abc", "failed", Some(&trace), "https://d/1");
        assert!(text.contains("line 30"));
        assert!(text.contains("line 11"));
        assert!(!text.contains("line 10\n"));
        assert!(text.contains("https://d/1"));
    }

    #[test]
    fn not_registered_names_what_is_missing() {
        let out = not_registered("o/x-feedstock", true, "nope", false, &["real".into()]);
        assert!(out.summary.contains("`nope` (**missing**)"));
        assert!(out.summary.contains("`o/x-feedstock` (registered)"));
        assert!(out.summary.contains("Known bakeries: `real`"));
    }
}
