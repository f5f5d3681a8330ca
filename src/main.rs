//! The `pangeo-forge-orchestrator` binary: see [`pangeo_forge_orchestrator::cli`].

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a profile of the GraphQL read path spent a fifth of
/// its time in `malloc`/`free` (docs/performance.md, "Profile").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    pangeo_forge_orchestrator::cli::run().await
}
