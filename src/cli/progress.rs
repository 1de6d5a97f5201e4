//! Progress display: on a terminal, one overall bar (units done of total, trials, elapsed,
//! ETA) and a line per running unit, which leaves the screen when the unit ends; plain log
//! lines otherwise; nothing with `--quiet`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use gmmtune::journal::{TrialRecord, UnitKey, UnitRecord};
use gmmtune::search::driver::{Progress, Silent};
use gmmtune::search::Budget;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress sink that can be closed at the end of a run.
pub trait Display: Progress + Send {
    /// Clears or completes whatever is on screen.
    fn finish(&self);
}

impl Display for Silent {
    fn finish(&self) {}
}

/// The display for the current standard error.
pub fn make_progress(quiet: bool) -> Box<dyn Display> {
    if quiet {
        Box::new(Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(Bars::new())
    } else {
        Box::new(LogLines)
    }
}

fn fmt_best(best: Option<f64>) -> String {
    best.map_or_else(|| "-".into(), |b| format!("{b:.4}"))
}

fn unit_label(unit: &UnitKey) -> String {
    format!("{} / {} / seed {}", unit.dataset, unit.strategy, unit.seed)
}

/// Plain lines on standard error, one when a unit starts and one when it ends.
struct LogLines;

impl Progress for LogLines {
    fn run_started(&self, units: usize, done: usize) {
        if done > 0 {
            eprintln!("[run]   {units} unit(s) to run, {done} finished earlier");
        }
    }

    fn unit_started(&self, unit: &UnitKey, budget: &Budget, replayed: usize) {
        let resumed = if replayed > 0 {
            format!(", {replayed} trial(s) from the journal")
        } else {
            String::new()
        };
        eprintln!(
            "[start] {} (budget: {} trials, {} s{resumed})",
            unit_label(unit),
            budget.trials.map_or("∞".into(), |t| t.to_string()),
            budget.time_s.map_or("∞".into(), |t| t.to_string())
        );
    }

    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {}

    fn unit_finished(&self, unit: &UnitRecord) {
        eprintln!(
            "[done]  {}: {} trials in {:.1} s ({})",
            unit_label(&unit.unit),
            unit.trials,
            unit.elapsed_s,
            unit.reason.as_str()
        );
    }
}

impl Display for LogLines {
    fn finish(&self) {}
}

/// indicatif bars: the overall one, and one per running unit.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    trials: AtomicU64,
    running: Mutex<HashMap<UnitKey, ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "units [{bar:30}] {pos}/{len}  {msg}  {elapsed_precise} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(250));
        Bars {
            multi,
            overall,
            trials: AtomicU64::new(0),
            running: Mutex::new(HashMap::new()),
        }
    }

    fn set_trials_message(&self) {
        self.overall
            .set_message(format!("{} trials", self.trials.load(Ordering::Relaxed)));
    }
}

impl Progress for Bars {
    fn run_started(&self, units: usize, _done: usize) {
        self.overall.set_length(units as u64);
        self.set_trials_message();
    }

    fn unit_started(&self, unit: &UnitKey, budget: &Budget, replayed: usize) {
        let bar = match budget.trials {
            Some(n) => {
                let bar = ProgressBar::new(n as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "  {prefix:.dim} {pos}/{len} trials, best {msg}, {elapsed}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template(
                        "  {prefix:.dim} {pos} trials, best {msg}, {elapsed}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        let bar = self.multi.add(bar);
        bar.set_prefix(unit_label(unit));
        bar.set_position(replayed as u64);
        bar.set_message("-");
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(unit.clone(), bar);
    }

    fn trial_finished(&self, record: &TrialRecord, best: Option<f64>) {
        self.trials.fetch_add(1, Ordering::Relaxed);
        self.set_trials_message();
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bar) = running.get(&record.unit) {
            bar.inc(1);
            bar.set_message(fmt_best(best));
        }
    }

    fn unit_finished(&self, unit: &UnitRecord) {
        if let Some(bar) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&unit.unit)
        {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
    }
}

impl Display for Bars {
    fn finish(&self) {
        for (_, bar) in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}
