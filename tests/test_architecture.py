"""The layer rule of DESIGN.md: a module imports only from layers with a smaller number
(or from its own layer). Every import statement of the package is parsed, including
imports inside functions, so a lazy upward import is caught too."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "minislim"

# The first component below ``minislim`` decides a module's layer.
LAYERS = {
    "kernels": 1,
    "autograd": 2,
    "ops": 3, "nn": 3, "testing": 3,
    "parallel": 3,
    "framework": 4,
    "layers": 5, "model_analyzer": 5,
    "viz": 5,
    "losses": 6, "metrics": 6,
    "optimizers": 7,
    "learning": 8, "checkpoint": 8, "evaluation": 8,
    "nets": 9, "datasets": 9, "data": 9, "exercises": 9, "recipe": 9,
    "cli": 10, "__main__": 10,
}
LAYERS.update({"preprocessing": 9, "predict": 10})  # issue 13: the zoo's preprocessing, minislim predict


def layer_of(dotted: str):
    parts = dotted.split(".")
    if parts[0] != "minislim" or len(parts) == 1:
        return None
    return LAYERS.get(parts[1], "unknown")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from minislim import nn` imports minislim.nn
                if node.module == "minislim":
                    yield node.lineno, f"minislim.{alias.name}"


def upward_imports(path: Path):
    """Return (line, imported module, its layer, this module's layer) for each violation."""
    own = layer_of(module_name(path))
    if own is None:  # minislim/__init__.py re-exports everything
        return []
    problems = []
    for line, target in imported_modules(path):
        target_layer = layer_of(target)
        if target_layer is None:
            continue
        if target_layer == "unknown" or target_layer > own:
            problems.append((line, target, target_layer, own))
    return problems


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unknown = [module_name(p) for p in SOURCES if layer_of(module_name(p)) == "unknown"]
    assert not unknown, f"add these modules to LAYERS in tests/test_architecture.py: {unknown}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_upward_imports(path):
    problems = upward_imports(path)
    assert not problems, "\n".join(
        f"{path.name}:{line} imports {target} (layer {tl}) from layer {own}" for line, target, tl, own in problems)


def test_the_checker_catches_an_upward_import(tmp_path):
    """A kernel importing the autograd core must be reported."""
    fake = PACKAGE / "kernels" / "_fake_upward_for_test.py"
    fake.write_text("from minislim.autograd.tensor import Tensor\n")
    try:
        problems = upward_imports(fake)
    finally:
        fake.unlink()
    assert problems == [(1, "minislim.autograd.tensor", 2, 1)]
