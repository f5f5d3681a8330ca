//! meta.yaml checked against the official schema (pangeo-forge/meta-yaml-schema), each
//! problem on the line and column the YAML parser gives ([`super::tree`]).
//!
//! A [`Level::Failure`] stops the runs (what the original refused too, and what would fail
//! a run later: a missing module file, an id the runner cannot take); a [`Level::Warning`]
//! is what the original tolerated, so it stays accepted. The words are the bot's, in
//! `flows::messages::meta_problems`; this module only decides.

use super::tree::{self, Key, Node, Pos, Value};
use super::{Meta, check_recipe_id, parse_meta};
use std::collections::HashMap;

/// How serious a problem is: GitHub's `annotation_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Stops the runs.
    Failure,
    /// Accepted, but worth fixing.
    Warning,
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where.
    pub at: Pos,
}

impl Problem {
    /// A problem of `kind` at `at`.
    pub fn new(kind: ProblemKind, at: Pos) -> Self {
        Problem { kind, at }
    }

    /// Its level.
    pub fn level(&self) -> Level {
        self.kind.level()
    }
}

/// What can be wrong with a meta.yaml. Paths such as `provenance.providers[1].url` name
/// the key as the contributor sees it (1-based positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not YAML; the parser's message.
    Syntax {
        /// What the parser said.
        message: String,
    },
    /// The file is empty.
    Empty,
    /// The document is not a mapping.
    NotAMapping {
        /// What it is instead.
        found: &'static str,
    },
    /// A top-level key needed to run (`recipes`, `bakery`) is absent.
    MissingRequired {
        /// The key.
        key: &'static str,
    },
    /// A key the schema asks for, which the original did not need, is absent.
    MissingRecommended {
        /// The key's path.
        key: String,
    },
    /// A value of the wrong type.
    WrongType {
        /// The key's path.
        path: String,
        /// What the schema wants ("text", "a list", …).
        expected: &'static str,
        /// What is there.
        found: &'static str,
        /// Whether it stops the runs (under `recipes` or `bakery`).
        stops: bool,
    },
    /// `recipes:` lists nothing.
    EmptyRecipes,
    /// A recipe entry lacks `id`, `object` or a `dict_object` value.
    RecipeFieldMissing {
        /// 1-based position.
        position: usize,
        /// The field.
        field: &'static str,
    },
    /// `recipes:` is a mapping without `dict_object`.
    RecipesMapping,
    /// `dict_object` entries beside `{id, object}` entries.
    MixedForms {
        /// 1-based position of the first entry of the other form.
        position: usize,
    },
    /// An entry with both forms.
    BothForms {
        /// 1-based position.
        position: usize,
    },
    /// An id that cannot be used.
    BadRecipeId {
        /// The id.
        id: String,
        /// Why.
        reason: String,
    },
    /// An id given twice.
    DuplicateRecipeId {
        /// The id.
        id: String,
        /// The line of its first use.
        first_line: u32,
    },
    /// An `object`/`dict_object` not of the form `module:attribute`.
    ObjectForm {
        /// As written.
        object: String,
    },
    /// The module file an `object`/`dict_object` names is not in the recipe directory.
    ModuleMissing {
        /// As written.
        object: String,
        /// The file that should be there.
        file: String,
    },
    /// A `dict_object` the runner could not expand.
    ExpansionFailed {
        /// As written.
        object: String,
        /// The runner's last line, masked.
        said: String,
    },
    /// `bakery:` has no `id`.
    NoBakeryId,
    /// `bakery.id` names no bakery of this deployment.
    UnknownBakery {
        /// As written.
        id: String,
        /// The bakeries there are.
        known: Vec<String>,
    },
    /// A key the schema does not know.
    UnknownKey {
        /// Where (`""` at the top, else e.g. `maintainers[1]`).
        parent: String,
        /// The key.
        key: String,
        /// A known key it is close to.
        suggestion: Option<&'static str>,
    },
    /// A provider without `description`.
    ProviderWithoutDescription {
        /// 1-based position.
        position: usize,
    },
    /// A provider `url` that is not http(s).
    ProviderUrl {
        /// 1-based position.
        position: usize,
        /// As written.
        url: String,
    },
    /// An ORCID not of the form `0000-0000-0000-000X`.
    Orcid {
        /// As written.
        orcid: String,
    },
    /// A maintainer's `github` that is not a GitHub login.
    GithubLogin {
        /// As written.
        login: String,
    },
    /// The file passed every check here, and the structural reading still refused it.
    Refused {
        /// Why.
        message: String,
    },
}

