"""Nothing leaves the machine: the real `analyze` and the real window under a system-call
trace make no connection outside loopback and no DNS query (core/common/offline.py)."""

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture_monitor.core.common.offline import CLOSED_LOOPBACK_PROXY, keep_native_libraries_offline
from tests.conftest import ROOT, read_rows

pytestmark = pytest.mark.skipif(shutil.which("strace") is None,
                                reason="strace missing (make test installs it with apt)")
CLI = [sys.executable, "-m", "posture_monitor"]
SAMPLE = ROOT / "assets" / "sample" / "pose2sim_cam02.mp4"
_ADDRESS = re.compile(r'sin6?_port=htons\((\d+)\).*?'
                      r'(?:inet_addr|inet_pton\(AF_INET6,)\s*\(?"([^"]+)"')


def _network_calls(trace: Path) -> list[tuple[str, int, str]]:
    """(address, port, line) of every IPv4/IPv6 connect/sendto/sendmsg in an strace log."""
    calls = []
    for line in trace.read_text(errors="replace").splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line) or "AF_INET" not in line:
            continue
        m = _ADDRESS.search(line)
        assert m, f"unparsed network call: {line}"
        calls.append((m.group(2), int(m.group(1)), line))
    return calls


def _assert_offline(trace: Path) -> None:
    for address, port, line in _network_calls(trace):
        ip = ipaddress.ip_address(address.removeprefix("::ffff:"))
        assert port != 53, f"DNS query: {line}"
        assert ip.is_loopback, f"connection leaves the machine: {line}"


def _strace(out: Path) -> list[str]:
    return ["strace", "-f", "-qq", "-o", str(out), "-e", "trace=connect,sendto,sendmsg,openat"]


def test_the_parser_sees_what_a_leak_looks_like(tmp_path):
    # The checker must be able to fail: lines as strace prints a DNS query and a connect.
    log = tmp_path / "leak.txt"
    log.write_text(
        '1 connect(7, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n'
        '1 connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2a00:1450:4001::e"), sin6_scope_id=0}, 28) = 0\n')
    assert [(a, p) for a, p, _ in _network_calls(log)] == [("10.255.255.53", 53),
                                                           ("2a00:1450:4001::e", 443)]
    with pytest.raises(AssertionError, match="DNS"):
        _assert_offline(log)


def test_proxy_variables_point_at_closed_loopback(monkeypatch):
    from posture_monitor.core.common import offline

    for name in offline.PROXY_VARIABLES + offline.NO_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)  # restored after the test
    monkeypatch.setattr(offline, "_ORIGINAL", None)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    keep_native_libraries_offline()
    assert os.environ["https_proxy"] == os.environ["HTTPS_PROXY"] == CLOSED_LOOPBACK_PROXY
    assert "NO_PROXY" not in os.environ  # "*" would let curl connect directly again
    child = offline.environment_for_children()  # the user's own settings, for pip
    assert child["https_proxy"] == "http://proxy.example:3128" and child["NO_PROXY"] == "*"
    assert "HTTPS_PROXY" not in child


@pytest.mark.slow
def test_analyze_makes_no_connection_outside_loopback(tmp_path):
    trace = tmp_path / "analyze.strace"
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    subprocess.run(_strace(trace) + CLI + ["analyze", str(SAMPLE), "--out", str(out),
                                           "--quiet"], check=True, env=env, timeout=300)
    rows = read_rows(out / "pose2sim_cam02.csv")
    assert sum(r["pose_detected"] == "1" for r in rows) > 50  # MediaPipe really ran
    assert "pose_landmarker_full.task" in trace.read_text()
    _assert_offline(trace)


@pytest.mark.slow
def test_window_makes_no_connection_outside_loopback(tmp_path):
    trace = tmp_path / "gui.strace"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.Popen(_strace(trace) + CLI + ["gui", "--source", str(SAMPLE)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        # The window has analysed frames once MediaPipe has opened its model.
        while time.monotonic() < deadline and (
                not trace.exists() or "pose_landmarker" not in trace.read_text()):
            time.sleep(0.5)
        time.sleep(8)  # let it run: the usage logger posts after the graph has started
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGTERM)  # the window closes the normal way
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "pose_landmarker" in trace.read_text()
    _assert_offline(trace)


@pytest.mark.slow
def test_batch_on_a_local_cluster_listens_and_connects_on_loopback_only(tmp_path):
    # Dask's scheduler, workers and dashboard are servers: every socket they bind must be
    # on 127.0.0.1 (the task names are video names), and no process connects elsewhere.
    trace = tmp_path / "batch.strace"
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                    "trace=connect,sendto,sendmsg,bind"] + CLI
                   + ["batch", str(SAMPLE), "--out", str(out), "--quiet", "--workers", "2"],
                   check=True, env=env, timeout=600)
    assert read_rows(out / "manifest.csv")[0]["status"] == "done"
    _assert_offline(trace)
    binds = [line for line in trace.read_text(errors="replace").splitlines()
             if re.search(r"\bbind\(", line) and "AF_INET" in line]
    assert len(binds) >= 4  # scheduler, dashboard, two workers: the check saw them
    for line in binds:
        m = _ADDRESS.search(line)
        assert m, f"unparsed bind: {line}"
        ip = ipaddress.ip_address(m.group(2).removeprefix("::ffff:"))
        assert ip.is_loopback, f"a server open to the network: {line}"
