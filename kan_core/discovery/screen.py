"""Before the search: which input columns to search over.

Two screens, each of which says what it did in one line:

* **duplicate quantities** — two columns that are exact affine images of each other (a temperature
  in °C and in K, a length in m and in cm) carry the same information; one is kept (the one in
  which the target is closer to a simple law).
* **columns that do not matter** — with many inputs, a random forest's permutation importance
  (Breiman 2001, Sec. 10; scikit-learn's `permutation_importance`) on held-out rows ranks the columns; the
  ones that change nothing are left out, and only when a forest without them predicts as well.

The screens only choose columns: the formulas are still found by the routes, on the kept ones.
"""

from __future__ import annotations

import numpy as np

DUPLICATE_R = 1 - 1e-7  # |correlation| above this: one column is an affine image of the other
SCREEN_MIN_INPUTS = 6  # fewer inputs are all searched (the routes handle a handful well)
IMPORTANCE_SHARE = 0.03  # under this share of the largest importance a column may be left out
FOREST_ROWS = 1000  # rows the forest sees (the screen must cost seconds, not a share of the budget)


def duplicate_columns(X: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[list[int], list[str]]:
    """Indices of the columns to keep, and a note per affine duplicate left out.

    Of two columns that are affine images of each other (|correlation| ≥ `DUPLICATE_R`), the one
    kept is the one in which y is closer to a simple law: a product of powers (a linear fit in
    log space, for positive data) or a quadratic polynomial, whichever fits better, each fitted
    by least squares. A temperature in kelvin beats one in °C for P = nRT/V this way; when both
    fit equally (a pure rescaling), the first column is kept.

    Parameters
    ----------
    X : ndarray, shape (n, d); y : ndarray, shape (n,)
    names : list of str, length d

    Returns
    -------
    (list of int, list of str)
        Kept column indices in their original order, and one note per dropped column.
    """
    d = X.shape[1]
    if d < 2 or len(X) < 3:
        return list(range(d)), []
    std = X.std(0)
    with np.errstate(all="ignore"):
        corr = np.corrcoef(X, rowvar=False)
    dropped: dict[int, int] = {}
    for i in range(d):
        for j in range(i + 1, d):
            if i in dropped or j in dropped or not (std[i] > 0 and std[j] > 0):
                continue
            if abs(corr[i, j]) >= DUPLICATE_R:
                others = [c for c in range(d) if c not in dropped and c not in (i, j)]
                # Errors under 1e-9 are round-off of an exact fit: equal.
                e_i, e_j = (max(_probe_error(X[:, [c, *others]], y), 1e-9) for c in (i, j))
                keep, drop = (j, i) if e_j < 0.5 * e_i else (i, j)
                dropped[drop] = keep
    notes = [
        f"columns '{names[k]}' and '{names[c]}' carry the same information (one is an affine image "
        f"of the other): searched with '{names[k]}' only"
        for c, k in sorted(dropped.items())
    ]
    return [i for i in range(d) if i not in dropped], notes


def _probe_error(X: np.ndarray, y: np.ndarray) -> float:
    """1 − R² of the better of two quick least-squares fits: log-linear (positive data) and quadratic."""
    n = len(y)
    step = max(1, n // 1000)
    X, y = X[::step], y[::step]
    sst = float(np.sum((y - y.mean()) ** 2)) or 1.0
    cols = [np.ones(len(y))] + [X[:, a] * X[:, b] for a in range(X.shape[1]) for b in range(a, X.shape[1])]
    A = np.column_stack(cols + list(X.T))
    best = float(np.sum((y - A @ np.linalg.lstsq(A, y, rcond=None)[0]) ** 2)) / sst
    if (X > 0).all() and ((y > 0).all() or (y < 0).all()):
        L = np.column_stack([np.ones(len(y)), np.log(X)])
        ly = np.log(np.abs(y))
        fit = np.sign(y[0]) * np.exp(L @ np.linalg.lstsq(L, ly, rcond=None)[0])
        best = min(best, float(np.sum((y - fit) ** 2)) / sst)
    return best


def relevant_columns(
    X: np.ndarray, y: np.ndarray, names: list[str], seed: int = 0
) -> tuple[list[int], list[str]]:
    """Indices of the columns that matter for y, and a note naming those left out.

    Used from `SCREEN_MIN_INPUTS` inputs on. A random forest (extremely randomised trees) is fitted
    on 75% of the rows; each column's permutation importance (the rise in held-out squared error
    when the column is shuffled, 3 repeats) is compared with the largest. Columns under
    `IMPORTANCE_SHARE` of it are left out, but only when a forest on the remaining columns
    predicts the held-out rows as well (R² within 0.005) — otherwise every column is kept. A target
    the forest cannot predict at all (held-out R² < 0.2) keeps every column too.

    Parameters
    ----------
    X : ndarray, shape (n, d); y : ndarray, shape (n,)
    names : list of str, length d
    seed : int
        Seeds the forest, the split and the permutations.

    Returns
    -------
    (list of int, list of str)
    """
    d = X.shape[1]
    if d < SCREEN_MIN_INPUTS or len(y) < 40:
        return list(range(d)), []
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.inspection import permutation_importance

    step = max(1, len(y) // FOREST_ROWS)
    Xs, ys = X[::step], y[::step]
    order = np.random.default_rng(seed).permutation(len(ys))
    cut = int(0.75 * len(ys))
    tr, te = order[:cut], order[cut:]
    Xs = np.ascontiguousarray(Xs)

    def forest(cols: list[int]):
        model = ExtraTreesRegressor(n_estimators=30, min_samples_leaf=2, random_state=seed, n_jobs=1)
        return model.fit(Xs[np.ix_(tr, np.asarray(cols))], ys[tr])

    everything = list(range(d))
    full = forest(everything)
    r2_full = full.score(Xs[te], ys[te])
    if not r2_full >= 0.2:
        return everything, []
    shuffled = permutation_importance(
        full, Xs[te], ys[te], scoring="neg_mean_squared_error", n_repeats=3, random_state=seed
    )
    imp = shuffled.importances_mean
    keep = [i for i in everything if imp[i] >= IMPORTANCE_SHARE * imp.max()]
    if len(keep) == d:
        return everything, []
    r2_kept = forest(keep).score(Xs[np.ix_(te, np.asarray(keep))], ys[te])
    if r2_kept < r2_full - 0.005:
        return everything, []
    left = [names[i] for i in everything if i not in keep]
    shown = ", ".join(f"'{n}'" for n in left[:8]) + (f" and {len(left) - 8} more" if len(left) > 8 else "")
    note = (
        f"{len(left)} column(s) do not change the target (permutation importance under "
        f"{IMPORTANCE_SHARE:.0%} of the largest): {shown}; searched with "
        f"{', '.join(repr(names[i]) for i in keep)}"
    )
    return keep, [note]
