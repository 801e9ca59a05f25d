"""A character-level n-gram language model in the weighted loop, on a real English word list.

Words are modelled one at a time, as in a name generator: a word ``x_1 ... x_L`` over the
alphabet ``a-z`` is the symbol sequence ``^ ... ^ x_1 ... x_L $`` (``order - 1`` start symbols
``^``, one end symbol ``$``; both are the boundary symbol 0, letters are 1..26, ``V = 27``
symbols). An order-q model gives every *context* (the previous q - 1 symbols) a distribution
``Q(c | ctx)`` over the next symbol; a *cell* is a (context, symbol) pair, ``V**q`` of them.

The weighted loss ``w * (mean real loss) + (1 - w) * (mean synthetic loss)`` for the negative
log-likelihood per word is minimised by the weighted counts per word (eq. ``eq-ngram-counts`` of
the chapter)::

    C_t(cell) = (w / n) sum_{real words i} c_i(cell) + ((1 - w) / m) sum_{synthetic j} c_j(cell),

with ``c_i(cell)`` the number of times word i uses the cell; add-alpha smoothing adds ``alpha``
pseudo-counts per cell on the scale of the n real words (a real word has count 1 at w = 1)::

    Q_t(c | ctx) = (n C_t(ctx, c) + alpha) / (n sum_c' C_t(ctx, c') + V alpha).

The *truth* is the training pool, a fixed set of real words: real samples are n words drawn from
it uniformly with replacement, so the corpus's own n-gram chain ``P`` (unsmoothed pool counts) is
the distribution the loop should recover. Synthetic samples are m words sampled from the previous
fit ``Q_{t-1}``, optionally at a temperature ``tau`` (``Q^(1/tau)`` renormalised per context)
and/or top-k (only the k likeliest symbols of each context): with ``tau != 1`` or top-k the
synthetic words do not come from the fitted model. Words longer than ``max_len`` letters are cut
and ended there.

Everything is vectorised over the batch (weights x replications): counts have shape
``(W, R, V**q)`` and conditional probabilities ``(W, R, V**(q-1), V)`` (batch first, like
:class:`lib.nonparametric.EmpiricalCDFModel`).

Metrics (:meth:`NgramModel.evaluate`), all exact functions of the fit:

* ``"kl"``: KL(P || Q_t) in bits per character: the cross-entropy of the training pool under the
  fit minus the pool's own entropy, per symbol (letters and end symbols);
* ``"xent"``: cross-entropy of the held-out words under the fit, bits per character;
* ``"count_error"``: sum over cells of (C_t - C)^2, C the pool's counts per word (the quantity
  of {prf:ref}`prop-ngram-first-order`);
* ``"entropy"``, ``"length"``: the fit's own entropy per character and mean word length, from
  its exact expected counts (:func:`expected_counts`);
* ``"support"``: how many cells the fit has seen (positive weighted count): rare n-grams vanish.

Theory: :func:`cell_error_terms` and :func:`count_limit_expr` (SymPy) give the first-order
V(w, k) for the counts; :func:`flow_unbiasedness_expr` proves that the chain fitted to counts
reproduces them in expectation; :func:`mean_field_counts` is the deterministic (infinite-sample)
fixed point with smoothing and temperature, the bias that V(w, k) leaves out.

Examples
--------
>>> import numpy as np
>>> from lib.generative import ngram
>>> model = ngram.NgramModel(["ab", "ba", "abba", "b"], ["ab"], alpha=0.5)
>>> model.vocabulary, model.cells
(27, 729)
>>> rng = np.random.default_rng(0)
>>> real = model.sample_real(rng, 5, (1, 2))
>>> real.shape, float(real[0, 0, :3].sum())  # raw counts; the 3 start cells sum to n = 5
((1, 2, 729), 5.0)
>>> state = model.fit(real, None, np.ones((1, 1)))
>>> syn = model.sample_synthetic(rng, state, 4, (3, 2))
>>> state = model.fit(real, syn, np.full((3, 1), 0.5))
>>> {name: v.shape for name, v in model.evaluate(state).items()}["kl"]
(3, 2)
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .. import data, theory, validate

__all__ = ["ALPHABET", "WORDS_FILE", "WORDS_SHA256", "load_words", "load_corpus", "encode",
           "word_counts", "NgramModel", "temper", "expected_counts", "sample_words",
           "cell_error_terms", "count_limit_expr", "flow_unbiasedness_expr", "smoothed", "mean_field_counts",
           "trajectory", "argmin_bootstrap"]

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
WORDS_FILE = "words/american-english.gz"
# SHA-256 of the decompressed bytes: /usr/share/dict/american-english of wamerican 2020.12.07-2.
WORDS_SHA256 = "9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32"
_WORD = re.compile(r"[a-z]+")
_GUIDE = 256  # buckets of the sampler's guide table (a power of two: u * 256 is exact)


# --- the corpus ----------------------------------------------------------------------------

def load_words() -> list[str]:
    """The words of the shipped list (data/words) made of lowercase ASCII letters only, in file
    order (63,875 of 104,334 lines: capitals, apostrophes and accents are left out).

    The gzip file is verified by :func:`lib.data.path`, its decompressed bytes against
    :data:`WORDS_SHA256`.
    """
    file = data.path(WORDS_FILE)
    try:
        raw = gzip.decompress(file.read_bytes())
    except (OSError, EOFError) as err:
        raise ValueError(f"{file} is not a readable gzip file ({err})") from None
    if hashlib.sha256(raw).hexdigest() != WORDS_SHA256:
        raise OSError(f"{file} does not decompress to the book's word list; restore it from the repository")
    return [x for x in raw.decode("utf-8").split("\n") if _WORD.fullmatch(x)]


def load_corpus(heldout_fraction: float = 0.2, seed: int = 0) -> tuple[list[str], list[str]]:
    """(training pool, held-out words): the words of :func:`load_words` shuffled by
    ``numpy.random.default_rng(seed)`` and split, the held-out part ``heldout_fraction`` of them."""
    f = validate.non_negative(heldout_fraction, "heldout_fraction")
    if not 0 < f < 1:
        raise ValueError(f"heldout_fraction must lie strictly between 0 and 1, got {heldout_fraction!r}")
    words = load_words()
    order = np.random.default_rng(seed).permutation(len(words))
    cut = int(round(f * len(words)))
    return [words[i] for i in order[cut:]], [words[i] for i in order[:cut]]


def _check_words(words, name: str) -> list[str]:
    if isinstance(words, (str, bytes)):
        raise ValueError(f"{name} must be a list of words, not a single string")
    try:
        words = list(words)
    except TypeError:
        raise ValueError(f"{name} must be a list of words, got {words!r}") from None
    if not words:
        raise ValueError(f"{name} is empty: the model needs at least one word")
    bad = [x for x in words if not isinstance(x, str) or not _WORD.fullmatch(x)]
    if bad:
        raise ValueError(f"{name} must hold non-empty words of lowercase letters a-z only, got {bad[0]!r}")
    return words


def encode(words, order: int) -> np.ndarray:
    """Cell indices of each word's symbols, shape (len(words), max length + 1), padded with the
    value ``V**order`` (a dummy cell). Cell of symbol c after context ctx: ``ctx * V + c``, the
    context being the previous ``order - 1`` symbols read as a base-V number."""
    words = _check_words(words, "words")
    V = len(ALPHABET) + 1
    ctx_size = V ** (order - 1)
    length = max(len(x) for x in words)
    sym = np.zeros((len(words), length + 1), dtype=np.int64)  # letters, then 0 (the end)
    letters = np.frombuffer("".join(words).encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("a") + 1
    sizes = np.array([len(x) for x in words])
    rows = np.repeat(np.arange(len(words)), sizes)
    cols = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    sym[rows, cols] = letters
    ctx = np.zeros(len(words), dtype=np.int64)
    out = np.full((len(words), length + 1), V ** order, dtype=np.int64)
    for j in range(length + 1):
        live = j <= sizes
        out[live, j] = ctx[live] * V + sym[live, j]
        ctx = (ctx * V + sym[:, j]) % ctx_size
    return out


def word_counts(words, order: int = 2) -> np.ndarray:
    """Total n-gram counts of a list of words, shape (V**order,) (integers as floats)."""
    cells = encode(words, order)
    V = len(ALPHABET) + 1
    return np.bincount(cells.ravel(), minlength=V ** order + 1)[:V ** order].astype(float)


# --- sampling --------------------------------------------------------------------------------

def temper(probs: np.ndarray, tau: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """The sampler's distribution: ``probs ** (1 / tau)`` renormalised over the last axis, after
    keeping only the ``top_k`` likeliest symbols of each row (ties broken by symbol order).
    ``tau = 1`` and ``top_k = None`` return ``probs`` itself."""
    tau = validate.non_negative(tau, "tau")
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    p = np.asarray(probs, dtype=float)
    if top_k is not None:
        top_k = validate.positive_int(top_k, "top_k")
        if top_k < p.shape[-1]:
            rank = np.argsort(np.argsort(-p, axis=-1, kind="stable"), axis=-1, kind="stable")
            p = np.where(rank < top_k, p, 0.0)
    if tau != 1.0:
        with np.errstate(divide="ignore"):
            logp = np.log(p) / tau
        logp -= logp.max(axis=-1, keepdims=True)
        p = np.exp(logp)
    if tau != 1.0 or top_k is not None:
        p = p / p.sum(axis=-1, keepdims=True)
    return p


class _Sampler:
    """Inverse-CDF sampling from many categorical rows at once, with a guide table.

    Row r has cumulative probabilities ``cdf[r]``; a draw is ``#{i: cdf_i <= u}`` for u uniform on
    [0, 1) (a symbol of probability 0 is never drawn). The guide table splits [0, 1) into 256
    buckets: where no cumulative value falls in a bucket, every u in it gives the same symbol,
    read from the table (one byte); the few draws in a bucket that holds a jump are resolved by
    the full comparison. Exact, since u * 256 is exact in floating point.
    """

    def __init__(self, probs: np.ndarray):
        V = probs.shape[-1]
        self.cdf = np.cumsum(probs.reshape(-1, V), axis=-1)
        self.cdf[:, -1] = 1.0
        rows = self.cdf.shape[0]
        # cdf_i lies in bucket key_i = floor(256 cdf_i). In a bucket j that holds no key,
        # #{i: cdf_i <= u} = #{i: key_i < j} for every u in it, a running maximum of i + 1 placed
        # at key_i + 1 (the last i of each run of equal keys; keys are sorted in each row).
        key = np.floor(self.cdf[:, :-1] * _GUIDE).astype(np.int64)
        last = np.ones(key.shape, dtype=bool)
        last[:, :-1] = key[:, :-1] != key[:, 1:]
        r, i = np.nonzero(last)
        mark = np.zeros((rows, _GUIDE + 2), dtype=np.uint8)  # key 256: cdf_i = 1 before the last symbol
        mark[r, key[r, i] + 1] = i + 1
        base = np.maximum.accumulate(mark, axis=1)[:, :_GUIDE]
        hard = np.zeros((rows, _GUIDE + 1), dtype=bool)
        hard[r, key[r, i]] = True  # bucket key_i holds a jump: resolve those draws in full
        self.table = np.where(hard[:, :_GUIDE], np.uint8(255), base).ravel()

    def draw(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        # u = (53 random bits) / 2^53, as numpy makes its doubles; its bucket is the top 8 bits.
        bits = rng.bit_generator.random_raw(rows.size) >> np.uint64(11)
        sym = self.table[rows * _GUIDE + (bits >> np.uint64(45)).astype(np.int64)]
        hard = np.flatnonzero(sym == 255)
        if hard.size:
            u = bits[hard].astype(float) * 2.0 ** -53
            sym[hard] = np.sum(self.cdf[rows[hard]] <= u[:, None], axis=1)
        return sym


def _sample(rng, probs, m, max_len, record=False):
    """m words from each batch element's chain ``probs`` (B, V**(q-1), V): their total counts
    (B, V**q) and, if ``record``, the symbols (B, m, max_len + 1) (0 after the end)."""
    B, ctx_size, V = probs.shape
    sampler = _Sampler(probs)
    base = np.repeat(np.arange(B, dtype=np.int64) * ctx_size, m)  # batch * ctx_size
    ctx = np.zeros(B * m, dtype=np.int64)
    word = np.arange(B * m) if record else None
    found = []
    symbols = np.zeros((B * m, max_len + 1), dtype=np.int8) if record else None
    for step in range(max_len + 1):
        row = base + ctx
        if step < max_len:
            sym = sampler.draw(rng, row)
        else:
            sym = np.zeros(row.size, dtype=np.uint8)  # cut at max_len letters: the word ends
        found.append(row * V + sym)
        if record:
            symbols[word, step] = sym
        go = np.flatnonzero(sym)
        if go.size == 0:
            break
        base, sym = base[go], sym[go]
        if record:
            word = word[go]
        ctx = sym.astype(np.int64) if ctx_size == V else (ctx[go] * V + sym) % ctx_size
    counts = np.bincount(np.concatenate(found), minlength=B * ctx_size * V).reshape(B, ctx_size * V)
    return counts.astype(float), (None if symbols is None else symbols.reshape(B, m, max_len + 1))


def sample_words(rng: np.random.Generator, probs: np.ndarray, count: int, max_len: int = 60,
                 tau: float = 1.0, top_k: int | None = None) -> list[str]:
    """``count`` words sampled from one fitted chain ``probs`` (V**(q-1), V), at temperature
    ``tau`` and top-k as in the loop.

    Examples
    --------
    >>> import numpy as np
    >>> from lib.generative import ngram
    >>> model = ngram.NgramModel(["ab"] * 3, ["ab"], alpha=1e-9)
    >>> state = model.fit(model.sample_real(np.random.default_rng(1), 10, (1, 1)), None, np.ones((1, 1)))
    >>> ngram.sample_words(np.random.default_rng(2), state[1][0, 0], 3)
    ['ab', 'ab', 'ab']
    """
    count = validate.positive_int(count, "count")
    max_len = validate.positive_int(max_len, "max_len")
    p = temper(np.asarray(probs, dtype=float), tau, top_k)
    _, sym = _sample(rng, p[None], count, max_len, record=True)
    letters = np.array(["", *ALPHABET])
    return ["".join(letters[row[:np.argmax(row == 0)]]) for row in sym[0]]


def expected_counts(probs: np.ndarray, max_len: int) -> np.ndarray:
    """Exact expected counts per word of the sampler ``probs`` (..., V**(q-1), V), shape
    (..., V**q): the context occupancy v_s is pushed through the chain for s = 0..max_len and the
    word is ended at step max_len, exactly as the sampler does.

    Examples
    --------
    >>> import numpy as np
    >>> from lib.generative import ngram
    >>> V = 27
    >>> p = np.zeros((V, V)); p[:, 0] = 1.0; p[0] = 0.5; p[0, 1:] = 0.5 / 26  # one letter, or none
    >>> c = ngram.expected_counts(p, 30)
    >>> round(float(c[:V].sum()), 12), round(float(c.reshape(V, V)[1:, 0].sum()), 12)  # one start; half end after a letter
    (1.0, 0.5)
    """
    p = np.asarray(probs, dtype=float)
    *batch, ctx_size, V = p.shape
    hi = V if ctx_size > 1 else 1  # context = (oldest symbol, the rest); the next is (the rest, symbol)
    lo = ctx_size // hi
    p4 = p.reshape(*batch, hi, lo, V)
    pt = np.swapaxes(p4, -3, -2)  # (..., lo, hi, V): one matrix product per lo below
    v = np.zeros((*batch, lo, 1, hi))  # occupancy of context (hi, lo), stored by lo
    v[..., 0, 0, 0] = 1.0  # every word starts in the all-boundary context
    visits = np.zeros_like(v)  # expected visits of each context before step max_len
    for step in range(max_len):
        visits += v
        nxt = v @ pt  # (..., lo, 1, V): flow into context (lo, symbol)
        nxt[..., 0] = 0.0  # symbol 0 ends the word
        if ctx_size == 1:
            v = nxt.sum(axis=-1, keepdims=True)
        else:
            v = np.swapaxes(nxt.reshape(*batch, hi, lo), -2, -1)[..., None, :]
    visits = np.swapaxes(visits[..., 0, :], -2, -1)  # (..., hi, lo)
    v = np.swapaxes(v[..., 0, :], -2, -1)
    total = visits[..., None] * p4
    total[..., 0] += v  # cut at max_len letters: the remaining words end there
    return total.reshape(*batch, ctx_size * V)


# --- the model -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NgramModel:
    """Character n-gram model of words for :func:`lib.engine.run_loop`; see the module docstring.

    Parameters
    ----------
    train, heldout : list of str
        The training pool (the truth the real samples are drawn from) and the held-out words of
        the cross-entropy; lowercase words of letters a-z.
    order : int
        n-gram order q (2: bigrams, a letter given the previous one).
    alpha : float
        Add-alpha pseudo-count per cell, on the scale of the n real words (> 0).
    tau : float
        Sampling temperature of the synthetic words (1: from the fitted model).
    top_k : int or None
        Keep only the k likeliest next symbols when sampling synthetic words.
    max_len : int
        Longest word the sampler produces (longer ones are cut and ended).

    A fitted state is ``(counts, probs)``: the weighted counts per word C_t, shape (W, R, V**q),
    and the smoothed conditionals Q_t, shape (W, R, V**(q-1), V).
    """

    train: list = field(repr=False)
    heldout: list = field(repr=False)
    order: int = 2
    alpha: float = 0.1
    tau: float = 1.0
    top_k: int | None = None
    max_len: int = 60
    metrics: tuple[str, ...] = field(default=("kl", "xent", "count_error", "entropy", "length", "support"),
                                     init=False)

    def __post_init__(self):
        train = _check_words(self.train, "train")
        heldout = _check_words(self.heldout, "heldout")
        order = validate.positive_int(self.order, "order")
        if order > 3:
            raise ValueError(f"order must be 1, 2 or 3 (V**order cells per replication), got {order!r}")
        alpha = validate.non_negative(self.alpha, "alpha")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0 (unseen n-grams need probability), got {self.alpha!r}")
        temper(np.ones(2) / 2, self.tau, self.top_k)  # validates tau and top_k
        max_len = validate.positive_int(self.max_len, "max_len")
        object.__setattr__(self, "train", train)
        object.__setattr__(self, "heldout", heldout)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "max_len", max_len)
        object.__setattr__(self, "_pool", encode(train, order))
        pool = word_counts(train, order)
        held = word_counts(heldout, order)
        V = self.vocabulary
        rows = pool.reshape(-1, V).sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(rows > 0, pool.reshape(-1, V) / rows, 1.0 / V)
            logp = np.where(pool.reshape(-1, V) > 0, np.log2(p), 0.0).ravel()
        object.__setattr__(self, "_pool_counts", pool / len(train))  # C: counts per word
        object.__setattr__(self, "_pool_weight", pool / pool.sum())  # per character
        object.__setattr__(self, "_pool_entropy", float(-(self._pool_weight * logp).sum()))
        object.__setattr__(self, "_held_weight", held / held.sum())
        object.__setattr__(self, "_corpus_probs", p)

    @property
    def vocabulary(self) -> int:
        """V = 27: the boundary symbol and 26 letters."""
        return len(ALPHABET) + 1

    @property
    def cells(self) -> int:
        """V**order (context, symbol) cells."""
        return self.vocabulary ** self.order

    @property
    def corpus_counts(self) -> np.ndarray:
        """C: the training pool's n-gram counts per word, shape (V**order,)."""
        return self._pool_counts

    @property
    def corpus_probs(self) -> np.ndarray:
        """P: the pool's own (unsmoothed) conditionals, shape (V**(order-1), V); uniform rows for
        contexts the pool never visits."""
        return self._corpus_probs

    @property
    def corpus_entropy(self) -> float:
        """The pool's own entropy in bits per character (letters and end symbols) under P."""
        return self._pool_entropy

    def one_shot_count_error(self, n: int) -> float:
        """E sum_cells (C_hat - C)^2 for the counts per word C_hat of n real words: tr(Sigma) / n,
        Sigma the covariance of one word's count vector (exact, from the pool)."""
        n = validate.sample_size(n, "n")
        pool = self._pool
        flat = (np.arange(pool.shape[0])[:, None] * (self.cells + 1) + pool).ravel()
        _, per_word = np.unique(flat[pool.ravel() < self.cells], return_counts=True)
        second = float(np.sum(per_word.astype(float) ** 2)) / pool.shape[0]  # E |c(x)|^2
        return (second - float(self._pool_counts @ self._pool_counts)) / n

    def heldout_entropy(self) -> float:
        """Cross-entropy of the held-out words under the smoothed pool chain (alpha on the pool's
        scale): a floor for ``"xent"`` no n-word fit is expected to reach."""
        return float(self.evaluate(self.fit(self._pool_counts[None, None] * 1.0, None, np.ones((1, 1)),
                                            scale=len(self.train)))["xent"][0, 0])

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 100_000_000 // (48 * self.cells + 120 * (n + m)))  # about 100 MB per chunk

    def sample_real(self, rng, n, shape):
        """Raw n-gram counts (shape + (V**q,)) of n words drawn uniformly with replacement from
        the training pool."""
        n = validate.sample_size(n, "n")
        pool = self._pool
        idx = rng.integers(pool.shape[0], size=shape + (n,))
        size = int(np.prod(shape))
        cells = pool[idx.reshape(size, n)]  # (size, n, L)
        flat = (np.arange(size)[:, None, None] * (self.cells + 1) + cells).ravel()
        counts = np.bincount(flat, minlength=size * (self.cells + 1)).reshape(size, self.cells + 1)
        return counts[:, :self.cells].reshape(shape + (self.cells,)).astype(float)

    def sample_synthetic(self, rng, state, m, shape):
        """Raw n-gram counts of m words sampled from each fit ``Q_{t-1}`` at temperature ``tau``
        (and top-k)."""
        m = validate.sample_size(m, "m")
        probs = temper(np.broadcast_to(state[1], shape + state[1].shape[-2:]), self.tau, self.top_k)
        counts, _ = _sample(rng, probs.reshape((-1,) + probs.shape[-2:]), m, self.max_len)
        return counts.reshape(shape + (self.cells,))

    def fit(self, real, synthetic, w, scale=None):
        """Weighted counts per word and their add-alpha conditionals (module docstring).

        ``real`` and ``synthetic`` are raw counts; n and m are read off them as the counts of
        the end symbol (cells ``ctx * V + 0``: every word ends exactly once, a cut word too, at
        every order; the start cells would count every symbol at order 1). ``scale`` (default n)
        is the number of words alpha is measured against.
        """
        V = self.vocabulary
        n = real[..., ::V].sum(axis=-1, keepdims=True)
        per_real = real / n
        if synthetic is None:
            counts = per_real
        else:
            m = synthetic[..., ::V].sum(axis=-1, keepdims=True)
            wb = np.asarray(w, dtype=float)[..., None]
            counts = wb * per_real + (1 - wb) * (synthetic / m)
        scale = np.asarray(n if scale is None else scale, dtype=float)
        pseudo = (scale[..., None] if scale.ndim else scale) * counts.reshape(counts.shape[:-1] + (-1, V))
        pseudo = pseudo + self.alpha
        probs = pseudo / pseudo.sum(axis=-1, keepdims=True)
        return counts, probs

    def evaluate(self, state):
        counts, probs = state
        logq = np.log2(probs).reshape(probs.shape[:-2] + (-1,))
        kl = -(logq @ self._pool_weight) - self._pool_entropy
        xent = -(logq @ self._held_weight)
        err = np.sum((counts - self._pool_counts) ** 2, axis=-1)
        own = expected_counts(probs, self.max_len)  # the fit's own expected counts per word
        tokens = own.sum(axis=-1)
        ent = -np.sum(own * logq, axis=-1) / tokens
        return {"kl": kl, "xent": xent, "count_error": err, "entropy": ent, "length": tokens - 1.0,
                "support": np.count_nonzero(counts > 0, axis=-1).astype(float)}


