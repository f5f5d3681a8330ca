//! Where a PR's recipe lives and what its `meta.yaml` says: `recipes/<name>/meta.yaml` on
//! staged-recipes (the one directory the PR changes under `recipes/`), `feedstock/meta.yaml`
//! on a feedstock. meta.yaml is parsed in Rust ([`crate::meta`]); only `dict_object`
//! recipes run Python, in the runner, to learn their ids ([`recipe_entries`]).

use super::checkout::{Checkout, checkout};
use super::messages::{self, CheckOutput, meta_problems};
use super::{Doing, FlowContext, FlowError};
use crate::bakery::expand::{ExpandRequest, expand_meta};
use crate::github::{DirEntry, Installation};
use crate::meta::lint::{Checked, ObjectRef, Problem, ProblemKind};
use crate::meta::{Meta, MetaError, RecipeEntry, Recipes, checked_ids, parse_meta};
use crate::webhooks::payload::{RepoKind, Repository};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Where the recipe of a PR is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSource {
    /// The path of meta.yaml in the repository.
    pub meta_path: String,
    /// `--feedstock-subdir` for the runner: `recipes/<name>` on staged-recipes, `None` (the
    /// runner's default, `feedstock`) on a feedstock.
    pub feedstock_subdir: Option<String>,
}

impl MetaSource {
    /// A feedstock's: `feedstock/meta.yaml`.
    pub fn feedstock() -> Self {
        MetaSource {
            meta_path: "feedstock/meta.yaml".into(),
            feedstock_subdir: None,
        }
    }

    /// A staged-recipes PR's: `recipes/<dir>/meta.yaml`.
    pub fn staged(dir: &str) -> Self {
        MetaSource {
            meta_path: format!("recipes/{dir}/meta.yaml"),
            feedstock_subdir: Some(format!("recipes/{dir}")),
        }
    }

    /// The directory of the recipe: `recipes/<name>`, or `feedstock`.
    pub fn dir(&self) -> &str {
        self.feedstock_subdir.as_deref().unwrap_or("feedstock")
    }
}

/// The distinct `<name>`s of `recipes/<name>/…` among `files`.
pub fn recipe_dirs(files: &[String]) -> Vec<String> {
    let dirs: BTreeSet<String> = files
        .iter()
        .filter_map(|f| {
            let rest = f.strip_prefix("recipes/")?;
            let (dir, _) = rest.split_once('/')?;
            Some(dir.to_owned())
        })
        .collect();
    dirs.into_iter().collect()
}

/// Finds the PR's meta.yaml. `Ok(Err(output))`: the PR is not shaped as it must be.
pub async fn locate(
    gh: &Installation,
    repo: &Repository,
    number: u64,
    kind: RepoKind,
) -> Result<Result<MetaSource, CheckOutput>, FlowError> {
    match kind {
        RepoKind::Feedstock => Ok(Ok(MetaSource::feedstock())),
        RepoKind::StagedRecipes => {
            let files = gh
                .pull_request_files(&repo.full_name, number)
                .await
                .doing("listing the PR's files")?;
            match recipe_dirs(&files).as_slice() {
                [dir] => Ok(Ok(MetaSource::staged(dir))),
                other => Ok(Err(messages::recipe_dirs_wrong(other))),
            }
        }
    }
}

/// Reads meta.yaml's text at `git_ref`. `Ok(Err(output))`: missing, or not UTF-8.
pub async fn meta_text(
    gh: &Installation,
    repo: &str,
    source: &MetaSource,
    git_ref: &str,
) -> Result<Result<String, CheckOutput>, FlowError> {
    let Some(bytes) = gh
        .file_contents(repo, &source.meta_path, git_ref)
        .await
        .doing(format!("reading {}", source.meta_path))?
    else {
        return Ok(Err(messages::meta_missing(&source.meta_path, git_ref)));
    };
    Ok(String::from_utf8(bytes)
        .map_err(|_| messages::meta_invalid(&source.meta_path, "the file is not UTF-8 text")))
}

/// Reads and parses meta.yaml at `git_ref`. `Ok(Err(output))`: missing or invalid.
pub async fn read_meta(
    gh: &Installation,
    repo: &str,
    source: &MetaSource,
    git_ref: &str,
) -> Result<Result<Meta, CheckOutput>, FlowError> {
    let text = match meta_text(gh, repo, source, git_ref).await? {
        Ok(text) => text,
        Err(output) => return Ok(Err(output)),
    };
    Ok(parse_meta(&text).map_err(|e| messages::meta_invalid(&source.meta_path, &e.to_string())))
}

/// Directories listed at most by [`check_module_files`]; objects in further directories are
/// left for the runner to find.
const MAX_MODULE_DIRECTORIES: usize = 20;

