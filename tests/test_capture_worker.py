"""The one capture worker on real clips: a camera that drops stale frames, and `analyze`
on a camera that is unplugged and plugged back in."""

import time
from itertools import pairwise

from posture_monitor.core.capture.sources import VideoAsCameraSource
from posture_monitor.core.capture.worker import RETRY_S, CaptureWorker
from posture_monitor.core.common.errors import SourceError
from posture_monitor.core.common.settings import AnalysisSettings
from tests.conftest import read_rows


def test_a_slow_consumer_of_a_camera_gets_the_newest_frame_and_the_rest_are_counted(
        sports2d_video):
    with VideoAsCameraSource(sports2d_video) as camera:
        worker = CaptureWorker(camera)
        assert worker.newest_wins
        seen = []
        for frame in worker.frames():
            seen.append(frame.index)
            time.sleep(0.2)  # 5 frames/s against a 30 frames/s camera
            if len(seen) == 8:
                break
    assert not worker.running
    # The stand-in delivers up to 30 frames/s (fewer on a busy machine): frames are skipped.
    assert seen == sorted(seen) and seen[-1] - seen[0] >= 7 * 2
    assert worker.dropped >= 7


class _Unplugged(VideoAsCameraSource):
    """A real clip in camera 0's role that stops delivering after `fail_after` frames."""

    def __init__(self, path, fail_after):
        super().__init__(path)
        self.fail_after = fail_after

    def read(self):
        if self._delivered >= self.fail_after:
            raise SourceError("camera 0 stopped delivering frames")
        return super().read()


def test_analyze_on_a_camera_goes_on_after_it_is_unplugged_and_plugged_back(
        tmp_path, sports2d_video, capsys):
    from posture_monitor.cli import run_analysis

    opens = []

    def open_input(spec):
        assert spec == "0"
        opens.append(time.monotonic())
        if len(opens) == 1:
            return _Unplugged(sports2d_video, fail_after=30)
        if len(opens) == 2:  # still unplugged at the first retry
            raise SourceError("no camera at index 0")
        return _Unplugged(sports2d_video, fail_after=10_000)  # plugged back in

    code = run_analysis(["0"], tmp_path, AnalysisSettings(model="lite", classifier="none"),
                        quiet=True, max_frames=60, open_input=open_input)
    assert code == 0
    assert len(opens) == 3 and opens[2] - opens[1] >= RETRY_S - 0.1
    err = capsys.readouterr().err
    assert "camera lost: camera 0 stopped delivering frames" in err
    assert "camera back" in err
    rows = read_rows(tmp_path / "camera0.csv")
    assert len(rows) == 60
    times = [float(r["time_s"]) for r in rows]
    frames = [int(r["frame"]) for r in rows]
    assert all(b > a for a, b in pairwise(times)) and all(b > a for a, b in pairwise(frames))
    gap = max(range(len(times) - 1), key=lambda i: times[i + 1] - times[i])
    assert times[gap + 1] - times[gap] >= 2 * RETRY_S - 0.5  # two retries: the outage
    assert frames[gap] < 30 <= frames[gap + 1]  # rows from before and after the reconnect
    assert len(rows) - gap - 1 >= 10
