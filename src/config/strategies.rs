//! One strategy entry of a config: its own keys (`name`, `budget`, `objective`) and the
//! strategy specification, each checked with the key named.

use serde::Serialize;

use super::ConfigError;
use crate::search::{Budget, Objective, StrategySpec};

/// One strategy of the run, with its name, budget and optional objective override.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyEntry {
    /// Unique name within the run (defaults to the kind).
    pub name: String,
    /// What the strategy is and its options.
    pub spec: StrategySpec,
    /// Its budget per unit (dataset × seed).
    pub budget: Budget,
    /// The objective it optimises (the run's when not given).
    pub objective: Objective,
}

/// Splits a strategy entry into its own keys (`name`, `budget`, `objective`) and the strategy
/// specification, which is checked with unknown keys denied.
pub(super) fn parse_strategy_entry(
    value: serde_norway::Value,
    default_objective: Objective,
    key: &str,
    origin: &str,
    base_dir: &std::path::Path,
) -> Result<StrategyEntry, ConfigError> {
    let err = |message: String| ConfigError::Invalid {
        path: origin.to_string(),
        key: key.to_string(),
        message,
    };
    let serde_norway::Value::Mapping(mut map) = value else {
        return Err(err(
            "each strategy is a mapping such as `{kind: random, budget: {trials: 20}}`".into(),
        ));
    };
    let take = |map: &mut serde_norway::Mapping, name: &str| {
        map.remove(serde_norway::Value::String(name.to_string()))
    };
    let name = take(&mut map, "name")
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| err("`name` must be a string".into()))
        })
        .transpose()?;
    let budget: Budget = match take(&mut map, "budget") {
        Some(v) => serde_norway::from_value(v).map_err(|e| err(format!("budget: {e}")))?,
        None => Budget::default(),
    };
    let given_objective: Option<Objective> = take(&mut map, "objective")
        .map(|v| serde_norway::from_value(v).map_err(|e| err(format!("objective: {e}"))))
        .transpose()?;
    let objective = given_objective.unwrap_or(default_objective);
    let kind = map
        .get(serde_norway::Value::String("kind".into()))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| err("missing `kind` (fixed, grid, random, cfo or zeroshot)".into()))?;
    // serde accepts stray keys next to the tag of a variant without fields, so every key is
    // checked here against those the kind takes.
    let allowed: &[&str] = match kind.as_str() {
        "fixed" => &["kind", "configs"],
        "cfo" => &[
            "kind",
            "max_failure",
            "low_cost",
            "concurrent_trials",
            "cost_frugal",
        ],
        "zeroshot" => &["kind", "portfolio", "k", "select", "choose", "neighbours"],
        _ => &["kind"],
    };
    if let Some(stray) = map
        .keys()
        .filter_map(|k| k.as_str())
        .find(|k| !allowed.contains(k))
    {
        let mut expected: Vec<&str> = allowed[1..].to_vec();
        expected.extend(["name", "budget", "objective"]);
        return Err(err(format!(
            "unknown key `{stray}` for a `{kind}` strategy (expected: {})",
            expected.join(", ")
        )));
    }
    let mut spec: StrategySpec = serde_norway::from_value(serde_norway::Value::Mapping(map))
        .map_err(|e| err(e.to_string()))?;
    // A zero-shot strategy is judged by its `select`, and its portfolio file is found next to
    // the config like the datasets.
    let objective = match &mut spec {
        StrategySpec::Zeroshot {
            portfolio, select, ..
        } => {
            if let Some(path) = portfolio.as_mut() {
                *path = base_dir.join(&*path);
            }
            if given_objective.is_some_and(|o| o != select.objective()) {
                return Err(err(format!(
                    "a zeroshot strategy is judged by its `select` ({}), so it takes no other `objective`",
                    select.as_str()
                )));
            }
            select.objective()
        }
        _ => objective,
    };
    if let Some(t) = budget.time_s
        && !(t > 0.0 && t.is_finite())
    {
        return Err(err(
            "budget.time_s must be a positive number of seconds".into()
        ));
    }
    if budget.trials == Some(0) {
        return Err(err("budget.trials must be at least 1".into()));
    }
    let unbounded = budget.trials.is_none() && budget.time_s.is_none();
    if unbounded && matches!(kind.as_str(), "random" | "cfo") {
        return Err(err(format!(
            "a `{kind}` search needs a budget: `budget: {{trials: N}}` and/or `budget: {{time_s: S}}`"
        )));
    }
    Ok(StrategyEntry {
        name: name.unwrap_or(kind),
        spec,
        budget,
        objective,
    })
}