def trajectory(model: NgramModel, w, n: int, m: int, keep, seed: int = 0) -> dict[int, np.ndarray]:
    """One run of the loop (one replication per weight, as :func:`lib.engine.run_loop` runs it)
    that keeps the fitted conditionals at the generations ``keep``: {t: array (W, V**(q-1), V)}.
    For showing words sampled from the fits; the errors come from :func:`lib.engine.run_loop`."""
    wv = np.atleast_1d(validate.weights(w))
    n, m = validate.sample_size(n, "n"), validate.sample_size(m, "m")
    keep = sorted({validate.positive_int(t + 1, "keep") - 1 for t in keep})
    rng = np.random.default_rng(np.random.SeedSequence(validate.positive_int(seed + 1, "seed") - 1))
    W = wv.size
    state = model.fit(model.sample_real(rng, n, (1, 1)), None, np.ones((1, 1)))
    state = tuple(np.broadcast_to(a, (W,) + a.shape[1:]) for a in state)
    out = {}
    for t in range(keep[-1] + 1):
        if t > 0:
            real = model.sample_real(rng, n, (1, 1))
            state = model.fit(real, model.sample_synthetic(rng, state, m, (W, 1)), wv[:, None])
        if t in keep:
            out[t] = np.array(state[1][:, 0])
    return out


