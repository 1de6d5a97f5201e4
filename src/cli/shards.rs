//! `gmmtune merge`, `gmmtune status` and `gmmtune slurm`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use gmmtune::config::RunConfig;
use gmmtune::run::{output_dir, RunOptions, SlurmJob, UnitState, UnitStatus};

use super::SlurmArgs;

fn print_status(units: &[UnitStatus]) {
    let count = |state| units.iter().filter(|u| u.state == state).count();
    println!(
        "{} unit(s): {} done, {} running, {} stopped, {} missing",
        units.len(),
        count(UnitState::Done),
        count(UnitState::Running),
        count(UnitState::Stopped),
        count(UnitState::Missing)
    );
    for u in units.iter().filter(|u| u.state != UnitState::Done) {
        println!(
            "  {:<8} {} ({} trials){}",
            u.state.as_str(),
            u.unit,
            u.trials,
            u.shard.map_or(String::new(), |s| format!(", shard {s}"))
        );
    }
}

pub fn merge(dir: &Path) -> anyhow::Result<ExitCode> {
    let merged = gmmtune::run::merge(dir)?;
    for warning in &merged.warnings {
        eprintln!("warning: {warning}");
    }
    super::run::print_summary(&merged.summary, dir);
    print_status(&merged.units);
    if merged.units.iter().any(|u| u.state != UnitState::Done) {
        eprintln!(
            "warning: not every unit is done: resume the shards that own them (`gmmtune run CONFIG --out {} --shard I/N --resume`), then merge again",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status(dir: &Path) -> anyhow::Result<ExitCode> {
    print_status(&gmmtune::run::status(dir)?);
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))
}

/// Runs `sbatch --parsable ARGS SCRIPT` and returns the job id it prints.
fn sbatch(args: &[String], script: &Path) -> anyhow::Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .context("cannot run sbatch: is Slurm installed and on PATH?")?;
    if !out.status.success() {
        anyhow::bail!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        anyhow::bail!("sbatch printed `{}`, not a job id", text.trim());
    }
    Ok(id)
}

pub fn slurm(args: SlurmArgs) -> anyhow::Result<ExitCode> {
    if args.array == 0 || args.array > gmmtune::plan::MAX_SHARDS {
        anyhow::bail!(
            "--array {}: a run splits into 1 to {} tasks",
            args.array,
            gmmtune::plan::MAX_SHARDS
        );
    }
    if args.cpus_per_task == 0 {
        anyhow::bail!("--cpus-per-task must be at least 1");
    }
    let config = RunConfig::load(&args.config)?;
    let run_dir = absolute(&output_dir(
        &config,
        &RunOptions {
            out_dir: args.out.clone(),
            ..RunOptions::default()
        },
    ))?;
    let job = SlurmJob {
        name: config.name.clone(),
        binary: std::env::current_exe().context("cannot find the gmmtune binary")?,
        config: absolute(&args.config)?,
        run_dir: run_dir.clone(),
        array: args.array,
        cpus_per_task: args.cpus_per_task,
        partition: args.partition,
        time: args.time,
        mem: args.mem,
    };
    let scripts = run_dir.join("slurm");
    std::fs::create_dir_all(&scripts)
        .with_context(|| format!("cannot create {}", scripts.display()))?;
    let array_path = scripts.join("array.sbatch");
    let merge_path = scripts.join("merge.sbatch");
    std::fs::write(&array_path, job.array_script())
        .with_context(|| format!("cannot write {}", array_path.display()))?;
    std::fs::write(&merge_path, job.merge_script())
        .with_context(|| format!("cannot write {}", merge_path.display()))?;
    println!(
        "wrote {} and {}",
        array_path.display(),
        merge_path.display()
    );
    if !args.submit {
        println!(
            "submit with: id=$(sbatch --parsable {}) && sbatch --dependency=afterok:$id {}",
            array_path.display(),
            merge_path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let array_id = sbatch(&[], &array_path)?;
    let merge_id = sbatch(&[format!("--dependency=afterok:{array_id}")], &merge_path)?;
    println!(
        "submitted array job {array_id} ({} tasks) and merge job {merge_id} (after the array succeeds)",
        args.array
    );
    println!("follow with `gmmtune status {}`", run_dir.display());
    Ok(ExitCode::SUCCESS)
}
