# lmim_mm - common tasks. Every target sets the environment up first (idempotent, seconds when done).
PY := .venv/bin/python
SETUP_STAMP := .venv/.lmim_stamp
DEMO_SCALE ?= 1

.PHONY: setup test lint demo demo-compare benchmark clean-demo wheelhouse
# `make demo GPU=1`: the scale-up preset for one large GPU (bf16, bigger batches, more data and steps)
DEMO_ARGS = --preset $(if $(GPU),gpu,cpu) $(if $(DATA),--data $(DATA),)

$(SETUP_STAMP): tools/setup_env.sh setup.py requirements/*.txt
	bash tools/setup_env.sh

setup:
	bash tools/setup_env.sh

test: $(SETUP_STAMP)
	$(PY) -m pytest -ra tests

# ruff (ruff.toml; the version of requirements/lint.txt) over the whole repository, configs included
lint: $(SETUP_STAMP)
	.venv/bin/ruff check .

demo: $(SETUP_STAMP)
	DEMO_SCALE=$(DEMO_SCALE) $(PY) tools/demo.py $(DEMO_ARGS)

# after `make demo`: low-label fine-tuning from its LMIM student vs scratch, two seeds each
demo-compare: $(SETUP_STAMP)
	DEMO_SCALE=$(DEMO_SCALE) $(PY) tools/demo.py --compare $(DEMO_ARGS)

benchmark: $(SETUP_STAMP)
	$(PY) -m benchmarks

clean-demo:
	rm -rf work_dirs/demo

# `make wheelhouse [PYTHON_VERSION=312] [PLATFORM=manylinux2014_x86_64] [WHEELHOUSE=.whl] [BASE=1]`: the wheels and
# mmcv source that tools/install_into_env.sh installs offline into an existing PyTorch environment
PYTHON_VERSION ?= 312
PLATFORM ?= manylinux2014_x86_64
WHEELHOUSE ?= .whl
wheelhouse:
	BASE=$(BASE) bash tools/make_wheelhouse.sh $(WHEELHOUSE) $(PYTHON_VERSION) $(PLATFORM)
