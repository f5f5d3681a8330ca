//! What the bot says about meta.yaml problems ([`crate::meta::lint`]): one annotation per
//! problem, on its line, and a check-run summary that counts them and says what to fix
//! first.

use super::CheckOutput;
use crate::github::Annotation;
use crate::meta::lint::{Level, Problem, ProblemKind};

/// Rows of the summary's table; the rest are only annotations.
const SUMMARY_ROWS: usize = 50;

/// The schema's page, for the contributor.
const SCHEMA_DOCS: &str =
    "https://pangeo-forge.readthedocs.io/en/latest/pangeo_forge_cloud/core_concepts.html";

/// GitHub's `annotation_level` for `level`.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Failure => "failure",
        Level::Warning => "warning",
    }
}

/// A problem's short title.
pub fn problem_title(kind: &ProblemKind) -> String {
    use ProblemKind::*;
    match kind {
        Syntax { .. } => "meta.yaml is not valid YAML".into(),
        Empty => "meta.yaml is empty".into(),
        NotAMapping { .. } => "meta.yaml is not a mapping".into(),
        MissingRequired { key } => format!("`{key}` is missing"),
        MissingRecommended { key } => format!("`{key}` is missing"),
        WrongType { path, .. } => format!("`{path}` has the wrong type"),
        EmptyRecipes => "No recipes".into(),
        RecipeFieldMissing { position, field } => format!("Recipe {position} has no `{field}`"),
        RecipesMapping => "`recipes` must be a list".into(),
        MixedForms { .. } => "`dict_object` mixed with `{id, object}`".into(),
        BothForms { position } => format!("Recipe {position} has both forms"),
        BadRecipeId { .. } => "Recipe id not allowed".into(),
        DuplicateRecipeId { .. } => "Duplicate recipe id".into(),
        ObjectForm { .. } => "Not of the form `module:attribute`".into(),
        ModuleMissing { .. } => "Recipe module not found".into(),
        ExpansionFailed { .. } => "`dict_object` could not be expanded".into(),
        NoBakeryId => "No bakery".into(),
        UnknownBakery { .. } => "Unknown bakery".into(),
        UnknownKey { key, .. } => format!("Unknown key `{key}`"),
        ProviderWithoutDescription { .. } => "Provider without description".into(),
        ProviderUrl { .. } => "Provider URL is not http(s)".into(),
        Orcid { .. } => "Not an ORCID iD".into(),
        GithubLogin { .. } => "Not a GitHub login".into(),
        Refused { .. } => "meta.yaml could not be used".into(),
    }
}

