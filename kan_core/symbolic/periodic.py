"""Frequencies of a sampled curve: the Lomb–Scargle periodogram's grid and peaks (shared by the
edge fitter, the one-variable sinusoid route and the studio's network suggestion)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lombscargle


def frequency_grid(x: np.ndarray, most: int = 4000) -> np.ndarray:
    """Angular frequencies to scan for samples at x: from half a period over the data's range to the
    Nyquist rate of the typical (median) spacing, at most `most` of them, evenly spaced."""
    span = float(np.ptp(x))
    gaps = np.diff(np.sort(x))
    finest = float(np.median(gaps[gaps > 0])) if (gaps > 0).any() else span / max(len(x), 1)
    return np.linspace(np.pi / span, np.pi / finest, min(most, 40 * len(x)))


def periodogram_peaks(x: np.ndarray, y: np.ndarray, count: int = 3, most: int = 4000) -> np.ndarray:
    """The `count` strongest angular frequencies of y(x) (local maxima of the Lomb–Scargle
    periodogram, Lomb 1976 / Scargle 1982, `scipy.signal.lombscargle`; x may be unevenly spaced),
    strongest first, scanning at most `most` frequencies. Empty for fewer than 8 samples or a
    constant x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 8 or float(np.ptp(x)) <= 0:
        return np.zeros(0)
    freqs = frequency_grid(x, most)
    power = lombscargle(x, y - y.mean(), freqs)
    inner = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])) + 1
    peaks = np.concatenate([[0], inner, [len(power) - 1]])
    order = peaks[np.argsort(-power[peaks])]
    return freqs[order[:count]]
