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
use indicatif::{
    HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};

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

/// Time left if the units left take as long on average as those done: steadier than
/// indicatif's rate estimate, which swings when a large unit holds the last steps.
fn linear_eta(elapsed: Duration, done: u64, total: u64) -> Option<Duration> {
    if done == 0 || done > total {
        return None;
    }
    Some(elapsed.mul_f64((total - done) as f64 / done as f64))
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
        Bars::with_target(ProgressDrawTarget::stderr_with_hz(8))
    }

    fn with_target(target: ProgressDrawTarget) -> Bars {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "units [{bar:30}] {pos}/{len}  {msg}  {elapsed_precise} elapsed, eta {linear_eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "linear_eta",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let eta = linear_eta(state.elapsed(), state.pos(), state.len().unwrap_or(0));
                    let _ = match eta {
                        Some(eta) => write!(w, "{:#}", HumanDuration(eta)),
                        None => write!(w, "-"),
                    };
                },
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_scales_the_time_taken_by_the_units_left() {
        let minute = Duration::from_secs(60);
        assert_eq!(linear_eta(minute, 0, 10), None);
        assert_eq!(linear_eta(minute, 1, 3), Some(2 * minute));
        assert_eq!(linear_eta(minute, 80, 81), Some(minute / 80));
        assert_eq!(linear_eta(minute, 10, 10), Some(Duration::ZERO));
    }

    fn unit_record(unit: UnitKey) -> UnitRecord {
        serde_json::from_value(serde_json::json!({
            "format": gmmtune::journal::JOURNAL_FORMAT,
            "unit": unit,
            "reason": "trial_budget",
            "trials": 4,
            "elapsed_s": 1.0,
            "time_overshoot_s": 0.0,
            "context": {
                "run": "f00d",
                "version": gmmtune::journal::GMMTUNE_VERSION,
                "data": {"sha256": "ab", "rows": 10, "features": 1, "labelled": true},
                "protocol": {
                    "split": {"method": "stratified", "train": 0.6, "validation": 0.2},
                    "split_seed": 1,
                    "train_on": "normal",
                    "cost_model": {"c_alarm": 1.0, "c_missed": 1.0, "tolerance": 0},
                    "threshold": {"method": "cut_points"},
                    "fit": {"max_iter": 100, "tol": 0.001, "n_init": 1},
                    "cv_folds": 5
                }
            }
        }))
        .unwrap()
    }

    #[test]
    fn finished_units_leave_the_display() {
        let bars = Bars::with_target(ProgressDrawTarget::hidden());
        bars.run_started(3, 0);
        let key = |strategy: &str| UnitKey {
            dataset: "d".into(),
            strategy: strategy.into(),
            seed: 0,
        };
        let budget = Budget {
            trials: Some(4),
            time_s: None,
        };
        for s in ["a", "b", "c"] {
            bars.unit_started(&key(s), &budget, 0);
        }
        assert_eq!(bars.running.lock().unwrap().len(), 3);
        for s in ["b", "a"] {
            bars.unit_finished(&unit_record(key(s)));
        }
        let running: Vec<UnitKey> = bars.running.lock().unwrap().keys().cloned().collect();
        assert_eq!(running, [key("c")]);
        assert_eq!(bars.overall.position(), 2);
        bars.finish();
        assert!(bars.running.lock().unwrap().is_empty());
    }
}
