"""The UCI Adult (census income) data, shipped in ``data/adult`` (``lib/_data/adult`` in the wheel;
see :mod:`lib.data`) and verified on load.

Becker, B. and Kohavi, R. (1996), Adult, UCI Machine Learning Repository, doi:10.24432/C5XW20,
CC BY 4.0. ``adult.data`` and ``adult.test`` together (48,842 rows) are the population of the
paper's real-data experiments (Fig. 10).

Unknown values are written "?" in the files. The paper's code reads them with
``na_values=" ?"`` and ``skipinitialspace=True``; after the leading space is skipped the field is
"?", which does not match " ?", so nothing is treated as missing and "?" is an ordinary category
(workclass then has 9 levels). ``load(missing="category")`` reproduces that; ``missing="drop"``
drops every row with a "?" (45,222 rows, the usual cleaned version).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data

__all__ = ["COLUMNS", "NUMERIC", "CATEGORICAL", "AdultData", "load", "DATA_DIR"]


def __getattr__(name):
    # DATA_DIR is looked up when it is used, so that importing lib never fails for want of data.
    if name == "DATA_DIR":
        return data.data_dir() / "adult"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}
COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
           "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
           "native_country", "income"]
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = [c for c in COLUMNS if c not in NUMERIC and c != "income"]


@dataclass(frozen=True)
class AdultData:
    """Columns by name: numeric columns as float arrays, categorical ones as string arrays;
    ``income`` is 1 for ">50K" and 0 for "<=50K"."""

    columns: dict

    def __getitem__(self, name):
        return self.columns[name]

    def __len__(self):
        return len(self.columns["income"])

    def frequencies(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(categories, population frequencies) of a categorical column, categories sorted."""
        cats, counts = np.unique(self.columns[column], return_counts=True)
        return cats, counts / counts.sum()

    def design(self, features, standardize: bool = False) -> np.ndarray:
        """A column of ones followed by the named numeric features (optionally standardised to
        mean 0 and standard deviation 1 over the rows)."""
        X = np.column_stack([self.columns[f] for f in features])
        if standardize:
            X = (X - X.mean(axis=0)) / X.std(axis=0)
        return np.column_stack([np.ones(len(X)), X])


def _read(name: str, data_dir: Path) -> list[str]:
    path = data_dir / f"{name}.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the Adult data ship with the repository in "
                                f"data/adult (see its README) and in the reader's bundle; restore it "
                                f"from either, or set {data.ENV_VAR} to a folder holding adult/")
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} is not a readable gzip file ({err}); restore it from the "
                         f"repository or the reader's bundle") from err
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{path} has been altered: SHA-256 of its content is {digest}, "
                         f"expected {SHA256[name]}")
    return raw.decode("ascii").splitlines()


def load(missing: str = "category", data_dir: Path | str | None = None) -> AdultData:
    """All 48,842 rows of adult.data and adult.test (or 45,222 with ``missing="drop"``)."""
    if missing not in ("category", "drop"):
        raise ValueError(f"missing must be 'category' (the paper's reading) or 'drop', got {missing!r}")
    data_dir = data.data_dir() / "adult" if data_dir is None else Path(data_dir)
    rows = []
    for name in ("adult.data", "adult.test"):
        for line in _read(name, data_dir):
            if not line.strip() or line.startswith("|"):  # blank lines; the test file's header
                continue
            fields = [f.strip() for f in line.split(",")]
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{name}: a row has {len(fields)} fields, expected {len(COLUMNS)}: {line!r}")
            rows.append(fields)
    table = np.array(rows, dtype=object)
    if missing == "drop":
        table = table[~np.any(table == "?", axis=1)]
    columns = {}
    for j, col in enumerate(COLUMNS):
        values = table[:, j]
        if col in NUMERIC:
            columns[col] = values.astype(float)
        elif col == "income":
            columns[col] = np.array([v.rstrip(".") == ">50K" for v in values], dtype=float)
        else:
            columns[col] = values.astype(str)
    return AdultData(columns)
