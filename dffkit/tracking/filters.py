"""Temporal filtering of tracked landmarks: the One-Euro filter (Casiez, Roussel and Vogel, CHI 2012).

Each coordinate x_t is smoothed by an exponential filter whose cut-off frequency rises with its speed,
so that a still face holds still (low cut-off: jitter removed) and a moving one keeps up (high cut-off:
little lag):

    dx_t = α(f_d) · (x_t − x̂_{t−1}) · rate + (1 − α(f_d)) · dx_{t−1}
    f_c  = min_cutoff + beta · |dx_t|
    x̂_t  = α(f_c) · x_t + (1 − α(f_c)) · x̂_{t−1},      α(f) = 1 / (1 + rate / (2π f))

with the rate in frames per second: the filter's own, or one over the time since the last sample where the
samples carry their times (a variable-frame-rate video). ``min_cutoff`` (Hz) sets the smoothing when still, ``beta`` how fast it
gives way to motion. Speeds are measured in box sizes per second, so one setting fits any face size.
"""

from __future__ import annotations

import numpy as np

from dffkit.records import Record, record

__all__ = ["OneEuro", "Smoothing"]


@record
class Smoothing(Record):
    """The settings of a One-Euro filter (see the module docstring).

    Attributes:
        min_cutoff: cut-off frequency when still, Hz.
        beta: cut-off increase per unit of speed (box sizes per second).

    Example:
        >>> Smoothing(1.0, 5.0).label()
        'min_cutoff 1, beta 5'
    """

    min_cutoff: float = 1.0
    beta: float = 5.0

    @classmethod
    def of(cls, settings: Smoothing | dict) -> Smoothing:
        """Settings from a :class:`Smoothing` or its dict (``{"min_cutoff": ..., "beta": ...}``)."""
        return settings if isinstance(settings, Smoothing) else cls(**settings)

    def label(self) -> str:
        """A short name for tables."""
        return f"min_cutoff {self.min_cutoff:g}, beta {self.beta:g}"

    def make(self, rate: float) -> OneEuro:
        """A filter with these settings at ``rate`` frames per second."""
        return OneEuro(rate, self.min_cutoff, self.beta)


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray:
    return 1.0 / (1.0 + rate / (2.0 * np.pi * np.asarray(cutoff, np.float64)))


class OneEuro:
    """A One-Euro filter over arrays of any shape (e.g. (68, 2) landmarks).

    Args:
        rate: frames per second (used where a sample comes without its time).
        min_cutoff: cut-off frequency when still, Hz.
        beta: cut-off increase per unit of speed (box sizes per second).
        d_cutoff: cut-off of the speed estimate, Hz.

    Example:
        >>> f = OneEuro(rate=30, min_cutoff=1.0, beta=0.0)
        >>> [round(float(f(np.array([v]), scale=1.0)[0]), 3) for v in (0.0, 1.0, 1.0)]
        [0.0, 0.173, 0.316]
    """

    def __init__(self, rate: float, min_cutoff: float = 1.0, beta: float = 5.0, d_cutoff: float = 1.0) -> None:
        self.rate, self.min_cutoff, self.beta, self.d_cutoff = float(rate), float(min_cutoff), float(beta), float(d_cutoff)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        """Forget the past (a new track)."""
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, scale: float = 1.0, t: float | None = None) -> np.ndarray:
        """The filtered value of this frame's ``x``; ``scale`` (e.g. the face's box size) normalises speed;
        ``t`` is the frame's time in seconds (None, or no later than the last one: one period at ``rate``).

        Example (a frame that comes after a gap of two periods moves further toward the new value):
            >>> f, g = OneEuro(rate=30, beta=0.0), OneEuro(rate=30, beta=0.0)
            >>> _ = f(np.array([0.0]), t=0.0), g(np.array([0.0]), t=0.0)
            >>> bool(f(np.array([1.0]), t=1 / 30)[0] < g(np.array([1.0]), t=2 / 30)[0])
            True
        """
        x = np.asarray(x, np.float64)
        rate = self.rate
        if t is not None:
            if self._t is not None and t > self._t:
                rate = 1.0 / (t - self._t)
            self._t = float(t)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x.copy()
        dx = (x - self._x) * rate / max(scale, 1e-9)
        self._dx = _alpha(self.d_cutoff, rate) * dx + (1 - _alpha(self.d_cutoff, rate)) * self._dx
        a = _alpha(self.min_cutoff + self.beta * np.abs(self._dx), rate)
        self._x = a * x + (1 - a) * self._x
        return self._x.copy()
