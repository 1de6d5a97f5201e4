//! The dataset registry: a YAML file naming each shipped dataset, where it lives and what it is.
//!
//! ```yaml
//! datasets:
//!   - name: hpc
//!     path: hpc/hpc.csv.gz          # relative to the registry file
//!     label_column: anomaly
//!     exclude_columns: [timestamp]
//!     ordered: true                 # a time series: split by row position
//!     rows: 6667
//!     features: 159
//!     anomaly_pct: 18.4041
//!     family: hpc                   # related datasets share a family
//!     source: "..."
//!     licence: "..."
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::DataError;
use super::split::SplitMethod;
use super::table::{read_table, ReadOptions, Table};

/// Where a registry is looked for, relative to a directory: `datasets/registry.yaml`.
pub const REGISTRY_RELATIVE_PATH: &str = "datasets/registry.yaml";

/// Environment variable naming a registry file to use when a config names none.
pub const REGISTRY_ENV: &str = "GMMTUNE_REGISTRY";

fn default_label_column() -> String {
    "label".to_owned()
}

/// One dataset of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEntry {
    /// Unique name used in configs and reports.
    pub name: String,
    /// File path, relative to the registry file (or absolute).
    pub path: PathBuf,
    /// Label column (0 = normal, non-zero = anomaly); default `label`.
    #[serde(default = "default_label_column")]
    pub label_column: String,
    /// Columns that are not features (timestamps, identifiers).
    #[serde(default)]
    pub exclude_columns: Vec<String>,
    /// `true` for time series, whose rows must stay in order (use an ordered split).
    #[serde(default)]
    pub ordered: bool,
    /// The dataset's own split (a time series' course protocol), used whenever a run's split
    /// would shuffle its rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitMethod>,
    /// Number of data rows.
    pub rows: usize,
    /// Number of feature columns (all columns but the label and the excluded ones).
    pub features: usize,
    /// Percentage of anomalous rows, 0 to 100.
    pub anomaly_pct: f64,
    /// Group of related datasets (the dataset's own name when it has no relatives); keep a
    /// family on one side of any split of datasets into training and held-out sets.
    pub family: String,
    /// Where the data comes from.
    pub source: String,
    /// Licence terms as far as known.
    pub licence: String,
}

impl DatasetEntry {
    /// The options that read this dataset's file: its label (required) and excluded columns.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            label_column: Some(self.label_column.clone()),
            require_label: true,
            exclude_columns: self.exclude_columns.clone(),
            ..ReadOptions::default()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    datasets: Vec<DatasetEntry>,
}

/// The datasets listed in a registry file, with paths resolved against that file's directory.
///
/// ```
/// use gmmtune::data::Registry;
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("toy.csv"), "x,label\n1,0\n2,1\n").unwrap();
/// let registry_path = dir.path().join("registry.yaml");
/// std::fs::write(&registry_path, "datasets:\n  - {name: toy, path: toy.csv, rows: 2, features: 1, \
///     anomaly_pct: 50.0, family: toy, source: made up, licence: CC0}\n").unwrap();
/// let registry = Registry::load(&registry_path).unwrap();
/// let entry = registry.get("toy").unwrap();
/// assert_eq!(registry.resolve_path(entry), dir.path().join("toy.csv"));
/// assert_eq!(registry.read("toy").unwrap().n_rows(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    path: PathBuf,
    base_dir: PathBuf,
    entries: Vec<DatasetEntry>,
}

