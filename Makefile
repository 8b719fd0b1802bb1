# minislim: every command a contributor needs. `make help` lists them.
PYTHON ?= python3
PYTEST  = $(PYTHON) -m pytest

.PHONY: help install test test-fast lint bench notebooks docs demo clean tfslim-oracle

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
	$(PYTHON) bench/predict.py
	$(PYTHON) bench/parallel.py

notebooks:  ## execute every notebook top to bottom in a fresh kernel
	$(PYTEST) tests/test_notebooks.py -m slow

docs:  ## execute the code blocks of docs/*.md
	$(PYTEST) tests/test_docs.py

demo:  ## train a small VGG on the embedded CIFAR-10 subset, then evaluate it
	$(PYTHON) -m minislim train --net vgg_cifar --logdir runs/demo
	$(PYTHON) -m minislim eval --logdir runs/demo

clean:  ## remove caches and build outputs
	rm -rf .pytest_cache .hypothesis .ruff_cache build dist *.egg-info site

# The TF-Slim oracle (tests/tfslim/): tf_slim 1.1.0 needs TensorFlow 2.15 (newer versions break it),
# which needs Python 3.11. TFSLIM_VENV may name an existing venv with these pins.
TFSLIM_PYTHON ?= python3.11
TFSLIM_VENV   ?= .venv-tfslim
TFSLIM_PINS    = "tensorflow-cpu==2.15.1" "tf-keras==2.15.1" "tf-slim==1.1.0" "numpy<2" pytest

tfslim-oracle:  ## compare with the real tf_slim 1.1.0 (own venv: TF 2.15.1, Python 3.11); regenerates docs/tfslim_names.md
	test -x $(TFSLIM_VENV)/bin/python || $(TFSLIM_PYTHON) -m venv $(TFSLIM_VENV)
	$(TFSLIM_VENV)/bin/python -m pip install -q $(TFSLIM_PINS)
	MINISLIM_TFSLIM_DOCS=1 OMP_NUM_THREADS=1 $(TFSLIM_VENV)/bin/python -m pytest tests/tfslim -p no:cacheprovider -rs

.PHONY: site
site:  ## build the course site into site/: docs, executed notebooks, API reference (needs .[site], npm)
	$(PYTHON) sitebuild/build.py
