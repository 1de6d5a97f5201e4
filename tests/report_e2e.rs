//! End-to-end reports: a real run on generated data whose dataset and strategy names hold
//! markup, its report checked to be self-contained, well-formed (HTML and every SVG parsed as
//! XML), escaped, with a CSV per table and data in every chart; the report rebuilt from the
//! journal alone; data gone or changed said in the report; runs compared or refused.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gmmtune::config::RunConfig;
use gmmtune::report::{build_compare_report, build_run_report, ReportError, ReportOptions};
use gmmtune::run::{execute, RunOptions};
use gmmtune::search::driver::Silent;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const NASTY_DATASET: &str = "<script>alert(1)</script>";
const NASTY_STRATEGY: &str = "r&d \"<b>\"";

/// Two clusters of normal rows and scattered anomalies.
fn write_dataset(path: &Path, rows: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut text = String::from("f0,f1,f2,label\n");
    for i in 0..rows {
        let anomaly = i % 8 == 0;
        let centre = if i % 2 == 0 { 0.0 } else { 4.0 };
        let spread = if anomaly { 5.0 } else { 1.0 };
        let x: Vec<f64> = (0..3)
            .map(|j| centre + j as f64 + spread * rng.sample::<f64, _>(StandardNormal))
            .collect();
        text.push_str(&format!(
            "{},{},{},{}\n",
            x[0],
            x[1],
            x[2],
            u8::from(anomaly)
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn config(dir: &Path, name: &str, train: f64, seeds: &str) -> RunConfig {
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    if !a.exists() {
        write_dataset(&a, 240, 1);
        write_dataset(&b, 200, 2);
    }
    let yaml = format!(
        "name: {name}\nseeds: {seeds}\ndatasets:\n  - {{path: '{}', name: '{NASTY_DATASET}'}}\n  - {{path: '{}', name: plain/b}}\n\
         protocol: {{split: {{method: stratified, train: {train}, validation: 0.2}}}}\n\
         space:\n  n_components: {{low: 1, high: 4, log: true, grid: 3}}\n  covariance_type: [spherical, diag, full]\n  reg_covar: {{low: 1.0e-6, high: 1.0e-2, log: true, grid: 2}}\n  init: [kmeans, random_from_data]\n\
         strategies:\n  - {{kind: grid}}\n  - {{kind: random, name: '{}', budget: {{trials: 10}}}}\n",
        a.display(),
        b.display(),
        NASTY_STRATEGY.replace('\'', "''")
    );
    RunConfig::from_yaml_str(&yaml, "report.yaml").unwrap()
}

fn run(config: &RunConfig, out: &Path) {
    let options = RunOptions {
        out_dir: Some(out.to_path_buf()),
        jobs: Some(2),
        ..RunOptions::default()
    };
    execute(config, &options, &AtomicBool::new(false), &Silent).unwrap();
}

/// Elements of a parsed document with this tag name.
fn elements<'a>(doc: &'a roxmltree::Document<'a>, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == tag)
        .collect()
}

/// Checks a report directory; returns the HTML text.
fn check_report(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));

    // Self-contained: nothing is loaded from elsewhere, no script at all.
    assert!(elements(&doc, "script").is_empty(), "a script element");
    for node in doc.descendants().filter(|n| n.is_element()) {
        for attr in node.attributes() {
            let (name, value) = (attr.name(), attr.value());
            assert!(
                name != "src" && !name.starts_with("on"),
                "attribute {name}={value}"
            );
            if name == "href" {
                assert!(
                    value.starts_with('#')
                        || value.starts_with("tables/")
                        || value.starts_with("plots/"),
                    "external link {value}"
                );
                if !value.starts_with('#') {
                    assert!(dir.join(value).exists(), "link to a missing file {value}");
                }
            }
        }
    }
    for style in elements(&doc, "style") {
        let css = style.text().unwrap_or_default();
        assert!(!css.contains("url(") && !css.contains("@import") && !css.contains("@font-face"));
    }
    let external = html
        .match_indices("http")
        .filter(|(i, _)| !html[*i..].starts_with("http://www.w3.org/2000/svg"))
        .count();
    assert_eq!(external, 0, "a URL other than the SVG namespace");

    // Names from the run show as text, in the page and in the charts.
    let texts: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .map(|n| n.text().unwrap())
        .collect();
    assert!(texts.contains(NASTY_DATASET) && texts.contains(NASTY_STRATEGY));
    assert!(
        !html.contains(NASTY_DATASET) && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );

    // Every chart: in a figure, with data, also as a file that parses.
    let figures: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == "figure"
                && n.attribute("class") == Some("plot")
        })
        .collect();
    assert!(figures.len() >= 10, "only {} charts", figures.len());
    let mut ids = BTreeSet::new();
    for f in &figures {
        let id = f.attribute("id").unwrap();
        assert!(ids.insert(id.to_string()), "chart id {id} twice");
        let svg = f
            .children()
            .find(|c| c.tag_name().name() == "svg")
            .unwrap_or_else(|| panic!("{id} has no svg"));
        let marks = svg
            .descendants()
            .filter(|n| {
                matches!(
                    n.tag_name().name(),
                    "circle" | "polyline" | "polygon" | "rect" | "path" | "line"
                )
            })
            .count();
        assert!(marks > 20, "{id} draws only {marks} marks");
        let text: String = svg
            .descendants()
            .filter(|n| n.is_text())
            .map(|n| n.text().unwrap())
            .collect();
        assert!(!text.contains("no data"), "{id} says it has no data");
        let file = dir
            .join("plots")
            .join(format!("{}.svg", id.trim_start_matches("plot-")));
        let svg_text = std::fs::read_to_string(&file).unwrap();
        roxmltree::Document::parse(&svg_text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        assert!(!svg_text.contains("<script"), "{file:?}");
    }
    let files: BTreeSet<String> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| {
            format!(
                "plot-{}",
                e.unwrap().path().file_stem().unwrap().to_string_lossy()
            )
        })
        .collect();
    assert_eq!(files, ids, "plots/ holds other charts than the page");

    // A CSV beside every table, with the table's header and rows.
    let tables = elements(&doc, "table");
    let csvs = std::fs::read_dir(dir.join("tables")).unwrap().count();
    assert_eq!(tables.len(), csvs);
    for t in &tables {
        let link = t
            .parent()
            .and_then(|wrap| wrap.next_sibling_element())
            .and_then(|p| p.children().find(|c| c.tag_name().name() == "a"))
            .and_then(|a| a.attribute("href"))
            .unwrap();
        let mut reader = csv::Reader::from_path(dir.join(link)).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let shown: Vec<String> = elements_of(t, "th")
            .iter()
            .map(|h| h.text().unwrap_or("").to_string())
            .collect();
        assert_eq!(header, shown[..header.len()].to_vec(), "{link}");
        let body_rows = t
            .descendants()
            .filter(|n| n.tag_name().name() == "tr")
            .count()
            - 1;
        assert_eq!(reader.records().count(), body_rows, "{link}");
    }

    // The Markdown page escapes the names and links every chart.
    // (The config is shown in a fenced code block, where Markdown keeps text as it is.)
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let outside_code: String = md.split("```").step_by(2).collect();
    assert!(outside_code.contains("\\<script\\>alert(1)\\</script\\>"));
    assert!(!outside_code.contains(NASTY_DATASET));
    for id in &ids {
        assert!(md.contains(&format!("(plots/{}.svg)", id.trim_start_matches("plot-"))));
    }
    html
}

