//! Reading the evidence of run directories: their journals (through
//! [`crate::journal::RunJournal`], checked with [`crate::journal::check_comparable`]) and, for
//! the meta-features, their data, re-read from the files the manifests name, checked against
//! the recorded content hash and split exactly as the trials were (recorded protocol and split
//! seed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::evidence::{group_trials, DatasetEvidence, Evidence, RunSource};
use super::meta_features::meta_features;
use super::ZeroshotError;
use crate::data::{prepare, read_table, Protocol, ReadOptions};
use crate::journal::{check_comparable, RunJournal, TrialRecord, UnitKey};
use crate::run::{sha256_file, DatasetManifest, RunManifest};

/// Reads the runs in `dirs` and the data they name. Records of one dataset must share data and
/// protocol (the split seed aside); across datasets only the split method and the cost model
/// may differ. A unit found in two runs, a run without its manifest, a data file that changed
/// since, and fit rows whose meta-features are undefined are errors.
pub fn load_evidence(dirs: &[PathBuf]) -> Result<Evidence, ZeroshotError> {
    let run_err = |e: &dyn std::fmt::Display| ZeroshotError::Run(e.to_string());
    let mut sources = Vec::new();
    let mut records: Vec<TrialRecord> = Vec::new();
    let mut manifests: BTreeMap<String, (DatasetManifest, String)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut units: BTreeMap<UnitKey, String> = BTreeMap::new();
    for (i, dir) in dirs.iter().enumerate() {
        if dirs[..i].contains(dir) {
            return Err(ZeroshotError::Inconsistent(format!(
                "{} is listed twice: its units would be in both; name each run once",
                dir.display()
            )));
        }
        let manifest = RunManifest::read(dir)
            .map_err(|e| run_err(&e))?
            .ok_or_else(|| {
                ZeroshotError::Run(format!(
                    "{} is not a run directory (no run.json): name directories `gmmtune run` wrote",
                    dir.display()
                ))
            })?;
        let journal = RunJournal::load(dir).map_err(|e| run_err(&e))?;
        if let Some(found) = journal.fingerprint()
            && found != manifest.fingerprint
        {
            return Err(ZeroshotError::Inconsistent(format!(
                "{}: the journal was written by run {found}, the manifest is of run {}",
                dir.display(),
                manifest.fingerprint
            )));
        }
        for d in &manifest.datasets {
            match manifests.get(&d.name) {
                Some((known, at)) if known.family != d.family => {
                    return Err(ZeroshotError::Inconsistent(format!(
                        "dataset `{}` is of family `{}` in {at} and `{}` in {}",
                        d.name,
                        known.family,
                        d.family,
                        dir.display()
                    )));
                }
                Some(_) => {}
                None => {
                    order.push(d.name.clone());
                    manifests.insert(d.name.clone(), (d.clone(), dir.display().to_string()));
                }
            }
        }
        for r in &journal.trials {
            if let Some(other) = units.get(&r.unit) {
                if *other != dir.display().to_string() {
                    return Err(ZeroshotError::Inconsistent(format!(
                        "unit {} is in both {other} and {}: mine each unit from one run",
                        r.unit,
                        dir.display()
                    )));
                }
            } else {
                units.insert(r.unit.clone(), dir.display().to_string());
            }
        }
        sources.push(RunSource {
            dir: dir.display().to_string(),
            fingerprint: manifest.fingerprint.clone(),
            version: manifest.version.clone(),
        });
        records.extend(journal.trials);
    }
    check_comparable(&records).map_err(|e| ZeroshotError::Inconsistent(e.to_string()))?;
    let first = records
        .first()
        .ok_or_else(|| ZeroshotError::NoEvidence("the runs hold no trials".into()))?;
    let shared = |r: &TrialRecord| {
        let p = &r.context.protocol;
        (
            p.train_on,
            p.threshold,
            p.fit,
            p.cv_folds,
            p.cv_max_rows,
            p.score_quantile,
        )
    };
    if let Some(r) = records.iter().find(|r| shared(r) != shared(first)) {
        return Err(ZeroshotError::Inconsistent(format!(
            "datasets `{}` and `{}` were measured under different protocols (training rows, threshold search, EM settings, folds or score quantile differ): mine runs of one protocol",
            first.unit.dataset, r.unit.dataset
        )));
    }
    let score_quantile = first.context.protocol.score_quantile;
    let mut grouped: BTreeMap<(String, u64), Vec<&TrialRecord>> = BTreeMap::new();
    for r in &records {
        grouped
            .entry((r.unit.dataset.clone(), r.unit.seed))
            .or_default()
            .push(r);
    }
    let datasets: Vec<DatasetEvidence> = order
        .par_iter()
        .filter(|name| grouped.keys().any(|(d, _)| d == *name))
        .map(|name| {
            let (manifest, _) = &manifests[name];
            let seeds: Vec<(u64, &Vec<&TrialRecord>)> = grouped
                .iter()
                .filter(|((d, _), _)| d == name)
                .map(|((_, s), r)| (*s, r))
                .collect();
            dataset_evidence(manifest, &seeds)
        })
        .collect::<Result<_, _>>()?;
    Ok(Evidence {
        datasets,
        sources,
        score_quantile,
    })
}

/// One dataset's evidence: its data re-read and split per seed for the meta-features.
fn dataset_evidence(
    manifest: &DatasetManifest,
    seeds: &[(u64, &Vec<&TrialRecord>)],
) -> Result<DatasetEvidence, ZeroshotError> {
    let path = Path::new(&manifest.path);
    let data_err =
        |e: &dyn std::fmt::Display| ZeroshotError::Run(format!("dataset `{}`: {e}", manifest.name));
    let found = sha256_file(path).map_err(|e| data_err(&e))?;
    if found != manifest.sha256 {
        return Err(ZeroshotError::Inconsistent(format!(
            "{}: the file changed since the run read it (sha256 {} then, {found} now): its meta-features cannot be rebuilt",
            manifest.path, manifest.sha256
        )));
    }
    let options = ReadOptions {
        label_column: manifest.label_column.clone(),
        require_label: manifest.label_column.is_some(),
        exclude_columns: manifest.exclude_columns.clone(),
        ..ReadOptions::default()
    };
    let table = read_table(path, &options).map_err(|e| data_err(&e))?;
    let mut out = Vec::new();
    for (seed, records) in seeds {
        let stamp = &records[0].context.protocol;
        let protocol = Protocol {
            split: stamp.split,
            train_on: stamp.train_on,
        };
        let prepared = prepare(&table, &manifest.name, &protocol, stamp.split_seed)
            .map_err(|e| data_err(&e))?;
        let meta = meta_features(prepared.fit_rows.view()).map_err(|source| {
            ZeroshotError::MetaFeatures {
                dataset: manifest.name.clone(),
                seed: *seed,
                source,
            }
        })?;
        out.push(group_trials(&manifest.name, *seed, records, meta)?);
    }
    Ok(DatasetEvidence {
        name: manifest.name.clone(),
        family: manifest.family.clone(),
        sha256: manifest.sha256.clone(),
        seeds: out,
    })
}
