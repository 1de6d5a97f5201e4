//! The zero-shot evaluation's section: read from the tables the leave-one-family-out
//! evaluation writes (`gmmtune lofo`, `reports/zeroshot/`), so a report shows them beside a
//! run's results without redoing the evaluation.
//!
//! The one table needed is `rows.csv`: one row per method, held-out dataset and seed, with the
//! columns `method`, `dataset`, `family`, `seed`, `test_auc` and `regret` (oracle test AUC minus
//! the method's), and optionally `test_ap`, `rank` (of the chosen configuration among all
//! measured), `cost_ratio` and `config`. `methods.csv` (`method`, `label_free`) marks the
//! label-free methods, and `comparisons.csv` (`against`, `wins`, `ties`, `losses`,
//! `mean_difference`, `wilcoxon_p`) adds the evaluation's own signed-rank tests; both are
//! optional. From the rows the section shows the leave-one-family-out table (test AUC per
//! dataset and method, mean over seeds), the regret distribution, the average ranks with
//! Friedman's test and the Nemenyi critical difference, and the paired tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plot::{category_marker, Axis, Dots, Estimate, Figure, Scatter};

use super::charts::{self, Ranks};
use super::comparison::AUC_TIE;
use super::document::{Block, Cell, Section, Table};
use super::stats::{average_ranks, friedman, mean, nemenyi_cd, quantile, sample_sd, Friedman};
use super::ReportError;

/// One method on one held-out dataset and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroshotRow {
    /// The method.
    pub method: String,
    /// The held-out dataset.
    pub dataset: String,
    /// Its family (held out with it).
    pub family: String,
    /// The seed.
    pub seed: u64,
    /// Test ROC AUC.
    pub test_auc: f64,
    /// Test average precision.
    pub test_ap: Option<f64>,
    /// Oracle test AUC minus the method's.
    pub regret: f64,
    /// Rank of the chosen configuration among every configuration measured.
    pub rank: Option<f64>,
    /// Test cost over the never-alarm cost.
    pub cost_ratio: Option<f64>,
    /// The chosen configuration.
    pub config: String,
}

/// One paired test of the evaluation (`comparisons.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct PairedTest {
    /// The method the headline method is compared with.
    pub against: String,
    /// Datasets won, tied, lost.
    pub wins: usize,
    /// Ties.
    pub ties: usize,
    /// Losses.
    pub losses: usize,
    /// Mean test AUC difference.
    pub mean_difference: Option<f64>,
    /// Wilcoxon signed-rank p-value.
    pub wilcoxon_p: Option<f64>,
}

/// The tables of a zero-shot evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZeroshotTables {
    /// Where they were read.
    pub dir: PathBuf,
    /// Every method on every held-out dataset and seed.
    pub rows: Vec<ZeroshotRow>,
    /// Methods that use no labels of the held-out dataset.
    pub label_free: Vec<String>,
    /// The evaluation's paired tests.
    pub tests: Vec<PairedTest>,
}

impl ZeroshotTables {
    /// The methods in the order met.
    pub fn methods(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.method) {
                out.push(r.method.clone());
            }
        }
        out
    }

    /// The datasets in the order met, with their families.
    pub fn datasets(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for r in &self.rows {
            if !out.iter().any(|(d, _)| *d == r.dataset) {
                out.push((r.dataset.clone(), r.family.clone()));
            }
        }
        out
    }
}

