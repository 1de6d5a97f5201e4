//! Reports computed from a run's journal: the per-unit summary (JSON and CSV).

pub mod summary;
