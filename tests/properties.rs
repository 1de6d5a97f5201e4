//! Property tests: the CSV loader and the config parser never panic, whatever they are given
//! (arbitrary bytes, near-valid CSV, YAML-ish text, mutated shipped configs); what they accept
//! is well formed.

use std::path::Path;

use gmmtune::config::RunConfig;
use gmmtune::data::{prepare, read_table, Protocol, ReadOptions};
use gmmtune::plan::Plan;
use gmmtune::zeroshot::Portfolio;
use proptest::prelude::*;
use proptest::sample::Index;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The read options worth trying on any file.
fn option_sets() -> Vec<ReadOptions> {
    vec![
        ReadOptions::default(),
        ReadOptions {
            label_column: Some("label".into()),
            require_label: true,
            exclude_columns: vec!["a".into()],
            split_column: Some("split".into()),
        },
        ReadOptions {
            label_column: None,
            require_label: false,
            exclude_columns: Vec::new(),
            split_column: None,
        },
    ]
}

/// Reads `bytes` as `name` under every option set; a table read is well formed and prepares
/// (or refuses to) without a panic.
fn read_all_ways(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    for options in option_sets() {
        let Ok(table) = read_table(&path, &options) else {
            continue;
        };
        let rows = table.n_rows();
        assert!(rows > 0 && table.n_features() > 0);
        assert_eq!(table.feature_names.len(), table.n_features());
        assert!(table.features.iter().all(|v| v.is_finite()));
        assert!(table.labels.as_ref().is_none_or(|l| l.len() == rows));
        assert!(table.split.as_ref().is_none_or(|s| s.len() == rows));
        let _ = prepare(&table, "p", &Protocol::default(), 7);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Cells a CSV might hold, good and bad.
const CELLS: &[&str] = &[
    "0",
    "1",
    "-2.5",
    "3e2",
    " 4 ",
    "\"5\"",
    "1e400",
    "-1e400",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "",
    "x",
    "train",
    "validation",
    "test",
    "val",
    "\"a,b\"",
    "\"unterminated",
    "0x10",
    "+7",
    "1_000",
    "١",
    "-0",
    "1.7976931348623157e308",
    "4.9e-324",
    "\"\"\"\"",
];

/// Header names a CSV might hold.
const NAMES: &[&str] = &[
    "a",
    "b",
    "label",
    "split",
    "",
    "a",
    "\u{feff}c",
    "\"q\"",
    "1",
    "time",
];

/// Line breaks.
const BREAKS: &[&str] = &["\n", "\r\n", "\r", "\n\n", ""];

/// A near-valid CSV: a header of 1-5 names, up to 12 rows of cells (sometimes one short or
/// long), mixed line breaks.
fn near_valid_csv() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(any::<Index>(), 1..6),
        proptest::collection::vec(
            (
                proptest::collection::vec(any::<Index>(), 0..7),
                any::<Index>(),
            ),
            0..12,
        ),
        any::<Index>(),
        any::<bool>(),
    )
        .prop_map(|(header, rows, header_break, bom)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            let names: Vec<&str> = header.iter().map(|i| *i.get(NAMES)).collect();
            text.push_str(&names.join(","));
            text.push_str(header_break.get(&BREAKS[..3]).as_ref());
            for (cells, line_break) in rows {
                let cells: Vec<&str> = cells.iter().map(|i| *i.get(CELLS)).collect();
                text.push_str(&cells.join(","));
                text.push_str(line_break.get(BREAKS).as_ref());
            }
            text.into_bytes()
        })
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn the_csv_loader_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        as_gzip_name in any::<bool>(),
    ) {
        read_all_ways(if as_gzip_name { "x.csv.gz" } else { "x.csv" }, &bytes);
        // The gzip magic bytes in front: a broken stream.
        let mut magic = vec![0x1f, 0x8b];
        magic.extend(&bytes);
        read_all_ways("y.csv.gz", &magic);
    }

    #[test]
    fn the_csv_loader_never_panics_on_near_valid_csv(
        csv in near_valid_csv(),
        cut in any::<Index>(),
    ) {
        read_all_ways("n.csv", &csv);
        let compressed = gzip(&csv);
        read_all_ways("n.csv.gz", &compressed);
        // A gzip stream cut short.
        read_all_ways("cut.csv.gz", &compressed[..cut.index(compressed.len() + 1)]);
    }
}

/// Parses `text` as a config anchored in `configs/` and, if it is accepted, plans it (which
/// reads the registry); neither may panic.
fn parse_and_plan(text: &str) {
    if let Ok(config) = RunConfig::from_yaml_str_in(text, "p.yaml", Path::new("configs")) {
        assert!(!config.seeds.is_empty() && !config.strategies.is_empty());
        let _ = Plan::build(&config);
    }
}

/// Pieces of YAML to build YAML-ish text from.
const YAML_PIECES: &[&str] = &[
    "name: x\n",
    "datasets: [wbc]\n",
    "strategies: [{kind: grid}]\n",
    "  ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\n",
    "'",
    "\"",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "#",
    "|\n",
    "kind: cfo",
    "budget: {trials: 3}",
    "space: {n_components: {low: 1, high: 4}}\n",
    "seed: -1\n",
    "18446744073709551616",
    "1e999",
    ".nan",
    "~",
    "null",
    "<<: *a\n",
    "\t",
    "\u{0}",
];

/// Numbers and values to put where a valid config has a number or a word.
const SUBSTITUTES: &[&str] = &[
    "0",
    "-1",
    "1",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1.0e308",
    "-1.0e308",
    "1.0e-320",
    ".nan",
    ".inf",
    "-.inf",
    "0.5",
    "true",
    "null",
    "~",
    "[]",
    "{}",
    "''",
    "x",
    "[1, 2]",
    "{low: 5, high: 1}",
    "ordered",
    "linspace",
    "cv_loglik",
];