def argmin_bootstrap(values, weights, boot: int = 1000, seed: int = 0):
    """The grid weight with the smallest mean of ``values`` (W, R) over replications, and a 95%
    percentile bootstrap interval for it (replications resampled jointly across weights, which
    share their real samples).

    Examples
    --------
    >>> import numpy as np
    >>> from lib.generative import ngram
    >>> e = np.array([[3.0, 3.2, 2.9], [1.0, 1.1, 0.9], [2.0, 2.1, 1.9]])
    >>> ngram.argmin_bootstrap(e, [0.2, 0.5, 0.8], boot=200)
    (0.5, (0.5, 0.5))
    """
    E = np.asarray(values, dtype=float)
    xs = np.asarray(weights, dtype=float)
    if E.ndim != 2 or E.shape[0] != xs.size or E.shape[1] < 2 or not np.all(np.isfinite(E)):
        raise ValueError(f"values must be a finite (W, R) array with R >= 2 and W = len(weights), got {E.shape}")
    boot = validate.positive_int(boot, "boot")
    rng = np.random.default_rng(seed)
    R = E.shape[1]
    idx = rng.integers(R, size=(boot, R))
    counts = np.bincount((idx + R * np.arange(boot)[:, None]).ravel(), minlength=boot * R).reshape(boot, R)
    draws = xs[np.argmin(counts @ E.T, axis=1)]
    best = float(xs[np.argmin(E.mean(axis=1))])
    return best, (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))


