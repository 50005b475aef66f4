# HiveMind: every target sets up what it needs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RUNTIME_IMAGE ?= hivemind/python:3.11
RUNTIME_NAME ?= python-3.11
TORCH_IMAGE ?= hivemind/python-torch:3.11
TORCH_RUNTIME_NAME ?= python-3.11-torch
TORCH_PACKAGES := python3,python3-torch,python3-numpy,python3-sklearn

.PHONY: venv demo test lint format proto proto-check runtime-image runtime-image-torch clean \
	screenshots web-screenshots package bench translations translations-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/hivemind demo

test: venv
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory runtime-image; \
	  else echo "note: no Docker daemon reachable; Docker tests will skip (and fail in CI)"; fi
	@# The PostgreSQL run skips locally without a cluster; in CI it must run.
	@if [ "$$CI" = true ]; then bash .ci/postgres-setup.sh >/dev/null; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Every test on SQLite, then the tests marked db or postgres on PostgreSQL (--db, see
	@# tests/conftest.py). Both runs always run; exit code 5 (PYTEST_ARGS selected nothing for
	@# one of them) is no failure unless neither ran a test.
	@status=0; ran=0; for db in sqlite postgres; do \
	  echo "$(BIN)/python -m pytest -ra --db=$$db $(PYTEST_ARGS)"; \
	  $(BIN)/python -m pytest -ra --db=$$db $(PYTEST_ARGS); code=$$?; \
	  case $$code in 0) ran=1 ;; 5) ;; *) ran=1; status=1 ;; esac; \
	done; \
	if [ $$ran = 0 ]; then echo "no test selected"; exit 5; fi; exit $$status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the committed gRPC stubs; tests/test_proto.py fails when they are stale.
proto: venv
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
	  proto/hivemind/v1/*.proto

# The default python-3.11 runtime, built without a registry; skipped when present. With
# REGISTER_DATA_DIR=DIR it is also saved (`docker save`) and registered with that server data
# dir as an approved runtime, which workers lacking the image fetch and `docker load`.
runtime-image:
	bash packaging/runtime/build-image.sh $(RUNTIME_IMAGE)
	@if [ -n "$(REGISTER_DATA_DIR)" ]; then \
	  $(MAKE) --no-print-directory venv && \
	  bash packaging/runtime/register-image.sh $(RUNTIME_IMAGE) $(RUNTIME_NAME) \
	    "$(REGISTER_DATA_DIR)" $(BIN)/hivemind-server; \
	fi

# The training runtime python-3.11-torch: Debian's CPU PyTorch, numpy and scikit-learn (1.5 GB,
# 2.5 min to build; examples/train runs in it). REGISTER_DATA_DIR works as for runtime-image.
runtime-image-torch:
	bash packaging/runtime/build-image.sh $(TORCH_IMAGE) $(TORCH_PACKAGES)
	@if [ -n "$(REGISTER_DATA_DIR)" ]; then \
	  $(MAKE) --no-print-directory venv && \
	  bash packaging/runtime/register-image.sh $(TORCH_IMAGE) $(TORCH_RUNTIME_NAME) \
	    "$(REGISTER_DATA_DIR)" $(BIN)/hivemind-server; \
	fi

# The desktop bundle (PyInstaller) and, on Linux, dist/hivemind-<v>-linux-<arch>.tar.gz and
# dist/hivemind_<v>_<arch>.deb; packaging/linux/smoke-test.sh installs and tries them.
package: venv
	$(BIN)/python packaging/build.py

bench: venv
	$(BIN)/python bench/coordinator.py --tasks 10000 --workers 4

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache

# The desktop app's pictures for the README: every tab in English and 繁體中文, rendered offscreen
# from real widgets while a real local network (server, the app's worker, jobs) runs.
screenshots: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app.ui.screenshots --out docs/screenshots

# The web dashboard's pictures for the README: its pages in English and 繁體中文, taken by a
# headless Chromium (Debian's chromium and chromium-driver) while a small network works.
web-screenshots: venv
	$(BIN)/python -m tests.web.screenshots --out docs/screenshots

# Qt Linguist pipeline: extract tr() strings into assets/translations/*.ts (translations kept),
# then compile the .qm files the app loads. tests/ui/test_translations.py runs the check.
translations: venv
	$(BIN)/python -m app.ui.translations_build update
	$(BIN)/python -m app.ui.translations_build release

translations-check: venv
	$(BIN)/python -m app.ui.translations_build check
