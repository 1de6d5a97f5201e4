//! Search over GMM hyperparameters: the space, the ask/tell [`Strategy`] trait and its
//! implementations (fixed list, grid, random, CFO).

mod cfo;
mod flow2;
mod grid;
mod random;
mod space;
mod strategy;

pub use cfo::{Cfo, CfoStatus};
pub use grid::GridSearch;
pub use random::RandomSearch;
pub use space::{
    Choice, Dimension, GmmConfig, Range, RangeSpec, SearchError, SearchSpace, SearchSpaceSpec,
    ValueSpec,
};
pub use strategy::{
    build_strategy, FixedList, GmmConfigSpec, LowCostSpec, Strategy, StrategySpec,
    DEFAULT_MAX_FAILURE,
};
