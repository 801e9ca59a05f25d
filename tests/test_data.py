"""lib.data: the data are found in the repository, the wheel or GOLDEN_RATIO_DATA, and a missing
or altered file fails at once, naming the file, before anything is computed."""

import hashlib
import shutil

import numpy as np
import pytest

from conftest import REPO
from lib import adult, data, reproduce


def test_every_shipped_file_matches_its_checksum():
    for name, digest in data.SHA256.items():
        file = REPO / "data" / name
        assert hashlib.sha256(file.read_bytes()).hexdigest() == digest, name
        assert data.path(name) == file


@pytest.fixture
def copy(tmp_path, monkeypatch):
    for sub in ("adult", "reproduction"):
        shutil.copytree(REPO / "data" / sub, tmp_path / sub)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    data._verified.clear()
    yield tmp_path
    data._verified.clear()


def test_the_environment_variable_points_elsewhere(copy):
    assert data.data_dir() == copy
    assert data.path("reproduction/fig8.npz") == copy / "reproduction" / "fig8.npz"
    assert adult.DATA_DIR == copy / "adult"
    assert len(adult.load()) == 48842


def test_an_altered_archive_is_refused(copy):
    """Scaling the errors of half the rows by 1.10 (a change every statistical test of the archive
    lets pass) is refused on load, with the file's path."""
    path = copy / "reproduction" / "fig8.npz"
    table = reproduce.read_npz(path)
    half = np.arange(table["error"].size) % 2 == 0
    table["error"] = np.where(half, table["error"] * 1.10, table["error"])
    reproduce.write_npz(table, path)
    with pytest.raises(OSError, match="fig8.npz is corrupted"):
        reproduce.archived("fig8")


def test_missing_and_unknown_files(copy, monkeypatch):
    (copy / "reproduction" / "fig9.npz").unlink()
    with pytest.raises(FileNotFoundError, match="fig9.npz is missing"):
        reproduce.archived("fig9")
    with pytest.raises(ValueError, match="name must be one of"):
        data.path("reproduction/fig7.npz")
    monkeypatch.setenv(data.ENV_VAR, str(copy / "nowhere"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        data.data_dir()


def test_a_truncated_gzip_names_its_file(copy):
    path = copy / "adult" / "adult.test.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="adult.test.gz is not a readable gzip file"):
        adult.load(data_dir=copy / "adult")


def test_a_truncated_archive_names_its_file(tmp_path):
    path = tmp_path / "fig8.npz"
    path.write_bytes((REPO / "data" / "reproduction" / "fig8.npz").read_bytes()[:5000])
    with pytest.raises(ValueError, match="fig8.npz is not a readable NumPy archive"):
        reproduce.read_npz(path)
