//! Grid search: the full product of the listed values of every dimension.

use super::space::{GmmConfig, SearchError, SearchSpace};
use super::strategy::Strategy;

/// Every point of the grid, once, in lexicographic order: `n_components` outermost, then
/// `covariance_type`, `reg_covar`, and `init` innermost; within a dimension values ascend
/// (numbers ascending, covariance types and initialisations cheapest first). A fixed dimension
/// contributes its one value; a range contributes its `grid` points (see
/// [`SearchSpace::grid_n_components`], [`SearchSpace::grid_reg_covar`]). Results are not used.
///
/// ```
/// use gmmtune::search::{GridSearch, SearchSpaceSpec, Strategy};
/// let space = SearchSpaceSpec::default().check().unwrap();
/// let mut grid = GridSearch::new(&space).unwrap();
/// assert_eq!(grid.len(), 6 * 4 * 6 * 4);
/// let first = grid.ask().unwrap();
/// assert_eq!(first.n_components, 1);
/// ```
#[derive(Debug, Clone)]
pub struct GridSearch {
    points: Vec<GmmConfig>,
    next: usize,
}

impl GridSearch {
    /// The grid of `space`; fails naming the key of a range without `grid: N`.
    pub fn new(space: &SearchSpace) -> Result<Self, SearchError> {
        let n_components = space.grid_n_components()?;
        let reg_covar = space.grid_reg_covar()?;
        let covariance_types = space.grid_covariance_type();
        let inits = space.grid_init();
        let mut points = Vec::with_capacity(
            n_components.len() * covariance_types.len() * reg_covar.len() * inits.len(),
        );
        for &n in &n_components {
            for &covariance_type in &covariance_types {
                for &reg in &reg_covar {
                    for &init in &inits {
                        points.push(GmmConfig {
                            n_components: n,
                            covariance_type,
                            reg_covar: reg,
                            init,
                        });
                    }
                }
            }
        }
        Ok(GridSearch { points, next: 0 })
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the grid has no points (never true for a checked space).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl Strategy for GridSearch {
    fn name(&self) -> &'static str {
        "grid"
    }
    fn ask(&mut self) -> Option<GmmConfig> {
        let point = self.points.get(self.next).cloned();
        if point.is_some() {
            self.next += 1;
        }
        point
    }
    fn tell(&mut self, _config: &GmmConfig, _objective: Option<f64>, _cost: f64) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};
    use crate::search::SearchSpaceSpec;

    #[test]
    fn grid_order_and_size() {
        let space: SearchSpaceSpec = serde_norway::from_str(
            "n_components: [4, 2]\ncovariance_type: [full, spherical]\nreg_covar: {low: 1.0e-4, high: 1.0e-2, log: true, grid: 3}\ninit: kmeans\n",
        )
        .unwrap();
        let mut grid = GridSearch::new(&space.check().unwrap()).unwrap();
        assert_eq!(grid.len(), 2 * 2 * 3);
        let mut seen = Vec::new();
        while let Some(c) = grid.ask() {
            grid.tell(&c, Some(0.0), 1.0);
            seen.push(c);
        }
        assert_eq!(seen.len(), 12);
        let key = |c: &GmmConfig| (c.n_components, c.covariance_type, c.reg_covar.to_bits());
        assert_eq!(
            key(&seen[0]),
            (2, CovarianceType::Spherical, 1e-4f64.to_bits())
        );
        assert_eq!(key(&seen[1]), (2, CovarianceType::Spherical, 1e-3f64.to_bits()));
        assert_eq!(key(&seen[3]), (2, CovarianceType::Full, 1e-4f64.to_bits()));
        assert_eq!(key(&seen[6]), (4, CovarianceType::Spherical, 1e-4f64.to_bits()));
        assert_eq!(key(&seen[11]), (4, CovarianceType::Full, 1e-2f64.to_bits()));
        assert!(seen.iter().all(|c| c.init == InitMethod::KMeans));
        let mut signatures: Vec<String> = seen.iter().map(GmmConfig::signature).collect();
        signatures.sort();
        signatures.dedup();
        assert_eq!(signatures.len(), 12, "grid points are distinct");
        assert_eq!(grid.ask(), None);
    }

    #[test]
    fn default_grid_is_init_innermost() {
        let mut grid = GridSearch::new(&SearchSpace::default()).unwrap();
        assert_eq!(grid.len(), 576);
        let inits: Vec<InitMethod> = (0..4).map(|_| grid.ask().unwrap().init).collect();
        assert_eq!(inits, InitMethod::ALL.to_vec());
        assert_eq!(grid.ask().unwrap().reg_covar, 1e-5);
    }
}
