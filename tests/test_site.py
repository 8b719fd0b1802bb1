"""The course site (``make site``, sitebuild/): its navigation, and (slow) the built site in a
real browser.

The slow test builds the site into a temporary folder (reusing the notebooks that
tests/test_notebooks.py has just executed when nothing changed since), serves it with
``python -m http.server`` on 127.0.0.1 and drives Debian's headless Chromium with Playwright
over every page: no console error, no request to any host but 127.0.0.1 (others are blocked
and reported), every internal link and anchor resolves, the maths is rendered (no raw ``$$`` or
``\\(`` left, no KaTeX error), every notebook page shows all its figures and its run time,
every page links to its source, every public name of ``minislim`` is in the API reference,
and the search finds ``arg_scope``. Screenshots of the home page and of the im2col notebook
are saved in the test's temporary folder.

It needs the ``site`` extra (``pip install -e ".[site]"``) and ``/usr/bin/chromium``
(``apt-get install chromium``; .ci/run installs both); it skips, naming what is missing,
without them.
"""
import functools
import html.parser
import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: issue 17: the whole site under 30 MB
MAX_SITE_BYTES = 30_000_000


def load_builder():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "sitebuild" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- fast: what the navigation is made of ------------------------------------------------

def test_course_notebooks_are_the_numbered_ones_in_order():
    build = load_builder()
    names = [p.name for p in build.course_notebooks()]
    assert names == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert names[:3] == ["01_autograd_from_scratch.ipynb", "02_gradient_checking.ipynb",
                         "03_im2col_convolution.ipynb"]


def test_every_guide_is_in_the_navigation_once_in_the_index_order():
    build = load_builder()
    order = build.guide_order(ROOT / "docs")
    assert sorted(order) == sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md")
    assert order.index("install.md") < order.index("quickstart.md") < order.index("autograd.md")


def test_guide_order_puts_unlisted_pages_last(tmp_path):
    build = load_builder()
    (tmp_path / "index.md").write_text("Intro, see [b](b.md).\n\n| page |\n|---|\n| [c](c.md) |\n| [a](a.md) |\n")
    for name in "abcd":
        (tmp_path / f"{name}.md").write_text(f"# {name}\n")
    assert build.guide_order(tmp_path) == ["c.md", "a.md", "b.md", "d.md"]


def test_notebook_title_is_its_first_heading(tmp_path):
    build = load_builder()
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "# not this"},
                                          {"cell_type": "markdown", "source": ["intro\n", "# 07 · `Title`\n"]}]}))
    assert build.notebook_title(path) == "07 · Title"


def test_top_level_names_are_documented_where_griffe_finds_them():
    pytest.importorskip("griffe", reason='the site extra is not installed: pip install -e ".[site]"')
    build = load_builder()
    assert build.api_path("arg_scope") == "minislim.arg_scope"
    # a module minislim.autograd.tensor exists: the function is documented by its own path
    assert build.api_path("tensor") == "minislim.autograd.tensor.tensor"


