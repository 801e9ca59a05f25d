"""Words that compare, computed from the numbers they describe.

A sentence such as "the simulation lies a factor 2.5 above the theory" is only true for the run
that printed it. The book never types such a word by hand: a chapter either glues the phrase
made here from the computed values (so a rerun with other numbers changes the words with them),
or states the claim in a hidden cell with :func:`claim`, so a run in which it stops holding fails
(the notebook raises, the strict build and the notebook tests fail).

Every function returns a :class:`Phrase`, a ``str``: ``glue("name", phrase, display=False)`` and
``{glue:text}`name``` put the words into the prose exactly as they are.

Examples
--------
>>> from lib import prose
>>> prose.factor(2.5, 1.0)
'a factor 2.5 above'
>>> prose.factor(0.4, 1.0)
'a factor 2.5 below'
>>> prose.factor(1.0, 1.0)
'equal to'
>>> prose.relative(1.19, 1.0)
'19% above'
>>> prose.more_or_less(0.026, 0.024, more="farther from", less="closer to")
'farther from'
>>> prose.bound(4.02)
'4.1'
>>> prose.count(3, "departure")
'three departures'
>>> prose.claim(0.667 > 0.5, "the first Kalman weight is above naive pooling")
'the first Kalman weight is above naive pooling'
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["Phrase", "ClaimError", "claim", "factor", "relative", "more_or_less", "count",
           "number_word", "bound"]


class Phrase(str):
    """A piece of prose computed from numbers.

    Its ``repr`` is the ordinary quoted one on purpose: ``{glue:text}`` reads a glued value's
    text/plain with ``ast.literal_eval`` (to drop a string's quotes), so a quoted repr comes back
    as exactly this text, while an unquoted one would be evaluated as Python: "48,842" would
    print as the tuple "(48, 842)" and "0.10" as "0.1".
    """


class ClaimError(AssertionError):
    """A sentence of the book no longer holds for the numbers of this run."""


def _finite(value, name: str) -> float:
    """A real, finite number (Python or NumPy, 0-d arrays included); never a string or a bool."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or not (
            isinstance(value, numbers.Real) or getattr(value, "shape", None) == ()):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _significant(x: float, digits: int) -> str:
    """``x >= 0`` to ``digits`` significant digits, without an exponent below one million
    (``100`` and ``19`` stay as they are; ``8.3e+08`` keeps its exponent)."""
    if x == 0:
        return "0"
    if x >= 1e6:
        return f"{x:.{digits}g}"
    rounded = round(x, digits - 1 - math.floor(math.log10(x)))
    if rounded >= 10 ** (digits - 1):
        return f"{rounded:.0f}"
    return f"{rounded:.{digits}g}"


def claim(condition, statement: str) -> Phrase:
    """Assert that ``statement`` (a sentence of the book) holds; return it as a :class:`Phrase`.

    Raises :class:`ClaimError` naming the sentence when ``condition`` is false, so a notebook
    whose numbers no longer support its words fails to run. ``condition`` must be a plain or
    NumPy boolean (not an array: say ``np.all(...)`` or ``np.any(...)`` explicitly).
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"statement must be a non-empty sentence, got {statement!r}")
    if not isinstance(condition, bool):
        if getattr(condition, "shape", ()) != () or not hasattr(condition, "__bool__"):
            raise ValueError(f"condition must be a single boolean, got {condition!r}")
        condition = bool(condition)
    if not condition:
        raise ClaimError(f"the book says '{statement}', and this run's numbers contradict it")
    return Phrase(statement)


def _digits(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"digits must be an integer >= 1 (significant digits), got {digits!r}")
    return int(digits)


def factor(value, reference, *, digits: int = 2, above: str = "above", below: str = "below",
           equal: str = "equal to") -> Phrase:
    """How many times ``value`` lies above or below a positive ``reference``: ``"a factor 2.5
    above"`` when value/reference = 2.5, ``"a factor 2.5 below"`` when it is 0.4.

    The factor is always at least 1 and printed to ``digits`` significant digits; when it rounds
    to 1 the phrase is ``equal``. Both numbers must be positive and finite.
    """
    value, reference = _finite(value, "value"), _finite(reference, "reference")
    digits = _digits(digits)
    if value <= 0 or reference <= 0:
        raise ValueError(f"value and reference must be positive, got {value!r} and {reference!r}")
    ratio = value / reference
    size = ratio if ratio >= 1 else 1 / ratio
    text = _significant(size, digits)
    if float(text) == 1:
        return Phrase(equal)
    return Phrase(f"a factor {text} {above if ratio > 1 else below}")


def relative(value, reference, *, digits: int = 2, above: str = "above", below: str = "below",
             equal: str = "equal to") -> Phrase:
    """The relative difference of ``value`` from a positive ``reference`` in per cent, with its
    direction: ``"19% above"``, ``"2.6% below"``; ``equal`` when it rounds to zero."""
    value, reference = _finite(value, "value"), _finite(reference, "reference")
    digits = _digits(digits)
    if reference <= 0:
        raise ValueError(f"reference must be positive, got {reference!r}")
    pct = 100 * (value - reference) / reference
    text = _significant(abs(pct), digits)
    if float(text) == 0:
        return Phrase(equal)
    return Phrase(f"{text}% {above if pct > 0 else below}")


def more_or_less(value, reference, *, more: str, less: str) -> Phrase:
    """``more`` if ``value > reference``, ``less`` if ``value < reference``; equal values raise,
    because neither word would be true."""
    value, reference = _finite(value, "value"), _finite(reference, "reference")
    if value == reference:
        raise ClaimError(f"value and reference are equal ({value!r}): neither '{more}' nor '{less}'")
    return Phrase(more if value > reference else less)


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve")


def number_word(n) -> Phrase:
    """A count in words for 0 to 12 ("no", "one", ..., "twelve"), digits above."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return Phrase(_WORDS[n] if n < len(_WORDS) else str(int(n)))


def count(n, noun: str, plural: str | None = None) -> Phrase:
    """``"three departures"``, ``"one departure"``, ``"no departures"``: a count and its noun."""
    word = number_word(n)
    for name, text in (("noun", noun), ("plural", plural)):
        if (text is not None or name == "noun") and (not isinstance(text, str) or not text.strip()):
            raise ValueError(f"{name} must be a non-empty word, got {text!r}")
    return Phrase(f"{word} {noun if n == 1 else (plural or noun + 's')}")


def bound(value, digits: int = 2) -> Phrase:
    """An upper bound on ``value >= 0`` to ``digits`` significant digits, rounded *up*, for
    sentences such as "every point lies within {bound} standard errors": ``bound(4.02)`` is
    ``4.1``, never the false ``4.0`` that ordinary rounding prints."""
    value = _finite(value, "value")
    if value < 0:
        raise ValueError(f"value must be >= 0, got {value!r}")
    digits = _digits(digits)
    if value == 0:
        return Phrase("0")
    scale = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    up = math.ceil(value / scale - 1e-9) * scale
    if up < value:  # guard the rounding of the division
        up += scale
    decimals = max(0, digits - 1 - math.floor(math.log10(up)))
    return Phrase(f"{up:.{decimals}f}")
