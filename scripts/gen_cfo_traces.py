#!/usr/bin/env python3
"""Golden traces of FLAML 2.7's CFO for the unit tests in `src/search/cfo.rs`.

Drives FLAML's `CFO` searcher the way `flaml.tune.run` does (`suggest`, then
`on_trial_result` and `on_trial_complete` with the trial's result) on the tests' bowl objective
over the default space, with FLOW2's random directions and restart disturbances replaced by
fixed sequences, so that gmmtune's `Cfo` can be fed the same draws:

* directions: `np.random.RandomState(123).normal(size=(300, 4)).round(6)`, row after row, each
  normalised (patched into `FLOW2.rand_vector_unit_sphere`);
* disturbances: `((k * 3571) % 2001 - 1000) / 400 * std` for k = 1, 2, ... (patched into
  `FLOW2.rand_vector_gaussian`).

Prints three Rust constants: the sequential trace (one trial at a time; equals `FLAML_TRACE`),
the lock-step trace (two `suggest` calls, then both results in the order suggested) and the
sliding-window trace (two trials in flight; the oldest is told, then one more suggested), which
is how gmmtune's driver runs CFO's `concurrent_trials: 2`.

    pip install flaml numpy
    python3 scripts/gen_cfo_traces.py

On stderr, the trial at which each trace first proposes a full covariance.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

from flaml import tune  # noqa: E402
from flaml.tune.searcher.blendsearch import CFO  # noqa: E402
from flaml.tune.searcher.flow2 import FLOW2  # noqa: E402

DIRECTIONS = np.random.RandomState(123).normal(size=(300, 4)).round(6)
TRIALS = 60
_draws = {"direction": 0, "gauss": 1}


def scripted_direction(self, dim, trunc=0):
    v = DIRECTIONS[_draws["direction"]][:dim].copy()
    _draws["direction"] += 1
    return v / np.linalg.norm(v)


def scripted_gauss(self, dim, std=1.0):
    out = []
    for _ in range(dim):
        k = _draws["gauss"]
        _draws["gauss"] += 1
        out.append(((k * 3571) % 2001 - 1000) / 400.0 * std)
    return np.array(out)


FLOW2.rand_vector_unit_sphere = scripted_direction
FLOW2.rand_vector_gaussian = scripted_gauss

COV = {"spherical": 0.4, "diag": 0.0, "tied": 0.2, "full": 0.4}
INIT = {"random_from_data": 0.3, "random": 0.2, "k-means++": 0.1, "kmeans": 0.0}


def bowl(c: dict) -> float:
    """The tests' objective: minimum at 8 components, reg_covar 1e-3, diag, kmeans."""
    a = math.log2(c["n_components"]) - 3.0
    b = math.log10(c["reg_covar"]) + 3.0
    return a * a + 0.5 * b * b + COV[c["covariance_type"]] + INIT[c["init"]]


def searcher() -> CFO:
    space = {
        "n_components": tune.lograndint(1, 33),
        "covariance_type": tune.choice(["spherical", "diag", "tied", "full"]),
        "reg_covar": tune.loguniform(1e-6, 1e-1),
        "init": tune.choice(["random_from_data", "random", "k-means++", "kmeans"]),
    }
    return CFO(space=space, metric="obj", mode="min",
               low_cost_partial_config={"n_components": 1, "covariance_type": "spherical",
                                        "reg_covar": 1e-4, "init": "random_from_data"},
               cat_hp_cost={"covariance_type": [1, 2, 3, 4], "init": [1, 2, 3, 4]})


def tell(s: CFO, trial_id: str, config: dict) -> None:
    result = {"obj": bowl(config), "time_total_s": config["n_components"] * 0.01,
              "config": config}
    s.on_trial_result(trial_id, result)
    s.on_trial_complete(trial_id, result)


def drive(window: int, sliding: bool) -> list[dict]:
    """`TRIALS` trials with up to `window` in flight, told in suggestion order: all of them
    before suggesting again (rounds), or only the oldest (a sliding window)."""
    _draws.update(direction=0, gauss=1)
    s = searcher()
    trace: list[dict] = []
    in_flight: list[tuple[str, dict]] = []
    next_id = 0
    while len(trace) < TRIALS:
        while len(in_flight) < window:
            trial_id = f"t{next_id}"
            next_id += 1
            config = s.suggest(trial_id)
            if config is None:
                break
            in_flight.append((trial_id, config))
        if not in_flight:
            break
        due = in_flight[:1] if sliding else list(in_flight)
        del in_flight[:len(due)]
        for trial_id, config in due:
            tell(s, trial_id, config)
            trace.append(config)
    return trace[:TRIALS]


def rust_constant(name: str, trace: list[dict]) -> str:
    rows = "\n".join(
        f'        ({c["n_components"]}, "{c["covariance_type"]}", {float(c["reg_covar"])!r}, '
        f'"{c["init"]}"),' for c in trace)
    return f"    const {name}: &[(usize, &str, f64, &str)] = &[\n{rows}\n    ];"


def main() -> None:
    for name, trace in [("FLAML_TRACE", drive(1, sliding=True)),
                        ("FLAML_LOCK_STEP_TRACE", drive(2, sliding=False)),
                        ("FLAML_SLIDING_TRACE", drive(2, sliding=True))]:
        print(rust_constant(name, trace))
        first_full = next((i for i, c in enumerate(trace) if c["covariance_type"] == "full"),
                          None)
        print(f"{name}: first full covariance at trial {first_full} (0-based)", file=sys.stderr)


if __name__ == "__main__":
    main()
