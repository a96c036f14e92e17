# Two commands do everything on a fresh machine (see README):
#   make run    set up .venv, install, start Posture Monitor (sample clip when there is no camera)
#   make test   set up .venv with the dev and train extras, fetch the test videos, run all tests
#   make model  rebuild the shipped posture classifier (fixed seed, same data, same result)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# APP: what running the app needs (no TensorFlow); STAMP: also tests and training.
APP    := $(VENV)/.installed-app
STAMP  := $(VENV)/.installed-dev-train

.PHONY: run test bench model dist lint clean

$(APP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[batch]'
	touch $(APP)

$(STAMP): $(APP)
	$(PY) -m pip install --quiet -e '.[batch,dev,train]'
	touch $(STAMP)

run: $(APP)
	$(VENV)/bin/posture-monitor

test: $(STAMP)
	@# PDF reports are checked by rendering them (pdftoppm, pdftotext from poppler-utils).
	@command -v pdftoppm >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq poppler-utils) >/dev/null 2>&1; } || \
		echo "poppler-utils missing: the PDF rendering tests will be skipped"
	@# "Nothing leaves the machine" is proved by tracing system calls (tests/test_offline.py).
	@command -v strace >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq strace) >/dev/null 2>&1; } || \
		echo "strace missing: the network tests (tests/test_offline.py) will be skipped"
	@# The window is also run on a real X server (Xvfb) with Qt's X11 libraries; the list of
	@# those lives in posture_monitor/gui/platform_check.py, which prints the missing ones.
	@pkgs="$$($(PY) -m posture_monitor.gui.platform_check)"; \
	command -v Xvfb >/dev/null 2>&1 || pkgs="xvfb $$pkgs"; \
	[ -z "$${pkgs% }" ] || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq $$pkgs) >/dev/null 2>&1; } || \
		echo "$$pkgs missing: the X11 window tests (tests/test_xcb.py) will be skipped"
	$(PY) tools/fetch_test_media.py
	$(PY) -m ruff check posture_monitor tests bench tools app
	@# layers, bans (no Qt/TensorFlow in the core) and no cycles: [tool.importlinter]
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) tools/fetch_test_media.py
	$(PY) bench/bench_pipeline.py tests/.media/sports2d_demo.mp4 --model full

# Real front-view clips the report evaluates when present: the desk webcam fixtures (a
# person upright throughout) and the constructed forward-head clips that
# tools/fetch_test_media.py builds from them (forward head from 20 to 50 s).
DESK_CLIPS := $(sort $(wildcard tests/fixtures/desk_webcam_bsd2/*.mp4))
FH_CLIPS := $(wildcard tests/.media/desk_forward_head.mp4 tests/.media/desk_forward_head_low.mp4)

model: $(STAMP)
	$(VENV)/bin/posture-monitor train --synthetic 60000 --seed 0 \
		--real-eval tests/fixtures/seated_side_mit \
		$(foreach f,$(DESK_CLIPS),--real-eval $(f)) \
		$(foreach f,$(FH_CLIPS),--real-eval $(f)@forward_head=20-50) --out models

# A one-folder desktop build in dist/posture-monitor/ (see packaging/README.md).
dist: $(STAMP)
	$(VENV)/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
		packaging/posture_monitor.spec
	bash packaging/check_dist.sh

lint: $(STAMP)
	$(PY) -m ruff check posture_monitor tests bench tools app
	$(PY) -m ruff format --check posture_monitor tests bench tools app

clean:
	rm -rf $(VENV) build dist tests/.media out
