"""The core runs headless: it never imports Qt, checked statically and at run time."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

QT = ("PySide6", "pyqtgraph", "shiboken6")
HEAVY = QT + ("tensorflow", "keras")  # the app never needs TensorFlow


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_sources_never_import_qt():
    core = sorted((ROOT / "posture_monitor" / "core").rglob("*.py"))
    assert len(core) > 5
    for path in core:
        assert not _imports(path) & set(QT), path


def _full_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_training_or_tensorflow():
    for path in sorted((ROOT / "posture_monitor" / "core").rglob("*.py")):
        for name in _full_imports(path):
            assert not name.startswith(("posture_monitor.training", "tensorflow", "keras")), (
                path, name)


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
