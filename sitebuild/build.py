"""Build the course site (``make site``): docs, executed notebooks and API reference.

The steps, each a function below:

1. :func:`stage_docs`: copy ``docs/`` into a staging folder (``build/site-docs``), which is
   MkDocs's ``docs_dir``; ``docs/index.md`` is the home page.
2. :func:`stage_notebooks`: execute every numbered notebook (``notebooks/NN_*.ipynb``) in a
   fresh kernel, time it, and stage the executed copy with its run time in its metadata. An
   executed notebook is cached under ``build/site-cache`` by the hash of the notebook and of
   the package's files, so an unchanged notebook is never executed twice.
3. :func:`stage_api`: one page per public module of ``minislim`` (``minislim.__all__``) plus a
   page for the top-level names, each a mkdocstrings ``:::`` directive.
4. :func:`stage_katex`: KaTeX (from the npm registry, cached) served from the site itself.
5. :func:`build_site`: load ``mkdocs.yml``, add the navigation (notebooks in file-name order,
   then the guides in the order of docs/index.md's table, then the API reference), build.

Nothing the site loads comes from another host: Material's web fonts are off, KaTeX is
local, the search index is the site's own ``search/search_index.json``.

Usage::

    python sitebuild/build.py              # build into site/
    python sitebuild/build.py --site-dir DIR
    python sitebuild/build.py --jobs 1     # one notebook at a time (default: two at once)
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
STAGE = ROOT / "build" / "site-docs"
CACHE = ROOT / "build" / "site-cache"
SITE = ROOT / "site"
NOTEBOOK_DIR = ROOT / "notebooks"
#: a course notebook is named by its place in the course: 01_autograd_from_scratch.ipynb
NOTEBOOK_PATTERN = re.compile(r"^\d\d_\w+\.ipynb$")
KATEX_VERSION = "0.16.22"
#: the kernel's matplotlib backend: figures become image/png outputs, no display needed
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: a cell may run this long before the build gives up on it: generous, because the site may be
#: built on a busy machine (tests/test_notebooks.py holds the notebooks to their time budget)
CELL_TIMEOUT = 1200
#: where a notebook's run time is kept in the executed copy's metadata
META_KEY = "minislim_site"


# --- 1. docs -----------------------------------------------------------------------------

def stage_docs(stage: Path) -> None:
    """Copy docs/ into the staging folder (the guides keep their relative links)."""
    shutil.copytree(ROOT / "docs", stage, dirs_exist_ok=True)


def guide_order(docs_dir: Path) -> list:
    """The guides (docs/*.md but index.md): in the order of the table of pages in
    docs/index.md, then any page the table does not list, by name."""
    rows = [line for line in (docs_dir / "index.md").read_text().splitlines() if line.startswith("|")]
    linked = re.findall(r"\]\(([\w-]+\.md)\)", "\n".join(rows))
    pages = {p.name for p in docs_dir.glob("*.md")} - {"index.md"}
    ordered = [name for name in dict.fromkeys(linked) if name in pages]
    return ordered + sorted(pages - set(ordered))


# --- 2. notebooks ------------------------------------------------------------------------

def course_notebooks() -> list:
    """The course's notebooks, in course order (their numbered file names)."""
    return sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))


def package_digest() -> str:
    """A hash of every file of the package (sources and embedded data): an executed notebook
    is reused only while it and the package are unchanged."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "minislim").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_path(notebook: Path, package: str) -> Path:
    key = hashlib.sha256(notebook.read_bytes() + package.encode()).hexdigest()[:16]
    return CACHE / "notebooks" / f"{notebook.stem}-{key}.ipynb"


def store_executed(notebook: Path, nb, seconds: float, package: str | None = None,
                   cpu_seconds: float | None = None, load: float | None = None) -> Path:
    """Keep an executed notebook (an ``nbformat`` node) and its run time in the cache.

    ``seconds`` is the wall-clock time; ``cpu_seconds`` the CPU time of its kernel and
    ``load`` the machine's load average while it ran, when known (a busy machine makes the
    wall-clock time longer than the notebook needs).
    """
    import nbformat

    nb.metadata[META_KEY] = {"run_seconds": round(seconds, 1), "cores": os.cpu_count()}
    if cpu_seconds is not None:
        nb.metadata[META_KEY]["cpu_seconds"] = round(cpu_seconds, 1)
    if load is not None:
        nb.metadata[META_KEY]["load"] = round(load, 1)
    target = cache_path(notebook, package or package_digest())
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f"{notebook.stem}-*.ipynb"):
        stale.unlink()
    nbformat.write(nb, target)
    return target


def python3_kernelspec(folder: Path) -> Path:
    """A folder holding a ``python3`` kernelspec that runs this interpreter."""
    from ipykernel.kernelspec import write_kernel_spec

    write_kernel_spec(folder / "python3", overrides={"display_name": "Python 3 (site)"})
    return folder


def process_cpu_seconds(pid: int):
    """CPU time (user + system, its waited-for children included) of a process so far, read
    from ``/proc``; None where there is no ``/proc`` (not Linux) or the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the command's closing parenthesis: state is field 3, utime..cstime fields 14-17
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def execute(notebook: Path, kernels: Path, threads: int | None = None):
    """Run a notebook top to bottom in a fresh kernel, in a scratch working folder; the
    kernel is shut down when it is done. ``threads`` caps the kernel's BLAS/OpenMP threads
    (for notebooks executed side by side) unless the environment already sets them.

    Returns ``(executed notebook, seconds, kernel CPU seconds or None, mean load average)``;
    a cell error raises ``RuntimeError`` naming it.
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="site-nb-") as workdir:
        km = AsyncKernelManager(kernel_name="python3",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        client = NotebookClient(nb, km=km, kernel_name="python3", timeout=CELL_TIMEOUT,
                                resources={"metadata": {"path": workdir}})
        python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "MPLBACKEND": INLINE_BACKEND, "PYTHONPATH": python_path}
        if threads:
            for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(variable, str(threads))
        # the kernel's CPU time and the machine's load, read after every cell (the kernel is
        # gone once execute() returns)
        cpu, loads = [None], [os.getloadavg()[0]]

        def after_cell(**kwargs):
            cpu[0] = process_cpu_seconds(km.provisioner.pid)
            loads.append(os.getloadavg()[0])

        client.on_cell_executed = after_cell
        start = time.perf_counter()
        try:
            client.execute(env=env, cleanup_kc=True)
        except CellExecutionError as error:
            raise RuntimeError(f"{notebook.name} failed in a cell:\n{error}") from None
        return nb, time.perf_counter() - start, cpu[0], sum(loads) / len(loads)


def previous_run_seconds(notebook: Path) -> float:
    """How long the notebook took when it was last executed for the site (any version in the
    cache), else 0: the longest are started first when several run at once."""
    import nbformat

    times = [nbformat.read(p, as_version=4).metadata.get(META_KEY, {}).get("run_seconds", 0)
             for p in (CACHE / "notebooks").glob(f"{notebook.stem}-*.ipynb")]
    return max(times, default=0)


def stage_notebooks(stage: Path, jobs: int = 1) -> dict:
    """Stage every course notebook executed (from the cache when unchanged).

    ``jobs`` notebooks run at once, each in its own kernel limited to one BLAS thread when
    ``jobs`` > 1, the longest (by their last run) first.

    Returns ``{notebook name: seconds}``, the run times measured when each was executed.
    """
    import nbformat

    package = package_digest()
    out = stage / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    todo, times = [], {}
    for notebook in course_notebooks():
        cached = cache_path(notebook, package)
        if cached.exists():
            shutil.copyfile(cached, out / notebook.name)
            times[notebook.name] = nbformat.read(cached, as_version=4).metadata[META_KEY]["run_seconds"]
            print(f"  {notebook.name}: executed copy reused ({times[notebook.name]} s when run)")
        else:
            todo.append(notebook)
    if todo:
        with tempfile.TemporaryDirectory(prefix="site-kernels-") as folder:
            kernels = python3_kernelspec(Path(folder))

            def run(notebook):
                nb, seconds, cpu, load = execute(notebook, kernels, threads=1 if jobs > 1 else None)
                stored = store_executed(notebook, nb, seconds, package, cpu_seconds=cpu, load=load)
                shutil.copyfile(stored, out / notebook.name)
                cpu_text = f", {cpu:.1f} s of CPU" if cpu is not None else ""
                print(f"  {notebook.name}: executed in {seconds:.1f} s{cpu_text} (load average {load:.1f})",
                      flush=True)
                return notebook.name, round(seconds, 1)

            todo.sort(key=previous_run_seconds, reverse=True)
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                times.update(pool.map(run, todo))
    return dict(sorted(times.items()))


def notebook_title(path: Path) -> str:
    """The first ``# `` heading of a notebook's first Markdown cell (as plain text: the
    navigation shows no Markdown), else its file name."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].replace("`", "").strip()
    return path.stem


# --- 3. API reference --------------------------------------------------------------------

def public_names() -> tuple:
    """``(modules, others)``: the public names of ``minislim`` that are modules, and the rest
    (functions, classes, constants), both in the order of ``minislim.__all__``."""
    sys.path.insert(0, str(ROOT))
    import minislim

    modules = [n for n in minislim.__all__ if isinstance(getattr(minislim, n), types.ModuleType)]
    others = [n for n in minislim.__all__ if n not in modules and not n.startswith("__")]
    return modules, others


def home_module(name: str) -> str:
    """The part of the package a top-level name comes from (``arg_scope`` -> ``framework``)."""
    import minislim

    module = getattr(getattr(minislim, name), "__module__", None) or "minislim"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "minislim" else "minislim"


@functools.lru_cache(maxsize=1)
def griffe_package():
    import griffe

    return griffe.load("minislim", search_paths=[str(ROOT)])


def api_path(name: str) -> str:
    """The dotted path the API page documents a top-level name under: ``minislim.NAME``,
    unless Griffe (which reads the source, not the live package) takes that path for a
    module while the name is not one: ``slim.tensor`` is the function ``tensor``, but
    ``minislim.autograd.tensor`` is also a module. Then the object's own path."""
    import minislim

    obj = getattr(minislim, name)
    if griffe_package()[name].is_module and not isinstance(obj, types.ModuleType):
        return f"{obj.__module__}.{obj.__qualname__}"
    return f"minislim.{name}"


def stage_api(stage: Path) -> list:
    """Write ``api/*.md``; returns the nav entries of the API reference."""
    modules, others = public_names()
    api = stage / "api"
    api.mkdir(parents=True, exist_ok=True)
    groups: dict = {}
    for name in others:
        groups.setdefault(home_module(name), []).append(name)
    lines = ["# `import minislim as slim`", "",
             "The names a program reaches as `slim.NAME`, grouped by the part of the package "
             "that defines them. Each module of the package has its own page in this section.",
             ""]
    for group, names in groups.items():
        lines += [f"## From `minislim.{group}`" if group != "minislim" else "## Package", ""]
        lines += [f"::: {api_path(name)}\n    options:\n      heading_level: 3\n" for name in names]
    (api / "index.md").write_text("\n".join(lines))
    nav = [{"slim.*": "api/index.md"}]
    for name in modules:
        (api / f"{name}.md").write_text(f"# `minislim.{name}`\n\n::: minislim.{name}\n"
                                        "    options:\n      show_root_heading: false\n")
        nav.append({f"slim.{name}": f"api/{name}.md"})
    return nav


# --- 4. KaTeX ----------------------------------------------------------------------------

class KatexUnavailable(RuntimeError):
    """KaTeX is not in the cache and npm could not fetch it."""


def katex_dist() -> Path:
    """KaTeX's ``dist`` folder, fetched once with ``npm pack`` (integrity-checked by npm)."""
    dist = CACHE / f"katex-{KATEX_VERSION}" / "dist"
    if (dist / "katex.min.js").exists():
        return dist
    npm = shutil.which("npm")
    if npm is None:
        raise KatexUnavailable("the site needs KaTeX, fetched once with npm: install Node.js and npm")
    with tempfile.TemporaryDirectory(prefix="katex-") as folder:
        done = subprocess.run([npm, "pack", f"katex@{KATEX_VERSION}", "--silent"], cwd=folder,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise KatexUnavailable(f"npm pack katex@{KATEX_VERSION} failed: {done.stderr.strip()[-300:]}")
        with tarfile.open(Path(folder) / done.stdout.strip().splitlines()[-1]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/dist/")
                       and m.isfile() and ".." not in m.name]
            tar.extractall(folder, members=members)
        shutil.rmtree(dist.parent, ignore_errors=True)
        dist.parent.mkdir(parents=True)
        shutil.move(str(Path(folder) / "package" / "dist"), dist)
    return dist


def stage_katex(stage: Path) -> None:
    """Copy the parts of KaTeX the pages use (script, auto-render, CSS, woff2 fonts)."""
    dist = katex_dist()
    target = stage / "assets" / "katex"
    (target / "contrib").mkdir(parents=True, exist_ok=True)
    (target / "fonts").mkdir(exist_ok=True)
    for name in ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js"]:
        shutil.copyfile(dist / name, target / name)
    for font in (dist / "fonts").glob("*.woff2"):
        shutil.copyfile(font, target / "fonts" / font.name)


# --- 5. MkDocs ---------------------------------------------------------------------------

def navigation(stage: Path, api_nav: list) -> list:
    notebooks = [{notebook_title(p): f"notebooks/{p.name}"}
                 for p in sorted((stage / "notebooks").glob("*.ipynb"))]
    guides = [f"{name}" for name in guide_order(stage)]
    return [{"Home": "index.md"}, {"Course notebooks": notebooks}, {"Guides": guides},
            {"API reference": api_nav}]


def build_site(site_dir: Path = SITE, stage: Path = STAGE, jobs: int = 1, quiet: bool = False) -> dict:
    """Stage everything in ``stage`` and run MkDocs into ``site_dir``.

    Returns ``{"notebooks": {name: seconds}, "seconds": total seconds}``.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    start = time.perf_counter()
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    stage_docs(stage)
    stage_katex(stage)
    shutil.copytree(HERE / "assets", stage / "assets", dirs_exist_ok=True)
    print("executing the notebooks")
    times = stage_notebooks(stage, jobs=jobs)
    api_nav = stage_api(stage)
    config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(stage), site_dir=str(site_dir),
                         nav=navigation(stage, api_nav))
    if quiet:
        import logging
        logging.getLogger("mkdocs").setLevel(logging.ERROR)
    cwd = os.getcwd()
    os.chdir(ROOT)  # mkdocs.yml's relative paths (hooks, Griffe's search path) are the repository's
    try:
        build(config)
    finally:
        os.chdir(cwd)
    return {"notebooks": times, "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=SITE)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at once (default: 2, or 1 on a single core)")
    args = parser.parse_args(argv)
    result = build_site(args.site_dir.resolve(), jobs=args.jobs)
    size = sum(p.stat().st_size for p in args.site_dir.rglob("*") if p.is_file())
    print(f"site built in {result['seconds']:.0f} s: {args.site_dir} ({size / 1e6:.1f} MB); "
          f"open it with: python -m http.server -d {args.site_dir} 8000 (then http://127.0.0.1:8000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
