//! `cargo bench --bench bench -- [--database-url URL] [--duration-secs S] [--concurrency C]
//! [--only read|paging|ingest|footprint] [--feedstocks N] [--runs N]`: the read path, deep
//! pages, webhook ingest and footprint figures, each beside a baseline from the same run. The logic is in
//! `mod.rs` (shared with `tests/it/benches.rs`); this file parses the options, logs at
//! `warn` unless `RUST_LOG` says otherwise (a log line per request would weigh on the
//! figures) and prints the tables as they come.

#[path = "../../tests/it/support/mod.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod support;

#[path = "mod.rs"]
mod bench;

use clap::Parser;
use pangeo_forge_orchestrator::telemetry;
use std::process::ExitCode;

/// The allocator `serve` runs with (src/main.rs): the server is measured in this process,
/// and with glibc's malloc its allocation-heavy paths (GraphQL above all) measured slower
/// than the binary serves them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = bench::Args::parse();
    telemetry::init_with_default(args.log_format, "warn");
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(bench::run(&args, &mut std::io::stdout())));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
