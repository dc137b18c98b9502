# The two commands a newcomer needs are `make app` and `make test`; both bootstrap .venv first.
PY := .venv/bin/python
PORT ?= 8501

.PHONY: venv app demo test test-fast bench lint sample-data clean

venv:
	@bash scripts/bootstrap.sh

app: venv  # the app makes the "sample" project from sample_data/ on first start and syncs it
	@test -f sample_data/ref.mp4 || $(PY) scripts/make_sample_data.py
	$(PY) -m streamlit run app/streamlit_app.py --server.address 127.0.0.1 --server.port $(PORT)

demo: venv
	$(PY) -m mtbsync_core.cli demo --out out/demo --force

test: venv
	$(PY) -m pytest -q

test-fast: venv
	$(PY) -m pytest -q -m "not slow and not browser"

bench: venv
	$(PY) -m bench.run

lint: venv
	$(PY) -m ruff check mtbsync_core app tests bench scripts
	$(PY) -m ruff format --check mtbsync_core app tests bench scripts

sample-data: venv
	$(PY) scripts/make_sample_data.py
	$(PY) scripts/make_sample_runs.py

clean:
	rm -rf out bench/.cache .pytest_cache
