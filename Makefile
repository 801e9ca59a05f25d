# One command builds the book, one runs the tests; each creates and fills .venv first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test check-book pdf check-bundle benchmark clean

# Re-install when the requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e '.[dask,notebooks]'
	touch $(STAMP)

## book: execute every chapter and build the static site into _build/html (fails on any warning);
## chapters execute two at a time (jupyter-book with Sphinx jobs, book/_ext/jb_build.py)
book: $(STAMP)
	$(BIN)/python book/_ext/jb_build.py build --all -W -n --keep-going .

## test: lib tests, Monte Carlo checks, every notebook through papermill, and the strict build
## (two pytest workers on two cores, so one BLAS thread each)
test: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest

## pdf: the book as _build/pdf/book.pdf and the problem set without solutions as
## _build/pdf/handout.pdf, typeset from the notebooks the site's build executed (after make book;
## needs Debian's TeX Live, see the README)
pdf: $(STAMP)
	$(BIN)/python book/_ext/pdf_book.py

## check-book: the strict build and the PDFs, then checks of every page of the built site (figures,
## offline math, no unresolved glue or stderr, execution status, downloads) and of the PDFs
check-book: book
	$(MAKE) pdf
	BOOK_SITE=_build/html $(BIN)/python -m pytest -m build -n 0

## check-bundle: unzip the built site's reader's bundle into an empty folder, install it into a
## fresh virtual environment as its README says, and run two chapters (needs the package index)
check-bundle: $(STAMP)
	BOOK_SITE=_build/html $(BIN)/python -m pytest -m bundle -n 0

## benchmark: CPU per task of every model of Figs. 8-10 against its random-number floor measured in
## the same run, then throughput of the engine and the full Fig. 8 (prints figures; not a test;
## one BLAS thread, as the reproduction's workers run)
benchmark: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python benchmarks/floor.py
	$(BIN)/python benchmarks/gaussian_throughput.py
	$(BIN)/python benchmarks/glm_throughput.py
	$(BIN)/python benchmarks/cvm_exact_vs_grid.py
	$(BIN)/python benchmarks/fig8_full.py
	$(BIN)/python benchmarks/ngram_throughput.py
	$(BIN)/python benchmarks/generative_throughput.py

clean:
	rm -rf _build $(VENV)
