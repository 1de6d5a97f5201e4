//! The search driver: runs units (a strategy on one dataset under one seed) under their
//! budgets, journals each trial as it finishes, and resumes from the journal.
//!
//! **Scheduling.** Units of one dataset and seed form a group and run one after another, in
//! the order given; groups run in parallel. Units with a time budget get the pool to
//! themselves: they run one at a time once the others are done (see [`Budget`]).
//!
//! **Trials.** Grid, random and fixed strategies ([`Concurrency::Independent`]) run a trial on
//! every worker as it frees up. CFO ([`Concurrency::InOrder`]) keeps its `concurrent_trials`
//! proposals in flight (as far as `jobs` allows) and tells their results in the order asked;
//! right after telling trial `t` it asks for trial `t + n`. A trial that finishes before an
//! older one waits for it, so the sequence of asks and tells, and the path, does not depend on
//! `jobs` or on timing.
//!
//! **Seeds and reuse.** A trial's fit seed derives from the unit's seed, the dataset and the
//! configuration ([`fit_seed`]), so a configuration measures the same whichever strategy
//! proposes it, and the same whatever `jobs` is. A configuration already measured on the
//! dataset under the same seed and protocol (by an earlier unit of the group, or in an earlier
//! generation of the journal) is not fitted again: its result is journaled again, marked
//! `reused`.
//!
//! **Resume.** A unit replays its journaled trials through its strategy (asking for each
//! configuration and telling the recorded result without fitting again), then runs live.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use thiserror::Error;

use crate::data::Prepared;
use crate::journal::{
    JournalError, JournalWriter, RecordContext, StopReason, TrialMetrics, TrialRecord, TrialStatus,
    UnitKey, UnitRecord, JOURNAL_FORMAT,
};

use super::cost::WorkShape;
use super::seed::{derive_seed, stable_hash};
use super::trial::{run_trial, TrialSettings};
use super::{
    build_unit_strategy, Budget, Concurrency, GmmConfig, Objective, SearchError, SearchSpace,
    Strategy, StrategySpec,
};

/// Errors that stop a run (a failed trial does not: it is journaled as `failed`).
#[derive(Debug, Error)]
pub enum DriverError {
    /// The journal could not be written; results computed so far are in the journal.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// A strategy could not be built.
    #[error("strategy `{strategy}`: {source}")]
    Strategy {
        /// The strategy's name.
        strategy: String,
        /// Why.
        #[source]
        source: SearchError,
    },
}

/// What the driver reports while it runs (progress bars, log lines).
pub trait Progress: Sync {
    /// The run starts: `units` will run now, `done` finished in an earlier run.
    fn run_started(&self, _units: usize, _done: usize) {}
    /// A unit starts (after its replay); `replayed` trials came from the journal.
    fn unit_started(&self, unit: &UnitKey, budget: &Budget, replayed: usize);
    /// A trial finished; `best` is the unit's best objective value so far.
    fn trial_finished(&self, record: &TrialRecord, best: Option<f64>);
    /// A unit finished.
    fn unit_finished(&self, unit: &UnitRecord);
}

/// A progress sink that reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn unit_started(&self, _: &UnitKey, _: &Budget, _: usize) {}
    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {}
    fn unit_finished(&self, _: &UnitRecord) {}
}

/// One unit to run: a strategy searching one prepared dataset under one seed.
#[derive(Debug, Clone)]
pub struct UnitTask<'a> {
    /// Dataset, strategy and seed.
    pub key: UnitKey,
    /// The prepared dataset (split and standardised under the unit's seed).
    pub data: &'a Prepared,
    /// The strategy.
    pub strategy: &'a StrategySpec,
    /// The space it searches.
    pub space: &'a SearchSpace,
    /// Its budget.
    pub budget: Budget,
    /// What it optimises.
    pub objective: Objective,
    /// How each trial is fitted and measured.
    pub settings: TrialSettings,
    /// Seed of the strategy's own random choices.
    pub strategy_seed: u64,
    /// What its records are measured under (written into each record).
    pub context: RecordContext,
}

