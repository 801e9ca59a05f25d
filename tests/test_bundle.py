"""The reader's bundle works where a reader puts it: unzipped into an empty folder outside the
repository, installed exactly as its README says (a fresh virtual environment, the project from
the bundle's own wheel, dependencies from the package index), two chapters run with small
parameters: one that needs the Adult data and one that does not.

Marked ``bundle`` (it installs Jupyter into a new environment: a minute or two); ``make
check-bundle`` and CI run it. With ``BOOK_SITE`` set it tests the bundle of that built site,
otherwise it builds one with the book's own extension.
"""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, toc_notebooks
from test_notebooks import SMALL

pytestmark = pytest.mark.bundle

sys.path.insert(0, str(REPO / "book" / "_ext"))
import notebook_downloads  # noqa: E402

# The chapters' small parameters of the notebook tests: one chapter that reads the Adult data.
RUN = {name: SMALL[name] for name in ("adult", "kalman")}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    site = os.environ.get("BOOK_SITE")
    if site:
        path = Path(site) / notebook_downloads.BUNDLE_PATH
        assert path.exists(), f"the built site has no bundle at {path}"
        return path
    return notebook_downloads.build_bundle(REPO, toc_notebooks(), tmp_path_factory.mktemp("site") / "bundle.zip")


def test_bundle_holds_wheel_notebooks_and_readme(bundle):
    names = zipfile.ZipFile(bundle).namelist()
    top = notebook_downloads.BUNDLE
    assert f"{top}/README.md" in names and f"{top}/requirements.txt" in names
    assert f"{top}/LICENSE" in names and f"{top}/CITATION.cff" in names
    assert any(re.fullmatch(rf"{top}/golden_ratio_companion-[\d.]+-py3-none-any\.whl", n) for n in names)
    for p in toc_notebooks():
        assert f"{top}/notebooks/{p.stem}.ipynb" in names, p.stem


def test_bundle_installs_and_runs_from_an_empty_folder(bundle, tmp_path):
    where = tmp_path / "reader"  # nothing of the repository here, and not below it
    where.mkdir()
    zipfile.ZipFile(bundle).extractall(where)
    root = where / notebook_downloads.BUNDLE
    readme = (root / "README.md").read_text()
    # The README's own commands, in its own order.
    assert "python -m venv .venv" in readme and "pip install -r requirements.txt" in readme
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "GOLDEN_RATIO"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    subprocess.run([_base_python(), "-m", "venv", ".venv"], cwd=root, check=True, env=env)
    py = root / ".venv" / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], cwd=root, check=True,
                   env=env, timeout=900)
    # lib is the bundle's, not the repository's.
    where_lib = subprocess.run([str(py), "-c", "import lib, lib.data; print(lib.__file__); print(lib.data.data_dir())"],
                               cwd=root, check=True, env=env, capture_output=True, text=True).stdout.split()
    assert str(REPO) not in where_lib[0] and str(root / ".venv") in where_lib[0], where_lib
    for name, params in RUN.items():
        out = tmp_path / f"{name}.ipynb"
        subprocess.run([str(py), "-m", "papermill", f"notebooks/{name}.ipynb", str(out), "--cwd", "notebooks",
                        "-y", json.dumps(params), "--kernel", "python3", "--no-progress-bar"],
                       cwd=root, check=True, env=env, timeout=600, capture_output=True, text=True)
        nb = json.loads(out.read_text())
        assert any(o.get("metadata", {}).get("scrapbook") for c in nb["cells"] for o in c.get("outputs", [])), name


def _base_python():
    """The interpreter the repository's virtual environment was made from (not the venv itself)."""
    return getattr(sys, "_base_executable", None) or "python3"
