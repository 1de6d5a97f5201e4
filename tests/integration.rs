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

/// With `autotests = false` a test file not named above would never be built: every `.rs`
/// file of `tests/` must be one of the modules.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let listed = include_str!("integration.rs");
    for entry in std::fs::read_dir("tests").unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "integration" {
            assert!(
                listed.contains(&format!("\nmod {stem};\n")),
                "tests/{stem}.rs is not a module of tests/integration.rs: add `mod {stem};`"
            );
        }
    }
}
