"""Fixtures of the model explorer's numbers, from scikit-learn 1.9.1 (tests/explore.rs reads them).

* pca5.csv + pca.json: PCA(n_components=2) (full solver) of 80 correlated 5-feature rows: mean,
  components, explained variance (and ratio), and the first rows' coordinates.
* blobs.csv + selection.json: for n_components 1..3 and the four covariance types,
  GaussianMixture(tol=1e-10, max_iter=2000, init_params="kmeans", random_state=0) on 150 rows of
  three shuffled blobs (two neighbours, one far): mean log-likelihood, BIC, AIC, and the 5-fold KFold (unshuffled)
  held-out log-likelihood, as cross_val_score(gmm, X, cv=KFold(5)) computes it. Each value is
  also computed with n_init=10; the script stops if they differ (beyond 1e-7 relative), so the fixture holds the
  optimum EM reaches from any reasonable start (what gmmtune must reach too).

python3 scripts/gen_explore_fixtures.py
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold, cross_val_score

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "explore"
TYPES = ["full", "tied", "diag", "spherical"]


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def pca_fixture(rng):
    latent = rng.normal(size=(80, 2)) * [3.0, 1.0]
    mixing = rng.normal(size=(2, 5))
    x = latent @ mixing + 0.3 * rng.normal(size=(80, 5)) + [1.0, -2.0, 0.5, 10.0, 0.0]
    x = np.round(x, 6)
    write_csv(OUT / "pca5.csv", [f"f{j}" for j in range(5)], x)
    pca = PCA(n_components=2, svd_solver="full").fit(x)
    return {
        "mean": pca.mean_.tolist(),
        "components": pca.components_.tolist(),
        "explained_variance": pca.explained_variance_.tolist(),
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "transformed_head": pca.transform(x[:5]).tolist(),
    }


def gmm(k, t, n_init):
    return GaussianMixture(
        n_components=k,
        covariance_type=t,
        tol=1e-10,
        max_iter=2000,
        reg_covar=1e-6,
        init_params="kmeans",
        n_init=n_init,
        random_state=0,
    )


def selection_fixture(rng):
    blobs = [
        # Two neighbours and one far blob, so two components have one clear optimum too.
        (60, [0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]]),
        (50, [4.0, 1.0], [[0.5, 0.0], [0.0, 1.5]]),
        (40, [14.0, 12.0], [[1.5, -0.4], [-0.4, 0.4]]),
    ]
    x = np.vstack([rng.multivariate_normal(m, c, size=n) for n, m, c in blobs])
    x = np.round(x[rng.permutation(len(x))], 6)
    write_csv(OUT / "blobs.csv", ["a", "b"], x)
    rows = []
    for k in (1, 2, 3):
        for t in TYPES:
            values = []
            for n_init in (1, 10):
                model = gmm(k, t, n_init).fit(x)
                cv = cross_val_score(gmm(k, t, n_init), x, cv=KFold(5)).mean()
                values.append((model.score(x), model.bic(x), model.aic(x), cv, model._n_parameters()))
            (ll, bic, aic, cv, p), again = values
            if not np.allclose(values[0][:4], again[:4], rtol=1e-7, atol=1e-9):
                raise SystemExit(f"k={k} {t}: n_init 1 and 10 reach different optima: {values}")
            rows.append(
                {
                    "n_components": k,
                    "covariance_type": t,
                    "n_parameters": int(p),
                    "log_likelihood": ll,
                    "bic": bic,
                    "aic": aic,
                    "cv_loglik": cv,
                }
            )
    return rows


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    fixture = {"sklearn_version": sklearn.__version__, "pca": pca_fixture(rng)}
    with open(OUT / "pca.json", "w") as f:
        json.dump(fixture, f, indent=1)
    selection = {"sklearn_version": sklearn.__version__, "folds": 5, "rows": selection_fixture(rng)}
    with open(OUT / "selection.json", "w") as f:
        json.dump(selection, f, indent=1)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