impl ProblemKind {
    /// Its level.
    pub fn level(&self) -> Level {
        use ProblemKind::*;
        match self {
            MissingRecommended { .. }
            | UnknownKey { .. }
            | ProviderWithoutDescription { .. }
            | ProviderUrl { .. }
            | Orcid { .. }
            | GithubLogin { .. } => Level::Warning,
            WrongType { stops, .. } => {
                if *stops {
                    Level::Failure
                } else {
                    Level::Warning
                }
            }
            _ => Level::Failure,
        }
    }
}

/// An `object` or `dict_object` and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// `module:attribute`.
    pub object: String,
    /// The module part.
    pub module: String,
    /// Where the value is.
    pub at: Pos,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The file's meaning, when no problem is a failure.
    pub meta: Option<Meta>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
    /// Where `bakery.id`'s value is.
    pub bakery_id_at: Option<Pos>,
    /// Every well-formed `object` and `dict_object`, in file order.
    pub objects: Vec<ObjectRef>,
}

impl Checked {
    /// Whether a problem stops the runs.
    pub fn fails(&self) -> bool {
        self.problems.iter().any(|p| p.level() == Level::Failure)
    }

    /// Adds a problem found later (by the flow: the bakery, the module files), keeping
    /// file order; a failure drops the meaning.
    pub fn add(&mut self, problem: Problem) {
        if problem.level() == Level::Failure {
            self.meta = None;
        }
        let index = self
            .problems
            .partition_point(|p| (p.at.line, p.at.column) <= (problem.at.line, problem.at.column));
        self.problems.insert(index, problem);
    }
}

const TOP_KEYS: &[&str] = &[
    "title",
    "description",
    "pangeo_forge_version",
    "pangeo_notebook_version",
    "recipes",
    "provenance",
    "maintainers",
    "bakery",
];
const RECIPE_KEYS: &[&str] = &["id", "object", "dict_object"];
const PROVENANCE_KEYS: &[&str] = &["providers", "license"];
const PROVIDER_KEYS: &[&str] = &["name", "description", "roles", "url"];
const MAINTAINER_KEYS: &[&str] = &["name", "orcid", "github"];
const BAKERY_KEYS: &[&str] = &["id"];

/// Checks `text` against the schema and reads its meaning when nothing stops it.
pub fn check(text: &str) -> Checked {
    let mut lint = Lint::default();
    match tree::parse(text) {
        Err(e) => lint.push(ProblemKind::Syntax { message: e.message }, e.at),
        Ok(None) => lint.push(ProblemKind::Empty, Pos::START),
        Ok(Some(root)) => lint.root(&root),
    }
    let mut checked = Checked {
        meta: None,
        problems: Vec::new(),
        bakery_id_at: lint.bakery_id_at,
        objects: lint.objects,
    };
    let mut problems = lint.problems;
    problems.sort_by_key(|p| (p.at.line, p.at.column));
    checked.problems = problems;
    if !checked.fails() {
        match parse_meta(text) {
            Ok(meta) => checked.meta = Some(meta),
            Err(e) => checked.add(Problem::new(
                ProblemKind::Refused {
                    message: e.to_string(),
                },
                Pos::START,
            )),
        }
    }
    checked
}

#[derive(Default)]
struct Lint {
    problems: Vec<Problem>,
    bakery_id_at: Option<Pos>,
    objects: Vec<ObjectRef>,
}

impl Lint {
    fn push(&mut self, kind: ProblemKind, at: Pos) {
        self.problems.push(Problem::new(kind, at));
    }

