//! The search driver: runs every unit (dataset × strategy) of a run under its budget, in
//! parallel, journals each trial as it finishes, and resumes from the journal.
//!
//! A unit replays its journaled trials through its strategy (asking for each configuration and
//! telling the recorded result without fitting again), then runs live. Grid, random and fixed
//! strategies ([`Concurrency::Independent`]) run a trial on every worker as it frees up. CFO
//! ([`Concurrency::InOrder`]) keeps its `concurrent_trials` proposals in flight (as far as
//! `jobs` allows) and tells their results in the order asked; right after telling trial `t` it
//! asks for trial `t + n`. A trial that finishes before an older one waits for it, so the
//! sequence of asks and tells, and the path, does not depend on `jobs` or on timing.
//! Every trial's seed derives from the run seed, the dataset and the trial index, so grid and
//! random results do not depend on `jobs` either. Each trial is journaled as soon as it
//! finishes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use thiserror::Error;

use crate::config::{Budget, RunConfig, StrategyEntry};
use crate::data::Prepared;

use super::journal::{
    JournalError, JournalWriter, StopReason, TrialRecord, TrialStatus, UnitRecord,
};
use super::seed::derive_seed;
use super::trial::{run_trial, TrialSettings};
use super::{build_strategy, Concurrency, GmmConfig, SearchError, Strategy};

/// Errors that stop a run (a failed trial does not: it is journaled as `failed`).
#[derive(Debug, Error)]
pub enum DriverError {
    /// The journal could not be written; results computed so far are in the journal.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// A strategy could not be built.
    #[error("strategy `{strategy}`: {source}")]
    Strategy {
        strategy: String,
        #[source]
        source: SearchError,
    },
}

/// What the driver reports while it runs (progress bars, log lines).
pub trait Progress: Sync {
    /// A unit starts (after its replay); `replayed` trials came from the journal.
    fn unit_started(&self, dataset: &str, strategy: &str, budget: &Budget, replayed: usize);
    /// A trial finished; `best` is the unit's best objective value so far.
    fn trial_finished(&self, record: &TrialRecord, best: Option<f64>);
    /// A unit finished.
    fn unit_finished(&self, unit: &UnitRecord);
}

/// A progress sink that reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn unit_started(&self, _: &str, _: &str, _: &Budget, _: usize) {}
    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {}
    fn unit_finished(&self, _: &UnitRecord) {}
}

/// The journals a run writes and what earlier runs left in them.
pub struct RunJournals<'a> {
    /// Appends trial records.
    pub trials: &'a JournalWriter,
    /// Appends unit records.
    pub units: &'a JournalWriter,
    /// Trials already journaled (empty for a fresh run).
    pub previous_trials: Vec<TrialRecord>,
    /// Units already finished (empty for a fresh run).
    pub previous_units: Vec<UnitRecord>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Units finished in this call (earlier finished units are not repeated).
    pub finished_units: Vec<UnitRecord>,
    /// Whether the run stopped early because `interrupt` was set.
    pub interrupted: bool,
}

/// Seed of trial `index` on `dataset`.
pub fn trial_seed(run_seed: u64, dataset: &str, index: usize) -> u64 {
    derive_seed(run_seed, &["trial", dataset], index as u64)
}

/// Seed of the strategy `strategy` on `dataset`.
pub fn strategy_seed(run_seed: u64, dataset: &str, strategy: &str) -> u64 {
    derive_seed(run_seed, &["strategy", dataset, strategy], 0)
}

fn settings_for(config: &RunConfig, entry: &StrategyEntry) -> TrialSettings {
    TrialSettings {
        fit: config.fit,
        cost_model: config.cost_model,
        threshold: config.threshold,
        objective: entry.objective,
        cv_folds: config.cv_folds,
    }
}

/// Runs every unfinished unit of `config` on the prepared `datasets` (in the config's order).
/// Stops taking new trials once `interrupt` is set.
pub fn run_units(
    config: &RunConfig,
    datasets: &[Prepared],
    journals: RunJournals<'_>,
    jobs: usize,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunOutcome, DriverError> {
    let done: HashSet<(String, String)> = journals
        .previous_units
        .iter()
        .map(|u| (u.dataset.clone(), u.strategy.clone()))
        .collect();
    let mut previous: HashMap<(String, String), BTreeMap<usize, TrialRecord>> = HashMap::new();
    for r in journals.previous_trials {
        previous
            .entry((r.dataset.clone(), r.strategy.clone()))
            .or_default()
            .insert(r.trial, r);
    }
    let mut units = Vec::new();
    for data in datasets {
        for entry in &config.strategies {
            let key = (data.name.clone(), entry.name.clone());
            if done.contains(&key) {
                continue;
            }
            let replay = previous.remove(&key).unwrap_or_default();
            units.push((data, entry, replay));
        }
    }
    let results: Mutex<Vec<Result<Option<UnitRecord>, DriverError>>> = Mutex::new(Vec::new());
    rayon::scope(|scope| {
        for (data, entry, replay) in units {
            let results = &results;
            let journals = (journals.trials, journals.units);
            scope.spawn(move |_| {
                let outcome = UnitRun::new(config, data, entry, replay, jobs)
                    .and_then(|unit| unit.run(journals, interrupt, progress));
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(outcome);
            });
        }
    });
    let mut finished_units = Vec::new();
    for r in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        if let Some(unit) = r? {
            finished_units.push(unit);
        }
    }
    Ok(RunOutcome {
        finished_units,
        interrupted: interrupt.load(Ordering::SeqCst),
    })
}

