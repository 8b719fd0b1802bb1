"""A Griffe extension (mkdocs.yml names it): minislim's docstrings read well in the API pages.

minislim's docstrings are written for ``help()`` and Sphinx-style readers: doctest lines
(``>>> ...``) and roles such as ``:mod:`~minislim.layers.conv```. In Markdown a ``>>>`` line
is a nested block quote and a role is raw text, so before mkdocstrings renders a docstring:

* every run of doctest lines (``>>>``, ``...`` and the expected output up to the next blank
  line) becomes a fenced ``pycon`` code block;
* a role becomes inline code of its target (``~`` dropped).
"""
from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|obj|exc):`~?([^`]+)`")


def fence_doctests(text: str) -> str:
    """Wrap each run of doctest lines of ``text`` in a ``pycon`` fence (same indentation)."""
    out, lines, i = [], text.splitlines(), 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


def readable(text: str) -> str:
    return ROLE.sub(r"`\1`", fence_doctests(text))


class MarkdownDocstrings(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = readable(obj.docstring.value)
