"""Run the usage examples in every module's docstrings, so the docs cannot rot."""
import doctest
import importlib
import pkgutil

import pytest

import minislim

MODULES = sorted(m.name for m in pkgutil.walk_packages(minislim.__path__, "minislim.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", ["minislim"] + MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