def test_doctests_and_roles_become_markdown():
    pytest.importorskip("griffe", reason='the site extra is not installed: pip install -e ".[site]"')
    spec = importlib.util.spec_from_file_location("griffe_docstrings", ROOT / "sitebuild" / "griffe_docstrings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "See :mod:`~minislim.layers.conv`.\n>>> x = 1\n... y\n2\n\nAfter."
    assert module.readable(text) == ("See `minislim.layers.conv`.\n\n```pycon\n>>> x = 1\n... y\n2\n```\n"
                                     "\nAfter.")


def load_hooks():
    pytest.importorskip("mkdocs", reason='the site extra is not installed: pip install -e ".[site]"')
    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "sitebuild" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_notebook_is_executed_timed_and_its_kernel_shut_down(tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import os

    import nbformat

    build = load_builder()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nos.getpid()")]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    executed, seconds, cpu, load = build.execute(path, build.python3_kernelspec(tmp_path / "kernels"), threads=1)
    pid = int(executed.cells[0].outputs[0]["data"]["text/plain"])
    assert seconds > 0 and load >= 0
    if Path("/proc").is_dir():
        assert cpu is not None and 0 < cpu < seconds * (os.cpu_count() or 1) + 1
        # nbclient leaves a kernel it did not start running: the build shuts it down (and reaps it)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists(), "the notebook's kernel is still running"


def test_cpu_seconds_of_a_process():
    build = load_builder()
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc here")
    import os

    sum(i * i for i in range(300_000))
    assert build.process_cpu_seconds(os.getpid()) > 0
    assert build.process_cpu_seconds(2 ** 30) is None  # no such process


def test_the_longest_notebook_by_its_last_run_goes_first(tmp_path, monkeypatch):
    import nbformat

    build = load_builder()
    monkeypatch.setattr(build, "CACHE", tmp_path)
    (tmp_path / "notebooks").mkdir()
    for stem, seconds in [("01_a", 3.0), ("02_b", 90.0)]:
        nb = nbformat.v4.new_notebook()
        nb.metadata[build.META_KEY] = {"run_seconds": seconds, "cores": 2}
        nbformat.write(nb, tmp_path / "notebooks" / f"{stem}-0123456789abcdef.ipynb")
    names = [Path(f"{n}.ipynb") for n in ["01_a", "02_b", "03_new"]]
    assert [build.previous_run_seconds(p) for p in names] == [3.0, 90.0, 0]
    assert sorted(names, key=build.previous_run_seconds, reverse=True)[0].name == "02_b.ipynb"


def test_the_run_time_box_says_what_was_measured():
    hooks = load_hooks()
    box = hooks.run_time_banner({"run_seconds": 48.4, "cores": 2, "cpu_seconds": 2.9, "load": 11.0}, "n.ipynb")
    assert "Run time: about 48 s, on a busy machine (its own CPU time: 3 s)" in box
    assert "48.4 s on a machine with 2 CPU cores (2.9 s of CPU time; load average 11.0 while it ran)" in box
    assert 'href="n.ipynb" download' in box
    older = hooks.run_time_banner({"run_seconds": 5.0, "cores": 2}, "n.ipynb")  # cached before CPU times
    assert "5.0 s on a machine with 2 CPU cores." in older and "CPU time" not in older
    quiet = hooks.run_time_banner({"run_seconds": 5.0, "cores": 2, "cpu_seconds": 4.1, "load": 1.2}, "n.ipynb")
    assert "Run time: about 5 s</p>" in quiet and "busy" not in quiet


def test_notebook_pages_share_their_long_style_sheets(tmp_path):
    hooks = load_hooks()
    long_css = "@charset \"UTF-8\";" + ".jupyter-wrapper{color:red}" * (hooks.SHARED_STYLE_BYTES // 20)
    page = f'<head><style type="text/css">\n{long_css}</style><style>p{{margin:0}}</style></head>'
    first = hooks.share_styles(page, "notebooks/01_a/", tmp_path)
    second = hooks.share_styles(page, "notebooks/02_b/", tmp_path)
    files = list((tmp_path / "assets" / "notebook").glob("*.css"))
    assert len(files) == 1 and files[0].read_text().startswith("@charset")  # first bytes: @charset
    link = f'<link rel="stylesheet" href="../../assets/notebook/{files[0].name}">'
    assert first == second == f"<head>{link}<style>p{{margin:0}}</style></head>"  # short ones stay


def test_page_problems_are_found(tmp_path):
    good = {"text": "costs $5", "katexErrors": [], "katex": 2, "sources": 1, "links": [],
            "images": [True, True], "runtime": "Run time: about 6 s"}
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "$x^2$"},
        {"cell_type": "code", "outputs": [{"data": {"image/png": "..."}}, {"data": {"image/png": "..."}}]}]}))
    assert page_problems("p/", good, notebook) == []
    bad = {**good, "text": "left $$x$$ and \\(y\\)", "katexErrors": ["\\frac"], "katex": 0, "sources": 0,
           "images": [True, False], "runtime": ""}
    found = "\n".join(page_problems("p/", bad, notebook))
    for message in ["raw maths left", "KaTeX could not render", "no link to its source", "2 figures",
                    "no run time", "not rendered by KaTeX"]:
        assert message in found
    assert len(page_problems("p/", {**good, "images": [True]}, notebook)) == 1


# --- slow: build, serve, browse ----------------------------------------------------------

