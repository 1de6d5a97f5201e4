//! Searching GMM hyperparameters: the space, the ask/tell [`Strategy`] trait and its
//! implementations (fixed list, grid, random, CFO), the objectives, one trial's evaluation, the
//! journal and the driver that runs budgeted, resumable searches.

mod budget;
mod cfo;
mod cost;
pub mod driver;
mod flow2;
mod grid;
mod random;
pub mod seed;
mod space;
mod strategy;
pub mod trial;
mod zeroshot;

pub use crate::eval::Objective;
pub use budget::Budget;
pub use cfo::{Cfo, CfoStatus};
pub use cost::{
    trial_work, CostFrugal, CostFrugalSpec, CostGate, IterationMemory, WorkShape,
    DEFAULT_FREE_WORK, DEFAULT_SPEND_RATIO,
};
pub use grid::GridSearch;
pub use random::RandomSearch;
pub use space::{
    Choice, Dimension, GmmConfig, Range, RangeSpec, SearchError, SearchSpace, SearchSpaceSpec,
    ValueSpec,
};
pub use strategy::{
    build_strategy, build_unit_strategy, check_strategy, Concurrency, FixedList, GmmConfigSpec,
    LowCostSpec, Strategy, StrategySpec, DEFAULT_MAX_FAILURE,
};
pub use zeroshot::{load_portfolio, Zeroshot, DEFAULT_K, DEFAULT_NEIGHBOURS, DEFAULT_SELECT};
