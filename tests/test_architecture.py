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


#: the bare package ``minislim`` (``import minislim as slim``) re-exports every layer: the top
TOP = max(LAYERS.values()) + 1
#: student code shipped with the exercises: run as a notebook cell runs it, so at the top too
STUDENT_CODE = PACKAGE / "exercises" / "skeletons"


def layer_of(dotted: str):
    parts = dotted.split(".")
    if parts[0] != "minislim":
        return None
    if len(parts) == 1:
        return TOP
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
        elif isinstance(node, ast.ImportFrom) and node.module == "minislim" and node.level == 0:
            for alias in node.names:  # `from minislim import nn` imports minislim.nn; a name
                # the package re-exports (`from minislim import conv2d`) is the package's
                submodule = alias.name in LAYERS and (PACKAGE / alias.name).exists() or \
                    (PACKAGE / f"{alias.name}.py").exists()
                yield node.lineno, f"minislim.{alias.name}" if submodule else "minislim"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def upward_imports(path: Path):
    """Return (line, imported module, its layer, this module's layer) for each violation."""
    own = TOP if STUDENT_CODE in path.parents else layer_of(module_name(path))
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


def problems_of_a_fake_module(folder: str, source: str):
    """``upward_imports`` of a module holding ``source``, written in ``minislim/<folder>/`` for the call."""
    fake = PACKAGE / folder / "_fake_upward_for_test.py"
    fake.write_text(source)
    try:
        return upward_imports(fake)
    finally:
        fake.unlink()


def test_the_checker_catches_an_upward_import(tmp_path):
    """A kernel importing the autograd core must be reported."""
    problems = problems_of_a_fake_module("kernels", "from minislim.autograd.tensor import Tensor\n")
    assert problems == [(1, "minislim.autograd.tensor", 2, 1)]


def test_the_checker_catches_a_lazy_import_of_the_whole_package():
    """``import minislim as slim`` inside a function of a lower layer is an upward import too."""
    source = "def skeleton():\n    import minislim as slim\n    from minislim import conv2d, layers\n"
    assert problems_of_a_fake_module("exercises", source) == [(2, "minislim", TOP, 9), (3, "minislim", TOP, 9)]


def test_student_code_may_import_the_whole_package():
    skeletons = [p for p in SOURCES if STUDENT_CODE in p.parents]
    assert skeletons and any(target == "minislim" for p in skeletons for _, target in imported_modules(p))
    assert all(upward_imports(p) == [] for p in skeletons)
