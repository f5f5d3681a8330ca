//! Bakeries: where recipes run, and how jobs are submitted to them.
//!
//! - [`config`]: one bakery's YAML file (the runner's configuration plus our
//!   `Orchestrator:` section and a secrets file).
//! - [`layout`]: which files of the bakeries directory are bakeries: ours (`<name>.yaml`)
//!   and the original orchestrator's (`<name>.<deployment>.yaml`, with its secrets file and
//!   required sections).
//! - [`registry`]: every configured bakery, loaded at start-up and recorded in the database.
//! - [`naming`]: storage subpaths, dataset URLs and Dataflow job names, as the original.
//! - [`runner`]: one `pangeo-forge-runner bake` invocation; [`output`] reads what it prints
//!   and holds the outcome; [`secrets`] masks secret values in all of it.
//! - [`expand`]: `expand-meta`, the ids of `dict_object` recipes; [`process`] runs the
//!   runner process for both.
//! - [`local`]: jobs of local bakeries, run in the background, their ends queued.
//! - [`timeouts`]: the sweep that times out runs their bakery no longer reports on.

pub(crate) mod config;
pub(crate) mod expand;
pub(crate) mod layout;
pub(crate) mod local;
pub(crate) mod naming;
pub(crate) mod output;
pub(crate) mod process;
pub(crate) mod registry;
pub(crate) mod runner;
pub(crate) mod secrets;
pub mod timeouts;

pub use config::{BakeryConfig, BakeryConfigError};
pub use layout::BakeryLayout;
pub use naming::{
    JobNameError, dataset_public_url, decode_job_name, encode_job_name, hooks_url, storage_subpath,
};
pub use registry::{BakeryRegistry, Registration, RegistryError};
pub use runner::{FailureReason, RunnerOutcome, RunnerRequest, submit};
pub use secrets::Secrets;

#[cfg(test)]
mod tests;
