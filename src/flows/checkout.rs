//! A local copy of a recipe's directory at one commit, read through the contents API, for
//! the runner to read instead of cloning: `expand-meta` of `dict_object` recipes, and
//! `bake` of recipes whose `meta.yaml` uses the mapping form, which is rewritten to the
//! list form in the copy ([`crate::meta::list_form_text`]). Bounded in files, bytes and
//! depth; a contributor's oversized directory fails their check run, saying so.

use super::messages::{self, CheckOutput};
use super::{Doing, FlowError};
use crate::github::Installation;
use std::path::{Component, Path, PathBuf};

/// Most files copied.
pub const MAX_FILES: usize = 300;
/// Most bytes copied in all.
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;
/// The contents API serves files up to 1 MB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Deepest directory copied below the recipe's.
const MAX_DEPTH: usize = 6;

/// The copy, deleted when dropped.
#[derive(Debug)]
pub struct Checkout {
    scratch: tempfile::TempDir,
}

impl Checkout {
    /// The repository's root in the copy (the runner's `--repo`); holds only the recipe's
    /// directory.
    pub fn repo_path(&self) -> PathBuf {
        self.scratch.path().join("repo")
    }
}

/// Copies `dir` (e.g. `recipes/cmip6` or `feedstock`) of `repo` at `git_ref`; with
/// `list_form`, its `meta.yaml` is rewritten to the list form. `Ok(Err(output))`: the
/// directory cannot be copied (too big, missing), said for the contributor.
pub async fn checkout(
    gh: &Installation,
    repo: &str,
    dir: &str,
    git_ref: &str,
    list_form: bool,
) -> Result<Result<Checkout, CheckOutput>, FlowError> {
    let refuse = |problem: String| Ok(Err(messages::checkout_refused(dir, &problem)));
    let scratch = tempfile::Builder::new()
        .prefix("pfo-checkout-")
        .tempdir()
        .map_err(|e| FlowError::fail(format!("cannot make a directory for the checkout: {e}")))?;
    let root = scratch.path().join("repo");
    let mut pending = vec![(dir.to_owned(), 0usize)];
    let (mut files, mut bytes) = (0usize, 0u64);
    while let Some((current, depth)) = pending.pop() {
        let Some(entries) = gh
            .directory(repo, &current, git_ref)
            .await
            .doing(format!("listing {current}"))?
        else {
            return refuse(format!("`{current}` is not a directory at {git_ref}"));
        };
        for entry in entries {
            let Some(relative) = inside(dir, &entry.path) else {
                return refuse(format!("GitHub listed `{}` outside it", entry.path));
            };
            match entry.kind.as_str() {
                "dir" if depth + 1 > MAX_DEPTH => {
                    return refuse(format!("it nests deeper than {MAX_DEPTH} directories"));
                }
                "dir" => pending.push((entry.path.clone(), depth + 1)),
                "file" => {
                    files += 1;
                    bytes += entry.size;
                    if entry.size > MAX_FILE_BYTES {
                        return refuse(format!(
                            "`{}` is {} bytes, over the {MAX_FILE_BYTES} bytes copied per file; keep data out of the recipe directory",
                            entry.path, entry.size
                        ));
                    }
                    if files > MAX_FILES || bytes > MAX_BYTES {
                        return refuse(format!(
                            "it holds more than {MAX_FILES} files or {MAX_BYTES} bytes"
                        ));
                    }
                    let Some(content) = gh
                        .file_contents(repo, &entry.path, git_ref)
                        .await
                        .doing(format!("reading {}", entry.path))?
                    else {
                        return refuse(format!("`{}` vanished while it was copied", entry.path));
                    };
                    write(&root.join(dir).join(relative), &content).await?;
                }
                // Symlinks and submodules are not the recipe's source.
                other => tracing::debug!(path = %entry.path, kind = other, "not copied"),
            }
        }
    }
    if list_form {
        let meta = root.join(dir).join("meta.yaml");
        let text = tokio::fs::read_to_string(&meta)
            .await
            .map_err(|e| FlowError::fail(format!("cannot read the copied meta.yaml: {e}")))?;
        match crate::meta::list_form_text(&text) {
            Ok(rewritten) => write(&meta, rewritten.as_bytes()).await?,
            Err(e) => return refuse(format!("its meta.yaml could not be rewritten: {e}")),
        }
    }
    tracing::info!(
        repo,
        dir,
        git_ref,
        files,
        bytes,
        "copied the recipe directory"
    );
    Ok(Ok(Checkout { scratch }))
}

/// `path` relative to `dir`, when it is a plain path inside it.
fn inside<'a>(dir: &str, path: &'a str) -> Option<&'a Path> {
    let relative = Path::new(path.strip_prefix(dir)?.strip_prefix('/')?);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(relative)
}

async fn write(path: &Path, content: &[u8]) -> Result<(), FlowError> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| FlowError::fail(format!("cannot write the checkout: {e}")))?;
    }
    tokio::fs::write(path, content)
        .await
        .map_err(|e| FlowError::fail(format!("cannot write the checkout: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_inside_the_directory_are_copied() {
        assert_eq!(
            inside("recipes/a", "recipes/a/sub/recipe.py"),
            Some(Path::new("sub/recipe.py"))
        );
        assert_eq!(inside("recipes/a", "recipes/ab/recipe.py"), None);
        assert_eq!(inside("recipes/a", "recipes/a/../../etc/passwd"), None);
        assert_eq!(inside("recipes/a", "recipes/a//abs"), None);
        assert_eq!(inside("recipes/a", "other/recipe.py"), None);
    }
}
