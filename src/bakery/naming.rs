//! Names derived from a run, exactly as the original orchestrator derived them: where a run's
//! output is stored, the dataset's public URL, and the Dataflow job name that tells the
//! status monitor where to report and which run finished.

use super::config::BakeryConfig;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The file extension of the stored dataset (the original always wrote Zarr).
pub const DATASET_EXTENSION: &str = "zarr";

/// The webhook path the job name leaves out, since every named deployment uses it.
pub const DEFAULT_HOOKS_PATH: &str = "/github/hooks/";

/// The longest job name Dataflow (and `--Bake.job_name`) accepts.
pub const MAX_JOB_NAME_LEN: usize = 64;

/// What a recipe id keeps as it is in a path: ASCII letters, digits, `.`, `_` and `-`.
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'-');

/// A recipe id as one storage path segment: every byte but ASCII letters, digits, `.`, `_`
/// and `-` percent-encoded (`AWS NOAA` → `AWS%20NOAA`, `a/b` → `a%2Fb`, `%` → `%25`). Ids
/// that were already safe are unchanged; the encoding is reversible
/// (percent-decoding gives the id back), so two different ids never share a path, and no id can
/// leave its run's directory.
pub fn recipe_path_segment(recipe_id: &str) -> String {
    utf8_percent_encode(recipe_id, PATH_SAFE).to_string()
}

/// Where a run's output goes inside the bakery's `TargetStorage.root_path`:
/// test runs `<app_name>/test/<feedstock_spec>/recipe-run-<id>/<recipe_id>.zarr`,
/// production runs `<app_name>/<feedstock_spec>/<recipe_id>.zarr`, the recipe id as its
/// [`recipe_path_segment`].
pub fn storage_subpath(
    app_name: &str,
    feedstock_spec: &str,
    run_id: i32,
    recipe_id: &str,
    is_test: bool,
) -> String {
    let recipe_id = recipe_path_segment(recipe_id);
    if is_test {
        format!(
            "{app_name}/test/{feedstock_spec}/recipe-run-{run_id}/{recipe_id}.{DATASET_EXTENSION}"
        )
    } else {
        format!("{app_name}/{feedstock_spec}/{recipe_id}.{DATASET_EXTENSION}")
    }
}

/// `TargetStorage.root_path` with `{subpath}` filled in: where the runner writes.
pub fn target_root_path(config: &BakeryConfig, subpath: &str) -> Option<String> {
    config
        .target_root_path()
        .map(|root| root.replace("{subpath}", subpath))
}

/// The public URL of a run's dataset: `{subpath}` fills `TargetStorage.root_path`, which
/// fills `{root_path}` in `TargetStorage.public_url`. `None` when the bakery's storage has
/// no public URL.
pub fn dataset_public_url(config: &BakeryConfig, subpath: &str) -> Option<String> {
    let root = target_root_path(config, subpath)?;
    config
        .target_public_url()
        .map(|url| url.replace("{root_path}", &root))
}

/// Where every dataset of the bakery's public storage starts: `TargetStorage.public_url`
/// with `{root_path}` filled, up to its first remaining placeholder (`{subpath}`), e.g.
/// `https://ncsa.osn.xsede.org/Pangeo/`. The dataset preview reads under it. `None` when the
/// storage has no public URL or no fixed part.
pub fn public_url_prefix(config: &BakeryConfig) -> Option<String> {
    let root = config.target_root_path().unwrap_or("");
    let url = config.target_public_url()?.replace("{root_path}", root);
    let fixed = url.split('{').next().unwrap_or("");
    (!fixed.is_empty()).then(|| fixed.to_owned())
}

/// Why a job name could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobNameError {
    /// The webhook URL is not `scheme://host[/path]`.
    #[error("`{0}` is not an absolute http(s) URL")]
    BadUrl(String),
    /// The host (and path) hold characters the encoding cannot carry.
    #[error("the webhook host and path `{0}` must be printable ASCII without `%`")]
    BadHost(String),
    /// Recipe run ids are positive.
    #[error("recipe run id {0} cannot be encoded: it must not be negative")]
    NegativeRunId(i32),
    /// The encoded name would be too long for Dataflow.
    #[error(
        "the job name for `{netloc}` and recipe run {run_id} would be {len} characters, over Dataflow's limit of {MAX_JOB_NAME_LEN}: the encoding takes two characters per character of the webhook host, so use a shorter public host name (at most about {max_host} characters for this run id)"
    )]
    TooLong {
        /// The host (and path) encoded.
        netloc: String,
        /// The recipe run.
        run_id: i32,
        /// The length the name would have.
        len: usize,
        /// The longest host that would fit with this run id.
        max_host: usize,
    },
    /// A name that this encoding did not produce.
    #[error("`{0}` is not an encoded job name: {1}")]
    NotEncoded(String, &'static str),
}

