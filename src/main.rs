//! The `pangeo-forge-orchestrator` binary: see [`pangeo_forge_orchestrator::cli`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    pangeo_forge_orchestrator::cli::run().await
}
