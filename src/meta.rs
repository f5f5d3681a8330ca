//! A feedstock's `meta.yaml`, parsed and checked in Rust.
//!
//! The real `pangeo-forge-runner expand-meta` drops the `bakery:` key, and expanding a
//! `dict_object` entry means importing the recipe module (running Python), so the
//! orchestrator reads `meta.yaml` itself. Every [`MetaError`] is written for the contributor:
//! it says what to change in the file.

use serde::Deserialize;
use std::collections::HashSet;

/// The parts of `meta.yaml` the orchestrator uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The dataset's title.
    pub title: Option<String>,
    /// What the dataset is.
    pub description: Option<String>,
    /// One entry per recipe, in file order; never empty, ids unique.
    pub recipes: Vec<RecipeEntry>,
    /// The bakery that runs the recipes (`bakery: {id: …}`).
    pub bakery_id: String,
    /// The people to ask about the recipes.
    pub maintainers: Vec<Maintainer>,
}

/// One `recipes:` entry: `{id, object}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeEntry {
    /// The recipe id, exactly as written (see [`check_recipe_id`]).
    pub id: String,
    /// Where the recipe lives, `module:attribute` (e.g. `recipe:recipe`).
    pub object: String,
}

/// A `maintainers:` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Maintainer {
    /// The maintainer's name.
    pub name: Option<String>,
    /// Their ORCID iD.
    pub orcid: Option<String>,
    /// Their GitHub login.
    pub github: Option<String>,
}

/// Why a `meta.yaml` was refused; the message tells the contributor what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// Not YAML, or a key has the wrong type; the parser's message names the line and column.
    #[error("meta.yaml is not valid: {0}")]
    Syntax(String),
    /// `recipes:` is absent.
    #[error(
        "meta.yaml has no `recipes:` list; add one entry per recipe, e.g. `recipes: [{{id: my-recipe, object: \"recipe:recipe\"}}]`"
    )]
    NoRecipes,
    /// `recipes:` is present but lists nothing.
    #[error("the `recipes:` list in meta.yaml is empty; add one `{{id, object}}` entry per recipe")]
    EmptyRecipes,
    /// An entry lacks `id` or `object`.
    #[error(
        "recipe entry {position} in meta.yaml has no `{field}`; each entry needs both `id` and `object` (`module:attribute`, e.g. `recipe:recipe`)"
    )]
    MissingField {
        /// 1-based position in the list.
        position: usize,
        /// `id` or `object`.
        field: &'static str,
    },
    /// A `dict_object` entry, which only Python can expand.
    #[error(
        "recipe entry {position} in meta.yaml uses `dict_object: {value}`; the orchestrator cannot expand a dictionary of recipes without running Python, so list each recipe of that dictionary as its own `{{id, object}}` entry instead"
    )]
    DictObject {
        /// 1-based position in the list.
        position: usize,
        /// The `module:attribute` given.
        value: String,
    },
    /// An id that is not a safe path segment or argument.
    #[error("recipe id `{id}` in meta.yaml is not allowed: {reason}")]
    BadRecipeId {
        /// The id as written.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two entries share an id.
    #[error("recipe id `{0}` appears more than once in meta.yaml; recipe ids must be unique")]
    DuplicateRecipeId(String),
    /// `bakery:` or its `id` is absent.
    #[error(
        "meta.yaml does not name a bakery; add `bakery: {{id: <bakery name>}}` (for example `pangeo-ldeo-nsf-earthcube`)"
    )]
    NoBakery,
}

#[derive(Deserialize)]
struct RawMeta {
    title: Option<String>,
    description: Option<String>,
    recipes: Option<RawRecipes>,
    bakery: Option<RawBakery>,
    #[serde(default)]
    maintainers: Vec<Maintainer>,
}

/// `recipes:` as a list of entries, or as one mapping (`recipes: {dict_object: "m:a"}`, the
/// form the CMIP6 feedstocks use).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawRecipes {
    List(Vec<RawRecipe>),
    One(RawRecipe),
}

#[derive(Deserialize)]
struct RawRecipe {
    id: Option<String>,
    object: Option<String>,
    dict_object: Option<String>,
}

#[derive(Deserialize)]
struct RawBakery {
    id: Option<String>,
}

/// Parses and checks `meta.yaml` text.
pub fn parse_meta(text: &str) -> Result<Meta, MetaError> {
    let raw: Option<RawMeta> =
        serde_saphyr::from_str(text).map_err(|e| MetaError::Syntax(e.to_string()))?;
    let Some(raw) = raw else {
        return Err(MetaError::NoRecipes);
    };
    let raw_recipes = match raw.recipes.ok_or(MetaError::NoRecipes)? {
        RawRecipes::List(entries) => entries,
        RawRecipes::One(entry) if entry.dict_object.is_some() => vec![entry],
        RawRecipes::One(_) => {
            return Err(MetaError::Syntax(
                "`recipes:` must be a list of `{id, object}` entries (a mapping is only for `dict_object`)".into(),
            ));
        }
    };
    if raw_recipes.is_empty() {
        return Err(MetaError::EmptyRecipes);
    }
    let mut recipes = Vec::with_capacity(raw_recipes.len());
    let mut seen = HashSet::new();
    for (index, entry) in raw_recipes.into_iter().enumerate() {
        let position = index + 1;
        if let Some(value) = entry.dict_object {
            return Err(MetaError::DictObject { position, value });
        }
        let id = non_empty(entry.id).ok_or(MetaError::MissingField {
            position,
            field: "id",
        })?;
        let object = non_empty(entry.object).ok_or(MetaError::MissingField {
            position,
            field: "object",
        })?;
        check_recipe_id(&id).map_err(|reason| MetaError::BadRecipeId {
            id: id.clone(),
            reason,
        })?;
        if !seen.insert(id.clone()) {
            return Err(MetaError::DuplicateRecipeId(id));
        }
        recipes.push(RecipeEntry { id, object });
    }
    let bakery_id = raw
        .bakery
        .and_then(|b| non_empty(b.id))
        .ok_or(MetaError::NoBakery)?;
    Ok(Meta {
        title: raw.title,
        description: raw.description,
        recipes,
        bakery_id,
        maintainers: raw.maintainers,
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Longest recipe id accepted (bytes): it becomes a file name and part of a storage path.
pub const MAX_RECIPE_ID_LEN: usize = 128;

/// Checks a recipe id as the original did, which accepted ids such as `AWS NOAA Ocean
/// Nearsurface Atmos Profiles`: any text of at most [`MAX_RECIPE_ID_LEN`] bytes without
/// control characters. Ids are stored exactly as written; they reach the runner as one
/// argument (never through a shell) and storage paths percent-encoded
/// ([`crate::bakery::naming::recipe_path_segment`]).
pub fn check_recipe_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(bad) = id.chars().find(|c| c.is_control()) {
        return Err(format!(
            "`{}` (a control character) is not allowed",
            bad.escape_default()
        ));
    }
    if id.len() > MAX_RECIPE_ID_LEN {
        return Err(format!("it is longer than {MAX_RECIPE_ID_LEN} bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