class PageIds(html.parser.HTMLParser):
    """The ``id`` and ``name`` attributes of an HTML page (the anchors a link may name)."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> set:
    parser = PageIds()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.ids


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    for module in ["mkdocs", "material", "mkdocs_jupyter", "mkdocstrings_handlers.python", "playwright"]:
        pytest.importorskip(module, reason=f'{module} is missing: pip install -e ".[site]"')
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium; "
                    ".ci/run tries, and goes on without it when apt fails)")
    build = load_builder()
    folder = tmp_path_factory.mktemp("site")
    try:
        result = build.build_site(site_dir=folder / "site", stage=folder / "stage", quiet=True)
    except build.KatexUnavailable as error:
        pytest.skip(f"KaTeX could not be fetched: {error}")
    return folder / "site", folder / "stage", result


@pytest.fixture(scope="module")
def server(built_site):
    site, _, _ = built_site
    process = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                "--directory", str(site)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 41234 (...) ..."
        port = int(re.search(r"port (\d+)", line).group(1))
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def site_pages(site: Path) -> list:
    """Every HTML page of the site (but MkDocs's 404 page), as URL paths."""
    pages = []
    for path in sorted(site.rglob("index.html")):
        rel = path.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


def local_target(site: Path, url: str):
    """The file a URL of the site names, or None."""
    path = unquote(urlparse(url).path).lstrip("/")
    target = site / path
    return target / "index.html" if target.is_dir() else target


#: what the test reads off a page, in one round trip
PAGE_FACTS = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, .katex, script, style").forEach((e) => e.remove());
  const runtime = document.querySelector(".minislim-runtime .admonition-title");
  return {
    text: article.textContent,
    katexErrors: Array.from(document.querySelectorAll(".katex-error"), (e) => e.textContent),
    katex: document.querySelectorAll(".katex").length,
    sources: document.querySelectorAll(".minislim-source a").length,
    links: Array.from(document.querySelectorAll("a[href]"), (a) => a.href),
    images: Array.from(document.querySelectorAll(".jp-OutputArea-output img"),
                       (img) => img.complete && img.naturalWidth > 0),
    runtime: runtime ? runtime.textContent : "",
  };
}"""


def notebook_facts(notebook: Path) -> tuple:
    """``(figures, has maths)`` of an executed notebook: its picture outputs (PNG, or SVG such
    as ``slim.viz.draw``'s), and whether its Markdown has any ``$``."""
    cells = json.loads(notebook.read_text())["cells"]
    figures = sum(bool({"image/png", "image/svg+xml"} & set(out.get("data", {}))) for c in cells
                  if c["cell_type"] == "code" for out in c["outputs"])
    maths = any("$" in "".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return figures, maths


def page_problems(path: str, facts: dict, notebook) -> list:
    """What is wrong with a page, from its :data:`PAGE_FACTS` (and its notebook, if any)."""
    problems = []
    for token in ["$$", "\\(", "\\["]:
        if token in facts["text"]:
            at = facts["text"].index(token)
            problems.append(f"{path}: raw maths left: {facts['text'][max(0, at - 60):at + 60]!r}")
    if facts["katexErrors"]:
        problems.append(f"{path}: KaTeX could not render {facts['katexErrors'][:3]}")
    if not facts["sources"]:
        problems.append(f"{path}: no link to its source")
    if notebook is not None:
        figures, maths = notebook_facts(notebook)
        if len(facts["images"]) != figures or not all(facts["images"]):
            problems.append(f"{path}: {figures} figures in the notebook, the page shows {facts['images']}"
                            " (true: loaded)")
        if not re.search(r"Run time: about \d+ s", facts["runtime"]):
            problems.append(f"{path}: no run time ({facts['runtime']!r})")
        if maths and not facts["katex"]:
            problems.append(f"{path}: its maths was not rendered by KaTeX")
    return problems


@pytest.mark.slow
def test_the_site_in_a_browser(built_site, server, tmp_path):
    from playwright.sync_api import sync_playwright

    site, stage, result = built_site
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size < MAX_SITE_BYTES, f"the site is {size / 1e6:.1f} MB (budget {MAX_SITE_BYTES / 1e6:.0f} MB)"
    pages = site_pages(site)
    notebooks = [p.stem for p in load_builder().course_notebooks()]
    assert {f"notebooks/{n}/" for n in notebooks} <= set(pages)

    problems, outside = [], []
    with sync_playwright() as playwright:
        # every host but 127.0.0.1 resolves to nothing, at once: a request to one is recorded
        # below (and fails) instead of waiting on the network
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path="/usr/bin/chromium", headless=True,
            args=CHROMIUM_FLAGS + ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
            viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(180_000)  # a shared, loaded machine can take a minute for a big page
        current = {"url": ""}
        page.on("request", lambda r: urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and urlparse(r.url).hostname != "127.0.0.1" and outside.append(f"{current['url']}: {r.url}"))
        page.on("console", lambda m: m.type == "error" and problems.append(
            f"{current['url']}: console error: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"{current['url']}: page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and problems.append(
            f"{current['url']}: {r.status} for {r.url}"))

        links, start = {}, time.perf_counter()
        for path in pages:
            current["url"] = server + path
            page.goto(server + path, wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            links[path] = facts["links"]
            notebook = stage / "notebooks" / f"{path.split('/')[1]}.ipynb" if path.startswith("notebooks/") else None
            problems += page_problems(path, facts, notebook)
            if path in ("", "notebooks/03_im2col_convolution/"):
                name = "home" if path == "" else "03_im2col_convolution"
                page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=False)

        browsed = time.perf_counter() - start
        # the navigation follows the course: notebooks in order, then guides, then the API
        page.goto(server, wait_until="load")
        sections = page.evaluate("() => Array.from(document.querySelectorAll("
                                 "'.md-nav--primary > .md-nav__list > .md-nav__item--section'),"
                                 " li => li.querySelector('.md-ellipsis').textContent.trim())")
        assert sections == ["Course notebooks", "Guides", "API reference"], sections
        hrefs = page.evaluate("() => Array.from(document.querySelectorAll('.md-nav--primary a.md-nav__link'),"
                              " a => a.getAttribute('href'))")
        in_nav = [h.split("/")[-2] for h in hrefs if h.startswith("notebooks/")]
        assert in_nav == notebooks

        # the search box, with the site's own index
        page.locator("label.md-search__icon, .md-search__input").first.click()
        page.fill(".md-search__input", "arg_scope")
        page.wait_for_selector(".md-search-result__item", timeout=30_000)
        found = page.evaluate("() => Array.from(document.querySelectorAll('.md-search-result__item a'), a => a.href)")
        assert any("/arg_scope/" in href for href in found), found
        page.screenshot(path=str(tmp_path / "search.png"))
        context.close()

    # every internal link and anchor resolves (checked on the built files)
    for path, hrefs in links.items():
        for href in hrefs:
            parsed = urlparse(href)
            if parsed.hostname != "127.0.0.1":
                continue
            target = local_target(site, href)
            if not target.is_file():
                problems.append(f"{path}: broken link {href}")
            elif parsed.fragment and target.suffix == ".html" and unquote(parsed.fragment) not in anchors(target):
                problems.append(f"{path}: no anchor #{parsed.fragment} in {target.relative_to(site)}")

    assert not outside, f"requests to other hosts: {outside[:10]}"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert (tmp_path / "home.png").stat().st_size > 10_000
    assert (tmp_path / "03_im2col_convolution.png").stat().st_size > 10_000
    print(f"site: {len(pages)} pages, {size / 1e6:.1f} MB, built in {result['seconds']:.0f} s, "
          f"browsed in {browsed:.0f} s; "
          f"screenshots in {tmp_path}")


@pytest.mark.slow
def test_every_public_name_is_in_the_api_reference(built_site):
    import types

    import minislim

    site, _, _ = built_site
    build = load_builder()
    ids = set()
    for page in (site / "api").rglob("index.html"):
        ids |= anchors(page)
    missing = []
    for name in minislim.__all__:
        if name.startswith("__"):
            continue
        if isinstance(getattr(minislim, name), types.ModuleType):
            if not (site / "api" / name / "index.html").exists():
                missing.append(f"page api/{name}/")
        elif build.api_path(name) not in ids:
            missing.append(build.api_path(name))
    assert not missing, f"not in the API reference: {missing}"