# --- theory ----------------------------------------------------------------------------------

sigma2 = sp.Symbol("sigma^2", positive=True)  # variance of one word's count in a cell (under P)
e_prev = sp.Symbol("e_{t-1}", nonnegative=True)  # previous generation's squared error in the cell


def cell_error_terms():
    """One cell's error C_t - C as three uncorrelated terms ``(coefficient, variance)``: the fresh
    real words (sigma^2 / n), the synthetic words around C_{t-1} (sigma^2 / m to first order, the
    cell's variance under the fit Q_{t-1} replaced by that under P) and the inherited error."""
    w, n, m = theory.w, theory.n, theory.m
    return [(w, sigma2 / n), (1 - w, sigma2 / m), (1 - w, e_prev)]


@lru_cache(maxsize=None)
def count_limit_expr():
    """The fixed point of the cell recursion over the one-shot error sigma^2 / n, with m = n / k:
    SymPy returns V(w, k) of :func:`lib.theory.limiting_error_expr`."""
    e = sp.Symbol("e", positive=True)
    rec = sum(c**2 * v for c, v in cell_error_terms()).subs(e_prev, e)
    (fixed,) = sp.solve(sp.Eq(e, rec), e)
    return sp.factor(sp.simplify((fixed / (sigma2 / theory.n)).subs(theory.m, theory.n / theory.k)))


