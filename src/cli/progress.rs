//! Progress display: one bar per dataset × strategy on a terminal, plain log lines otherwise,
//! nothing with `--quiet`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use gmmtune::config::Budget;
use gmmtune::search::driver::{Progress, Silent};
use gmmtune::search::journal::{TrialRecord, UnitRecord};
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

/// Plain lines on standard error, one when a unit starts and one when it ends.
struct LogLines;

impl Progress for LogLines {
    fn unit_started(&self, dataset: &str, strategy: &str, budget: &Budget, replayed: usize) {
        let resumed = if replayed > 0 {
            format!(", {replayed} trial(s) from the journal")
        } else {
            String::new()
        };
        eprintln!(
            "[start] {dataset} / {strategy} (budget: {} trials, {} s{resumed})",
            budget.trials.map_or("∞".into(), |t| t.to_string()),
            budget.time_s.map_or("∞".into(), |t| t.to_string())
        );
    }

    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {}

    fn unit_finished(&self, unit: &UnitRecord) {
        eprintln!(
            "[done]  {} / {}: {} trials in {:.1} s ({:?})",
            unit.dataset, unit.strategy, unit.trials, unit.elapsed_s, unit.reason
        );
    }
}

impl Display for LogLines {
    fn finish(&self) {}
}

/// indicatif bars, one per unit.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<(String, String), ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for Bars {
    fn unit_started(&self, dataset: &str, strategy: &str, budget: &Budget, replayed: usize) {
        let bar = match budget.trials {
            Some(n) => {
                let bar = ProgressBar::new(n as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:<28} [{bar:24}] {pos:>4}/{len:<4} best {msg:<8} {elapsed_precise} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:<28} {spinner} {pos:>4} trials  best {msg:<8} {elapsed_precise}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            }
        };
        let bar = self.multi.add(bar);
        bar.set_prefix(format!("{dataset} / {strategy}"));
        bar.set_position(replayed as u64);
        bar.set_message("-");
        self.bars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((dataset.to_string(), strategy.to_string()), bar);
    }

    fn trial_finished(&self, record: &TrialRecord, best: Option<f64>) {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bar) = bars.get(&(record.dataset.clone(), record.strategy.clone())) {
            bar.inc(1);
            bar.set_message(fmt_best(best));
        }
    }

    fn unit_finished(&self, unit: &UnitRecord) {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bar) = bars.get(&(unit.dataset.clone(), unit.strategy.clone())) {
            bar.finish();
        }
    }
}

impl Display for Bars {
    fn finish(&self) {
        let _ = self.multi.clear();
    }
}