/// Adds a failure to `checked` for each `object`/`dict_object` whose module file
/// (`<recipe directory>/<module>.py`, as pangeo-forge-runner reads it) is not in `repo` at
/// `git_ref`.
pub async fn check_module_files(
    gh: &Installation,
    repo: &str,
    source: &MetaSource,
    git_ref: &str,
    checked: &mut Checked,
) -> Result<(), FlowError> {
    let mut listings: HashMap<String, Option<Vec<DirEntry>>> = HashMap::new();
    for object in checked.objects.clone() {
        let file = format!("{}/{}.py", source.dir(), object.module);
        let outside = object.module.starts_with('/')
            || object
                .module
                .split('/')
                .any(|part| part == ".." || part == ".");
        let parent = file
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent)
            .to_owned();
        let present = if outside {
            false
        } else {
            if !listings.contains_key(&parent) {
                if listings.len() >= MAX_MODULE_DIRECTORIES {
                    continue;
                }
                let listing = gh
                    .directory(repo, &parent, git_ref)
                    .await
                    .doing(format!("listing {parent}"))?;
                listings.insert(parent.clone(), listing);
            }
            listings
                .get(&parent)
                .and_then(Option::as_ref)
                .is_some_and(|entries| entries.iter().any(|e| e.path == file && e.kind == "file"))
        };
        if !present {
            checked.add(Problem::new(
                ProblemKind::ModuleMissing {
                    object: object.object,
                    file,
                },
                object.at,
            ));
        }
    }
    Ok(())
}

/// The recipes of `meta` (read from `repo` at `git_ref`): the listed ones, or the ids of
/// its `dict_object`s, which `pangeo-forge-runner expand-meta` learns by importing the
/// recipe module from a copy of the recipe's directory. `Ok(Err(output))`: they cannot be
/// expanded (the runner's own last error line, masked), or expand to unusable ids; then
/// each of `objects` (where the `dict_object`s are written) is annotated with why.
pub async fn recipe_entries(
    ctx: &FlowContext,
    gh: &Installation,
    repo: &str,
    source: &MetaSource,
    git_ref: &str,
    meta: &Meta,
    objects: &[ObjectRef],
) -> Result<Result<Vec<RecipeEntry>, CheckOutput>, FlowError> {
    let annotated = |mut output: CheckOutput, said: &str| {
        output.annotations = objects
            .iter()
            .map(|o| {
                let kind = ProblemKind::ExpansionFailed {
                    object: o.object.clone(),
                    said: said.to_owned(),
                };
                meta_problems::annotation(&source.meta_path, &Problem::new(kind, o.at))
            })
            .collect();
        output
    };
    let dicts = match &meta.recipes {
        Recipes::Listed(entries) => return Ok(Ok(entries.clone())),
        Recipes::Dicts(dicts) => dicts,
    };
    let copy = match checkout(gh, repo, source.dir(), git_ref, dicts.mapping_form).await? {
        Ok(copy) => copy,
        Err(output) => return Ok(Err(output)),
    };
    let request = ExpandRequest {
        command: ctx.app.runner_command.clone(),
        checkout: copy.repo_path(),
        git_ref: git_ref.to_owned(),
        feedstock_subdir: source.feedstock_subdir.clone(),
        timeout: ctx.app.runner_timeout,
    };
    let ids = match expand_meta(&request, &ctx.secrets).await {
        Ok(ids) => ids,
        Err(failure) => {
            let output = messages::expansion_failed(&source.meta_path, &failure.message);
            return Ok(Err(annotated(output, &failure.message)));
        }
    };
    let object = dicts.objects.join(", ");
    if ids.is_empty() {
        let problem = MetaError::ExpandedToNothing { object }.to_string();
        let output = messages::meta_invalid(&source.meta_path, &problem);
        return Ok(Err(annotated(output, &problem)));
    }
    let entries = ids
        .into_iter()
        .map(|id| RecipeEntry {
            id,
            object: object.clone(),
        })
        .collect();
    Ok(checked_ids(entries).map_err(|e| messages::meta_invalid(&source.meta_path, &e.to_string())))
}

/// What the runner's `--repo` is for a bake: the repository's URL, or, when its meta.yaml
/// uses the mapping form of `dict_object` (which runner 0.10 refuses), a copy of the
/// recipe's directory with meta.yaml in the list form.
#[derive(Debug, Clone)]
pub struct RunnerRepo {
    /// `--repo`: a URL, or the copy's path.
    pub url: String,
    /// The copy, kept as long as the runner may read it.
    pub checkout: Option<Arc<Checkout>>,
}

/// The [`RunnerRepo`] for baking `git_ref` of `repo` (`owner/name`, at `url`). A missing
/// or broken meta.yaml is left for the runner to report. `Ok(Err(output))`: the copy
/// failed, said for the contributor.
pub async fn runner_repo(
    gh: &Installation,
    repo: &str,
    url: &str,
    source: &MetaSource,
    git_ref: &str,
) -> Result<Result<RunnerRepo, CheckOutput>, FlowError> {
    let mapping_form = matches!(
        read_meta(gh, repo, source, git_ref).await?,
        Ok(meta) if meta.needs_list_form()
    );
    if !mapping_form {
        return Ok(Ok(RunnerRepo {
            url: url.to_owned(),
            checkout: None,
        }));
    }
    Ok(checkout(gh, repo, source.dir(), git_ref, true)
        .await?
        .map(|copy| RunnerRepo {
            url: copy.repo_path().display().to_string(),
            checkout: Some(Arc::new(copy)),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_dirs_are_the_directories_under_recipes() {
        let files = [
            "recipes/gpcp/meta.yaml",
            "recipes/gpcp/recipe.py",
            "README.md",
            "recipes/loose-file.txt",
        ]
        .map(String::from);
        assert_eq!(recipe_dirs(&files), ["gpcp"]);
        let two = ["recipes/a/meta.yaml", "recipes/b/meta.yaml"].map(String::from);
        assert_eq!(recipe_dirs(&two), ["a", "b"]);
    }
}
