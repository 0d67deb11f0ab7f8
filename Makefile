# The README's two commands: `make demo` (the main job) and `make test` (the whole suite in both environments).
# Each does all set-up from a bare machine with Python >= 3.11: it creates the virtual environments, installs
# qbhw into them, and runs.
#   .venv        default environment: current qiskit 2.x, qiskit-aer, qutip, qiskit-ibm-runtime, dask distributed
#                (pip install -e .[dev,ibm,distributed])
#   .venv-pulse  pulse environment:   qiskit-dynamics 0.6.0, which pins qiskit 1.3.0  (pip install -e .[dev,pulse])

PYTHON ?= python3
VENV ?= .venv
VENV_PULSE ?= .venv-pulse
PYTEST_ARGS ?=
# two workers: the machine has two cores
WORKERS ?= 2

.PHONY: demo ideal check lint test test-default test-pulse env env-pulse clean

# the main job: a micromaser charged on the default device (FakeTorino snapshot), 0..10 collisions; prints the
# ideal / noiseless-circuit / noisy-predicted / measured table and writes results/demo/{result.json,counts.json,
# ergotropy.png}
demo: $(VENV)/.installed
	$(VENV)/bin/qbhw run micromaser --g-tau 1.1107207345 --p-excited 0.5 --coherence 1 --collisions 0:10:2 \
		--cutoff 8 --out results/demo --force

# the ideal physics of the four models and the device list
ideal: $(VENV)/.installed
	@$(VENV)/bin/qbhw ideal charger --omega-b 1 --omega-c 1 --j1 1 --j2 0.5 --time 0.3
	@echo
	@$(VENV)/bin/qbhw ideal thermal-gradient --omega-a 2 --omega-s 1 --temperature-a 2 --temperature-s 0.1 --gamma 0.01 --g 0.05
	@echo
	@$(VENV)/bin/qbhw ideal thermal-gradient --omega-a 2 --omega-s 1 --temperature-a 2 --temperature-s 0.1 --gamma 0.01 --g 0.05 --cycle-time 10
	@echo
	@$(VENV)/bin/qbhw ideal collective --n 8 --temperature 2
	@echo
	@$(VENV)/bin/qbhw ideal micromaser --g-tau 0.993458826580 --p-excited 0.5 --coherence 1 --collisions 30 --cutoff 12
	@echo
	@$(VENV)/bin/qbhw devices

# what a developer runs before every commit (under 2 minutes on 2 cores): lint, format check, types, fast tests
check: lint
	QBHW_ENV=default $(VENV)/bin/python -m pytest -n $(WORKERS) -q -m "not slow" $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check qbhw tests benchmarks
	$(VENV)/bin/ruff format --check qbhw tests benchmarks
	$(VENV)/bin/mypy

# make check first; then both environments run even when the first fails; non-zero exit if anything failed
test: check
	@status=0; \
	$(MAKE) --no-print-directory test-default || status=1; \
	$(MAKE) --no-print-directory test-pulse || status=1; \
	exit $$status

test-default: $(VENV)/.installed
	QBHW_ENV=default $(VENV)/bin/python -m pytest -n $(WORKERS) $(PYTEST_ARGS)

test-pulse: $(VENV_PULSE)/.installed
	QBHW_ENV=pulse $(VENV_PULSE)/bin/python -m pytest -n $(WORKERS) $(PYTEST_ARGS)

env: $(VENV)/.installed
env-pulse: $(VENV_PULSE)/.installed

# one recipe for both environments: $* is the environment folder, EXTRAS_<folder> its pip extras
EXTRAS_$(VENV) = dev,ibm,distributed
EXTRAS_$(VENV_PULSE) = dev,pulse

%/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qbhw needs Python >= 3.11; run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $*
	$*/bin/python -m pip install -q --upgrade pip
	$*/bin/python -m pip install -q -e ".[$(EXTRAS_$*)]"
	@touch $@

clean:
	rm -rf $(VENV) $(VENV_PULSE) build *.egg-info .pytest_cache
