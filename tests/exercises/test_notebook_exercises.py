"""Every exercise is done in a notebook: the built notebook's cell shows its skeleton verbatim
(so the tested skeleton is the one students see), right before the ``exercises.check`` call
that names it; every notebook, 01 to 15, has at least one. The skeleton has one source,
``minislim/exercises/skeletons/<name>.py``: the notebook's source holds an ``# include:``
line that notebooks/build_notebooks.py expands."""
import re
from pathlib import Path

import nbformat
import pytest

from minislim.exercises import get, names

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHECK_CALL = re.compile(r"exercises\.check\((\w+), \"(\w+)\"\)")


def built_cells() -> dict:
    """{notebook stem: [source of each code cell]} of the built notebooks."""
    return {path.stem: [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
            for path in sorted(NOTEBOOKS.glob("*.ipynb"))}


def source_cells(stem: str) -> list:
    return re.split(r"^# %%.*$", (NOTEBOOKS / "src" / f"{stem}.py").read_text(), flags=re.M)


@pytest.mark.parametrize("name", names())
def test_each_exercise_is_in_a_notebook_cell_with_its_skeleton_and_its_check(name):
    exercise = get(name)
    found = [(stem, cell) for stem, cells in built_cells().items() for cell in cells
             if f'"{name}")' in cell and CHECK_CALL.search(cell)]
    assert found, f"no notebook cell checks the exercise {name!r}"
    stem, cell = found[0]
    assert exercise.skeleton.strip() in cell, f"{stem}: the cell of {name!r} does not hold its skeleton"
    called = {n: cls for cls, n in CHECK_CALL.findall(cell)}
    assert called[name] == exercise.class_name


@pytest.mark.parametrize("name", names())
def test_the_notebook_source_includes_the_skeleton_file_rather_than_a_copy(name):
    include = f"# include: minislim/exercises/skeletons/{name}.py"
    skeleton = get(name).skeleton.strip()
    sources = {path.stem: path.read_text() for path in sorted((NOTEBOOKS / "src").glob("*.py"))}
    assert not [stem for stem, text in sources.items() if skeleton in text], f"a copy of {name!r}'s skeleton"
    holders = [stem for stem, text in sources.items() if include in text]
    assert len(holders) == 1, f"{include!r} in {holders}"
    assert any(include in cell and f'"{name}")' in cell for cell in source_cells(holders[0]))


def test_the_notebooks_with_exercises():
    with_exercises = {stem for stem, cells in built_cells().items() if any(CHECK_CALL.search(c) for c in cells)}
    for number in range(1, 16):
        assert any(stem.startswith(f"{number:02d}_") for stem in with_exercises), f"notebook {number:02d} has none"
