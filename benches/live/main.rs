//! `cargo bench --bench live -- [--database-url URL] [--subscribers 1000,10000]
//! [--distinct 1,10,100] [--changes 20] [--two-replicas]`: GraphQL subscribers one `serve`
//! holds, how fast a committed change reaches all of them, and what an idle subscriber
//! costs — shared over D distinct selections, beside the unshared baseline. The logic is
//! in `mod.rs` (shared with `tests/it/benches.rs`); this file parses the options and
//! prints the table.

#[path = "mod.rs"]
mod live;

use clap::Parser;
use pangeo_forge_orchestrator::telemetry;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = live::Args::parse();
    telemetry::init(args.log_format);
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(live::run(args)));
    match outcome {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
