# vbound: `make demo` runs the main job, `make test` the whole test suite; both set up first if needed.
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := core audio geometry molecules retrieval
SRC := $(foreach p,$(PACKAGES),packages/$(p)/src) apps

.PHONY: setup demo test test-all bench lint format wheels clean

setup:
	@bash scripts/setup.sh

demo: setup
	@mkdir -p out
	$(PY) -m vcore.ppca.synthetic --out out/ppca-demo.csv --n 1000 --d 10 --k 3 --seed 0
	$(VENV)/bin/vcore ppca-select out/ppca-demo.csv --max-k 6
	$(VENV)/bin/vgeom sample -n 4 --category chair -o out/demo-chairs --seed 0

test: setup
	$(PY) -m pytest -q

test-all: setup
	$(PY) -m pytest -q --runslow

bench: setup
	@mkdir -p bench-results
	PYTHONPATH=apps $(PY) -m bench --out bench-results

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(SRC)

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

wheels: setup
	@mkdir -p dist
	for p in $(PACKAGES); do $(PY) -m build --wheel --no-isolation --outdir dist packages/$$p || exit 1; done

clean:
	rm -rf dist out bench-results .pytest_cache .mypy_cache .ruff_cache
