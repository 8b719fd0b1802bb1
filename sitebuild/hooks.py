"""MkDocs hooks of the course site (named in mkdocs.yml).

* Each page names the repository files it is made from, under its title, with links to
  copies of them served by the site itself (``_source/<path in the repository>``).
* Each notebook page says how long the notebook took to run (measured by
  ``sitebuild/build.py`` when it executed it for the site).
* nbconvert's template loads MathJax from a CDN: that block is removed (KaTeX, served by
  the site, renders the maths of every page; see ``assets/katex-init.js``).
* nbconvert also writes its style sheets (about 0.6 MB, the same for every notebook) into
  each notebook page: they are moved into files of the site (``assets/notebook/``) that
  every notebook page links to, so the browser loads them once and the site is smaller.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import posixpath
import re
import shutil
from pathlib import Path

from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.minislim")
ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = "_source"
MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
STYLE_BLOCK = re.compile(r"<style(?: type=\"text/css\")?>(.*?)</style>", re.S)
#: a notebook page's style sheets at least this long (bytes) go into a shared file
SHARED_STYLE_BYTES = 4096
NOTEBOOK_CSS_DIR = "assets/notebook"
_sources: set = set()


def page_sources(src_uri: str) -> list:
    """The repository files a page is made from, as paths relative to the repository."""
    path = Path(src_uri)
    if path.parts[0] == "notebooks" and path.suffix == ".ipynb":
        found = [f"notebooks/src/{path.stem}.py"] if (ROOT / "notebooks/src" / f"{path.stem}.py").exists() else []
        return found + [f"notebooks/{path.name}"]
    if path.parts[0] == "api":
        import minislim

        module = minislim if path.stem == "index" else getattr(minislim, path.stem)
        return [Path(module.__file__).resolve().relative_to(ROOT).as_posix()]
    return [f"docs/{src_uri}"]


def run_time(abs_src_path: str) -> dict:
    """What sitebuild/build.py stored in an executed notebook: ``run_seconds``, ``cores``,
    and where it could measure them ``cpu_seconds`` and ``load``."""
    return json.loads(Path(abs_src_path).read_text())["metadata"].get("minislim_site", {})


def run_time_banner(meta: dict, executed: str) -> str:
    """The box at the top of a notebook page: how long the notebook took to run."""
    seconds = meta["run_seconds"]
    measured = f"{seconds:.1f} s on a machine with {meta['cores']} CPU cores"
    if meta.get("cpu_seconds") is not None:
        measured += f" ({meta['cpu_seconds']:.1f} s of CPU time"
        if meta.get("load") is not None:
            measured += f"; load average {meta['load']:.1f} while it ran"
        measured += ")"
    busy = ""
    if meta.get("cpu_seconds") is not None and meta.get("load") is not None and meta["load"] > meta["cores"]:
        # more processes wanted the cores than there were: the notebook waited for them
        busy = f", on a busy machine (its own CPU time: {meta['cpu_seconds']:.0f} s)"
    return ('<div class="admonition info minislim-runtime" data-search-exclude>'
            f'<p class="admonition-title">Run time: about {seconds:.0f} s{busy}</p>'
            f"<p>Executed for this site top to bottom in a fresh kernel: {measured}. "
            "The outputs below are from that run; "
            f'<a href="{html.escape(executed)}" download>download the notebook with them</a>.</p></div>')


HEADING_ID = re.compile(r"<h[1-6][^>]*?\bid=\"([^\"]+)\"")
HREF = re.compile(r'href="([^"#:]+)(#[^"]*)?"')


def align_toc_with_headings(page, content: str) -> None:
    """Give the notebook's table of contents the ids nbconvert gave its headings.

    mkdocs-jupyter makes the table from the Markdown (where a heading with inline code,
    ``a `Function```, slugs to ``a``) but nbconvert keeps the code's text in the id
    (``a-function``): without this, such entries of the table lead nowhere.
    """
    ids = HEADING_ID.findall(content)
    items, todo = [], list(page.toc)
    while todo:
        item = todo.pop(0)
        items.append(item)
        todo[:0] = list(item.children)
    if len(items) != len(ids):
        log.warning("%s: %d entries in the table of contents, %d headings: ids left as they are",
                    page.file.src_uri, len(items), len(ids))
        return
    for item, anchor in zip(items, ids):
        item.id = anchor


def notebook_links(page, content: str, files) -> str:
    """Point a notebook's relative links (written for the repository: ``../docs/x.md``)
    to the site's pages, or to the site's copy of the file."""
    def replace(match):
        repo_path = posixpath.normpath(posixpath.join("notebooks", match.group(1)))
        fragment = match.group(2) or ""
        site_src = repo_path[len("docs/"):] if repo_path.startswith("docs/") else repo_path
        found = files.get_file_from_path(site_src)
        if found is not None and found.is_documentation_page():
            return f'href="{get_relative_url(found.url or "./", page.url)}{fragment}"'
        if (ROOT / repo_path).is_file():
            _sources.add(repo_path)
            return f'href="{get_relative_url(f"{SOURCE_DIR}/{repo_path}", page.url)}{fragment}"'
        return match.group(0)

    return HREF.sub(replace, content)


def on_pre_build(config, **kwargs):
    _sources.clear()


def on_page_content(content, page, config, files, **kwargs):
    content = MATHJAX_BLOCK.sub("", content)
    sources = page_sources(page.file.src_uri)
    _sources.update(sources)
    links = " · ".join(
        f'<a href="{get_relative_url(f"{SOURCE_DIR}/{s}", page.url)}">{html.escape(s)}</a>' for s in sources)
    banner = f'<p class="minislim-source" data-search-exclude>Source: {links}</p>'
    if page.file.src_uri.endswith(".ipynb"):
        align_toc_with_headings(page, content)
        content = notebook_links(page, content, files)
        banner = run_time_banner(run_time(page.file.abs_src_path), Path(page.file.src_uri).name) + banner
    head = re.search(r"</h1>", content)
    return content[:head.end()] + banner + content[head.end():] if head else banner + content


def share_styles(output: str, page_url: str, site_dir: Path) -> str:
    """Move a page's long ``<style>`` blocks into ``assets/notebook/<hash>.css`` (written once
    per content) and link to them in their place, so that the order of the rules is kept."""
    def replace(match):
        css = match.group(1).strip()
        if len(css) < SHARED_STYLE_BYTES:
            return match.group(0)
        name = f"{NOTEBOOK_CSS_DIR}/{hashlib.sha256(css.encode()).hexdigest()[:16]}.css"
        target = site_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(css + "\n", encoding="utf-8")
        return f'<link rel="stylesheet" href="{get_relative_url(name, page_url)}">'

    return STYLE_BLOCK.sub(replace, output)


def on_post_page(output, page, config, **kwargs):
    if page.file.src_uri.endswith(".ipynb"):
        output = share_styles(output, page.url, Path(config["site_dir"]))
    return output


def on_post_build(config, **kwargs):
    """Copy the files the pages name into ``site/_source``."""
    site = Path(config["site_dir"])
    for source in sorted(_sources):
        target = site / SOURCE_DIR / source
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / source, target)
