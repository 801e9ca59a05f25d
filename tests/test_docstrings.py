"""Every example in a docstring of lib runs and prints what it shows (QuantEcon.py style)."""

import doctest
import importlib
import pkgutil

import pytest

import lib

# walk_packages: modules of the subpackages (lib.generative, lib.frontier) too.
MODULES = sorted(m.name for m in pkgutil.walk_packages(lib.__path__, "lib.") if not m.ispkg)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
