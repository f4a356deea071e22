"""The normal quantile and CDF and the Poisson CDF that table columns draw with, without scipy.

Importing scipy.special costs about 0.1 s, an eighth of a table run's start-up;
these three functions are all tables need from it. tests/test_normal_functions.py
sweeps each against scipy.special over its whole input range.
"""

from __future__ import annotations

import math

import numpy as np

# Wichura, M. J. (1988), Algorithm AS 241: the percentage points of the normal distribution,
# Applied Statistics 37(3), 477-484: rational approximations accurate to about 1e-16.
_CENTRAL = (
    (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
     45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727),
    (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
     39307.89580009271061, 28729.085735721942674, 5226.495278852854561),
)
_NEAR = (
    (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
     1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4),
    (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
     0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9),
)
_FAR = (
    (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
     0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7),
    (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
     1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15),
)
POISSON_TABLE_UP_TO = 1000.0  # larger rates: scipy's pdtr (the sum below loses digits as the table grows)


def _ratio(coefficients: tuple[tuple[float, ...], tuple[float, ...]], r: np.ndarray) -> np.ndarray:
    numerator, denominator = (np.polynomial.polynomial.polyval(r, c) for c in coefficients)
    return numerator / denominator


def normal_quantile(u: np.ndarray) -> np.ndarray:
    """The standard normal quantile (scipy.special.ndtri) for 0 < u < 1, by AS 241."""
    u = np.asarray(u, dtype=np.float64)
    q = u - 0.5
    out = np.empty_like(u)
    central = np.abs(q) <= 0.425
    qc = q[central]
    out[central] = qc * _ratio(_CENTRAL, 0.180625 - qc * qc)
    tail = ~central
    if tail.any():
        qt = q[tail]
        r = np.sqrt(-np.log(np.where(qt < 0, u[tail], 1.0 - u[tail])))
        x = np.where(r <= 5.0, _ratio(_NEAR, r - 1.6), _ratio(_FAR, r - 5.0))
        out[tail] = np.where(qt < 0, -x, x)
    return out


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """The standard normal CDF (scipy.special.ndtr): erfc(-z / sqrt 2) / 2 from the C library's erfc."""
    z = np.asarray(z, dtype=np.float64)
    scaled = (-z / math.sqrt(2.0)).ravel().tolist()
    return 0.5 * np.fromiter(map(math.erfc, scaled), dtype=np.float64, count=len(scaled)).reshape(z.shape)


def poisson_cdf(k_max: int, lam: float) -> np.ndarray:
    """P(X <= k) for k = 0 .. k_max - 1, X ~ Poisson(lam) (scipy.special.pdtr(k, lam)) from the probabilities
    exp(k log lam - lam - log k!): summed from 0 below one half, as one minus the sum above k from there
    (k_max is far enough out that what lies beyond it is below rounding)."""
    if lam > POISSON_TABLE_UP_TO:
        from scipy.special import pdtr

        return pdtr(np.arange(k_max), lam)
    k = np.arange(k_max, dtype=np.float64)
    log_factorial = np.fromiter(map(math.lgamma, (k + 1.0).tolist()), dtype=np.float64, count=k_max)
    probability = np.exp(k * math.log(lam) - lam - log_factorial)
    below = np.cumsum(probability)
    # near 1, one minus the sum of the tail above k keeps the digits a running sum from 0 has lost
    above = np.append(np.cumsum(probability[:0:-1])[::-1], 0.0)
    return np.where(below < 0.5, below, 1.0 - above)
