//! Slurm batch scripts for a sharded run: a job array whose task `i` runs shard `i` of the
//! config (resuming its own journal, so a task killed by a time limit or a node failure
//! continues when resubmitted), and a merge job to run after the whole array succeeded.
//!
//! ```
//! use gmmtune::run::SlurmJob;
//! let job = SlurmJob {
//!     name: "quickstart".into(),
//!     binary: "/opt/gmmtune/bin/gmmtune".into(),
//!     config: "/home/me/configs/quickstart.yaml".into(),
//!     run_dir: "/scratch/me/quickstart".into(),
//!     array: 4,
//!     cpus_per_task: 2,
//!     partition: Some("short".into()),
//!     time: Some("01:00:00".into()),
//!     mem: None,
//! };
//! let array = job.array_script();
//! assert!(array.contains("#SBATCH --array=0-3"));
//! assert!(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""));
//! assert!(job.merge_script().contains("merge '/scratch/me/quickstart'"));
//! ```

use std::path::PathBuf;

/// What the scripts run, and how Slurm should run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmJob {
    /// The run's name (the jobs' names derive from it).
    pub name: String,
    /// The gmmtune binary the tasks run (absolute).
    pub binary: PathBuf,
    /// The config file (absolute).
    pub config: PathBuf,
    /// The run directory (absolute).
    pub run_dir: PathBuf,
    /// Array tasks (shards).
    pub array: usize,
    /// CPUs per task, also gmmtune's `--jobs`.
    pub cpus_per_task: usize,
    /// Partition, if the cluster needs one.
    pub partition: Option<String>,
    /// Time limit per task.
    pub time: Option<String>,
    /// Memory per task.
    pub mem: Option<String>,
}

/// Quotes `text` for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl SlurmJob {
    fn header(&self, job: &str, extra: &[String]) -> String {
        let mut out = String::from("#!/bin/bash\n");
        out.push_str(&format!("#SBATCH --job-name={job}\n"));
        for line in extra {
            out.push_str(&format!("#SBATCH {line}\n"));
        }
        if let Some(p) = &self.partition {
            out.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        if let Some(t) = &self.time {
            out.push_str(&format!("#SBATCH --time={t}\n"));
        }
        out
    }

    fn logs(&self) -> String {
        self.run_dir.join("slurm").display().to_string()
    }

    /// The job array: task `i` runs shard `i` of `array`, resuming its own journal.
    pub fn array_script(&self) -> String {
        let mut extra = vec![
            format!("--array=0-{}", self.array.saturating_sub(1)),
            format!("--cpus-per-task={}", self.cpus_per_task),
            format!("--output={}/shard-%a.out", self.logs()),
        ];
        if let Some(m) = &self.mem {
            extra.push(format!("--mem={m}"));
        }
        let mut out = self.header(&format!("gmmtune-{}", self.name), &extra);
        out.push_str(&format!(
            "# Shard ${{SLURM_ARRAY_TASK_ID}} of {n}: its own journal under shards/, resumed when the\n# task is resubmitted (e.g. after a time limit: sbatch --array=<i> this script).\nset -euo pipefail\nexec {bin} run {config} --out {dir} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --resume --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --quiet\n",
            n = self.array,
            bin = quote(&self.binary.display().to_string()),
            config = quote(&self.config.display().to_string()),
            dir = quote(&self.run_dir.display().to_string()),
            cpus = self.cpus_per_task,
        ));
        out
    }

    /// The merge job (submit it with `--dependency=afterok:<array job id>`).
    pub fn merge_script(&self) -> String {
        let extra = vec![
            "--cpus-per-task=1".to_string(),
            format!("--output={}/merge.out", self.logs()),
        ];
        let mut out = self.header(&format!("gmmtune-{}-merge", self.name), &extra);
        out.push_str(&format!(
            "set -euo pipefail\nexec {bin} merge {dir}\n",
            bin = quote(&self.binary.display().to_string()),
            dir = quote(&self.run_dir.display().to_string()),
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        let job = SlurmJob {
            name: "t".into(),
            binary: "/b/gmmtune".into(),
            config: "/c/it's here.yaml".into(),
            run_dir: "/r".into(),
            array: 1,
            cpus_per_task: 1,
            partition: None,
            time: None,
            mem: Some("4G".into()),
        };
        let script = job.array_script();
        assert!(script.contains(r"'/c/it'\''s here.yaml'"), "{script}");
        assert!(script.contains("#SBATCH --array=0-0"));
        assert!(script.contains("#SBATCH --mem=4G"));
        assert!(!script.contains("--partition"));
    }
}
