//! The integration tests, built as one test binary (one link of the library instead of one per
//! file): each module is a file of this directory, `common` their shared helpers.

mod common;

mod cfo_cost_gate;
mod cli;
mod data_loading;
mod explore;
mod gmm_parity;
mod metrics_parity;
mod plot;
mod properties;
mod reliability;
mod report_cli;
mod report_e2e;
mod report_numerics;
mod run_e2e;
mod shards;
mod trustworthy_runs;
mod zeroshot;
mod zeroshot_stats;
