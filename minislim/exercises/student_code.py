"""Skeletons: the code a student starts an exercise from, kept as ``.py`` files.

Each shipped exercise has its skeleton in ``skeletons/<name>.py``: the imports a notebook
cell has (``import numpy as np``, ``import minislim as slim``), then the class or function
to complete, so that the linter and a reader see it as code. A skeleton is *student code*:
it is run the way a notebook cell runs it (its own imports included), never imported by
the package; so the exercises package itself does not depend on the top-level ``minislim``.

A teacher's own exercise may give its skeleton as a string instead; that string runs after
the same imports (:data:`NOTEBOOK_IMPORTS`).

>>> print(shipped_skeleton("sigmoid").splitlines()[0])
class Sigmoid(slim.Function):
>>> skeleton_file("sigmoid").name
'sigmoid.py'
"""
from __future__ import annotations

from pathlib import Path

#: where the shipped skeletons live (package data, see setup.cfg)
FOLDER = Path(__file__).with_name("skeletons")
#: what a notebook cell has imported before a skeleton given as a string runs
NOTEBOOK_IMPORTS = "import numpy as np\n\nimport minislim as slim\n\n\n"


def skeleton_file(name: str) -> Path:
    """``skeletons/<name>.py``, the skeleton of the shipped exercise ``name``."""
    return FOLDER / f"{name}.py"


def shipped_skeleton(name: str) -> str:
    """What the student sees of ``skeletons/<name>.py``: the file from its first ``class`` or ``def`` on.

    Raises:
        FileNotFoundError: no such file (an installed minislim lacks its package data?).
    """
    return student_part(skeleton_file(name))


def student_part(path: Path) -> str:
    """The text of ``path`` from its first top-level ``class`` or ``def`` on: what a notebook
    cell shows of a skeleton (the notebook has made the file's imports already).
    ``notebooks/build_notebooks.py`` expands its ``# include:`` lines with this.

    Raises:
        ValueError: the file defines no class or function at top level.
    """
    lines = Path(path).read_text().splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(("class ", "def "))), None)
    if start is None:
        raise ValueError(f"{path}: a skeleton must define a class or a function at top level")
    return "".join(lines[start:])


def run_skeleton(name: str, skeleton: str, defines: str, namespace: dict | None = None):
    """Run a skeleton as a notebook cell and return what it defines (still unfinished).

    Args:
        name: the exercise's name; a shipped skeleton file of that name whose code is
            ``skeleton`` runs as the file itself (tracebacks point into it).
        skeleton: the skeleton's code (what :func:`shipped_skeleton` gives, or a teacher's string).
        defines: the name of the class or function it defines.
        namespace: more names it expects (e.g. notebook 01's ``Value``).
    """
    path = skeleton_file(name)
    if path.is_file() and shipped_skeleton(name) == skeleton:
        source, filename = path.read_text(), str(path)
    else:
        source, filename = NOTEBOOK_IMPORTS + skeleton, f"<skeleton of {name}>"
    scope = {"__name__": f"skeleton_of_{name}", **(namespace or {})}
    exec(compile(source, filename, "exec"), scope)
    return scope[defines]
