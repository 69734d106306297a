"""Measurements shared by the benchmarks, the InfoGAN calibration and the theory lab."""

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from ganapps import metrics
from ganapps.metrics import rank_correlation


def test_rank_correlation_gives_tied_values_their_mean_rank():
    # ranks of y with ties shared: 1.5, 1.5, 3.5, 3.5 -> 4 / (2 sqrt 5); breaking ties by order would give 1.0
    assert rank_correlation([1, 2, 3, 4], [7, 7, 9, 9]) == pytest.approx(2 / math.sqrt(5))
    assert rank_correlation([1, 2, 3, 4], [9, 9, 7, 7]) == pytest.approx(-2 / math.sqrt(5))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=50), rng.integers(0, 5, size=50)  # many ties, as in measured stroke widths
    assert rank_correlation(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert rank_correlation(np.arange(9), np.arange(9) ** 3) == pytest.approx(1.0)


def test_rank_correlation_is_nan_when_there_is_nothing_to_rank():
    assert math.isnan(rank_correlation([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))  # constant: no order to follow
    assert math.isnan(rank_correlation([1.0], [2.0])) and math.isnan(rank_correlation([], []))
    with pytest.raises(ValueError, match="one length"):
        rank_correlation([1, 2, 3], [1, 2])


def test_the_theory_lab_ranks_losses_with_the_same_rule():
    js = [0.69, 0.60, 0.61, 0.40, 0.45, 0.30]
    points = [{"step": 50 * i, "js_divergence": v, "loss_g": g, "loss_d": 0.5} for i, (v, g) in enumerate(zip(js, [2, 2, 2, 1, 1, 1]))]
    found = metrics.losses_vs_progress(points)
    assert found["rank_g"] == pytest.approx(rank_correlation([2, 2, 2, 1, 1, 1], js)) == pytest.approx(0.8783100656536799)
    assert math.isnan(found["rank_d"])  # D's loss never moved