/// What is wrong and how to fix it, in one or two sentences.
pub fn problem_message(kind: &ProblemKind) -> String {
    use ProblemKind::*;
    match kind {
        Syntax { message } => format!(
            "The YAML parser stopped here: {message}. Check the indentation and quoting on this \
             line and the one before."
        ),
        Empty => "meta.yaml has no content; it needs at least `recipes:` and `bakery:`.".into(),
        NotAMapping { found } => format!(
            "meta.yaml must be a mapping of keys (`title:`, `recipes:`, `bakery:`, …), but it is \
             {found}."
        ),
        MissingRequired { key: "recipes" } => {
            "meta.yaml has no `recipes:` list; add one entry per recipe, e.g. \
             `recipes: [{id: my-recipe, object: \"recipe:recipe\"}]`."
                .into()
        }
        MissingRequired { key } => format!(
            "meta.yaml has no `{key}:`; add `bakery: {{id: <bakery name>}}` (for example \
             `pangeo-ldeo-nsf-earthcube`)."
        ),
        MissingRecommended { key } => format!(
            "The meta.yaml schema asks for `{key}`. Runs go ahead without it, but the dataset's \
             page will lack it ({SCHEMA_DOCS})."
        ),
        WrongType {
            path,
            expected,
            found,
            stops,
        } => {
            let quote = if *found == "a number" && *expected == "text" {
                " Put the value in quotes."
            } else {
                ""
            };
            let effect = if *stops {
                " The recipes cannot run until it is fixed."
            } else {
                ""
            };
            format!("`{path}` must be {expected}, but it is {found}.{quote}{effect}")
        }
        EmptyRecipes => {
            "The `recipes:` list is empty; add one `{id, object}` entry per recipe.".into()
        }
        RecipeFieldMissing { position, field } => format!(
            "Recipe entry {position} has no `{field}` (or it is empty); each entry needs both `id` \
             and `object` (`module:attribute`, e.g. `recipe:recipe`), or one `dict_object`."
        ),
        RecipesMapping => "`recipes:` must be a list of `{id, object}` entries; a mapping is only \
                           for `dict_object`."
            .into(),
        MixedForms { position } => format!(
            "Recipe entry {position} is of another form than the first: pangeo-forge-runner cannot \
             mix `dict_object` with `{{id, object}}` entries, so use one form for every recipe."
        ),
        BothForms { position } => format!(
            "Recipe entry {position} has both `dict_object` and `id`/`object`; an entry is either \
             `{{id, object}}` or `{{dict_object}}`."
        ),
        BadRecipeId { id, reason } => {
            format!(
                "Recipe id `{}` is not allowed: {reason}.",
                id.escape_debug()
            )
        }
        DuplicateRecipeId { id, first_line } => format!(
            "Recipe id `{id}` is already used on line {first_line}; recipe ids must be unique."
        ),
        ObjectForm { object } => format!(
            "`{object}` must name the recipe as `module:attribute`, e.g. `recipe:recipe` for the \
             variable `recipe` in `recipe.py`."
        ),
        ModuleMissing { object, file } => format!(
            "`{object}` names the module file `{file}`, which is not in this commit. Add it, or \
             correct the module name before the colon."
        ),
        ExpansionFailed { object, said } => format!(
            "pangeo-forge-runner imported the module of `{object}` to learn the recipe ids, and \
             it failed: {said}"
        ),
        NoBakeryId => "`bakery:` must name a bakery: `bakery: {id: <bakery name>}` (for example \
                       `pangeo-ldeo-nsf-earthcube`)."
            .into(),
        UnknownBakery { id, known } => format!(
            "No bakery `{id}` is registered here. Known bakeries: {}.",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known
                    .iter()
                    .map(|b| format!("`{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        UnknownKey {
            parent,
            key,
            suggestion,
        } => {
            let place = if parent.is_empty() {
                "at the top of meta.yaml".to_owned()
            } else {
                format!("under `{parent}`")
            };
            match suggestion {
                Some(known) => format!(
                    "`{key}` is not a key of the meta.yaml schema {place}; did you mean `{known}`?"
                ),
                None => format!(
                    "`{key}` is not a key of the meta.yaml schema {place}, so Pangeo Forge \
                     ignores it."
                ),
            }
        }
        ProviderWithoutDescription { position } => format!(
            "Provider {position} has no `description`; say who the provider is, e.g. its full \
             name."
        ),
        ProviderUrl { position, url } => format!(
            "The `url` of provider {position}, `{url}`, is not an http(s) address; the dataset's \
             page links it."
        ),
        Orcid { orcid } => format!(
            "`{orcid}` is not of the form `0000-0000-0000-000X` (an ORCID iD without the \
             https://orcid.org/ prefix)."
        ),
        GithubLogin { login } => format!(
            "`{login}` is not a GitHub login (letters, digits and single hyphens, without `@`)."
        ),
        Refused { message } => format!("{message}."),
    }
}

/// The annotation for `problem` in the file at `path`.
pub fn annotation(path: &str, problem: &Problem) -> Annotation {
    let at = problem.at;
    Annotation {
        path: path.to_owned(),
        start_line: at.line,
        end_line: at.line,
        start_column: Some(at.column),
        end_column: Some(at.column + at.len.saturating_sub(1)),
        annotation_level: level_name(problem.level()),
        title: problem_title(&problem.kind),
        message: problem_message(&problem.kind),
    }
}

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The table of problems for a summary (the first [`SUMMARY_ROWS`]).
fn table(problems: &[Problem]) -> String {
    let mut text = String::from("| line | level | problem |\n|---|---|---|");
    for problem in problems.iter().take(SUMMARY_ROWS) {
        text.push_str(&format!(
            "\n| {} | {} | {} |",
            problem.at.line,
            level_name(problem.level()),
            problem_message(&problem.kind).replace('|', "\\|")
        ));
    }
    if problems.len() > SUMMARY_ROWS {
        text.push_str(&format!(
            "\n\n…and {} more, each annotated on its line.",
            problems.len() - SUMMARY_ROWS
        ));
    }
    text
}

/// The check run's output when `problems` (at least one a failure) stop the runs.
pub fn meta_problems(path: &str, problems: &[Problem]) -> CheckOutput {
    let failures = problems
        .iter()
        .filter(|p| p.level() == Level::Failure)
        .count();
    let warnings = problems.len() - failures;
    let first = problems.iter().find(|p| p.level() == Level::Failure);
    let mut summary = format!(
        "`{path}` has {} the recipe runs and {}, each annotated on its line (see *Files \
         changed*).",
        counted(failures, "problem that stops", "problems that stop"),
        counted(warnings, "warning", "warnings"),
    );
    if let Some(first) = first {
        summary.push_str(&format!(
            "\n\n**Fix first**, line {}: {}",
            first.at.line,
            problem_message(&first.kind)
        ));
    }
    summary.push_str("\n\n");
    summary.push_str(&table(problems));
    summary.push_str("\n\nFix them and push again.");
    CheckOutput {
        title: format!(
            "meta.yaml: {}, {}",
            counted(failures, "problem", "problems"),
            counted(warnings, "warning", "warnings")
        ),
        summary,
        annotations: problems.iter().map(|p| annotation(path, p)).collect(),
    }
}

/// `output` (the runs went ahead) with the warnings of meta.yaml at `path` added.
pub fn with_warnings(mut output: CheckOutput, path: &str, warnings: &[Problem]) -> CheckOutput {
    if warnings.is_empty() {
        return output;
    }
    output.summary.push_str(&format!(
        "\n\n`{path}` has {}; the runs go ahead, but the dataset's page is better with them \
         fixed:\n\n{}",
        counted(warnings.len(), "warning", "warnings"),
        table(warnings)
    ));
    output.annotations = warnings.iter().map(|p| annotation(path, p)).collect();
    output
}

#[cfg(test)]
mod tests;
