# GeoVL — see README.md. Every target that needs the environment runs `setup` first,
# which is idempotent (QGIS from the distribution, .venv, requirements.txt).
SHELL := /bin/bash
SYSTEM_PYTHON ?= /usr/bin/python3
PY := .venv/bin/python
MODEL ?= clip-rsicd
QGIS_PROFILE ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default
LOCALES := fr
SOURCES := $(shell git ls-files '*.py' 2>/dev/null | grep -vE '^(tests|bench|scripts)/|conftest.py')

export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup test demo deploy package bench mutation transup transcompile clean screenshots

setup:
	@SYSTEM_PYTHON=$(SYSTEM_PYTHON) bash scripts/setup.sh

test: setup transcompile
	HF_HUB_OFFLINE=1 $(PY) -m pytest

deploy: setup transcompile
	@QGIS_PROFILE=$(QGIS_PROFILE) $(SYSTEM_PYTHON) scripts/deploy.py

demo: deploy
	@$(PY) scripts/demo.py --model "$(MODEL)" --out demo_out

bench: setup
	$(PY) bench/retrieve.py
	$(PY) bench/segment.py
	$(PY) bench/ask.py
	$(PY) bench/change.py
	$(PY) bench/runtime.py
	$(PY) bench/interactive.py
	$(PY) bench/remote.py
	$(PY) bench/archive.py

# Mutation testing (cosmic-ray, a dev tool kept out of requirements.txt) in a copy of the
# tree: `make mutation` runs every module of scripts/mutation.py's table, MODULES=... some,
# SAMPLE=N N mutants of each (fixed seed), JOBS=N modules at a time.
mutation: setup
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) scripts/mutation.py $(if $(JOBS),--jobs $(JOBS)) $(if $(SAMPLE),--sample $(SAMPLE)) $(MODULES)

package: setup transcompile
	@$(PY) scripts/package.py

transup: setup
	pylupdate5 -noobsolete $(SOURCES) -ts $(foreach l,$(LOCALES),i18n/geovl_$(l).ts)

transcompile: setup
	@lrelease -silent i18n/*.ts

clean:
	rm -rf dist demo_out i18n/*.qm

# The README's screenshots, as the last `make test` took them (test-artifacts/).
SHOTS := dialogs/dialog-retrieve dialogs/dialog-retrieve-models dialogs/dialog-segment dialogs/dialog-ask \
	dialogs/dialog-change desktop-styles/1-change-styled desktop-styles/2-segment-styled \
	desktop-styles/3-retrieve-styled styles/ask desktop-menu/settings desktop-segment-tool/2-point-and-box-preview \
	desktop-segment-tool/3-accepted desktop-ask-dock/1-answer runtime-dialog-server
screenshots:
	@mkdir -p docs/screenshots
	@for shot in $(SHOTS); do cp "test-artifacts/$$shot.png" "docs/screenshots/$$(echo $$shot | tr / -).png" || exit 1; done
