# Two commands for a fresh machine: `make run` (pipeline on the shipped data) and `make test`.
# Both create the local virtual environment .venv when it is missing or pyproject.toml changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := borgerservice

.PHONY: help env run report paper test lab examples check-data clean-reports benchmark

help:
	@echo "make run       create .venv if needed, then run every notebook in config/pipeline.yaml"
	@echo "make report    the report site (reports/site/index.html), its PDF (reports/report.pdf) and the short report"
	@echo "               (reports/report_short.pdf) from what the last make run vouches for"
	@echo "make paper     the manuscript paper/manuscript.md bound to the last make run: reports/paper/*.docx, .tex, .pdf"
	@echo "make test      create .venv if needed, then run the test suite"
	@echo "make lab       start JupyterLab with the project's kernel"
	@echo "make examples  regenerate the synthetic example data (byte for byte)"
	@echo "make check-data  verify data/raw against its manifests"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"
	touch $(STAMP)

env: $(STAMP)

run: $(STAMP)
	$(BIN)/borgerservice run

report: $(STAMP)
	$(BIN)/borgerservice report

paper: $(STAMP)
	$(BIN)/borgerservice paper

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# JupyterLab from notebooks/, new notebooks and kernel pickers default to the project kernel, and
# notebooks are saved without outputs (config/jupyter_lab_config.py: a pre-save hook, helpers.running.lab).
# --allow-root only when run as root (containers, CI machines); JupyterLab refuses root otherwise.
lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab --config=../config/jupyter_lab_config.py --MappingKernelManager.default_kernel_name=$(KERNEL) $(if $(filter 0,$(shell id -u)),--allow-root)

examples: $(STAMP)
	$(BIN)/borgerservice examples

check-data: $(STAMP)
	$(BIN)/borgerservice check-data

clean-reports:
	rm -rf reports/executed reports/figures reports/tables reports/results reports/run_manifest.json reports/site reports/report.pdf reports/report_short.pdf reports/.cache reports/paper