/// The shipped configs and a few richer ones.
/// The shipped YAML files of `configs/`, sorted by name.
fn shipped_yaml() -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir("configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect()
}

/// The shipped portfolio files (`configs/best_practice.yaml`): checked by the portfolio
/// parser, which is what reads them.
fn shipped_portfolios() -> Vec<String> {
    let out: Vec<String> = shipped_yaml()
        .into_iter()
        .filter(|text| Portfolio::from_yaml_str(text, "p.yaml").is_ok())
        .collect();
    assert!(!out.is_empty(), "configs/ ships a portfolio");
    out
}

/// The shipped run configs (every YAML file of `configs/` that is not a portfolio) and one
/// that uses the options they leave out.
fn base_configs() -> Vec<String> {
    let mut out: Vec<String> = shipped_yaml()
        .into_iter()
        .filter(|text| Portfolio::from_yaml_str(text, "p.yaml").is_err())
        .collect();
    assert!(out.len() >= 4, "configs/ ships run configs");
    out.push(
        "name: t\nseeds: [1, 2]\ndatasets:\n  - wbc\n  - {name: hpc, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}}\n  - {path: ../tests/fixtures/data/good.csv, label_column: label, protocol: {split: {method: ordered, train_end: 3, validation_end: 5}}}\nthreshold: {method: linspace, low: 0, high: 10, n: 50}\nmetrics: [cv_loglik]\ncv_folds: 3\nfit: {max_iter: 50, tol: 1.0e-4, n_init: 2}\njobs: 2\nstrategies:\n  - {kind: cfo, concurrent_trials: 3, max_failure: 5, low_cost: {n_components: 1}, budget: {time_s: 2, trials: 9}}\n  - {kind: fixed, name: f, objective: bic, configs: [{n_components: 2, covariance_type: tied}]}\n".into(),
    );
    out
}

/// Where a config's text may be changed: the spans of its words and numbers outside comments.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_comment = false;
    for (i, c) in text.char_indices() {
        match c {
            '#' => in_comment = true,
            '\n' => in_comment = false,
            _ => {}
        }
        let word = !in_comment && (c.is_alphanumeric() || "._-+".contains(c));
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace a word or number by a substitute.
    Substitute(Index, Index),
    /// Delete a line.
    DeleteLine(Index),
    /// Repeat a line.
    DuplicateLine(Index),
    /// Put a YAML piece somewhere.
    Insert(Index, Index),
    /// Cut the text short.
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Substitute(a, b)),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match m {
        Mutation::Substitute(at, with) => {
            let spans = tokens(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let (s, e) = *at.get(&spans);
            format!("{}{}{}", &text[..s], with.get(SUBSTITUTES), &text[e..])
        }
        Mutation::DeleteLine(at) if !lines.is_empty() => {
            let mut l = lines.clone();
            l.remove(at.index(lines.len()));
            l.join("\n")
        }
        Mutation::DuplicateLine(at) if !lines.is_empty() => {
            let mut l = lines.clone();
            let i = at.index(lines.len());
            l.insert(i, lines[i]);
            l.join("\n")
        }
        Mutation::Insert(at, piece) => {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let i = if boundaries.is_empty() {
                0
            } else {
                *at.get(&boundaries)
            };
            format!("{}{}{}", &text[..i], piece.get(YAML_PIECES), &text[i..])
        }
        Mutation::Truncate(at) => {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            match boundaries.is_empty() {
                true => String::new(),
                false => text[..*at.get(&boundaries)].to_string(),
            }
        }
        _ => text.to_string(),
    }
}

/// One of `bases`, with `mutations` applied in turn.
fn mutated(bases: &[String], base: &Index, mutations: &[Mutation]) -> String {
    mutations
        .iter()
        .fold(base.get(bases).clone(), |text, m| apply(&text, m))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_config_parser_never_panics_on_yaml_ish_text(
        pieces in proptest::collection::vec(any::<Index>(), 0..30),
        raw in proptest::collection::vec(any::<char>(), 0..60),
    ) {
        let text: String = pieces.iter().map(|i| *i.get(YAML_PIECES)).collect();
        parse_and_plan(&text);
        parse_and_plan(&raw.iter().collect::<String>());
        parse_and_plan(&format!("{text}{}", raw.iter().collect::<String>()));
    }

    #[test]
    fn the_config_parser_never_panics_on_mutated_configs(
        base in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        parse_and_plan(&mutated(&base_configs(), &base, &mutations));
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn the_portfolio_parser_never_panics_on_a_mutated_portfolio(
        base in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let _ = Portfolio::from_yaml_str(&mutated(&shipped_portfolios(), &base, &mutations), "p.yaml");
    }
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_stack_overflow() {
    for depth in [200, 20_000] {
        let text = format!("name: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(RunConfig::from_yaml_str(&text, "deep.yaml").is_err());
        let text = format!(
            "name: x\nspace: {}1{}\n",
            "{a: ".repeat(depth),
            "}".repeat(depth)
        );
        assert!(RunConfig::from_yaml_str(&text, "deep.yaml").is_err());
    }
}

#[test]
fn every_substitution_of_every_shipped_config_parses_or_is_refused_without_a_panic() {
    // Exhaustive over one axis: each word or number of each config, replaced by each
    // substitute in turn.
    for text in base_configs() {
        for &(s, e) in &tokens(&text) {
            for sub in SUBSTITUTES {
                parse_and_plan(&format!("{}{sub}{}", &text[..s], &text[e..]));
            }
        }
    }
}
