"""Build notebooks/*.ipynb from their sources in notebooks/src/*.py (percent format).

A source is a plain Python file cut into cells by marker lines:

* ``# %%`` starts a code cell;
* ``# %% [markdown]`` starts a Markdown cell whose lines are comments (``# text``);
* ``# include: PATH`` (inside a code cell; PATH relative to the repository) is replaced by
  that file from its first top-level ``class`` or ``def`` on. The exercises' skeletons are
  written once, in ``minislim/exercises/skeletons/*.py`` (where the checker runs them),
  and each notebook cell that asks for one shows the student the whole skeleton to edit.

Sources are easy to review, diff and lint; the committed ``.ipynb`` files are what
students open. Outputs are left empty (the tests execute the notebooks), and cell ids
are numbered, so rebuilding an unchanged source gives the same file byte for byte.

Usage::

    python notebooks/build_notebooks.py            # rebuild every notebook with a source
    python notebooks/build_notebooks.py --check    # exit 1 when a notebook is out of date
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "src"
MARKER = "# %%"
INCLUDE = "# include: "

sys.path.insert(0, str(ROOT))  # minislim from this checkout, as the notebooks' kernel finds it
from minislim.exercises.student_code import student_part  # noqa: E402


def expand_includes(text: str) -> str:
    """``text`` with each ``# include: PATH`` line replaced by :func:`student_part` of PATH."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(INCLUDE):
            path = ROOT / line[len(INCLUDE):].strip()
            if not path.is_file():
                raise FileNotFoundError(f"{line.strip()}: no file {path}")
            line = student_part(path)
        lines.append(line)
    return "".join(lines)


def parse_cells(text: str) -> list:
    """Split a percent-format source into ``(kind, source)`` pairs, kind "code" or "markdown"."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith(MARKER):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook for one source file, with empty outputs and numbered cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for number, (kind, body) in enumerate(parse_cells(expand_includes(source.read_text())), start=1):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(body)
        cell.id = f"cell-{number:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list) -> int:
    stale = []
    for source in sorted(SOURCES.glob("*.py")):
        target = HERE / f"{source.stem}.ipynb"
        text = render(build(source))
        if target.exists() and target.read_text() == text:
            continue
        if "--check" in argv:
            stale.append(target.name)
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/build_notebooks.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