/// The mutable state of one unit, shared by its workers under a lock.
struct UnitState {
    strategy: Box<dyn Strategy>,
    /// Configurations asked during the replay whose trials were never journaled.
    pending: Vec<(usize, GmmConfig)>,
    /// Trials handed out (journaled ones included).
    issued: usize,
    /// Trials finished (journaled ones included).
    finished: usize,
    /// Best minimised objective so far.
    best: Option<f64>,
    stop: Option<StopReason>,
    /// Seconds already spent in earlier runs of this unit.
    earlier_s: f64,
    clock: Option<Instant>,
}

impl UnitState {
    fn elapsed(&self) -> f64 {
        self.earlier_s + self.clock.map_or(0.0, |c| c.elapsed().as_secs_f64())
    }
}

struct UnitRun<'a> {
    config: &'a RunConfig,
    data: &'a Prepared,
    entry: &'a StrategyEntry,
    settings: TrialSettings,
    concurrency: Concurrency,
    /// Workers of an independent strategy (an in-order window uses the pool's `jobs` threads).
    workers: usize,
    replayed: usize,
    state: Mutex<UnitState>,
}

impl<'a> UnitRun<'a> {
    fn new(
        config: &'a RunConfig,
        data: &'a Prepared,
        entry: &'a StrategyEntry,
        replay: BTreeMap<usize, TrialRecord>,
        jobs: usize,
    ) -> Result<UnitRun<'a>, DriverError> {
        let seed = strategy_seed(config.seed, &data.name, &entry.name);
        let mut strategy = build_strategy(&entry.spec, &config.space, seed).map_err(|source| {
            DriverError::Strategy {
                strategy: entry.name.clone(),
                source,
            }
        })?;
        let objective = entry.objective;
        let concurrency = strategy.concurrency();
        let replayed = match concurrency {
            Concurrency::Independent => {
                replay_independent(strategy.as_mut(), &replay, objective, entry)
            }
            Concurrency::InOrder(window) => {
                replay_in_order(strategy.as_mut(), &replay, objective, entry, window)
            }
        };
        let Replayed {
            pending,
            best,
            told: replayed,
            earlier_s,
        } = replayed;
        Ok(UnitRun {
            config,
            data,
            entry,
            settings: settings_for(config, entry),
            concurrency,
            workers: jobs.max(1),
            replayed,
            state: Mutex::new(UnitState {
                strategy,
                pending,
                issued: replayed,
                finished: replayed,
                best,
                stop: None,
                earlier_s,
                clock: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, UnitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands out the next trial, or records why the unit stops.
    /// A left-over trial of an earlier run comes first; the interrupt and the budgets are
    /// checked before each.
    fn next_trial(&self, interrupt: &AtomicBool) -> Option<(usize, GmmConfig)> {
        let mut state = self.lock();
        if state.stop.is_some() || interrupt.load(Ordering::SeqCst) {
            return None;
        }
        state.clock.get_or_insert_with(Instant::now);
        if self.entry.budget.trials.is_some_and(|t| state.issued >= t) {
            state.stop = Some(StopReason::TrialBudget);
            return None;
        }
        if self
            .entry
            .budget
            .time_s
            .is_some_and(|t| state.elapsed() >= t)
        {
            state.stop = Some(StopReason::TimeBudget);
            return None;
        }
        let next = if state.pending.is_empty() {
            let index = state.issued;
            state.strategy.ask().map(|c| (index, c))
        } else {
            Some(state.pending.remove(0))
        };
        match next {
            Some(trial) => {
                state.issued += 1;
                Some(trial)
            }
            None => {
                state.stop = Some(StopReason::Exhausted);
                None
            }
        }
    }

    /// Runs trial `index` and journals it as soon as it finishes.
    fn evaluate(
        &self,
        index: usize,
        gmm_config: GmmConfig,
        journal: &JournalWriter,
    ) -> Result<TrialRecord, DriverError> {
        let seed = trial_seed(self.config.seed, &self.data.name, index);
        let outcome = run_trial(self.data, &gmm_config, &self.settings, seed);
        let objective = self.entry.objective;
        let (status, error, metrics) = match outcome.result {
            Ok(m) => (TrialStatus::Ok, None, Some(m)),
            Err(e) => (TrialStatus::Failed, Some(e), None),
        };
        let objective_value = metrics.as_ref().and_then(|m| m.objective_value(objective));
        let record = TrialRecord {
            dataset: self.data.name.clone(),
            strategy: self.entry.name.clone(),
            trial: index,
            config: gmm_config,
            seed,
            status,
            error,
            objective,
            objective_value,
            fit_seconds: outcome.fit_seconds,
            elapsed_s: self.lock().elapsed(),
            metrics,
        };
        journal.append(&record)?;
        Ok(record)
    }

    /// Tells the strategy a finished trial and reports it.
    fn learn(&self, record: &TrialRecord, progress: &dyn Progress) {
        let objective = self.entry.objective;
        let mut state = self.lock();
        let value = tell_result(state.strategy.as_mut(), objective, &record.config, record);
        state.best = min_option(state.best, value);
        state.finished += 1;
        let best = state
            .best
            .map(|b| if objective.higher_is_better() { -b } else { b });
        drop(state);
        progress.trial_finished(record, best);
    }

    /// One worker of an independent strategy: takes trials until the unit stops.
    fn worker(
        &self,
        journal: &JournalWriter,
        interrupt: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<(), DriverError> {
        while let Some((index, gmm_config)) = self.next_trial(interrupt) {
            let record = self.evaluate(index, gmm_config, journal)?;
            self.learn(&record, progress);
        }
        Ok(())
    }

    /// Keeps up to `window` trials in flight until the unit stops, telling results in the
    /// order asked and asking the next trial right after each tell.
    fn run_in_order(
        &self,
        window: usize,
        journal: &JournalWriter,
        interrupt: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<(), DriverError> {
        let ctx = InOrderRun {
            window,
            journal,
            interrupt,
            progress,
            order: Mutex::new(InFlight::default()),
        };
        rayon::scope(|scope| {
            let mut order = ctx.lock();
            self.fill_window(scope, &ctx, &mut order);
        });
        match ctx
            .order
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .error
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Asks for trials (under the window's lock) until `window` are in flight, and starts them.
    fn fill_window<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        ctx: &'s InOrderRun<'s>,
        order: &mut InFlight,
    ) {
        while order.error.is_none() && order.asked.len() < ctx.window {
            let Some((index, gmm_config)) = self.next_trial(ctx.interrupt) else {
                return;
            };
            order.asked.push_back(index);
            scope.spawn(move |scope| self.finish_in_order(scope, ctx, index, gmm_config));
        }
    }

    /// Runs one trial, then tells every result now due (in the order asked), each tell followed
    /// by the ask that refills the window.
    fn finish_in_order<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        ctx: &'s InOrderRun<'s>,
        index: usize,
        gmm_config: GmmConfig,
    ) {
        let result = self.evaluate(index, gmm_config, ctx.journal);
        let mut order = ctx.lock();
        match result {
            Ok(record) => {
                order.done.insert(index, record);
            }
            Err(e) => {
                order.error.get_or_insert(e);
                return;
            }
        }
        while let Some(record) = order
            .asked
            .front()
            .copied()
            .and_then(|first| order.done.remove(&first))
        {
            order.asked.pop_front();
            self.learn(&record, ctx.progress);
            self.fill_window(scope, ctx, &mut order);
        }
    }

    /// Runs the unit to its end; `None` when interrupted (the unit stays unfinished).
    fn run(
        self,
        journals: (&JournalWriter, &JournalWriter),
        interrupt: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<Option<UnitRecord>, DriverError> {
        progress.unit_started(
            &self.data.name,
            &self.entry.name,
            &self.entry.budget,
            self.replayed,
        );
        match self.concurrency {
            Concurrency::InOrder(window) => {
                self.run_in_order(window, journals.0, interrupt, progress)?
            }
            Concurrency::Independent => {
                let errors: Mutex<Vec<DriverError>> = Mutex::new(Vec::new());
                rayon::scope(|scope| {
                    for _ in 0..self.workers {
                        let errors = &errors;
                        let this = &self;
                        scope.spawn(move |_| {
                            if let Err(e) = this.worker(journals.0, interrupt, progress) {
                                errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                            }
                        });
                    }
                });
                if let Some(e) = errors.into_inner().unwrap_or_else(|p| p.into_inner()).pop() {
                    return Err(e);
                }
            }
        }
        // Every worker has returned, so every trial handed out has finished; without a stop
        // reason the unit was interrupted and stays unfinished.
        let state = self.lock();
        let Some(reason) = state.stop else {
            return Ok(None);
        };
        let elapsed_s = state.elapsed();
        let unit = UnitRecord {
            dataset: self.data.name.clone(),
            strategy: self.entry.name.clone(),
            reason,
            trials: state.finished,
            elapsed_s,
            time_overshoot_s: self
                .entry
                .budget
                .time_s
                .map_or(0.0, |t| (elapsed_s - t).max(0.0)),
        };
        drop(state);
        journals.1.append(&unit)?;
        progress.unit_finished(&unit);
        Ok(Some(unit))
    }
}

/// The trials of an in-order unit between asking and telling, under one lock.
#[derive(Default)]
struct InFlight {
    /// Indices of the trials asked and not yet told, oldest first.
    asked: VecDeque<usize>,
    /// Finished trials waiting for an older one to be told.
    done: HashMap<usize, TrialRecord>,
    /// The first error (a journal write); no trial is asked after it.
    error: Option<DriverError>,
}

/// What the tasks of an in-order unit share.
struct InOrderRun<'s> {
    window: usize,
    journal: &'s JournalWriter,
    interrupt: &'s AtomicBool,
    progress: &'s dyn Progress,
    order: Mutex<InFlight>,
}

impl InOrderRun<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.order.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What replaying a unit's journal told its strategy, and what it left to run.
#[derive(Default)]
struct Replayed {
    /// Configurations asked whose trials are not in the journal (they run first).
    pending: Vec<(usize, GmmConfig)>,
    best: Option<f64>,
    /// Journaled trials told to the strategy.
    told: usize,
    earlier_s: f64,
}

impl Replayed {
    /// Tells `strategy` the journaled result of trial `index` when the journal holds it for
    /// `config`; otherwise keeps the trial to run. Returns whether it was told.
    fn tell_or_keep(
        &mut self,
        strategy: &mut dyn Strategy,
        replay: &BTreeMap<usize, TrialRecord>,
        objective: super::Objective,
        (index, config): (usize, GmmConfig),
    ) -> bool {
        match replay.get(&index) {
            Some(r) if r.config.signature() == config.signature() => {
                let value = tell_result(strategy, objective, &config, r);
                self.best = min_option(self.best, value);
                self.earlier_s = self.earlier_s.max(r.elapsed_s);
                self.told += 1;
                true
            }
            _ => {
                self.pending.push((index, config));
                false
            }
        }
    }
}

/// Replays an independent strategy: asks for every index up to the last journaled one and
/// tells the journaled results; the indices missing from the journal (cut off by an
/// interrupt, in any order) run again.
fn replay_independent(
    strategy: &mut dyn Strategy,
    replay: &BTreeMap<usize, TrialRecord>,
    objective: super::Objective,
    entry: &StrategyEntry,
) -> Replayed {
    let mut out = Replayed::default();
    let Some(&last) = replay.keys().next_back() else {
        return out;
    };
    for index in 0..=last {
        if entry.budget.trials.is_some_and(|t| index >= t) {
            break;
        }
        let Some(config) = strategy.ask() else { break };
        out.tell_or_keep(strategy, replay, objective, (index, config));
    }
    out
}

/// Replays an in-order strategy with the live schedule (the window filled, the oldest told,
/// the next asked) until the journal stops: the oldest trial it lacks and the window's other
/// unjournaled trials run again; the window's journaled ones are told at once. A live run only
/// asks trial `t + n` after telling trial `t`, so nothing past the window can be journaled.
fn replay_in_order(
    strategy: &mut dyn Strategy,
    replay: &BTreeMap<usize, TrialRecord>,
    objective: super::Objective,
    entry: &StrategyEntry,
    window: usize,
) -> Replayed {
    let mut out = Replayed::default();
    if replay.is_empty() {
        return out;
    }
    let mut in_flight: VecDeque<(usize, GmmConfig)> = VecDeque::with_capacity(window);
    let mut next_index = 0;
    loop {
        while in_flight.len() < window && entry.budget.trials.is_none_or(|t| next_index < t) {
            let Some(config) = strategy.ask() else { break };
            in_flight.push_back((next_index, config));
            next_index += 1;
        }
        let Some(oldest) = in_flight.pop_front() else {
            return out;
        };
        if !out.tell_or_keep(strategy, replay, objective, oldest) {
            for trial in in_flight.drain(..) {
                out.tell_or_keep(strategy, replay, objective, trial);
            }
            return out;
        }
    }
}

/// Tells `strategy` the result `record` holds for `config` (live or journaled alike); returns
/// the minimised objective value.
fn tell_result(
    strategy: &mut dyn Strategy,
    objective: super::Objective,
    config: &GmmConfig,
    record: &TrialRecord,
) -> Option<f64> {
    let value = objective.to_minimise(record.objective_value);
    strategy.tell(config, value, record.fit_seconds);
    value
}

fn min_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
