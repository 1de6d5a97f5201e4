//! Searching GMM hyperparameters: the space, the strategies (fixed, grid, random, CFO), the
//! objectives, one trial's evaluation, the journal and the driver that runs budgeted searches.

pub mod driver;
pub mod journal;
mod objective;
pub mod seed;
pub mod trial;

pub use objective::Objective;
