"""The suite's own accounting of its statistical checks (tests/conftest.py)."""

import numpy as np
import pytest
from scipy.stats import norm

import conftest


def test_every_kind_of_check_is_counted(monkeypatch):
    counts = dict.fromkeys(conftest.MC_COUNTS, 0)
    monkeypatch.setattr(conftest, "MC_COUNTS", counts)
    conftest.assert_z_within([0.1, -2.0, 4.9])
    conftest.assert_z_beyond([7.0, -8.0])
    conftest.assert_z_beyond([1.0, 6.0], every=False)
    conftest.assert_mc_matches(np.array([1.0]), np.array([0.01]), np.array([1.0]))
    conftest.assert_pvalue_above(0.3, 1e-6)
    conftest.assert_pvalue_below(1e-30, 1e-6)
    assert counts["comparisons"] == 3 + 1 and counts["power"] == 2 + 1 + 2 and counts["tests"] == 2
    # Power of assert_mc_matches: 5% of 1 is 5 standard errors away, a coin flip each side.
    assert counts["power_false"] == pytest.approx(
        norm.sf(2.0) + norm.sf(3.0) + norm.cdf(5 - 6.0) + 2 * (norm.cdf(0.0) - norm.cdf(-10.0)), rel=1e-6)
    bound = conftest.false_failure_bound(counts)
    assert bound == pytest.approx(4 * 2 * norm.sf(5.0) + counts["power_false"] + counts["tests_false"])
    with pytest.raises(AssertionError, match="does not reject"):
        conftest.assert_z_beyond([4.0])
    with pytest.raises(AssertionError, match="z ="):
        conftest.assert_z_within([5.5])