impl Registry {
    /// Reads and checks a registry file (unique non-empty names, percentages within 0..=100).
    pub fn load(path: &Path) -> Result<Registry, DataError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| DataError::opening(path, source))?;
        Registry::from_yaml(&text, path)
    }

    /// Parses registry YAML as if read from `path` (which only anchors relative dataset paths
    /// and names the registry in errors).
    pub fn from_yaml(text: &str, path: &Path) -> Result<Registry, DataError> {
        let file: RegistryFile =
            serde_norway::from_str(text).map_err(|error| DataError::RegistryParse {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        let mut seen = HashSet::new();
        for entry in &file.datasets {
            let problem = |reason: &str| DataError::RegistryEntry {
                path: path.to_owned(),
                name: entry.name.clone(),
                reason: reason.to_owned(),
            };
            if entry.name.trim().is_empty() {
                return Err(problem("the name is empty; give every dataset a name"));
            }
            if !seen.insert(entry.name.as_str()) {
                return Err(problem(
                    "the name appears more than once; names must be unique",
                ));
            }
            if entry.path.as_os_str().is_empty() {
                return Err(problem("the path is empty; give the data file's path"));
            }
            if !(0.0..=100.0).contains(&entry.anomaly_pct) {
                return Err(problem(
                    "anomaly_pct must be a percentage between 0 and 100",
                ));
            }
            if entry.label_column.trim().is_empty() {
                return Err(problem("label_column is empty"));
            }
            if let Some(split) = &entry.split {
                if let Err(e) = split.check() {
                    return Err(problem(&format!("split: {e}")));
                }
                if entry.ordered && matches!(split, SplitMethod::Stratified { .. }) {
                    return Err(problem(
                        "a time series (ordered: true) cannot have a stratified split",
                    ));
                }
            }
        }
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Registry {
            path: path.to_owned(),
            base_dir,
            entries: file.datasets,
        })
    }

    /// Finds the registry to use when a config names none: the file named by
    /// `$GMMTUNE_REGISTRY`; else `datasets/registry.yaml` in each of `start_dirs` or one of
    /// their parent directories (the nearest first); else the registry of the source tree this
    /// gmmtune was built from, if it is still there. Returns the path and the places tried.
    ///
    /// ```
    /// use gmmtune::data::Registry;
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir_all(dir.path().join("datasets")).unwrap();
    /// std::fs::write(dir.path().join("datasets/registry.yaml"), "datasets: []\n").unwrap();
    /// let deep = dir.path().join("configs/mine");
    /// std::fs::create_dir_all(&deep).unwrap();
    /// let (found, _) = Registry::discover(&[deep]);
    /// assert_eq!(found.unwrap(), dir.path().join("datasets/registry.yaml"));
    /// ```
    pub fn discover(start_dirs: &[PathBuf]) -> (Option<PathBuf>, Vec<PathBuf>) {
        let mut tried = Vec::new();
        if let Some(path) = std::env::var_os(REGISTRY_ENV).filter(|p| !p.is_empty()) {
            return (Some(PathBuf::from(path)), tried);
        }
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
        for start in start_dirs.iter().chain(std::iter::once(&built_from)) {
            let start = std::path::absolute(start).unwrap_or_else(|_| start.clone());
            for dir in start.ancestors() {
                let candidate = dir.join(REGISTRY_RELATIVE_PATH);
                if candidate.is_file() {
                    return (Some(candidate), tried);
                }
                tried.push(candidate);
            }
        }
        (None, tried)
    }

    /// The registry file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&DatasetEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[DatasetEntry] {
        &self.entries
    }

    /// The entry's data file: its path joined to the registry file's directory (absolute paths
    /// are kept).
    pub fn resolve_path(&self, entry: &DatasetEntry) -> PathBuf {
        self.base_dir.join(&entry.path)
    }

    /// Reads the dataset called `name` with its entry's read options.
    pub fn read(&self, name: &str) -> Result<Table, DataError> {
        let entry = self.get(name).ok_or_else(|| DataError::RegistryEntry {
            path: self.path.clone(),
            name: name.to_owned(),
            reason: format!(
                "no such dataset; the registry lists: {}",
                self.entries
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        read_table(&self.resolve_path(entry), &entry.read_options())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "{name: a, path: a.csv, rows: 2, features: 1, anomaly_pct: 50, family: a, source: s, licence: l}";

    fn parse(text: &str) -> Result<Registry, DataError> {
        Registry::from_yaml(text, Path::new("some/dir/registry.yaml"))
    }

    #[test]
    fn defaults_and_resolution() {
        let r = parse(&format!("datasets:\n  - {ENTRY}\n")).unwrap();
        let e = r.get("a").unwrap();
        assert_eq!(e.label_column, "label");
        assert!(e.exclude_columns.is_empty());
        assert!(!e.ordered);
        assert_eq!(r.resolve_path(e), Path::new("some/dir/a.csv"));
        assert!(r.get("b").is_none());
        let options = e.read_options();
        assert!(options.require_label);
        assert_eq!(options.label_column.as_deref(), Some("label"));
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let err = parse(&format!("datasets:\n  - {ENTRY}\n  - {ENTRY}\n")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("some/dir/registry.yaml"), "{msg}");
        assert!(
            msg.contains("`a`") && msg.contains("more than once"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_fields_and_bad_values() {
        let msg = parse("datasets:\n  - {name: a, path: a.csv, rows: 2, features: 1, anomaly_pct: 5, family: a, source: s, licence: l, colour: red}\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("colour"), "{msg}");
        let msg = parse(&format!("datasets:\n  - {}\n", ENTRY.replace("50", "150")))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("anomaly_pct"), "{msg}");
        let msg = parse("datasets:\n  - {name: a}\n").unwrap_err().to_string();
        assert!(msg.contains("missing field"), "{msg}");
    }

    #[test]
    fn missing_registry_file() {
        let err = Registry::load(Path::new("nowhere/registry.yaml")).unwrap_err();
        assert!(matches!(err, DataError::FileNotFound { .. }), "{err}");
    }

    #[test]
    fn unknown_dataset_lists_known_ones() {
        let r = parse(&format!("datasets:\n  - {ENTRY}\n")).unwrap();
        let msg = r.read("zzz").unwrap_err().to_string();
        assert!(msg.contains("`zzz`") && msg.contains("lists: a"), "{msg}");
    }

    #[test]
    fn entries_round_trip_through_yaml() {
        let r = parse(&format!("datasets:\n  - {ENTRY}\n")).unwrap();
        let text = serde_norway::to_string(&r.entries()[0]).unwrap();
        let back: DatasetEntry = serde_norway::from_str(&text).unwrap();
        assert_eq!(&back, &r.entries()[0]);
    }
}