@lru_cache(maxsize=None)
def flow_unbiasedness_expr():
    """Two letters a, b and the boundary 0, bigram counts C[i, j] per word that satisfy flow
    conservation (each letter entered as often as left, one start per word). The chain
    Q = C / row sums has expected counts per word ``v_i Q[i, j]`` with v the expected visits;
    returns the matrix of expected counts minus C, which SymPy simplifies to zero."""
    c = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"C_{'0ab'[i]}{'0ab'[j]}", positive=True))
    # Flow conservation fixes the two counts into 0 (the ends) and one start per word.
    c_a0, c_b0 = sp.symbols("C_a0 C_b0")
    ends = sp.solve([sp.Eq(c[0, 1] + c[1, 1] + c[2, 1], c_a0 + c[1, 1] + c[1, 2]),
                     sp.Eq(c[0, 2] + c[1, 2] + c[2, 2], c_b0 + c[2, 1] + c[2, 2])], [c_a0, c_b0])
    c[1, 0], c[2, 0] = ends[c_a0], ends[c_b0]
    c = c.subs(c[0, 0], 1 - c[0, 1] - c[0, 2])
    q = sp.Matrix(3, 3, lambda i, j: c[i, j] / sum(c[i, :]))
    # Expected visits: v_0 = 1 (the start), v_x = v_0 Q[0, x] + sum_y v_y Q[y, x] for letters x.
    va, vb = sp.symbols("v_a v_b")
    vis = sp.solve([sp.Eq(va, q[0, 1] + va * q[1, 1] + vb * q[2, 1]),
                    sp.Eq(vb, q[0, 2] + va * q[1, 2] + vb * q[2, 2])], [va, vb])
    v = sp.Matrix([1, vis[va], vis[vb]])
    return sp.simplify(sp.Matrix(3, 3, lambda i, j: v[i] * q[i, j]) - c)


