//! The `datasets` list of a config: registry names, files, and per-dataset overrides of the
//! protocol and the cost model.
//!
//! ```yaml
//! datasets:
//!   - wbc                                   # a registry name
//!   - {name: hpc, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}}   # with overrides
//!   - {path: data/mine.csv.gz, label_column: is_anomaly, exclude_columns: [id]}
//!   - {path: data/series.csv, ordered: true, protocol: {split: {method: ordered, train_end: 500, validation_end: 800}}}
//! ```
//! Each key of an entry is checked by itself, so a typo names the key (`datasets[3]: unknown
//! key `pth``), and a file path is resolved against the config file's directory.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{ConfigError, RawCostModel};
use crate::data::{SplitMethod, TrainOn};
use crate::eval::CostModel;

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetSource {
    /// A name of the dataset registry.
    Registry(String),
    /// A CSV or CSV.gz file (resolved against the config file's directory).
    File(PathBuf),
}

/// Per-dataset overrides of the run's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolOverride {
    /// The split of this dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitMethod>,
    /// Which of its train rows the model is fitted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_on: Option<TrainOn>,
}

/// One dataset as a config names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetEntry {
    /// Registry name or file.
    pub source: DatasetSource,
    /// Name in results (a file's name without extensions by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Label column (the registry's, else `label`). A file without that column is unlabelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// Columns that are not features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_columns: Option<Vec<String>>,
    /// Whether the rows are a time series (the registry's, else `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered: Option<bool>,
    /// Family of related datasets (the registry's, else the dataset's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Protocol overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ProtocolOverride>,
    /// Cost model of this dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_model: Option<CostModel>,
}

impl DatasetEntry {
    /// The name the dataset goes by in results.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.source {
            DatasetSource::Registry(name) => name.clone(),
            DatasetSource::File(path) => file_stem(path),
        }
    }
}

/// A file's name without its extensions (`data/a.csv.gz` -> `a`).
pub fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    name.split('.').next().unwrap_or(&name).to_string()
}

const KEYS: [&str; 8] = [
    "path",
    "name",
    "label_column",
    "exclude_columns",
    "ordered",
    "family",
    "protocol",
    "cost_model",
];

/// Parses entry `index` of `datasets`; `base_dir` anchors relative file paths.
pub(super) fn parse_dataset_entry(
    value: serde_norway::Value,
    index: usize,
    base_dir: &Path,
    origin: &str,
) -> Result<DatasetEntry, ConfigError> {
    let key = format!("datasets[{index}]");
    let err = |key: &str, message: String| ConfigError::Invalid {
        path: origin.to_string(),
        key: key.to_string(),
        message,
    };
    let mut map = match value {
        serde_norway::Value::String(name) => {
            return Ok(DatasetEntry {
                source: DatasetSource::Registry(name),
                name: None,
                label_column: None,
                exclude_columns: None,
                ordered: None,
                family: None,
                protocol: None,
                cost_model: None,
            });
        }
        serde_norway::Value::Mapping(map) => map,
        other => {
            return Err(err(
                &key,
                format!(
                    "expected a registry name or a mapping such as `{{path: data.csv}}`, found {}",
                    describe(&other)
                ),
            ));
        }
    };
    if let Some(stray) = map
        .keys()
        .find(|k| k.as_str().is_none_or(|k| !KEYS.contains(&k)))
    {
        return Err(err(
            &key,
            format!(
                "unknown key `{}` (a dataset entry takes: {})",
                stray
                    .as_str()
                    .map_or_else(|| describe(stray), str::to_string),
                KEYS.join(", ")
            ),
        ));
    }
    fn take<T: DeserializeOwned>(
        map: &mut serde_norway::Mapping,
        name: &str,
        key: &str,
        origin: &str,
    ) -> Result<Option<T>, ConfigError> {
        match map.remove(serde_norway::Value::String(name.to_string())) {
            None | Some(serde_norway::Value::Null) => Ok(None),
            Some(v) => serde_norway::from_value(v)
                .map(Some)
                .map_err(|e| ConfigError::Invalid {
                    path: origin.to_string(),
                    key: format!("{key}.{name}"),
                    message: e.to_string(),
                }),
        }
    }
    let path: Option<PathBuf> = take(&mut map, "path", &key, origin)?;
    let name: Option<String> = take(&mut map, "name", &key, origin)?;
    let source = match (path, &name) {
        (Some(path), _) => {
            if path.as_os_str().is_empty() {
                return Err(err(&format!("{key}.path"), "the path is empty".into()));
            }
            DatasetSource::File(base_dir.join(path))
        }
        (None, Some(name)) => DatasetSource::Registry(name.clone()),
        (None, None) => {
            return Err(err(
                &key,
                "give `path: FILE` for a file, or `name: NAME` for a registry dataset".into(),
            ));
        }
    };
    let name = match source {
        DatasetSource::File(_) => name,
        DatasetSource::Registry(_) => None,
    };
    if let Some(n) = &name {
        check_name(n).map_err(|m| err(&format!("{key}.name"), m))?;
    }
    let entry = DatasetEntry {
        source,
        name,
        label_column: take(&mut map, "label_column", &key, origin)?,
        exclude_columns: take(&mut map, "exclude_columns", &key, origin)?,
        ordered: take(&mut map, "ordered", &key, origin)?,
        family: take(&mut map, "family", &key, origin)?,
        protocol: take(&mut map, "protocol", &key, origin)?,
        cost_model: take::<RawCostModel>(&mut map, "cost_model", &key, origin)?
            .map(|c| c.check())
            .transpose()
            .map_err(|e| err(&format!("{key}.cost_model"), e.to_string()))?,
    };
    if let Some(split) = entry.protocol.and_then(|p| p.split) {
        split
            .check()
            .map_err(|e| err(&format!("{key}.protocol.split"), e.to_string()))?;
    }
    if entry
        .label_column
        .as_deref()
        .is_some_and(|l| l.trim().is_empty())
    {
        return Err(err(
            &format!("{key}.label_column"),
            "the label column name is empty".into(),
        ));
    }
    Ok(entry)
}

