"""The core runs headless: it never loads Qt or TensorFlow at run time. (Statically, the
layers and bans are import-linter contracts in pyproject.toml, run by `make test`.)"""

import subprocess
import sys

from tests.conftest import ROOT

QT = ("PySide6", "pyqtgraph", "shiboken6")
HEAVY = QT + ("tensorflow", "keras")  # the app never needs TensorFlow


def test_cli_analysis_runs_without_loading_qt_or_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from posture_monitor.cli import main\n"
        f"rc = main(['analyze', {str(ROOT / 'tests/fixtures/seated_side_mit/recline.jpg')!r},"
        f" '--out', {str(tmp_path)!r}, '--model', 'lite', '--quiet'])\n"
        f"assert rc == 0, rc\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "recline.csv").exists()