fn elements_of<'a>(node: &roxmltree::Node<'a, 'a>, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    node.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == tag)
        .collect()
}

#[test]
fn a_run_writes_a_self_contained_escaped_report_with_data_in_every_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&config(tmp.path(), "first", 0.6, "[0, 1]"), &out);
    build_run_report(&out, &ReportOptions::default(), None).unwrap();
    let html = check_report(&out);
    // Curves for both datasets, both strategies listed, the seed table, no data warnings.
    assert!(html.contains("id=\"plot-roc-plain-b-"));
    assert!(html.contains("Over seeds: mean"));
    assert!(!html.contains("cannot be drawn"));
    // Rebuilt from the journal alone, the same bytes.
    let again = build_run_report(&out, &ReportOptions::default(), None).unwrap();
    assert_eq!(std::fs::read_to_string(&again.written.html).unwrap(), html);
}

fn per_dataset_warnings(html: &str) -> Vec<String> {
    html.split("<p class=\"warning\">")
        .skip(1)
        .map(|p| p.split("</p>").next().unwrap().to_string())
        .collect()
}

#[test]
fn a_report_says_when_the_data_are_gone_or_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&config(tmp.path(), "first", 0.6, "[0]"), &out);
    std::fs::remove_file(tmp.path().join("a.csv")).unwrap();
    let mut b = std::fs::read_to_string(tmp.path().join("b.csv")).unwrap();
    b.push_str("0,0,0,0\n");
    std::fs::write(tmp.path().join("b.csv"), b).unwrap();
    build_run_report(&out, &ReportOptions::default(), None).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let warnings = per_dataset_warnings(&html);
    let gone: Vec<&String> = warnings.iter().filter(|w| w.contains("a.csv")).collect();
    let changed: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("b.csv") && w.contains("changed"))
        .collect();
    assert_eq!(gone.len(), 2, "{warnings:#?}");
    assert_eq!(changed.len(), 2, "{warnings:#?}");
    assert!(!html.contains("id=\"plot-roc-"));
    // Everything else is still there.
    assert!(html.contains("id=\"plot-history-regret-trials\""));
}

