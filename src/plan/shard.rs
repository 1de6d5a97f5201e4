//! Splitting a run's work into shards: independent processes (a Slurm array task each) that
//! each run some groups of units (a dataset under one seed, with all its strategies, which share
//! their measured trials) and write their own journal.
//!
//! The assignment is stable (it depends only on the config and the data sizes) and balances the
//! expected cost: groups are taken from the costliest (rows × features, times the strategies'
//! trial budgets) to the cheapest, each to the shard with the least cost so far, so large
//! datasets spread over the shards.
//!
//! ```
//! use gmmtune::plan::Shard;
//! let shard: Shard = "1/4".parse().unwrap();
//! assert_eq!((shard.index, shard.count), (1, 4));
//! assert_eq!(shard.dir_name(), "1-of-4");
//! assert!("4/4".parse::<Shard>().is_err());
//! ```

use std::str::FromStr;

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

/// The most shards a run may be split into.
pub const MAX_SHARDS: usize = 10_000;

impl Shard {
    /// A checked shard.
    pub fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "a run splits into 1 to {MAX_SHARDS} shards, not {count}"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count} does not exist: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard of the current Slurm array task, from `SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_COUNT` and `SLURM_ARRAY_TASK_MIN` (an array may start above 0);
    /// `None` outside an array job.
    pub fn from_slurm_env() -> Option<Result<Shard, String>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let id = var("SLURM_ARRAY_TASK_ID")?;
        let count = var("SLURM_ARRAY_TASK_COUNT")?;
        let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
        let parse = |name: &str, v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{name}={v} is not a task number"))
        };
        Some((|| {
            let id = parse("SLURM_ARRAY_TASK_ID", &id)?;
            let count = parse("SLURM_ARRAY_TASK_COUNT", &count)?;
            let min = parse("SLURM_ARRAY_TASK_MIN", &min)?;
            let index = id.checked_sub(min).ok_or_else(|| {
                format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
            })?;
            Shard::new(index, count)
        })())
    }

    /// The name of the shard's directory under the run's `shards/`.
    pub fn dir_name(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// The shard a directory name stands for.
    pub fn from_dir_name(name: &str) -> Option<Shard> {
        let (index, count) = name.split_once("-of-")?;
        Shard::new(index.parse().ok()?, count.parse().ok()?).ok()
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (index, count) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a shard: write I/N, e.g. 0/4"))?;
        let number = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}` is not a shard: I and N are whole numbers"))
        };
        Shard::new(number(index)?, number(count)?)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Assigns groups with the given expected `costs` to `count` shards: the costliest first, each
/// to the least loaded shard (the lowest index among equals). Returns each group's shard.
pub fn assign(costs: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0.0_f64; count.max(1)];
    let mut out = vec![0; costs.len()];
    for group in order {
        let (shard, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("at least one shard");
        out[group] = shard;
        load[shard] += costs[group];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_what_does_not_exist() {
        assert_eq!(
            "0/1".parse::<Shard>().unwrap(),
            Shard { index: 0, count: 1 }
        );
        for bad in ["1", "a/2", "2/2", "0/0", "-1/3", "1/99999999"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            Shard::from_dir_name("2-of-5"),
            Some(Shard { index: 2, count: 5 })
        );
        assert_eq!(Shard::from_dir_name("5-of-5"), None);
        assert_eq!(Shard::from_dir_name("x"), None);
    }

    #[test]
    fn the_largest_groups_spread_and_loads_balance() {
        let costs = [100.0, 1.0, 90.0, 1.0, 80.0, 1.0, 1.0, 1.0];
        let shards = assign(&costs, 3);
        // The three large groups land on three different shards.
        let big: Vec<usize> = [0, 2, 4].iter().map(|&g| shards[g]).collect();
        let mut distinct = big.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{shards:?}");
        // Stable: the same input gives the same assignment.
        assert_eq!(assign(&costs, 3), shards);
        // Every shard gets work when there is enough of it, and one shard takes everything.
        assert!(assign(&[1.0; 6], 3).iter().all(|&s| s < 3));
        assert!(assign(&costs, 1).iter().all(|&s| s == 0));
    }
}
