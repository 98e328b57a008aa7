# Two commands matter: `make demo` and `make test`. Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SAMPLES := data/sample/papers/.generated
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU torch first, pinned: the local wheel; anything looser pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(SAMPLES): data/make_samples.py $(STAMP)
	$(BIN)/python data/make_samples.py data/sample/papers
	touch $@

demo: $(STAMP) $(SAMPLES)
	rm -rf demo && mkdir -p demo
	cp data/sample/reading-session.md demo/reading-session.md
	# Exit 1 means some key was reported unresolved (the sample names one on purpose).
	TRIAGE_HOME=demo/home TRIAGE_CONFIG=demo/config.toml $(BIN)/triage --offline run demo/reading-session.md \
		--library data/sample/library.bib --critic offline || test $$? -eq 1
	@echo; echo "----- demo/reading-session.md -----"; cat demo/reading-session.md

lint: $(STAMP)
	$(BIN)/ruff check triage tui tests bench data

test: $(STAMP) $(SAMPLES) lint
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP) $(SAMPLES)
	# Each prints ours against the raw library doing the same work.
	$(BIN)/python -m bench.bench_extract || echo "(extraction bench skipped: it needs ../shared/corpus)"
	for b in index critic digest tui; do $(BIN)/python -m bench.bench_$$b || exit 1; done

clean:
	rm -rf $(VENV) demo data/sample/papers .pytest_cache