/// What the original encoded from the webhook URL: the host (with any port), plus the
/// path when it is not `/github/hooks/` (a local proxy), like Python's `urlparse`.
fn hook_netloc_and_path(url: &str) -> Result<String, JobNameError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| JobNameError::BadUrl(url.to_owned()))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (netloc, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if netloc.is_empty() {
        return Err(JobNameError::BadUrl(url.to_owned()));
    }
    let encoded = if path == DEFAULT_HOOKS_PATH {
        netloc.to_owned()
    } else {
        format!("{netloc}{path}")
    };
    if !encoded.chars().all(|c| c.is_ascii_graphic() && c != '%') {
        return Err(JobNameError::BadHost(encoded));
    }
    Ok(encoded)
}

/// The webhook URL of a deployment whose public base URL is `public_url`: the URL the job
/// name encodes, and where the status monitor posts.
pub fn hooks_url(public_url: &str) -> String {
    format!("{}{DEFAULT_HOOKS_PATH}", public_url.trim_end_matches('/'))
}

/// The Dataflow job name for recipe run `run_id` whose status should be posted to the
/// webhook at `hooks_url` (e.g. `https://api.pangeo-forge.org/github/hooks/`):
/// `"a" + hex(netloc[+path] + "%") + run id` (the run id's digits zero-padded to an even
/// count). It matches `^[a-z][-_0-9a-z]{0,62}$`.
pub fn encode_job_name(hooks_url: &str, run_id: i32) -> Result<String, JobNameError> {
    if run_id < 0 {
        return Err(JobNameError::NegativeRunId(run_id));
    }
    let netloc = hook_netloc_and_path(hooks_url)?;
    let mut name = String::from("a");
    for byte in netloc.bytes().chain(std::iter::once(b'%')) {
        name.push_str(&format!("{byte:02x}"));
    }
    let digits = run_id.to_string();
    if digits.len() % 2 == 1 {
        name.push('0');
    }
    name.push_str(&digits);
    if name.len() > MAX_JOB_NAME_LEN {
        let padded = digits.len() + digits.len() % 2;
        let max_host = (MAX_JOB_NAME_LEN.saturating_sub(1 + padded) / 2).saturating_sub(1);
        return Err(JobNameError::TooLong {
            netloc,
            run_id,
            len: name.len(),
            max_host,
        });
    }
    Ok(name)
}

/// Reverses [`encode_job_name`]: the encoded host (and path) and the recipe run id.
pub fn decode_job_name(job_name: &str) -> Result<(String, i32), JobNameError> {
    let not = |why| JobNameError::NotEncoded(job_name.to_owned(), why);
    let body = job_name
        .strip_prefix('a')
        .ok_or_else(|| not("it does not start with `a`"))?;
    if body.len() % 2 == 1 || !body.is_ascii() {
        return Err(not("its body is not pairs of hex digits"));
    }
    let mut netloc = String::new();
    let mut pairs = body.as_bytes().chunks(2);
    let mut found_separator = false;
    for pair in pairs.by_ref() {
        let text = std::str::from_utf8(pair).map_err(|_| not("it is not ASCII"))?;
        let byte = u8::from_str_radix(text, 16).map_err(|_| not("it holds a non-hex pair"))?;
        if byte == b'%' {
            found_separator = true;
            break;
        }
        netloc.push(char::from(byte));
    }
    if !found_separator {
        return Err(not("it has no `%` separator"));
    }
    let digits: String = pairs
        .flat_map(|p| p.iter().map(|b| char::from(*b)))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(not("no decimal run id follows the separator"));
    }
    let run_id = digits
        .parse::<i32>()
        .map_err(|_| not("the run id is out of range"))?;
    Ok((netloc, run_id))
}

#[cfg(test)]
mod tests;
