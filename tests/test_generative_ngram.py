"""lib.generative.ngram: counts, weighted fits, cross-entropy, KL and sampling against direct
pure-Python computations, the SymPy derivations, the shipped word list, and bad input."""

import math
from collections import Counter

import numpy as np
import pytest
import sympy as sp
from scipy import stats

import lib
from conftest import assert_mc_matches, assert_pvalue_above, assert_pvalue_below, assert_z_within
from lib import theory
from lib.generative import ngram

V = 27
TINY = ["ab", "ba", "abba", "b", "cab", "aa"]


def symbols(word):
    return [ngram.ALPHABET.index(c) + 1 for c in word] + [0]


def direct_counts(words, order):
    """Counter of (context tuple, symbol) by a plain loop."""
    out = Counter()
    for x in words:
        ctx = (0,) * (order - 1)
        for c in symbols(x):
            out[(ctx, c)] += 1
            ctx = (ctx + (c,))[1:] if order > 1 else ()
    return out


def cell(ctx, c):
    idx = 0
    for s in ctx:
        idx = idx * V + s
    return idx * V + c


def direct_probs(count, scale, alpha, order):
    """Add-alpha conditionals from a dict of weighted counts per word, by loops."""
    q = {}
    for ctx_idx in range(V ** (order - 1)):
        ctx = tuple(ctx_idx // V ** (order - 2 - i) % V for i in range(order - 1))
        row = [scale * count.get((ctx, c), 0.0) + alpha for c in range(V)]
        total = sum(row)
        for c in range(V):
            q[(ctx, c)] = row[c] / total
    return q


@pytest.mark.parametrize("order", [1, 2, 3])
def test_counts_match_a_direct_count(order):
    counts = ngram.word_counts(TINY, order)
    direct = direct_counts(TINY, order)
    expect = np.zeros(V ** order)
    for (ctx, c), v in direct.items():
        expect[cell(ctx, c)] = v
    np.testing.assert_array_equal(counts, expect)
    assert counts.sum() == sum(len(x) + 1 for x in TINY)


@pytest.fixture(scope="module")
def tiny():
    return ngram.NgramModel(TINY, ["ab", "bab", "c"], alpha=0.3)


def test_real_sample_counts_the_drawn_words(tiny):
    rng = np.random.default_rng(3)
    real = tiny.sample_real(rng, 7, (2, 3))
    idx = np.random.default_rng(3).integers(len(TINY), size=(2, 3, 7))
    for a in range(2):
        for b in range(3):
            direct = direct_counts([TINY[i] for i in idx[a, b]], 2)
            expect = np.zeros(V * V)
            for (ctx, c), v in direct.items():
                expect[cell(ctx, c)] = v
            np.testing.assert_array_equal(real[a, b], expect)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_weighted_fit_against_direct_weights(order):
    """w/n per real word and (1 - w)/m per synthetic word, at every order (real and synthetic
    words of different mean lengths, so that counting symbols instead of words would show)."""
    model = ngram.NgramModel(TINY, ["ab"], order=order, alpha=0.3)
    real_words, syn_words = ["ab", "ba", "abba"], ["b", "cab", "aa", "ab", "b"]
    n, m, w = len(real_words), len(syn_words), 0.35
    real = ngram.word_counts(real_words, order)[None, None]
    syn = ngram.word_counts(syn_words, order)[None, None]
    counts, probs = model.fit(real, syn, np.full((1, 1), w))
    weighted = Counter()
    for x in real_words:
        for key, v in direct_counts([x], order).items():
            weighted[key] += w / n * v
    for x in syn_words:
        for key, v in direct_counts([x], order).items():
            weighted[key] += (1 - w) / m * v
    q = direct_probs(weighted, n, model.alpha, order)
    for (ctx, c), v in q.items():
        assert math.isclose(probs[0, 0, cell(ctx, c) // V, c], v, rel_tol=1e-12)
        assert math.isclose(counts[0, 0, cell(ctx, c)], weighted.get((ctx, c), 0.0), abs_tol=1e-15)


def test_w_one_is_real_only_and_naive_pooling_is_the_pooled_fit(tiny):
    real_words, syn_words = ["ab", "ba"], ["b", "cab", "aa"]
    real = ngram.word_counts(real_words)[None, None]
    syn = ngram.word_counts(syn_words)[None, None]
    alone = tiny.fit(real, None, np.ones((1, 1)))
    at_one = tiny.fit(real, syn, np.ones((1, 1)))
    np.testing.assert_array_equal(alone[1], at_one[1])
    # w = n / (n + m): every word weighs 1 / (n + m), the unweighted fit of the 5 pooled words,
    # whose pseudo-counts are on the scale of n: alpha * (n + m) / n on the pooled scale.
    pooled = ngram.word_counts(real_words + syn_words)[None, None]
    naive = tiny.fit(real, syn, np.full((1, 1), 2 / 5))
    ref = ngram.NgramModel(TINY, ["ab"], alpha=tiny.alpha * 5 / 2).fit(pooled, None, np.ones((1, 1)))
    np.testing.assert_allclose(naive[1], ref[1], rtol=1e-12)


def test_cross_entropy_and_kl_by_direct_summation(tiny):
    rng = np.random.default_rng(0)
    state = tiny.fit(tiny.sample_real(rng, 9, (1, 2)), None, np.ones((1, 1)))
    got = tiny.evaluate(state)
    for b in range(2):
        q = state[1][0, b]
        held = [(prev, c) for x in ["ab", "bab", "c"] for prev, c in zip([0] + symbols(x)[:-1], symbols(x))]
        xent = -sum(math.log2(q[p, c]) for p, c in held) / len(held)
        assert math.isclose(got["xent"][0, b], xent, rel_tol=1e-12)
        pool = [(prev, c) for x in TINY for prev, c in zip([0] + symbols(x)[:-1], symbols(x))]
        rows = Counter(p for p, _ in pool)
        pairs = Counter(pool)
        kl = sum(math.log2(pairs[(p, c)] / rows[p] / q[p, c]) for p, c in pool) / len(pool)
        assert math.isclose(got["kl"][0, b], kl, rel_tol=1e-10)
    assert np.all(got["kl"] > 0)


def test_expected_counts_of_an_acyclic_chain_are_its_counts():
    words = ["ab", "ac", "bc", "abc"]
    model = ngram.NgramModel(words, ["ab"], alpha=1.0)
    np.testing.assert_allclose(ngram.expected_counts(model.corpus_probs, 5), model.corpus_counts, atol=1e-14)
    tri = ngram.NgramModel(words + ["cab"], ["ab"], order=3, alpha=1.0)
    np.testing.assert_allclose(ngram.expected_counts(tri.corpus_probs, 5), tri.corpus_counts, atol=1e-14)
    # Cut at 2 letters: b ends as the first letter with P(b $ | b) = 1/3 after P(^ b) = 1/4, and
    # always as the second letter, reached by a b with probability 3/4 * 2/3: 1/12 + 1/2.
    cut = ngram.expected_counts(model.corpus_probs, 2).reshape(V, V)
    assert math.isclose(cut[2, 0], 1 / 12 + 1 / 2, rel_tol=1e-12)


def test_synthetic_counts_have_the_exact_expected_counts(tiny):
    """The sampler's mean counts per word against expected_counts (an exact recursion), with the
    tempered chain; also chi-square on the cell counts of one large sample."""
    rng = np.random.default_rng(11)
    model = ngram.NgramModel(TINY, ["ab"], alpha=0.3, tau=0.6, max_len=6)
    state = model.fit(model.sample_real(rng, 20, (1, 1)), None, np.ones((1, 1)))
    syn = model.sample_synthetic(rng, state, 50, (1, 16000))[0] / 50  # (R, cells)
    exact = ngram.expected_counts(ngram.temper(state[1][0, 0], 0.6), 6)
    top = np.argsort(exact)[-6:]
    assert_mc_matches(syn[:, top].mean(axis=0), syn[:, top].std(axis=0, ddof=1) / np.sqrt(syn.shape[0]),
                      exact[top], "synthetic counts")
    big = model.sample_synthetic(rng, state, 100_000, (1, 1))[0, 0]
    e = exact * 100_000
    keep = e > 5
    chi2 = ((big[keep] - e[keep]) ** 2 / e[keep]).sum()
    assert_pvalue_above(stats.chi2.sf(chi2, keep.sum() - 1), 1e-6, "tempered chain")
    # The untempered chain's expected counts are rejected: the test sees the temperature.
    e1 = ngram.expected_counts(state[1][0, 0], 6) * 100_000
    keep1 = e1 > 5
    assert_pvalue_below(stats.chi2.sf(((big[keep1] - e1[keep1]) ** 2 / e1[keep1]).sum(), keep1.sum() - 1), 1e-12,
                        "untempered chain")


def test_temperature_and_top_k_sampling_frequencies():
    """First letters of words sampled at tau = 0.5 against p^2 / sum p^2 by chi-square; the
    untempered frequencies are rejected. Top-k keeps exactly the k likeliest first letters."""
    p = np.full((V, V), 1.0 / V)
    first = np.array([0.0] + list(np.linspace(1, 3, 26)))
    p[0] = first / first.sum()
    words = ngram.sample_words(np.random.default_rng(5), p, 40_000, max_len=1, tau=0.5)
    obs = np.bincount([ngram.ALPHABET.index(x[0]) for x in words], minlength=26)
    tempered = first[1:] ** 2 / np.sum(first[1:] ** 2)
    assert_pvalue_above(stats.chisquare(obs, 40_000 * tempered).pvalue, 1e-6, "first letters at tau")
    assert_pvalue_below(stats.chisquare(obs, 40_000 * first[1:] / first[1:].sum()).pvalue, 1e-10, "untempered")
    words = ngram.sample_words(np.random.default_rng(6), p, 2000, max_len=1, top_k=3)
    assert {x[0] for x in words} == {"x", "y", "z"}
    np.testing.assert_allclose(ngram.temper(p, 1.0), p)


def test_guide_table_sampler_is_exact_on_bucket_edges():
    """Cumulative probabilities exactly on the 256-bucket edges and inside one bucket."""
    p = np.zeros((3, V))
    p[0, :4] = [0.25, 0.25, 0.25, 0.25]
    p[1, [0, 5, 6]] = [1 / 256, 1 / 512, 1 - 3 / 512]
    p[2, 26] = 1.0
    sampler = ngram._Sampler(p)
    rng = np.random.default_rng(2)
    rows = np.repeat(np.arange(3), 200_000)
    sym = sampler.draw(rng, rows).reshape(3, -1)
    assert set(np.unique(sym[0])) == {0, 1, 2, 3} and set(np.unique(sym[1])) == {0, 5, 6}
    assert np.all(sym[2] == 26)
    for r in range(2):
        obs = np.bincount(sym[r], minlength=V)
        keep = p[r] > 0
        assert_pvalue_above(stats.chisquare(obs[keep], 200_000 * p[r][keep]).pvalue, 1e-6, "bucket edges")


def test_sympy_first_order_limit_is_v_and_counts_are_reproduced():
    assert sp.simplify(ngram.count_limit_expr() - theory.limiting_error_expr()) == 0
    assert ngram.flow_unbiasedness_expr() == sp.zeros(3, 3)


@pytest.fixture(scope="module")
def words_model():
    train, held = ngram.load_corpus()
    return ngram.NgramModel(train, held, alpha=0.1)


def test_the_word_list_and_its_split(words_model):
    words = ngram.load_words()
    assert len(words) == 63875 and len(set(words)) == len(words)
    train, held = ngram.load_corpus()
    assert len(held) == round(0.2 * len(words)) and not set(train) & set(held)
    assert sorted(train + held) == sorted(words)
    assert ngram.load_corpus()[1][:5] == held[:5]
    # The pool's chain reproduces the pool's counts (flow conservation), up to the cut at 60 letters.
    ec = ngram.expected_counts(words_model.corpus_probs, 60)
    np.testing.assert_allclose(ec, words_model.corpus_counts, atol=1e-3)


def test_loop_is_seeded_and_the_fully_synthetic_loop_drifts(words_model):
    a = lib.run_loop(words_model, [0.0, 1.0], 60, 60, 8, 20, seed=4)
    b = lib.run_loop(words_model, [0.0, 1.0], 60, 60, 8, 20, seed=4)
    for name in words_model.metrics:
        np.testing.assert_array_equal(a.values[name], b.values[name])
    kl = a.mean("kl")
    assert kl[-1, 0] > 1.5 * kl[0, 0]  # w = 0 drifts away from the corpus
    # w = 1: every generation is a fresh one-shot fit, as good as generation 0.
    assert_z_within((kl[1:, 1].mean() - kl[0, 1]) / a.sem("kl")[0, 1], "w = 1 is a fresh fit")


def test_real_counts_are_unbiased(words_model):
    rng = np.random.default_rng(8)
    real = words_model.sample_real(rng, 40, (1, 12000))[0] / 40
    top = np.argsort(words_model.corpus_counts)[-5:]
    assert_mc_matches(real[:, top].mean(axis=0), real[:, top].std(axis=0, ddof=1) / np.sqrt(12000),
                      words_model.corpus_counts[top], "real counts")


def test_mean_field_temperature_lowers_entropy(words_model):
    cold = ngram.NgramModel(words_model.train[:3000], words_model.heldout[:100], alpha=0.1, tau=0.7)
    c = ngram.mean_field_counts(cold, [0.0, 0.5, 1.0], 200, generations=60)
    ent = cold.evaluate((c, ngram.smoothed(c, 200, cold.alpha)))["entropy"]
    assert ent[0] < ent[1] < ent[2]
    warm = ngram.NgramModel(words_model.train[:3000], words_model.heldout[:100], alpha=1e-8, max_len=100)
    np.testing.assert_allclose(ngram.mean_field_counts(warm, [0.0, 0.5], 200, generations=20),
                               np.broadcast_to(warm.corpus_counts, (2, warm.cells)), atol=1e-4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(train=[]), "train is empty"),
    (dict(train="abc"), "list of words"),
    (dict(train=["Abc"]), "lowercase"),
    (dict(train=["ab", "it's"]), "lowercase"),
    (dict(train=["ab", 3]), "lowercase"),
    (dict(heldout=[""]), "lowercase"),
    (dict(alpha=0.0), "alpha must be > 0"),
    (dict(alpha=-1.0), "alpha"),
    (dict(alpha=True), "alpha"),
    (dict(tau=0.0), "tau must be > 0"),
    (dict(tau="1"), "tau"),
    (dict(top_k=0), "top_k"),
    (dict(order=4), "order"),
    (dict(order=True), "order"),
    (dict(max_len=0), "max_len"),
])
def test_bad_input_is_refused(kwargs, match):
    args = dict(train=["ab", "b"], heldout=["ab"]) | kwargs
    with pytest.raises(ValueError, match=match):
        ngram.NgramModel(**args)


def test_bad_loop_input_is_refused(tiny):
    with pytest.raises(ValueError, match=r"w must lie in \[0, 1\]"):
        lib.run_loop(tiny, [0.5, 1.2], 5, 5, 2, 2)
    with pytest.raises(ValueError, match="m"):
        lib.run_loop(tiny, 0.5, 5, 0, 2, 2)  # k = n / m infinite: m must be >= 1
    with pytest.raises(ValueError, match="n"):
        lib.run_loop(tiny, 0.5, -5, 5, 2, 2)
    with pytest.raises(ValueError, match="count"):
        ngram.sample_words(np.random.default_rng(0), tiny.corpus_probs, 0)
    with pytest.raises(ValueError, match="heldout_fraction"):
        ngram.load_corpus(heldout_fraction=1.0)


def test_encode_matches_a_loop():
    for order in (1, 2, 3):
        cells = ngram.encode(TINY, order)
        for i, x in enumerate(TINY):
            expect = [cell(ctx, c) for (ctx, c) in _tokens(x, order)]
            assert list(cells[i, :len(expect)]) == expect
            assert np.all(cells[i, len(expect):] == V ** order)


def _tokens(x, order):
    ctx = (0,) * (order - 1)
    for c in symbols(x):
        yield ctx, c
        ctx = (ctx + (c,))[1:] if order > 1 else ()


def test_one_shot_count_error_against_simulation(tiny):
    rng = np.random.default_rng(9)
    real = tiny.sample_real(rng, 5, (1, 20000))[0] / 5
    err = np.sum((real - tiny.corpus_counts) ** 2, axis=-1)
    assert_mc_matches(err.mean(), err.std(ddof=1) / np.sqrt(err.size), tiny.one_shot_count_error(5), "one shot")


def test_trajectory_and_argmin(words_model):
    fits = ngram.trajectory(words_model, [0.0, 1.0], 30, 30, keep=[0, 3], seed=1)
    assert sorted(fits) == [0, 3] and fits[3].shape == (2, V, V)
    np.testing.assert_array_equal(fits[0][0], fits[0][1])
    with pytest.raises(ValueError, match="values"):
        ngram.argmin_bootstrap(np.ones((2, 3)), [0.1, 0.2, 0.3])