    fn root(&mut self, root: &Node) {
        let Value::Map(entries) = &root.value else {
            self.push(
                ProblemKind::NotAMapping {
                    found: root.value.kind(),
                },
                root.at,
            );
            return;
        };
        self.unknown_keys("", entries, TOP_KEYS);
        for (key, value) in entries {
            match key.name.as_str() {
                "title" | "description" | "pangeo_forge_version" | "pangeo_notebook_version" => {
                    self.text(&key.name, key, value, false);
                }
                "recipes" => self.recipes(key, value),
                "provenance" => self.provenance(key, value),
                "maintainers" => self.maintainers(key, value),
                "bakery" => self.bakery(key, value),
                _ => {}
            }
        }
        for required in ["recipes", "bakery"] {
            if root.get(required).is_none() {
                self.push(ProblemKind::MissingRequired { key: required }, Pos::START);
            }
        }
        for recommended in TOP_KEYS {
            if !matches!(*recommended, "recipes" | "bakery") && root.get(recommended).is_none() {
                self.push(
                    ProblemKind::MissingRecommended {
                        key: (*recommended).to_owned(),
                    },
                    Pos::START,
                );
            }
        }
    }

    /// A key whose value should be text: a warning unless `stops`.
    fn text<'a>(&mut self, path: &str, key: &Key, value: &'a Node, stops: bool) -> Option<&'a str> {
        match &value.value {
            Value::String(s) => Some(s),
            other => {
                self.push(
                    ProblemKind::WrongType {
                        path: path.to_owned(),
                        expected: "text",
                        found: other.kind(),
                        stops,
                    },
                    if matches!(other, Value::Null) {
                        key.at
                    } else {
                        value.at
                    },
                );
                None
            }
        }
    }

    fn unknown_keys(
        &mut self,
        parent: &str,
        entries: &[(Key, Node)],
        known: &'static [&'static str],
    ) {
        for (key, _) in entries {
            if !known.contains(&key.name.as_str()) {
                self.push(
                    ProblemKind::UnknownKey {
                        parent: parent.to_owned(),
                        key: key.name.clone(),
                        suggestion: suggestion(&key.name, known),
                    },
                    key.at,
                );
            }
        }
    }

    fn recipes(&mut self, key: &Key, value: &Node) {
        match &value.value {
            Value::Null => self.push(ProblemKind::MissingRequired { key: "recipes" }, key.at),
            Value::Seq(items) if items.is_empty() => self.push(ProblemKind::EmptyRecipes, value.at),
            Value::Seq(items) => {
                let dicts = items
                    .first()
                    .is_some_and(|i| i.get("dict_object").is_some());
                let mut seen: HashMap<String, u32> = HashMap::new();
                for (index, item) in items.iter().enumerate() {
                    self.recipe(index + 1, item, dicts, &mut seen);
                }
            }
            Value::Map(_) if value.get("dict_object").is_some() => {
                let mut seen = HashMap::new();
                self.recipe(1, value, true, &mut seen);
            }
            Value::Map(_) => self.push(ProblemKind::RecipesMapping, value.at),
            other => self.push(
                ProblemKind::WrongType {
                    path: "recipes".into(),
                    expected: "a list",
                    found: other.kind(),
                    stops: true,
                },
                value.at,
            ),
        }
    }

    fn recipe(
        &mut self,
        position: usize,
        item: &Node,
        dicts: bool,
        seen: &mut HashMap<String, u32>,
    ) {
        let path = format!("recipes[{position}]");
        let Value::Map(entries) = &item.value else {
            self.push(
                ProblemKind::WrongType {
                    path,
                    expected: "a mapping (`{id, object}`)",
                    found: item.value.kind(),
                    stops: true,
                },
                item.at,
            );
            return;
        };
        self.unknown_keys(&path, entries, RECIPE_KEYS);
        let dict_object = item.get("dict_object");
        if dict_object.is_some() && (item.get("id").is_some() || item.get("object").is_some()) {
            self.push(ProblemKind::BothForms { position }, item.at);
            return;
        }
        if dict_object.is_some() != dicts {
            self.push(ProblemKind::MixedForms { position }, item.at);
            return;
        }
        let fields: &[&'static str] = if dicts {
            &["dict_object"]
        } else {
            &["id", "object"]
        };
        let mut values = Vec::new();
        for field in fields {
            let Some((key, value)) = item.get(field) else {
                self.push(ProblemKind::RecipeFieldMissing { position, field }, item.at);
                return;
            };
            match self.scalar_text(&format!("{path}.{field}"), key, value) {
                Some(text) if !text.trim().is_empty() => values.push((text, value.at)),
                Some(_) => {
                    self.push(ProblemKind::RecipeFieldMissing { position, field }, key.at);
                    return;
                }
                None => return,
            }
        }
        let (object, object_at) = values.pop().unwrap_or_default();
        self.object(object, object_at);
        if let Some((id, id_at)) = values.pop() {
            let id = id.trim().to_owned();
            if let Err(reason) = check_recipe_id(&id) {
                self.push(
                    ProblemKind::BadRecipeId {
                        id: id.clone(),
                        reason,
                    },
                    id_at,
                );
            }
            if let Some(first_line) = seen.get(&id) {
                self.push(
                    ProblemKind::DuplicateRecipeId {
                        id,
                        first_line: *first_line,
                    },
                    id_at,
                );
            } else {
                seen.insert(id, id_at.line);
            }
        }
    }

    /// Text that the runner takes as written: a string, or a number's digits.
    fn scalar_text(&mut self, path: &str, key: &Key, value: &Node) -> Option<String> {
        match &value.value {
            Value::Number(n) => Some(n.clone()),
            _ => self.text(path, key, value, true).map(str::to_owned),
        }
    }

    fn object(&mut self, object: String, at: Pos) {
        let object = object.trim().to_owned();
        match object.split_once(':') {
            Some((module, attr)) if !module.trim().is_empty() && !attr.trim().is_empty() => {
                self.objects.push(ObjectRef {
                    module: module.trim().to_owned(),
                    object,
                    at,
                });
            }
            _ => self.push(ProblemKind::ObjectForm { object }, at),
        }
    }

    fn provenance(&mut self, key: &Key, value: &Node) {
        let Value::Map(entries) = &value.value else {
            self.wrong_type("provenance", "a mapping", key, value);
            return;
        };
        self.unknown_keys("provenance", entries, PROVENANCE_KEYS);
        match value.get("providers") {
            None => self.push(
                ProblemKind::MissingRecommended {
                    key: "provenance.providers".into(),
                },
                key.at,
            ),
            Some((pkey, providers)) => match &providers.value {
                Value::Seq(items) => {
                    for (index, provider) in items.iter().enumerate() {
                        self.provider(index + 1, provider);
                    }
                }
                _ => self.wrong_type("provenance.providers", "a list", pkey, providers),
            },
        }
        match value.get("license") {
            None => self.push(
                ProblemKind::MissingRecommended {
                    key: "provenance.license".into(),
                },
                key.at,
            ),
            Some((lkey, license)) => {
                self.text("provenance.license", lkey, license, false);
            }
        }
    }

    fn provider(&mut self, position: usize, provider: &Node) {
        let path = format!("provenance.providers[{position}]");
        let Value::Map(entries) = &provider.value else {
            self.push(
                ProblemKind::WrongType {
                    path,
                    expected: "a mapping",
                    found: provider.value.kind(),
                    stops: false,
                },
                provider.at,
            );
            return;
        };
        self.unknown_keys(&path, entries, PROVIDER_KEYS);
        if let Some((k, v)) = provider.get("name") {
            self.text(&format!("{path}.name"), k, v, false);
        }
        match provider.get("description") {
            Some((k, v)) => {
                self.text(&format!("{path}.description"), k, v, false);
            }
            None => self.push(
                ProblemKind::ProviderWithoutDescription { position },
                provider.at,
            ),
        }
        if let Some((k, v)) = provider.get("roles") {
            match &v.value {
                Value::Seq(roles) => {
                    for (i, role) in roles.iter().enumerate() {
                        if role.as_str().is_none() {
                            self.push(
                                ProblemKind::WrongType {
                                    path: format!("{path}.roles[{}]", i + 1),
                                    expected: "text",
                                    found: role.value.kind(),
                                    stops: false,
                                },
                                role.at,
                            );
                        }
                    }
                }
                _ => self.wrong_type(&format!("{path}.roles"), "a list", k, v),
            }
        }
        if let Some((k, v)) = provider.get("url")
            && let Some(url) = self.text(&format!("{path}.url"), k, v, false)
            && !is_http_url(url)
        {
            self.push(
                ProblemKind::ProviderUrl {
                    position,
                    url: url.to_owned(),
                },
                v.at,
            );
        }
    }

    fn maintainers(&mut self, key: &Key, value: &Node) {
        let Value::Seq(items) = &value.value else {
            self.wrong_type("maintainers", "a list", key, value);
            return;
        };
        for (index, item) in items.iter().enumerate() {
            let path = format!("maintainers[{}]", index + 1);
            let Value::Map(entries) = &item.value else {
                self.push(
                    ProblemKind::WrongType {
                        path,
                        expected: "a mapping (`{name, orcid, github}`)",
                        found: item.value.kind(),
                        stops: false,
                    },
                    item.at,
                );
                continue;
            };
            self.unknown_keys(&path, entries, MAINTAINER_KEYS);
            if let Some((k, v)) = item.get("name") {
                self.text(&format!("{path}.name"), k, v, false);
            }
            if let Some((k, v)) = item.get("orcid")
                && let Some(orcid) = self.text(&format!("{path}.orcid"), k, v, false)
                && !is_orcid(orcid)
            {
                self.push(
                    ProblemKind::Orcid {
                        orcid: orcid.to_owned(),
                    },
                    v.at,
                );
            }
            if let Some((k, v)) = item.get("github")
                && let Some(login) = self.text(&format!("{path}.github"), k, v, false)
                && !is_github_login(login)
            {
                self.push(
                    ProblemKind::GithubLogin {
                        login: login.to_owned(),
                    },
                    v.at,
                );
            }
        }
    }

    fn bakery(&mut self, key: &Key, value: &Node) {
        let Value::Map(entries) = &value.value else {
            if matches!(value.value, Value::Null) {
                self.push(ProblemKind::NoBakeryId, key.at);
            } else {
                self.push(
                    ProblemKind::WrongType {
                        path: "bakery".into(),
                        expected: "a mapping (`{id: <bakery>}`)",
                        found: value.value.kind(),
                        stops: true,
                    },
                    value.at,
                );
            }
            return;
        };
        self.unknown_keys("bakery", entries, BAKERY_KEYS);
        match value.get("id") {
            None => self.push(ProblemKind::NoBakeryId, key.at),
            Some((k, v)) => match self.scalar_text("bakery.id", k, v) {
                Some(id) if id.trim().is_empty() => self.push(ProblemKind::NoBakeryId, k.at),
                Some(_) => self.bakery_id_at = Some(v.at),
                None => {}
            },
        }
    }

    fn wrong_type(&mut self, path: &str, expected: &'static str, key: &Key, value: &Node) {
        let at = if matches!(value.value, Value::Null) {
            key.at
        } else {
            value.at
        };
        self.push(
            ProblemKind::WrongType {
                path: path.to_owned(),
                expected,
                found: value.value.kind(),
                stops: false,
            },
            at,
        );
    }
}

/// A known key `key` is probably a misspelling of: the same but for case or `-`/`_`, or
/// at most one edit away (two for longer keys).
fn suggestion(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let normal = key.to_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (*k, strsim::damerau_levenshtein(&normal, k)))
        .filter(|(k, distance)| *distance <= if k.len() >= 6 { 2 } else { 1 })
        .min_by_key(|(_, distance)| *distance)
        .map(|(k, _)| k)
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// `0000-0000-0000-000X`: four groups of four digits, the last character a digit or `X`.
fn is_orcid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 9 | 14 => *b == b'-',
            18 => b.is_ascii_digit() || *b == b'X',
            _ => b.is_ascii_digit(),
        })
}

/// A GitHub login: 1 to 39 letters, digits and single hyphens, not starting or ending
/// with a hyphen.
fn is_github_login(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 39
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
}

#[cfg(test)]
mod tests;
