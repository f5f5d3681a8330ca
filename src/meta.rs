//! A feedstock's `meta.yaml`, parsed and checked in Rust.
//!
//! The real `pangeo-forge-runner expand-meta` drops the `bakery:` key, so the orchestrator
//! reads `meta.yaml` itself. Only the ids of `dict_object` recipes need Python (the keys of a
//! dictionary the recipe module builds): [`Recipes::Dicts`] says so, and the flows expand it
//! with the runner. Every [`MetaError`] is written for the contributor: it says what to
//! change in the file.

use serde::Deserialize;
use std::collections::HashSet;

pub mod lint;
pub mod tree;

/// The parts of `meta.yaml` the orchestrator uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The dataset's title.
    pub title: Option<String>,
    /// What the dataset is.
    pub description: Option<String>,
    /// The recipes, as written.
    pub recipes: Recipes,
    /// The bakery that runs the recipes (`bakery: {id: …}`).
    pub bakery_id: String,
    /// The people to ask about the recipes.
    pub maintainers: Vec<Maintainer>,
}

/// What `recipes:` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipes {
    /// `{id, object}` entries, in file order; never empty, ids unique.
    Listed(Vec<RecipeEntry>),
    /// `dict_object` entries: the ids are the keys of dictionaries the recipe module builds,
    /// known only once the runner has expanded them.
    Dicts(DictObjects),
}

/// The `dict_object` entries of a `meta.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictObjects {
    /// Each `module:attribute`, in file order; never empty.
    pub objects: Vec<String>,
    /// Written as one mapping (`recipes: {dict_object: …}`, the CMIP6 feedstocks' form),
    /// which runner 0.10 refuses: the runner must be given the list form
    /// ([`list_form_text`]).
    pub mapping_form: bool,
}

impl Meta {
    /// Whether the runner needs a copy of the recipe with `meta.yaml` in the list form.
    pub fn needs_list_form(&self) -> bool {
        matches!(&self.recipes, Recipes::Dicts(d) if d.mapping_form)
    }
}

/// One `recipes:` entry: `{id, object}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
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
    /// `dict_object` entries beside `{id, object}` entries, which the runner does not
    /// support.
    #[error(
        "recipe entry {position} in meta.yaml uses `dict_object` while others are `{{id, object}}` entries; pangeo-forge-runner cannot mix the two, so use one form for every recipe"
    )]
    MixedForms {
        /// 1-based position of the first entry of the other form.
        position: usize,
    },
    /// An entry with both `id`/`object` and `dict_object`.
    #[error(
        "recipe entry {position} in meta.yaml has both `dict_object` and `id`/`object`; an entry is either `{{id, object}}` or `{{dict_object}}`"
    )]
    BothForms {
        /// 1-based position in the list.
        position: usize,
    },
    /// The ids a `dict_object` expanded to could not be used.
    #[error("the dictionary of recipes `{object}` expanded to no recipe ids")]
    ExpandedToNothing {
        /// The `module:attribute`.
        object: String,
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
    #[serde(default, deserialize_with = "lenient")]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    description: Option<String>,
    recipes: Option<RawRecipes>,
    bakery: Option<RawBakery>,
    #[serde(default, deserialize_with = "lenient")]
    maintainers: Option<Vec<Maintainer>>,
}

/// Reads a value the runs do not need, as `None` when it has another shape: [`lint`]
/// warns about it, and the original accepted it.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
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
    let (raw_recipes, mapping_form) = match raw.recipes.ok_or(MetaError::NoRecipes)? {
        RawRecipes::List(entries) => (entries, false),
        RawRecipes::One(entry) if entry.dict_object.is_some() => (vec![entry], true),
        RawRecipes::One(_) => {
            return Err(MetaError::Syntax(
                "`recipes:` must be a list of `{id, object}` entries (a mapping is only for `dict_object`)".into(),
            ));
        }
    };
    if raw_recipes.is_empty() {
        return Err(MetaError::EmptyRecipes);
    }
    let recipes = checked_recipes(raw_recipes, mapping_form)?;
    let bakery_id = raw
        .bakery
        .and_then(|b| non_empty(b.id))
        .ok_or(MetaError::NoBakery)?;
    Ok(Meta {
        title: raw.title,
        description: raw.description,
        recipes,
        bakery_id,
        maintainers: raw.maintainers.unwrap_or_default(),
    })
}

/// Checks the entries: all `{id, object}` (ids valid and unique) or all `dict_object`.
fn checked_recipes(entries: Vec<RawRecipe>, mapping_form: bool) -> Result<Recipes, MetaError> {
    let dicts = entries.first().is_some_and(|e| e.dict_object.is_some());
    let mut listed = Vec::with_capacity(entries.len());
    let mut objects = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let position = index + 1;
        if entry.dict_object.is_some() && (entry.id.is_some() || entry.object.is_some()) {
            return Err(MetaError::BothForms { position });
        }
        if entry.dict_object.is_some() != dicts {
            return Err(MetaError::MixedForms { position });
        }
        if dicts {
            let object = non_empty(entry.dict_object).ok_or(MetaError::MissingField {
                position,
                field: "dict_object",
            })?;
            objects.push(object);
            continue;
        }
        let id = non_empty(entry.id).ok_or(MetaError::MissingField {
            position,
            field: "id",
        })?;
        let object = non_empty(entry.object).ok_or(MetaError::MissingField {
            position,
            field: "object",
        })?;
        listed.push(RecipeEntry { id, object });
    }
    if dicts {
        return Ok(Recipes::Dicts(DictObjects {
            objects,
            mapping_form,
        }));
    }
    checked_ids(listed).map(Recipes::Listed)
}

/// Checks every id (see [`check_recipe_id`]) and that none repeats: for the ids written in
/// `meta.yaml`, and for those a `dict_object` expanded to.
pub fn checked_ids(entries: Vec<RecipeEntry>) -> Result<Vec<RecipeEntry>, MetaError> {
    let mut seen = HashSet::new();
    for entry in &entries {
        check_recipe_id(&entry.id).map_err(|reason| MetaError::BadRecipeId {
            id: entry.id.clone(),
            reason,
        })?;
        if !seen.insert(entry.id.as_str()) {
            return Err(MetaError::DuplicateRecipeId(entry.id.clone()));
        }
    }
    Ok(entries)
}

/// `meta.yaml` with a mapping-form `recipes: {dict_object: …}` turned into the list form
/// runner 0.10 reads, every other key kept. The result is JSON, which is YAML 1.2 as the
/// runner's parser (ruamel.yaml) reads it.
pub fn list_form_text(text: &str) -> Result<String, MetaError> {
    let mut document: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| MetaError::Syntax(e.to_string()))?;
    if let Some(recipes) = document.get_mut("recipes")
        && recipes.is_object()
    {
        *recipes = serde_json::Value::Array(vec![recipes.take()]);
    }
    serde_json::to_string_pretty(&document).map_err(|e| MetaError::Syntax(e.to_string()))
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
