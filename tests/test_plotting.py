"""lib.plotting: the figure conventions, including lower bars clipped at a log axis's floor."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lib import plotting  # noqa: E402


def _bar_ends(container):
    segments = container.lines[2][0].get_segments()
    return np.array([[seg[0][1], seg[1][1]] for seg in segments])


def test_mc_points_bars_and_floor():
    fig, ax = plt.subplots()
    mean, sem = np.array([1.0, 10.0]), np.array([1.0, 1.0])
    plain = _bar_ends(plotting.mc_points(ax, [0, 1], mean, sem))
    assert np.allclose(plain, np.column_stack([mean - 1.959963984540054, mean + 1.959963984540054]))
    clipped = _bar_ends(plotting.mc_points(ax, [0, 1], mean, sem, floor=0.3))
    assert np.allclose(clipped[:, 0], [0.3, 10 - 1.959963984540054])  # only the first bar hits the floor
    assert np.allclose(clipped[:, 1], plain[:, 1])
    plt.close(fig)


def test_error_bars_are_95_percent_normal_intervals():
    from scipy.stats import norm

    assert plotting.Z95 == norm.ppf(0.975)  # not 1.96, not 2