/// The journals a run writes and what is already in them.
pub struct RunJournals<'a> {
    /// Appends trial records.
    pub trials: &'a JournalWriter,
    /// Appends unit records.
    pub units: &'a JournalWriter,
    /// Trials already journaled by this run (empty for a fresh run).
    pub previous_trials: Vec<TrialRecord>,
    /// Units this run already finished.
    pub previous_units: Vec<UnitRecord>,
    /// Trials of earlier generations of the journal: their results are reused where the data,
    /// protocol, seed and configuration are the same, never replayed as this run's own.
    pub reusable: Vec<TrialRecord>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Units finished in this call (earlier finished units are not repeated).
    pub finished_units: Vec<UnitRecord>,
    /// Whether the run stopped early because `interrupt` was set.
    pub interrupted: bool,
}

/// Seed of the fit of `config` on `dataset` in a unit of seed `unit_seed`: the same whichever
/// strategy proposes the configuration, so equal configurations give equal results.
///
/// ```
/// use gmmtune::search::driver::fit_seed;
/// use gmmtune::search::GmmConfig;
/// let c = GmmConfig::default();
/// assert_eq!(fit_seed(0, "wbc", &c), fit_seed(0, "wbc", &c));
/// assert_ne!(fit_seed(0, "wbc", &c), fit_seed(1, "wbc", &c));
/// ```
pub fn fit_seed(unit_seed: u64, dataset: &str, config: &GmmConfig) -> u64 {
    derive_seed(
        unit_seed,
        &["fit", dataset],
        stable_hash(&config.signature()),
    )
}

/// Seed of the strategy `strategy` on `dataset` in a unit of seed `unit_seed`.
pub fn strategy_seed(unit_seed: u64, dataset: &str, strategy: &str) -> u64 {
    derive_seed(unit_seed, &["strategy", dataset, strategy], 0)
}

/// A measured result, as the cache keeps it.
#[derive(Debug, Clone)]
struct Measured {
    result: Result<TrialMetrics, String>,
    fit_seconds: f64,
}

type CacheKey = (String, u64, String);

/// Results of configurations already measured, by dataset, seed and configuration.
#[derive(Default)]
struct TrialCache {
    results: Mutex<HashMap<CacheKey, Measured>>,
}

impl TrialCache {
    fn key(unit: &UnitKey, config: &GmmConfig) -> CacheKey {
        (unit.dataset.clone(), unit.seed, config.signature())
    }