def smoothed(counts: np.ndarray, scale, alpha: float) -> np.ndarray:
    """Add-alpha conditionals (..., V**(q-1), V) of counts per word (..., V**q) on the scale of
    ``scale`` words: (scale C(ctx, c) + alpha) / (scale sum_c' C(ctx, c') + V alpha)."""
    V = len(ALPHABET) + 1
    c = np.asarray(counts, dtype=float)
    pseudo = np.asarray(scale, dtype=float)[..., None] * c.reshape(c.shape[:-1] + (-1, V)) + alpha
    return pseudo / pseudo.sum(axis=-1, keepdims=True)


def mean_field_counts(model: NgramModel, w, n: int, generations: int = 200) -> np.ndarray:
    """The loop without sampling noise: C_t = w C + (1 - w) g(C_{t-1}) from C_0 = C, where g is
    the expected counts per word (:func:`expected_counts`) of the synthetic sampler of the fit to
    C_{t-1} (add-alpha on the scale of n words, then temperature and top-k). Returns C_T for each
    weight, shape (W, V**q).

    This is the first-order mean of the loop's counts (E g(C_{t-1}) ~ g(E C_{t-1})): with
    ``tau = 1`` and alpha -> 0 it stays at C (:func:`flow_unbiasedness_expr`); smoothing and
    temperature move it, and its squared distance to C is the bias that V(w, k) leaves out.

    Examples
    --------
    >>> import numpy as np
    >>> from lib.generative import ngram
    >>> model = ngram.NgramModel(["ab", "ac", "bc", "abc"], ["ab"], alpha=1e-9, max_len=5)
    >>> c = ngram.mean_field_counts(model, [0.0, 1.0], 100)
    >>> bool(np.abs(c - model.corpus_counts).max() < 1e-6)
    True
    """
    wv = np.atleast_1d(validate.weights(w))[:, None]
    n = validate.sample_size(n, "n")
    generations = validate.positive_int(generations, "generations")
    C = np.broadcast_to(model.corpus_counts, (wv.shape[0], model.cells))
    counts = C.copy()
    for _ in range(generations):
        g = expected_counts(temper(smoothed(counts, n, model.alpha), model.tau, model.top_k), model.max_len)
        counts = wv * C + (1 - wv) * g
    return counts
