# minislim: every command a contributor needs. `make help` lists them.
PYTHON ?= python3
PYTEST  = $(PYTHON) -m pytest

.PHONY: help install test test-fast lint bench notebooks docs demo clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

install:  ## install minislim in editable mode with the dev extras
	$(PYTHON) -m pip install -e ".[dev]"

test:  ## run the whole suite (slow tests included: notebooks, end-to-end training)
	$(PYTEST) tests

test-fast:  ## run the suite without the tests marked slow
	$(PYTEST) tests -m "not slow"

lint:  ## ruff (pyflakes + pycodestyle rules) over the package, tests, benchmarks and notebooks
	$(PYTHON) -m ruff check minislim tests bench notebooks sitebuild

bench:  ## benchmarks: autograd overhead, convolution vs GEMM floor, a vgg_cifar step (and PyTorch when installed)
	$(PYTHON) bench/overhead.py
	$(PYTHON) bench/conv.py
	$(PYTHON) bench/train_cifar.py --step-time

notebooks:  ## execute every notebook top to bottom in a fresh kernel
	$(PYTEST) tests/test_notebooks.py -m slow

docs:  ## execute the code blocks of docs/*.md
	$(PYTEST) tests/test_docs.py

demo:  ## train a small VGG on the embedded CIFAR-10 subset, then evaluate it
	$(PYTHON) -m minislim train --net vgg_cifar --logdir runs/demo
	$(PYTHON) -m minislim eval --logdir runs/demo

clean:  ## remove caches and build outputs
	rm -rf .pytest_cache .hypothesis .ruff_cache build dist *.egg-info site

.PHONY: site
site:  ## build the course site into site/: docs, executed notebooks, API reference (needs .[site], npm)
	$(PYTHON) sitebuild/build.py