    fn insert_record(&self, record: &TrialRecord) {
        let measured = Measured {
            result: match (&record.metrics, &record.error) {
                (Some(m), _) => Ok(m.clone()),
                (None, e) => Err(e.clone().unwrap_or_default()),
            },
            fit_seconds: record.fit_seconds,
        };
        self.lock()
            .entry(TrialCache::key(&record.unit, &record.config))
            .or_insert(measured);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Measured>> {
        self.results.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(
        &self,
        unit: &UnitKey,
        config: &GmmConfig,
        settings: &TrialSettings,
    ) -> Option<Measured> {
        self.lock()
            .get(&TrialCache::key(unit, config))
            .filter(|m| settings.served_by(m.result.as_ref().ok()))
            .cloned()
    }

    fn insert(&self, unit: &UnitKey, config: &GmmConfig, measured: Measured) {
        self.lock().insert(TrialCache::key(unit, config), measured);
    }
}

/// Runs every unfinished unit of `tasks`. Stops taking new trials once `interrupt` is set.
pub fn run_units(
    tasks: &[UnitTask<'_>],
    journals: RunJournals<'_>,
    jobs: usize,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunOutcome, DriverError> {
    let done: HashSet<&UnitKey> = journals.previous_units.iter().map(|u| &u.unit).collect();
    let cache = TrialCache::default();
    for task in tasks {
        for r in journals.reusable.iter().chain(&journals.previous_trials) {
            if r.unit.dataset == task.key.dataset
                && r.unit.seed == task.key.seed
                && r.context.data == task.context.data
                && r.context.protocol == task.context.protocol
            {
                cache.insert_record(r);
            }
        }
    }
    let mut previous: HashMap<&UnitKey, BTreeMap<usize, &TrialRecord>> = HashMap::new();
    for r in &journals.previous_trials {
        previous.entry(&r.unit).or_default().insert(r.trial, r);
    }
    // Groups (dataset, seed) in order of appearance; untimed units first, timed ones after.
    let mut groups: Vec<((String, u64), Vec<&UnitTask<'_>>)> = Vec::new();
    let mut timed: Vec<&UnitTask<'_>> = Vec::new();
    for task in tasks.iter().filter(|t| !done.contains(&t.key)) {
        if task.budget.is_timed() {
            timed.push(task);
            continue;
        }
        let group = (task.key.dataset.clone(), task.key.seed);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push(task),
            None => groups.push((group, vec![task])),
        }
    }
    progress.run_started(tasks.len() - done.len().min(tasks.len()), done.len());
    let shared = Shared {
        journals: (journals.trials, journals.units),
        cache: &cache,
        jobs,
        interrupt,
        progress,
    };
    let replay_of = |task: &UnitTask<'_>| previous.get(&task.key).cloned().unwrap_or_default();
    let results: Mutex<Vec<Result<Option<UnitRecord>, DriverError>>> = Mutex::new(Vec::new());
    let push = |r| results.lock().unwrap_or_else(|p| p.into_inner()).push(r);
    // `jobs` lanes take groups from a queue, so at most `jobs` groups run at once (a worker
    // waiting on its unit's trials could otherwise start further groups).
    let queue: Mutex<VecDeque<&Vec<&UnitTask<'_>>>> =
        Mutex::new(groups.iter().map(|(_, members)| members).collect());
    let next_group = || queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
    rayon::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let shared = &shared;
            let replay_of = &replay_of;
            let push = &push;
            let next_group = &next_group;
            scope.spawn(move |_| {
                while let Some(members) = next_group() {
                    for task in members {
                        if interrupt.load(Ordering::SeqCst) {
                            return;
                        }
                        let outcome =
                            UnitRun::new(task, replay_of(task), shared).and_then(|unit| unit.run());
                        let failed = outcome.is_err();
                        push(outcome);
                        if failed {
                            return;
                        }
                    }
                }
            });
        }
    });
    for task in timed {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        let outcome = UnitRun::new(task, replay_of(task), &shared).and_then(|unit| unit.run());
        let failed = outcome.is_err();
        push(outcome);
        if failed {
            break;
        }
    }
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

/// What every unit of a run shares.
struct Shared<'a> {
    journals: (&'a JournalWriter, &'a JournalWriter),
    cache: &'a TrialCache,
    jobs: usize,
    interrupt: &'a AtomicBool,
    progress: &'a dyn Progress,
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
    task: &'a UnitTask<'a>,
    shared: &'a Shared<'a>,
    concurrency: Concurrency,
    replayed: usize,
    state: Mutex<UnitState>,
}

impl<'a> UnitRun<'a> {
    fn new(
        task: &'a UnitTask<'a>,
        replay: BTreeMap<usize, &TrialRecord>,
        shared: &'a Shared<'a>,
    ) -> Result<UnitRun<'a>, DriverError> {
        let mut strategy =
            build_unit_strategy(task.strategy, task.space, task.strategy_seed, task.data).map_err(
                |source| DriverError::Strategy {
                    strategy: task.key.strategy.clone(),
                    source,
                },
            )?;
        strategy.set_work_shape(WorkShape::of(task.data, &task.settings));
        let concurrency = strategy.concurrency();
        let replayed = match concurrency {
            Concurrency::Independent => replay_independent(strategy.as_mut(), &replay, task),
            Concurrency::InOrder(window) => {
                replay_in_order(strategy.as_mut(), &replay, task, window)
            }
        };
        let Replayed {
            pending,
            best,
            told: replayed,
            earlier_s,
        } = replayed;
        Ok(UnitRun {
            task,
            shared,
            concurrency,
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
    fn next_trial(&self) -> Option<(usize, GmmConfig)> {
        let mut state = self.lock();
        if state.stop.is_some() || self.shared.interrupt.load(Ordering::SeqCst) {
            return None;
        }
        state.clock.get_or_insert_with(Instant::now);
        let budget = &self.task.budget;
        if budget.trials.is_some_and(|t| state.issued >= t) {
            state.stop = Some(StopReason::TrialBudget);
            return None;
        }
        if budget.time_s.is_some_and(|t| state.elapsed() >= t) {
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

    /// Measures trial `index` (or reuses an identical measurement) and journals it.
    fn evaluate(&self, index: usize, config: GmmConfig) -> Result<TrialRecord, DriverError> {
        let task = self.task;
        let seed = fit_seed(task.key.seed, &task.key.dataset, &config);
        let cache = self.shared.cache;
        let (measured, reused) = match cache.get(&task.key, &config, &task.settings) {
            Some(m) => (m, true),
            None => {
                let outcome = run_trial(task.data, &config, &task.settings, seed);
                let measured = Measured {
                    result: outcome.result,
                    fit_seconds: outcome.fit_seconds,
                };
                cache.insert(&task.key, &config, measured.clone());
                (measured, false)
            }
        };
        let (status, error, metrics) = match measured.result {
            Ok(m) => (TrialStatus::Ok, None, Some(m)),
            Err(e) => (TrialStatus::Failed, Some(e), None),
        };
        let objective_value = metrics
            .as_ref()
            .and_then(|m| m.objective_value(task.objective));
        let record = TrialRecord {
            format: JOURNAL_FORMAT,
            unit: task.key.clone(),
            trial: index,
            config,
            fit_seed: seed,
            status,
            error,
            objective: task.objective,
            objective_value,
            fit_seconds: measured.fit_seconds,
            elapsed_s: self.lock().elapsed(),
            reused,
            metrics,
            context: task.context.clone(),
        };
        self.shared.journals.0.append(&record)?;
        Ok(record)
    }

    /// Tells the strategy a finished trial and reports it.
    fn learn(&self, record: &TrialRecord) {
        let objective = self.task.objective;
        let mut state = self.lock();
        let value = tell_result(state.strategy.as_mut(), objective, &record.config, record);
        state.best = min_option(state.best, value);
        state.finished += 1;
        let best = state
            .best
            .map(|b| if objective.higher_is_better() { -b } else { b });
        drop(state);
        self.shared.progress.trial_finished(record, best);
    }

    /// One worker of an independent strategy: takes trials until the unit stops.
    fn worker(&self) -> Result<(), DriverError> {
        while let Some((index, config)) = self.next_trial() {
            let record = self.evaluate(index, config)?;
            self.learn(&record);
        }
        Ok(())
    }

    /// Keeps up to `window` trials in flight until the unit stops, telling results in the
    /// order asked and asking the next trial right after each tell.
    fn run_in_order(&self, window: usize) -> Result<(), DriverError> {
        let ctx = InOrderRun {
            window,
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
        ctx: &'s InOrderRun,
        order: &mut InFlight,
    ) {
        while order.error.is_none() && order.asked.len() < ctx.window {
            let Some((index, config)) = self.next_trial() else {
                return;
            };
            order.asked.push_back(index);
            scope.spawn(move |scope| self.finish_in_order(scope, ctx, index, config));
        }
    }

    /// Runs one trial, then tells every result now due (in the order asked), each tell followed
    /// by the ask that refills the window.
    fn finish_in_order<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        ctx: &'s InOrderRun,
        index: usize,
        config: GmmConfig,
    ) {
        let result = self.evaluate(index, config);
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
            self.learn(&record);
            self.fill_window(scope, ctx, &mut order);
        }
    }

    /// Runs the unit to its end; `None` when interrupted (the unit stays unfinished).
    fn run(self) -> Result<Option<UnitRecord>, DriverError> {
        let task = self.task;
        self.shared
            .progress
            .unit_started(&task.key, &task.budget, self.replayed);
        match self.concurrency {
            Concurrency::InOrder(window) => self.run_in_order(window)?,
            Concurrency::Independent => {
                let errors: Mutex<Vec<DriverError>> = Mutex::new(Vec::new());
                rayon::scope(|scope| {
                    for _ in 0..self.shared.jobs.max(1) {
                        let errors = &errors;
                        let this = &self;
                        scope.spawn(move |_| {
                            if let Err(e) = this.worker() {
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
            format: JOURNAL_FORMAT,
            unit: task.key.clone(),
            reason,
            trials: state.finished,
            elapsed_s,
            time_overshoot_s: task.budget.time_s.map_or(0.0, |t| (elapsed_s - t).max(0.0)),
            context: task.context.clone(),
        };
        drop(state);
        self.shared.journals.1.append(&unit)?;
        self.shared.progress.unit_finished(&unit);
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
struct InOrderRun {
    window: usize,
    order: Mutex<InFlight>,
}

impl InOrderRun {
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
        replay: &BTreeMap<usize, &TrialRecord>,
        objective: Objective,
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
    replay: &BTreeMap<usize, &TrialRecord>,
    task: &UnitTask<'_>,
) -> Replayed {
    let mut out = Replayed::default();
    let Some(&last) = replay.keys().next_back() else {
        return out;
    };
    for index in 0..=last {
        if task.budget.trials.is_some_and(|t| index >= t) {
            break;
        }
        let Some(config) = strategy.ask() else { break };
        out.tell_or_keep(strategy, replay, task.objective, (index, config));
    }
    out
}

/// Replays an in-order strategy with the live schedule (the window filled, the oldest told,
/// the next asked) until the journal stops: the oldest trial it lacks and the window's other
/// unjournaled trials run again; the window's journaled ones are told at once. A live run only
/// asks trial `t + n` after telling trial `t`, so nothing past the window can be journaled.
fn replay_in_order(
    strategy: &mut dyn Strategy,
    replay: &BTreeMap<usize, &TrialRecord>,
    task: &UnitTask<'_>,
    window: usize,
) -> Replayed {
    let mut out = Replayed::default();
    if replay.is_empty() {
        return out;
    }
    let mut in_flight: VecDeque<(usize, GmmConfig)> = VecDeque::with_capacity(window);
    let mut next_index = 0;
    loop {
        while in_flight.len() < window && task.budget.trials.is_none_or(|t| next_index < t) {
            let Some(config) = strategy.ask() else { break };
            in_flight.push_back((next_index, config));
            next_index += 1;
        }
        let Some(oldest) = in_flight.pop_front() else {
            return out;
        };
        if !out.tell_or_keep(strategy, replay, task.objective, oldest) {
            for trial in in_flight.drain(..) {
                out.tell_or_keep(strategy, replay, task.objective, trial);
            }
            return out;
        }
    }
}

/// Tells `strategy` the result `record` holds for `config` (live or journaled alike); returns
/// the minimised objective value.
fn tell_result(
    strategy: &mut dyn Strategy,
    objective: Objective,
    config: &GmmConfig,
    record: &TrialRecord,
) -> Option<f64> {
    let value = objective.to_minimise(record.objective_value);
    let n_iter = record.metrics.as_ref().map(|m| m.n_iter);
    strategy.tell_measured(config, value, record.fit_seconds, n_iter);
    value
}

fn min_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
