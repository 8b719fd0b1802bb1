"""Execute the Python code blocks of every page in docs/, so the docs cannot rot.

The blocks of one page run top to bottom in one namespace (a page is one story), in a
temporary working directory. A block fenced as ```python is executed; ```text, ```bash
and unlabelled blocks are not.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)

# Pages the issues require; each must exist (and is executed below when it has code).
REQUIRED = ["index", "install", "quickstart", "autograd", "gradcheck", "convolution", "layers", "arg_scope",
            "training", "checkpoints", "datasets", "cli", "porting_from_tf_slim", "benchmarks", "architecture",
            "exercises"]


def python_blocks(page: Path):
    return BLOCK.findall(page.read_text())


def test_required_pages_exist():
    missing = [name for name in REQUIRED if not (DOCS / f"{name}.md").exists()]
    assert not missing, f"docs pages missing: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(python_blocks(page), start=1):
        try:
            exec(compile(code, f"{page.name} (block {number})", "exec"), namespace)
        except Exception as error:  # report which block of which page broke
            raise AssertionError(f"{page.name}, python block {number} failed: {error!r}\n{code}") from error