#[test]
fn runs_are_compared_over_common_datasets_or_refused_with_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two, other) = (
        tmp.path().join("one"),
        tmp.path().join("two"),
        tmp.path().join("other"),
    );
    run(&config(tmp.path(), "group", 0.6, "[0]"), &one);
    run(&config(tmp.path(), "group", 0.6, "[1]"), &two);
    let out = tmp.path().join("compared");
    let built = build_compare_report(&[&one, &two], &out, &ReportOptions::default()).unwrap();
    assert_eq!(built.planned_units, 2 * 2 * 2);
    let html = check_report(&out);
    assert!(html.contains("group (one)/grid") && html.contains("group (two)/grid"));

    run(&config(tmp.path(), "changed", 0.5, "[0]"), &other);
    let err = build_compare_report(
        &[&one, &other],
        &tmp.path().join("x"),
        &ReportOptions::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ReportError::Incomparable(_)));
    assert!(
        text.contains("dataset `plain/b`: the protocol differs")
            && text.contains("stratified 60/20/20"),
        "{text}"
    );

    // Another file under the same name: refused by content hash.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    write_dataset(&elsewhere.join("a.csv"), 230, 9);
    write_dataset(&elsewhere.join("b.csv"), 200, 2);
    let moved = tmp.path().join("moved");
    run(&config(&elsewhere, "moved", 0.6, "[0]"), &moved);
    let text = build_compare_report(
        &[&one, &moved],
        &tmp.path().join("y"),
        &ReportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        text.contains(&format!("dataset `{NASTY_DATASET}`: the data differ")),
        "{text}"
    );
    assert!(!text.contains("plain/b"), "{text}");

    // The report of a run is never overwritten by a comparison.
    let text = build_compare_report(&[&one, &two], &one, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(text.contains("is one of the runs compared"), "{text}");
}

#[test]
fn a_report_of_a_run_directory_without_its_trials_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out: PathBuf = tmp.path().join("run");
    run(&config(tmp.path(), "first", 0.6, "[0]"), &out);
    std::fs::remove_file(out.join("trials.jsonl")).unwrap();
    let err = build_run_report(&out, &ReportOptions::default(), None).unwrap_err();
    assert!(matches!(err, ReportError::MissingTrials { .. }), "{err}");
    assert!(err.to_string().contains("trials.jsonl"));
}

