//! Where a PR's recipe lives and what its `meta.yaml` says: `recipes/<name>/meta.yaml` on
//! staged-recipes (the one directory the PR changes under `recipes/`), `feedstock/meta.yaml`
//! on a feedstock. meta.yaml is parsed in Rust ([`crate::meta`]): no Python runs here.

use super::messages::{self, CheckOutput};
use super::{Doing, FlowError};
use crate::github::Installation;
use crate::meta::{Meta, parse_meta};
use crate::webhooks::payload::{RepoKind, Repository};
use std::collections::BTreeSet;

/// Where the recipe of a PR is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSource {
    /// The path of meta.yaml in the repository.
    pub meta_path: String,
    /// `--feedstock-subdir` for the runner: `recipes/<name>` on staged-recipes, `None` (the
    /// runner's default, `feedstock`) on a feedstock.
    pub feedstock_subdir: Option<String>,
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
        RepoKind::Feedstock => Ok(Ok(MetaSource {
            meta_path: "feedstock/meta.yaml".into(),
            feedstock_subdir: None,
        })),
        RepoKind::StagedRecipes => {
            let files = gh
                .pull_request_files(&repo.full_name, number)
                .await
                .doing("listing the PR's files")?;
            match recipe_dirs(&files).as_slice() {
                [dir] => Ok(Ok(MetaSource {
                    meta_path: format!("recipes/{dir}/meta.yaml"),
                    feedstock_subdir: Some(format!("recipes/{dir}")),
                })),
                other => Ok(Err(messages::recipe_dirs_wrong(other))),
            }
        }
    }
}

/// Reads and parses meta.yaml at `git_ref`. `Ok(Err(output))`: missing or invalid.
pub async fn read_meta(
    gh: &Installation,
    repo: &str,
    source: &MetaSource,
    git_ref: &str,
) -> Result<Result<Meta, CheckOutput>, FlowError> {
    let Some(bytes) = gh
        .file_contents(repo, &source.meta_path, git_ref)
        .await
        .doing(format!("reading {}", source.meta_path))?
    else {
        return Ok(Err(messages::meta_missing(&source.meta_path, git_ref)));
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            return Ok(Err(messages::meta_invalid(
                &source.meta_path,
                "the file is not UTF-8 text",
            )));
        }
    };
    Ok(parse_meta(&text).map_err(|e| messages::meta_invalid(&source.meta_path, &e.to_string())))
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
