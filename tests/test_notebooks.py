"""The notebooks: stored clean, built from their sources, free of solutions, and (slow)
executed top to bottom in a fresh kernel.

The slow test runs every ``notebooks/*.ipynb`` with nbclient in a new ``python3`` kernel
whose interpreter is the one running the tests (a kernelspec written for
``sys.executable``, so a user-level ``python3`` kernelspec pointing at another Python can
never be picked up), in a temporary working directory (a notebook that writes files, e.g.
checkpoints, leaves nothing in the repository). Figures use matplotlib's inline backend,
which needs no display. A notebook fails on any cell error, on taking longer than
:data:`TIME_BUDGET` seconds, or on storing more than :data:`MAX_OUTPUT_BYTES` of output.
``make notebooks`` runs the slow test; ``make test`` runs everything.
"""
import ast
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SOURCES = sorted((NOTEBOOK_DIR / "src").glob("*.py"))
SOLUTIONS = sorted((NOTEBOOK_DIR / "solutions").glob("*.py"))

#: issue 7: each notebook runs top to bottom in under 3 minutes on 2 cores
TIME_BUDGET = 180
#: a single cell may take this long before nbclient gives up
CELL_TIMEOUT = 150
#: outputs of one executed notebook (text and images), in bytes of JSON
MAX_OUTPUT_BYTES = 3_000_000
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def ids(paths):
    return [p.stem for p in paths]


def load_builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOK_DIR / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


# --- fast checks ------------------------------------------------------------------------

def test_the_six_lessons_exist():
    stems = {p.stem for p in NOTEBOOKS}
    for name in ["01_autograd_from_scratch", "02_gradient_checking", "03_im2col_convolution",
                 "04_slim_layers_and_arg_scope", "05_training_a_small_vgg_on_cifar",
                 "06_checkpoints_finetuning_and_evaluation"]:
        assert name in stems, f"notebooks/{name}.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_valid_and_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert json.loads(path.read_text())["nbformat"] == 4
    stored = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              and (cell.outputs or cell.execution_count is not None)]
    assert not stored, f"{path.name}: cells {stored} have stored outputs; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=ids(SOURCES))
def test_notebook_matches_its_source(source):
    builder = load_builder()
    target = NOTEBOOK_DIR / f"{source.stem}.ipynb"
    assert target.exists(), f"{target.name} was never built from {source.name}"
    assert target.read_text() == builder.render(builder.build(source)), (
        f"{target.name} is out of date: run python notebooks/build_notebooks.py")


def test_an_include_line_becomes_the_file_from_its_first_class_or_def(tmp_path):
    builder = load_builder()
    skeleton = "minislim/exercises/skeletons/sigmoid.py"
    text = builder.expand_includes(f"# %%\nx = 1\n# include: {skeleton}\n\ncheck(Sigmoid)\n")
    shown = (ROOT / skeleton).read_text()
    shown = shown[shown.index("class Sigmoid"):]
    assert text == f"# %%\nx = 1\n{shown}\ncheck(Sigmoid)\n"
    assert "import" not in text  # the notebook has made the file's imports already
    with pytest.raises(FileNotFoundError, match="# include: nowhere.py: no file"):
        builder.expand_includes("# include: nowhere.py\n")


def backward_returns(tree) -> set:
    """ast dumps of the return statements inside every function named ``backward``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "backward":
            found |= {ast.dump(n) for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None}
    return found


def test_a_solution_is_recognised_whatever_its_formatting():
    solution = "class A:\n    def backward(self, g):\n        (x,) = self.saved_arrays\n        return (g * 2 * x,)\n"
    copied = "class B(A):\n  def backward(self, grad):\n    return ( g*2*x, )\n"
    other = "class C:\n    def backward(self, g):\n        return (g * 3 * x,)\n"
    answers = backward_returns(ast.parse(solution))
    assert len(answers) == 1
    assert backward_returns(ast.parse(copied)) == answers
    assert not backward_returns(ast.parse(other)) & answers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_solutions_are_not_inside_the_notebooks(path):
    answers = set()
    for solution in SOLUTIONS:
        answers |= backward_returns(ast.parse(solution.read_text()))
    assert answers, "no solution found to compare with"
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not re.search(r"^\s*(from|import)\s+[\w.]*solutions\b", cell.source, re.M), (
            f"{path.name}, cell {number} imports the solutions")
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        leaked = backward_returns(ast.parse(code)) & answers
        assert not leaked, f"{path.name}, cell {number} contains a solution's backward: {leaked}"


def shows_a_graph_picture(cell) -> bool:
    """Whether a code cell ends with ``slim.viz.draw(...)``, which Jupyter then displays."""
    code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
    body = ast.parse(code).body
    return bool(body) and isinstance(body[-1], ast.Expr) and isinstance(body[-1].value, ast.Call) \
        and ast.unparse(body[-1].value.func).endswith("viz.draw")


@pytest.mark.parametrize("stem", ["01_autograd_from_scratch", "04_slim_layers_and_arg_scope"])
def test_notebooks_01_and_04_show_a_graph_picture(stem):
    """Issue 15: notebook 01 draws an expression after backward(), 04 a model collapsed by scope."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    drawn = [cell.source for cell in code_cells(nb) if shows_a_graph_picture(cell)]
    assert drawn, f"{stem}: no cell ends with slim.viz.draw(...)"
    if stem.startswith("04"):
        assert any('collapse="scope"' in source for source in drawn)


def test_the_kernel_for_the_notebooks_is_this_interpreter(python3_kernel_dir):
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager(kernel_dirs=[str(python3_kernel_dir)]).get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable


def test_a_default_python3_kernelspec_is_available():
    """``pip install -e .[dev]`` (ipykernel) provides one, for Jupyter users and ``make notebooks``."""
    from jupyter_client.kernelspec import KernelSpecManager

    assert "python3" in KernelSpecManager().find_kernel_specs()


# --- slow: execute ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def python3_kernel_dir(tmp_path_factory):
    """A directory holding a ``python3`` kernelspec that runs ``sys.executable``."""
    from ipykernel.kernelspec import write_kernel_spec

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / "python3", overrides={"display_name": "Python 3 (tests)"})
    return kernels


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path, python3_kernel_dir):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name="python3",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(python3_kernel_dir)]))
    client = NotebookClient(nb, km=km, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(tmp_path)}})
    # the repository on the kernel's path too, in case minislim is not installed
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": INLINE_BACKEND, "PYTHONPATH": python_path}
    start = time.perf_counter()
    try:
        client.execute(env=env, cleanup_kc=True)  # nbclient leaves a kernel it did not start running
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed in a cell:\n{error}", pytrace=False)
    elapsed = time.perf_counter() - start

    assert elapsed < TIME_BUDGET, f"{path.name} took {elapsed:.0f} s (budget {TIME_BUDGET} s)"
    size = sum(len(json.dumps(cell.outputs)) for cell in code_cells(nb))
    assert size < MAX_OUTPUT_BYTES, f"{path.name} produced {size} bytes of output"
    if any("plt." in cell.source for cell in code_cells(nb)):
        images = [o for cell in code_cells(nb) for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name} draws with matplotlib but no figure was displayed"
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and shows_a_graph_picture(cell):
            pictures = [o for o in cell.outputs if {"image/svg+xml", "image/png"} & set(o.get("data", {}))]
            assert pictures, f"{path.name}, cell {number}: slim.viz.draw showed no picture"
    # the course site (make site, tests/test_site.py) shows this run rather than run it again
    load_site_builder().store_executed(path, nb, elapsed)


def load_site_builder():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "sitebuild" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
