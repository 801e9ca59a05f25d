"""Where the book's data files are, wherever ``lib`` is installed, verified before use.

The data ship in the repository's ``data/`` folder and, in the wheel, inside the package as
``lib/_data`` (the same files). They are found, in this order:

1. the folder named by the environment variable ``GOLDEN_RATIO_DATA``, if it is set;
2. ``lib/_data`` next to this module (an installed wheel, the reader's bundle);
3. ``data/`` next to the ``lib`` folder (a clone of the repository, ``pip install -e .``).

Every file has a SHA-256 checksum here and is verified when it is first used, so a truncated or
altered file fails at once with its path and what to do, never after minutes of computing and
never as a plausible wrong number.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["ENV_VAR", "SHA256", "data_dir", "path"]

ENV_VAR = "GOLDEN_RATIO_DATA"

# Relative path below the data folder -> SHA-256 of the file's bytes.
SHA256 = {
    "adult/adult.data.gz": "79d673241aeed099ca33f8cfca8928cf5223509841c9857b1af0d5d6326467ab",
    "adult/adult.test.gz": "cf86718d77ed3ab47d59b5277fff2b14b2c2fae24e14d4b09a365d006fb1025e",
    "reproduction/fig8.npz": "4098e5d3bcb196db0cd946c047e3be57ec5d0b16b2ec5dbcaa0c2e679ac7d67b",
    "reproduction/fig9.npz": "b3c98ef676d6e212d4b2e8df14d7583b06c662e53a80383fcf543758dc38c989",
    "words/american-english.gz": "c4adbeeb2d2f85b4d0b06cc06902e4a6ccb97fc4ca0c48143276cb09740f456e",
}

_HERE = Path(__file__).resolve().parent
_HOW = ("The data ship with the repository (data/) and inside the golden-ratio-companion wheel of "
        "the reader's bundle; set " + ENV_VAR + " to a folder that holds adult/ and reproduction/ "
        "to use another copy.")
_verified: dict[Path, str] = {}


def data_dir() -> Path:
    """The data folder (see the module docstring for the search order)."""
    env = os.environ.get(ENV_VAR)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{ENV_VAR}={env!r} is not a folder. {_HOW}")
        return folder
    for folder in (_HERE / "_data", _HERE.parent / "data"):
        if (folder / "adult").is_dir():
            return folder
    raise FileNotFoundError(f"no data folder next to {_HERE}. {_HOW}")


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def path(name: str, verify: bool = True) -> Path:
    """The verified path of data file ``name`` (a key of :data:`SHA256`, e.g.
    ``"adult/adult.data.gz"``).

    Raises ``ValueError`` for a name the book does not ship, ``FileNotFoundError`` when the file is
    missing, and ``OSError`` naming the file when its checksum does not match.
    """
    if name not in SHA256:
        raise ValueError(f"name must be one of {sorted(SHA256)}, got {name!r}")
    file = data_dir() / name
    if not file.is_file():
        raise FileNotFoundError(f"{file} is missing. {_HOW}")
    expected = SHA256[name]
    if verify and expected is not None and _verified.get(file) != expected:
        actual = _sha256(file)
        if actual != expected:
            raise OSError(f"{file} is corrupted or not the book's file (SHA-256 {actual}, expected "
                          f"{expected}); restore it from the repository or the reader's bundle.")
        _verified[file] = actual
    return file
