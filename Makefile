# lmim_mm - common tasks. Every target sets the environment up first (idempotent, seconds when done).
PY := .venv/bin/python
SETUP_STAMP := .venv/.lmim_stamp
DEMO_SCALE ?= 1

.PHONY: setup test demo benchmark clean-demo

$(SETUP_STAMP): tools/setup_env.sh setup.py requirements/*.txt
	bash tools/setup_env.sh

setup:
	bash tools/setup_env.sh

test: $(SETUP_STAMP)
	$(PY) -m pytest -ra tests

demo: $(SETUP_STAMP)
	DEMO_SCALE=$(DEMO_SCALE) $(PY) tools/demo.py $(if $(DATA),--data $(DATA),)

benchmark: $(SETUP_STAMP)
	$(PY) tools/benchmark.py

clean-demo:
	rm -rf work_dirs/demo