/// Dataset names are shown in tables and reports (escaped there; file names made from them
/// are slugs): any printable text but an empty one.
fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the name is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "`{}` holds a control character; use printable text",
            name.escape_debug()
        ));
    }
    Ok(())
}

fn describe(value: &serde_norway::Value) -> String {
    match value {
        serde_norway::Value::Null => "nothing".into(),
        serde_norway::Value::Bool(b) => format!("`{b}`"),
        serde_norway::Value::Number(n) => format!("the number {n}"),
        serde_norway::Value::String(s) => format!("`{s}`"),
        serde_norway::Value::Sequence(_) => "a list".into(),
        serde_norway::Value::Mapping(_) => "a mapping".into(),
        serde_norway::Value::Tagged(_) => "a tagged value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<DatasetEntry, ConfigError> {
        let value: serde_norway::Value = serde_norway::from_str(yaml).unwrap();
        parse_dataset_entry(value, 2, Path::new("configs"), "c.yaml")
    }

    fn key_of(e: ConfigError) -> String {
        match e {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn names_files_and_overrides() {
        let e = parse("wbc").unwrap();
        assert_eq!(e.source, DatasetSource::Registry("wbc".into()));
        assert_eq!(e.display_name(), "wbc");
        let e = parse("{path: data/x.csv.gz, ordered: true}").unwrap();
        assert_eq!(
            e.source,
            DatasetSource::File("configs/data/x.csv.gz".into())
        );
        assert_eq!(e.display_name(), "x");
        assert_eq!(e.ordered, Some(true));
        let e = parse("{name: hpc, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}}").unwrap();
        assert_eq!(e.source, DatasetSource::Registry("hpc".into()));
        assert_eq!(e.cost_model.unwrap().tolerance, 12);
    }

    #[test]
    fn typos_name_the_key() {
        let err = parse("{pth: a.csv}").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`pth`") && msg.contains("datasets[2]"),
            "{msg}"
        );
        assert_eq!(
            key_of(parse("{path: a.csv, ordered: yes please}").unwrap_err()),
            "datasets[2].ordered"
        );
        assert_eq!(
            key_of(parse("{path: a.csv, protocol: {split: {method: ordered, train_end: 5, validation_end: 2}}}").unwrap_err()),
            "datasets[2].protocol.split"
        );
        assert_eq!(
            key_of(parse("{path: a.csv, protocol: {splitt: 1}}").unwrap_err()),
            "datasets[2].protocol"
        );
        assert_eq!(
            key_of(parse("{label_column: x}").unwrap_err()),
            "datasets[2]"
        );
        assert_eq!(key_of(parse("[1, 2]").unwrap_err()), "datasets[2]");
        assert_eq!(
            key_of(parse("{path: a.csv, name: \"a\\tb\"}").unwrap_err()),
            "datasets[2].name"
        );
        assert_eq!(
            parse("{path: a.csv, name: '<script>alert(1)</script>'}")
                .unwrap()
                .display_name(),
            "<script>alert(1)</script>"
        );
        assert_eq!(
            key_of(
                parse("{path: a.csv, cost_model: {c_alarm: -1, c_missed: 1, tolerance: 0}}")
                    .unwrap_err()
            ),
            "datasets[2].cost_model"
        );
    }
}
