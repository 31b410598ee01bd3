"""Ridge regression with its strength chosen on held-out rows: the fit of every cascade stage (eqs. 4, 5, 9, 10)."""

from __future__ import annotations

import numpy as np

__all__ = ["ridge", "LAMBDAS"]

LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def ridge(x: np.ndarray, y: np.ndarray, lambdas: tuple[float, ...] = LAMBDAS, holdout: float = 0.1,
          seed: int = 0) -> tuple[np.ndarray, float, dict[str, float]]:
    """Ridge regression with the bias unpenalised; λ (times N) picked on a held-out share of the rows.

    Args:
        x: (N, D) features; y: (N, K) targets.

    Returns:
        ((D + 1, K) weights with the bias last, the chosen λ, the held-out mean squared error of each λ).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 3))
        >>> w, lam, errors = ridge(x, x @ [[1.0], [2.0], [3.0]] + 0.5)
        >>> w.round(2).ravel().tolist(), lam
        ([1.0, 2.0, 3.0, 0.5], 0.0001)
        >>> wide = rng.normal(size=(20, 50))                      # fewer rows than features: the same solution
        >>> y = wide @ rng.normal(size=(50, 2))
        >>> lam = 0.1 * 20                                        # λ times N, the 20 rows
        >>> a = ridge(wide, y, lambdas=(0.1,))[0]
        >>> order = np.random.default_rng(0).permutation(20)[2:]
        >>> xc, yc = wide[order] - wide[order].mean(0), y[order] - y[order].mean(0)
        >>> b = np.linalg.solve(xc.T @ xc + lam * np.eye(50), xc.T @ yc)
        >>> bool(np.allclose(a[:-1], b, atol=1e-4))
        True
    """
    n = len(x)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(holdout * n))
    val, tr = order[:n_val], order[n_val:]
    xm, ym = x[tr].mean(0), y[tr].mean(0)
    xc = (x[tr] - xm).astype(np.float64)
    if len(xc) < xc.shape[1]:  # fewer rows than features: the thin SVD of the rows, not the (D, D) Gram matrix
        _, sv, vt = np.linalg.svd(xc, full_matrices=False)
        evals, evecs = sv ** 2, vt.T
    else:
        evals, evecs = np.linalg.eigh(xc.T @ xc)
    proj = evecs.T @ (xc.T @ (y[tr] - ym))

    def weights(lam: float) -> np.ndarray:
        w = evecs @ (proj / (evals + lam * n)[:, None])
        return np.vstack([w, ym - xm @ w])

    errors = {f"{lam:g}": float(np.mean((np.c_[x[val], np.ones(len(val))] @ weights(lam) - y[val]) ** 2))
              for lam in lambdas}
    best = min(lambdas, key=lambda lam: errors[f"{lam:g}"])
    return weights(best).astype(np.float32), best, errors