/// A CSV file read by header names.
struct Sheet {
    path: String,
    header: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl Sheet {
    fn read(path: &Path) -> Result<Sheet, ReportError> {
        let err = |message: String| ReportError::Zeroshot {
            path: path.display().to_string(),
            message,
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let header = reader
            .headers()
            .map_err(|e| err(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            rows.push((i + 2, record.map_err(|e| err(e.to_string()))?));
        }
        Ok(Sheet {
            path: path.display().to_string(),
            header,
            rows,
        })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn required(&self, name: &str) -> Result<usize, ReportError> {
        self.column(name).ok_or_else(|| ReportError::Zeroshot {
            path: self.path.clone(),
            message: format!(
                "no column `{name}` (the columns are: {}); write the tables with `gmmtune lofo`",
                self.header.join(", ")
            ),
        })
    }

    fn number(
        &self,
        line: usize,
        record: &csv::StringRecord,
        column: usize,
    ) -> Result<Option<f64>, ReportError> {
        let text = record.get(column).unwrap_or("").trim();
        if text.is_empty() || text.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        text.parse::<f64>()
            .map(Some)
            .map_err(|_| ReportError::Zeroshot {
                path: self.path.clone(),
                message: format!(
                    "line {line}, column `{}`: `{text}` is not a number",
                    self.header[column]
                ),
            })
    }

    fn text(record: &csv::StringRecord, column: Option<usize>) -> String {
        column.and_then(|c| record.get(c)).unwrap_or("").to_string()
    }
}

/// Reads the tables of a zero-shot evaluation from `dir` (see the module documentation).
///
/// # Errors
/// [`ReportError::Zeroshot`] naming the file, and the line and column when a value is wrong.
pub fn read_tables(dir: &Path) -> Result<ZeroshotTables, ReportError> {
    let rows_path = dir.join("rows.csv");
    let sheet = Sheet::read(&rows_path)?;
    let (method, dataset, family, seed, auc, regret) = (
        sheet.required("method")?,
        sheet.required("dataset")?,
        sheet.required("family")?,
        sheet.required("seed")?,
        sheet.required("test_auc")?,
        sheet.required("regret")?,
    );
    let (ap, rank, cost, config) = (
        sheet.column("test_ap"),
        sheet.column("rank"),
        sheet.column("cost_ratio"),
        sheet.column("config"),
    );
    let mut rows = Vec::new();
    for (line, r) in &sheet.rows {
        let missing = |what: &str| ReportError::Zeroshot {
            path: sheet.path.clone(),
            message: format!("line {line}: `{what}` is empty"),
        };
        let optional = |c: Option<usize>| -> Result<Option<f64>, ReportError> {
            c.map_or(Ok(None), |c| sheet.number(*line, r, c))
        };
        let seed_text = Sheet::text(r, Some(seed));
        rows.push(ZeroshotRow {
            method: Sheet::text(r, Some(method)),
            dataset: Sheet::text(r, Some(dataset)),
            family: Sheet::text(r, Some(family)),
            seed: seed_text
                .trim()
                .parse()
                .map_err(|_| ReportError::Zeroshot {
                    path: sheet.path.clone(),
                    message: format!("line {line}, column `seed`: `{seed_text}` is not a seed"),
                })?,
            test_auc: sheet
                .number(*line, r, auc)?
                .ok_or_else(|| missing("test_auc"))?,
            test_ap: optional(ap)?,
            regret: sheet
                .number(*line, r, regret)?
                .ok_or_else(|| missing("regret"))?,
            rank: optional(rank)?,
            cost_ratio: optional(cost)?,
            config: Sheet::text(r, config),
        });
    }
    if rows.is_empty() {
        return Err(ReportError::Zeroshot {
            path: sheet.path,
            message: "holds no rows".into(),
        });
    }
    let mut label_free = Vec::new();
    let methods_path = dir.join("methods.csv");
    if methods_path.exists() {
        let m = Sheet::read(&methods_path)?;
        let (name, free) = (m.required("method")?, m.required("label_free")?);
        for (_, r) in &m.rows {
            if Sheet::text(r, Some(free)).trim() == "true" {
                label_free.push(Sheet::text(r, Some(name)));
            }
        }
    }
    let mut tests = Vec::new();
    let comparisons_path = dir.join("comparisons.csv");
    if comparisons_path.exists() {
        let c = Sheet::read(&comparisons_path)?;
        let against = c.required("against")?;
        let (wins, ties, losses) = (
            c.required("wins")?,
            c.required("ties")?,
            c.required("losses")?,
        );
        let (diff, p) = (c.column("mean_difference"), c.column("wilcoxon_p"));
        for (line, r) in &c.rows {
            let count = |col: usize| -> Result<usize, ReportError> {
                Ok(c.number(*line, r, col)?.unwrap_or(0.0).max(0.0) as usize)
            };
            tests.push(PairedTest {
                against: Sheet::text(r, Some(against)),
                wins: count(wins)?,
                ties: count(ties)?,
                losses: count(losses)?,
                mean_difference: diff.map_or(Ok(None), |d| c.number(*line, r, d))?,
                wilcoxon_p: p.map_or(Ok(None), |p| c.number(*line, r, p))?,
            });
        }
    }
    Ok(ZeroshotTables {
        dir: dir.to_path_buf(),
        rows,
        label_free,
        tests,
    })
}

/// Per dataset and method, the mean over seeds of a figure.
fn per_dataset(
    z: &ZeroshotTables,
    get: fn(&ZeroshotRow) -> Option<f64>,
) -> BTreeMap<(String, String), f64> {
    let mut values: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for r in &z.rows {
        if let Some(v) = get(r) {
            values
                .entry((r.dataset.clone(), r.method.clone()))
                .or_default()
                .push(v);
        }
    }
    values
        .into_iter()
        .filter_map(|(k, v)| mean(&v).map(|m| (k, m)))
        .collect()
}

/// Average ranks of the methods by test AUC over the datasets every method has, with
/// Friedman's test; returns the datasets ranked too.
pub fn method_ranks(z: &ZeroshotTables) -> (Vec<f64>, Option<Friedman>, usize) {
    let methods = z.methods();
    let auc = per_dataset(z, |r| Some(r.test_auc));
    let mut ranks = Vec::new();
    for (d, _) in z.datasets() {
        let row: Option<Vec<f64>> = methods
            .iter()
            .map(|m| auc.get(&(d.clone(), m.clone())).copied())
            .collect();
        if let Some(row) = row {
            ranks.push(average_ranks(&row, true, AUC_TIE));
        }
    }
    let n = ranks.len();
    let average = (0..methods.len())
        .map(|m| {
            if n == 0 {
                f64::NAN
            } else {
                ranks.iter().map(|r| r[m]).sum::<f64>() / n as f64
            }
        })
        .collect();
    (average, friedman(&ranks), n)
}

/// The section of the report.
pub fn section(z: &ZeroshotTables) -> Result<Section, ReportError> {
    let mut s = Section::new("zeroshot", "Zero-shot evaluation (leave one family out)");
    let methods = z.methods();
    let datasets = z.datasets();
    let seeds: std::collections::BTreeSet<u64> = z.rows.iter().map(|r| r.seed).collect();
    s.push(Block::text(format!(
        "From the tables in {} ({} methods, {} held-out datasets, {} seed(s)): each dataset's family was held out, the best practice mined on the other families and applied to it without its labels; test AUC of the configuration each method chose, regret = the best test AUC any configuration measured on that dataset minus the method's. Label-free methods: {}.",
        z.dir.display(),
        methods.len(),
        datasets.len(),
        seeds.len(),
        if z.label_free.is_empty() { "not marked (no methods.csv)".to_string() } else { z.label_free.join(", ") }
    )));

    let auc = per_dataset(z, |r| Some(r.test_auc));
    let mut columns = vec!["dataset".to_string(), "family".to_string()];
    columns.extend(methods.iter().cloned());
    let mut t = Table {
        name: "zeroshot-lofo".into(),
        caption: "Leave one family out: test AUC per held-out dataset and method (mean over seeds)"
            .into(),
        columns,
        rows: Vec::new(),
    };
    for (d, family) in &datasets {
        let mut row = vec![Cell::text(d), Cell::text(family)];
        row.extend(
            methods
                .iter()
                .map(|m| Cell::number(auc.get(&(d.clone(), m.clone())).copied(), 4)),
        );
        t.push(row);
    }
    s.push(Block::Table(t));

    let (average_rank, fr, blocks) = method_ranks(z);
    let mut m = Table::new(
        "zeroshot-methods",
        "Per method over held-out datasets",
        &[
            "method",
            "label-free",
            "mean test AUC",
            "seed sd of the mean",
            "median test AUC",
            "mean regret",
            "median regret",
            "mean rank of the chosen configuration",
            "mean test cost ratio",
            "average rank (test AUC)",
        ],
    );
    for (i, method) in methods.iter().enumerate() {
        let of = |get: fn(&ZeroshotRow) -> Option<f64>| -> Vec<f64> {
            let per = per_dataset(z, get);
            per.iter()
                .filter(|((_, mm), _)| mm == method)
                .map(|(_, v)| *v)
                .collect()
        };
        let by_seed: Vec<f64> = seeds
            .iter()
            .filter_map(|&seed| {
                mean(
                    &z.rows
                        .iter()
                        .filter(|r| &r.method == method && r.seed == seed)
                        .map(|r| r.test_auc)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let aucs = of(|r| Some(r.test_auc));
        let regrets = of(|r| Some(r.regret));
        m.push(vec![
            Cell::text(method),
            Cell::text(if z.label_free.contains(method) {
                "yes"
            } else if z.label_free.is_empty() {
                "?"
            } else {
                "no"
            }),
            Cell::number(mean(&aucs), 4),
            Cell::number(sample_sd(&by_seed), 4),
            Cell::number(quantile(&aucs, 0.5), 4),
            Cell::number(mean(&regrets), 4),
            Cell::number(quantile(&regrets, 0.5), 4),
            Cell::number(mean(&of(|r| r.rank)), 1),
            Cell::number(mean(&of(|r| r.cost_ratio)), 3),
            Cell::number(average_rank.get(i).copied(), 2),
        ]);
    }
    s.push(Block::Table(m));

    let mut row = Vec::new();
    row.extend(regret_chart(z, &methods)?);
    if let (Some(cd), true) = (nemenyi_cd(methods.len(), blocks), blocks > 0) {
        row.extend(charts::rank_chart(
            "zeroshot-ranks",
            &Ranks {
                figure: "test AUC",
                names: &methods,
                average_rank: &average_rank,
                critical_difference: cd,
                blocks,
                friedman: fr.as_ref(),
            },
        )?);
    }
    if !row.is_empty() {
        s.push(Block::Charts(row));
    }
    match &fr {
        Some(f) => s.push(Block::text(format!(
            "Friedman's test of equal average ranks over the {} datasets every method has: χ² = {:.3}, p = {}; Iman–Davenport F = {:.3}, p = {}.{}",
            f.blocks,
            f.chi_square,
            crate::plot::format_value(f.p_value, 3),
            f.iman_davenport_f,
            crate::plot::format_value(f.iman_davenport_p, 3),
            nemenyi_cd(methods.len(), blocks).map_or(String::new(), |cd| format!(" Nemenyi critical difference (α = 0.05): {cd:.3}."))
        ))),
        None => s.push(Block::text("Friedman's test needs two methods and two datasets every method has.")),
    }
    if !z.tests.is_empty() {
        let mut t = Table::new(
            "zeroshot-paired-tests",
            "The headline method against each other method (from comparisons.csv): datasets won, tied, lost, mean difference of test AUC, Wilcoxon signed-rank p",
            &[
                "against",
                "wins",
                "ties",
                "losses",
                "mean difference",
                "Wilcoxon p",
            ],
        );
        for p in &z.tests {
            t.push(vec![
                Cell::text(&p.against),
                Cell::count(p.wins),
                Cell::count(p.ties),
                Cell::count(p.losses),
                Cell::number(p.mean_difference, 4),
                Cell::value(p.wilcoxon_p, 3),
            ]);
        }
        s.push(Block::Table(t));
    }
    Ok(s)
}

/// The regret of each method over held-out datasets (mean over seeds): each dataset as a
/// point, the median and quartiles as a dot with a bar.
fn regret_chart(
    z: &ZeroshotTables,
    methods: &[String],
) -> Result<Option<crate::plot::NamedSvg>, ReportError> {
    let regret = per_dataset(z, |r| Some(r.regret));
    if regret.is_empty() {
        return Ok(None);
    }
    let mut fig = Figure::new("Regret per held-out dataset (oracle test AUC − the method's)")
        .subtitle("points: datasets (mean over seeds); dot and bar: median and quartiles")
        .size(
            (charts::SMALL.0 + 40).max(120 + 90 * methods.len() as u32),
            charts::WIDE.1,
        )
        .x_axis(Axis::new("").categories(methods))
        .y_axis(Axis::new("regret").unit("test AUC"));
    for (i, method) in methods.iter().enumerate() {
        let values: Vec<f64> = regret
            .iter()
            .filter(|((_, m), _)| m == method)
            .map(|(_, v)| *v)
            .collect();
        let n = values.len().max(1) as f64;
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(j, &v)| (i as f64 - 0.25 + 0.2 * (j as f64 + 0.5) / n, v))
            .collect();
        fig = fig.layer(
            Scatter::new(&format!("{method}: datasets"), points)
                .unlabelled()
                .style(i)
                .size(2)
                .marker(category_marker(i)),
        );
        if let (Some(median), Some(low), Some(high)) = (
            quantile(&values, 0.5),
            quantile(&values, 0.25),
            quantile(&values, 0.75),
        ) {
            let mut dots = Dots::new(
                method,
                vec![Estimate::new(i as f64 + 0.12, median, low, high)],
            )
            .marker(category_marker(i));
            dots.style = Some(i);
            fig = fig.layer(dots);
        }
    }
    charts::render("zeroshot-regret", &fig).map(Some)
}