/// Tables as the leave-one-family-out evaluation writes them, generated: three methods over
/// twelve datasets in four families and two seeds.
fn write_zeroshot_tables(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let methods = ["zeroshot", "<img src=x onerror=alert(1)>", "random"];
    let mut rows = String::from(
        "method,dataset,family,seed,test_auc,test_ap,regret,rank,cost_ratio,cost_ratio_quantile,config\n",
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for d in 0..12 {
        for seed in 0..2 {
            let oracle = 0.95;
            for (m, method) in methods.iter().enumerate() {
                let auc = oracle - 0.02 * m as f64 - 0.03 * rng.random::<f64>();
                rows.push_str(&format!(
                    "\"{method}\",d{d},family{},{seed},{auc},{},{},{},{},{},n_components=2 covariance_type=full\n",
                    d % 4,
                    auc - 0.3,
                    oracle - auc,
                    1 + m,
                    0.5,
                    0.6
                ));
            }
        }
    }
    std::fs::write(dir.join("rows.csv"), rows).unwrap();
    std::fs::write(
        dir.join("methods.csv"),
        "method,label_free,mean_test_auc\nzeroshot,true,0.9\n\"<img src=x onerror=alert(1)>\",false,0.9\nrandom,true,0.9\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("comparisons.csv"),
        "against,wins,ties,losses,mean_difference,difference_seed_spread,wilcoxon_p\nrandom,12,0,0,0.04,0.001,0.0004\n",
    )
    .unwrap();
}

#[test]
fn the_zero_shot_section_shows_the_evaluation_tables_ranks_and_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&config(tmp.path(), "first", 0.6, "[0]"), &out);
    let tables = tmp.path().join("zeroshot");
    write_zeroshot_tables(&tables);
    let options = ReportOptions {
        zeroshot: Some(tables.clone()),
        ..ReportOptions::default()
    };
    build_run_report(&out, &options, None).unwrap();
    let html = check_report(&out);
    for id in ["plot-zeroshot-regret", "plot-zeroshot-ranks"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("Friedman&#39;s test of equal average ranks over the 12 datasets"));
    let mut lofo = csv::Reader::from_path(out.join("tables/zeroshot-lofo.csv")).unwrap();
    assert_eq!(lofo.records().count(), 12);
    let paired = std::fs::read_to_string(out.join("tables/zeroshot-paired-tests.csv")).unwrap();
    assert!(paired.contains("random,12,0,0,0.04,0.0004"), "{paired}");

    // A wrong value is refused with its file, line and column.
    let rows = std::fs::read_to_string(tables.join("rows.csv")).unwrap();
    let bad = rows.replacen(",d3,family3,0,0.9", ",d3,family3,0,high0.9", 1);
    assert_ne!(bad, rows);
    std::fs::write(tables.join("rows.csv"), bad).unwrap();
    let err = build_run_report(&out, &options, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rows.csv") && err.contains("line 20, column `test_auc`"),
        "{err}"
    );
    std::fs::write(tables.join("rows.csv"), "method,dataset\nx,y\n").unwrap();
    let err = build_run_report(&out, &options, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no column `family`"), "{err}");
}

/// The browser check: headless Chromium renders the report with no console message and every
/// chart, and takes a screenshot. Skipped (with a note) when Chromium is not installed, unless
/// GMMTUNE_REQUIRE_BROWSER is set (CI sets it once it installed Chromium).
#[test]
fn the_report_renders_in_headless_chromium() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_report.sh");
    let have_browser = ["chromium", "chromium-browser"].iter().any(|b| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {b}")])
            .output()
            .is_ok_and(|o| o.status.success())
    }) || std::env::var_os("CHROMIUM").is_some();
    if !have_browser {
        assert!(
            std::env::var_os("GMMTUNE_REQUIRE_BROWSER").is_none(),
            "GMMTUNE_REQUIRE_BROWSER is set but no Chromium is installed"
        );
        eprintln!("skipped: no Chromium (apt-get install -y chromium to run the browser check)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&config(tmp.path(), "first", 0.6, "[0]"), &out);
    build_run_report(&out, &ReportOptions::default(), None).unwrap();
    let shot = tmp.path().join("shot.png");
    let check = std::process::Command::new("bash")
        .arg(&script)
        .arg(&out)
        .arg(&shot)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stderr).to_string()
        + &String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{said}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "{said}");

    // The check fails on a console error and on a chart the page does not render.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let broken = page.replacen(
        "</body>",
        "<script>console.error('broken')</script></body>",
        1,
    );
    std::fs::write(out.join("report.html"), broken).unwrap();
    let check = std::process::Command::new("bash")
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(1),
        "a console error passed the check"
    );
    assert!(String::from_utf8_lossy(&check.stderr).contains("broken"));
    let hidden = page.replacen(
        "</body>",
        "<script>document.querySelector('figure.plot').remove()</script></body>",
        1,
    );
    std::fs::write(out.join("report.html"), hidden).unwrap();
    let check = std::process::Command::new("bash")
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(1),
        "a missing chart passed the check"
    );
    assert!(String::from_utf8_lossy(&check.stderr).contains("charts missing"));
}
