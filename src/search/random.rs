//! Random search: independent draws from the space.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::space::{Axis, GmmConfig, SearchSpace};
use super::strategy::Strategy;

/// Independent random configurations from a seeded `Xoshiro256PlusPlus` stream: uniform over
/// lists, uniform or log-uniform floats, uniform integers on inclusive bounds, and for log
/// integer ranges FLAML's `lograndint` rule (`floor` of a log-uniform draw on
/// `[low, high + 1)`). Fixed dimensions keep their value.
///
/// The sequence depends only on the seed, never on what `tell` reports, so trials run in
/// parallel are reproducible. Draws are not deduplicated (as FLAML's random search); the
/// strategy never runs out.
///
/// ```
/// use gmmtune::search::{RandomSearch, SearchSpace, Strategy};
/// let space = SearchSpace::default();
/// let mut a = RandomSearch::new(&space, 3);
/// let mut b = RandomSearch::new(&space, 3);
/// assert_eq!(a.ask(), b.ask());
/// ```
#[derive(Debug, Clone)]
pub struct RandomSearch {
    axes: Vec<Axis>,
    base: GmmConfig,
    rng: Xoshiro256PlusPlus,
}

impl RandomSearch {
    /// Random search over `space` seeded by `seed`.
    pub fn new(space: &SearchSpace, seed: u64) -> Self {
        RandomSearch {
            axes: space.axes(),
            base: space.base_config(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }
}

impl Strategy for RandomSearch {
    fn name(&self) -> &'static str {
        "random"
    }
    fn ask(&mut self) -> Option<GmmConfig> {
        let mut config = self.base.clone();
        for axis in &self.axes {
            axis.sample(&mut self.rng, &mut config);
        }
        Some(config)
    }
    fn tell(&mut self, _config: &GmmConfig, _objective: Option<f64>, _cost: f64) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};
    use crate::search::SearchSpaceSpec;

    fn draws(space: &SearchSpace, seed: u64, n: usize, tell: Option<f64>) -> Vec<GmmConfig> {
        let mut s = RandomSearch::new(space, seed);
        (0..n)
            .map(|_| {
                let c = s.ask().unwrap();
                s.tell(&c, tell, 1.0);
                c
            })
            .collect()
    }

    #[test]
    fn same_seed_same_sequence_whatever_is_told() {
        let space = SearchSpace::default();
        assert_eq!(draws(&space, 11, 50, Some(1.0)), draws(&space, 11, 50, None));
        assert_ne!(draws(&space, 11, 50, None), draws(&space, 12, 50, None));
    }

    #[test]
    fn draws_stay_in_bounds_and_follow_the_log_scale() {
        let space = SearchSpace::default();
        let sample = draws(&space, 5, 4000, None);
        assert!(sample.iter().all(|c| space.contains(c)));
        // reg_covar log-uniform on [1e-6, 1e-1]: each decade holds about a fifth of the draws.
        for decade in -6..-1 {
            let lo = 10f64.powi(decade);
            let share = sample
                .iter()
                .filter(|c| c.reg_covar >= lo && c.reg_covar < lo * 10.0)
                .count() as f64
                / sample.len() as f64;
            assert!((share - 0.2).abs() < 0.03, "decade {decade}: {share}");
        }
        // n_components lograndint(1, 33): P(n = 1) = ln 2 / ln 33.
        let ones = sample.iter().filter(|c| c.n_components == 1).count() as f64 / 4000.0;
        assert!((ones - 2f64.ln() / 33f64.ln()).abs() < 0.03, "{ones}");
        assert!(sample.iter().any(|c| c.n_components == 32));
        for t in CovarianceType::ALL {
            let share = sample.iter().filter(|c| c.covariance_type == t).count() as f64 / 4000.0;
            assert!((share - 0.25).abs() < 0.03, "{t}: {share}");
        }
        for m in InitMethod::ALL {
            assert!(sample.iter().any(|c| c.init == m));
        }
    }

    #[test]
    fn fixed_dimensions_keep_their_value() {
        let spec: SearchSpaceSpec =
            serde_norway::from_str("n_components: 5\ninit: random\nreg_covar: {low: 0.0, high: 0.5}\n")
                .unwrap();
        let space = spec.check().unwrap();
        let sample = draws(&space, 1, 500, None);
        assert!(sample.iter().all(|c| c.n_components == 5 && c.init == InitMethod::Random));
        assert!(sample.iter().all(|c| (0.0..0.5).contains(&c.reg_covar)));
        let mean = sample.iter().map(|c| c.reg_covar).sum::<f64>() / 500.0;
        assert!((mean - 0.25).abs() < 0.03, "{mean}");
    }
}
