"""Property-based fuzzing of the two small JSON files the window keeps (issue 11): any
bytes and any JSON in settings.json or profiles.json must never give a traceback or a hang,
reading must not change the file, and a save that drops anything of it leaves a backup
with the file's exact bytes first. Bounded (150 examples each) so the suite stays fast."""

import json
import math
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from posture_monitor.core.posture.baseline import Baseline, MetricStats, Profile, ProfileStore
from posture_monitor.core.records.app_settings import AppSettings, load_settings, save_settings

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BIG = 10 ** 400

# -- what files may hold ---------------------------------------------------------------------

numbers = st.one_of(
    st.integers(), st.integers(min_value=10 ** 300, max_value=BIG),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 1, -1, 0.5, 30]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """A valid file with a stretch replaced by other bytes: cut short, a flipped byte..."""
    n = len(valid)
    return st.tuples(st.integers(0, n), st.integers(0, n), st.binary(max_size=6)).map(
        lambda t: valid[:min(t[0], t[1])] + t[2] + valid[max(t[0], t[1]):])


def _file_bytes(structures: st.SearchStrategy, valid: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=300), _mutations(valid),
                     structures.map(lambda v: json.dumps(v).encode()),
                     json_values.map(lambda v: json.dumps(v).encode()))


NAMES = [f.name for f in fields(AppSettings)]
settings_objects = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
    st.one_of(json_values, st.sampled_from(["lite", "full", True, False, 60, 0.7])),
    max_size=8)
VALID_SETTINGS = json.dumps(asdict(AppSettings()), indent=2).encode()

finite = st.floats(allow_nan=False, allow_infinity=False)
maybe_numbers = st.one_of(finite, finite, numbers, st.text(max_size=3))
baselines = st.fixed_dictionaries({
    "created": st.one_of(st.text(max_size=5), scalars), "view": st.sampled_from(["left", "front"]),
    "metrics": st.dictionaries(st.sampled_from(["cva_deg", "torso_incl_deg"]),
                               st.fixed_dictionaries({"median": maybe_numbers,
                                                      "spread": maybe_numbers,
                                                      "n": st.one_of(st.integers(0, 99),
                                                                     scalars)}),
                               max_size=2),
    "scale": maybe_numbers,
    "position": st.lists(maybe_numbers, min_size=1, max_size=3),
    "camera": st.one_of(st.fixed_dictionaries({
        "description": st.text(max_size=5), "width": st.integers(0, 4000),
        "height": st.integers(0, 4000)}), json_values),
    "slouch": st.one_of(st.none(), st.dictionaries(st.sampled_from(["cva_deg"]),
                                                   maybe_numbers, max_size=1)),
})
entries = st.one_of(
    st.fixed_dictionaries({"person": st.one_of(st.text(max_size=4), scalars),
                           "camera": st.sampled_from(["cam A", "cam B"]),
                           "baseline": st.one_of(st.none(), baselines)}),
    json_values)
profile_files = st.one_of(
    st.fixed_dictionaries({"version": st.just(1), "profiles": st.lists(entries, max_size=4)}),
    st.dictionaries(st.sampled_from(["version", "profiles", "other"]), json_values, max_size=3))
VALID_PROFILES = json.dumps({"version": 1, "profiles": [{"person": "p01", "camera": "cam A",
    "baseline": Baseline("2026-01-01", "left", {"cva_deg": MetricStats(50.0, 1.0, 9)}, 0.1,
                         (0.5, 0.4), {"description": "cam A", "width": 640,
                                      "height": 480}).to_dict()}]}, indent=2).encode()


# -- an oracle for "the save dropped something", independent of the code under test ------

def _same(a, b) -> bool:
    """Equal as JSON data: numbers by value (NaN is never equal), bools only to bools."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _parsed(raw: bytes):
    """(True, value) for a JSON file, (False, None) for anything else."""
    try:
        return True, json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return False, None


def _kept(folder: Path, name: str, raw: bytes) -> bool:
    return any(p.read_bytes() == raw for p in folder.glob(name + ".backup-*"))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- settings --------------------------------------------------------------------------------

@FUZZ
@given(raw=_file_bytes(settings_objects, VALID_SETTINGS))
@example(raw=b"[" * 100_000)
@example(raw=b'{"camera_index": 1' + b"0" * 400 + b', "model": "lite"}')
@example(raw=b'{"min_visibility": NaN, "camera_fps": Infinity, "grid": 1}')
@example(raw=b'{"model": ' + b"[" * 950 + b"]" * 950 + b"}")
@example(raw=b"\xff\xfe{}")
def test_any_settings_file_loads_untouched_and_saves_valid_settings(raw):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path = folder / "settings.json"
        path.write_bytes(raw)
        loaded, warning = load_settings(path)  # never raises
        assert path.read_bytes() == raw and _files(folder) == ["settings.json"]
        assert loaded == loaded.validated()
        assert warning is None or ("\n" not in warning and len(warning) < 600)
        save_settings(loaded, path)  # what the window does at exit
        assert load_settings(path) == (loaded, None)
        ok, old = _parsed(raw)
        new = json.loads(path.read_bytes())
        dropped = raw.strip() and (not ok or not isinstance(old, dict) or any(
            k not in new or not _same(v, new[k]) for k, v in old.items()))
        if dropped:
            assert _kept(folder, "settings.json", raw)
        assert len(_files(folder)) <= 2  # the file and at most one copy
        save_settings(loaded, path)  # whole now: no further copy
        assert len(_files(folder)) <= 2


# -- profiles --------------------------------------------------------------------------------

def _key(p: Profile) -> tuple[str, str]:
    return p.person, p.camera


@FUZZ
@given(raw=_file_bytes(profile_files, VALID_PROFILES))
@example(raw=b'{"profiles": ' + b"[" * 100_000 + b"}")
@example(raw=VALID_PROFILES.replace(b"0.1,", b"1" + b"0" * 400 + b","))
@example(raw=VALID_PROFILES.replace(b"0.1,", b"NaN,"))
@example(raw=b'{"profiles": [' + b"[" * 950 + b"]" * 950 + b"]}")
def test_any_profiles_file_loads_and_a_save_keeps_every_readable_profile(raw):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path = folder / "profiles.json"
        path.write_bytes(raw)
        store = ProfileStore(path)
        before = store.list()  # never raises
        warning = store.warning
        assert path.read_bytes() == raw and _files(folder) == ["profiles.json"]
        assert warning is None or ("\n" not in warning and len(warning) < 600)
        for p in before:  # what was read is usable: finite numbers, a full camera record
            if p.baseline is not None:
                assert math.isfinite(p.baseline.scale) and "width" in p.baseline.camera
        new_profile = Profile("fuzz", "cam A")
        store.save(new_profile)
        again = ProfileStore(path)
        after = again.list()
        assert again.warning is None
        assert [_key(p) for p in after] == [
            _key(p) for p in before if _key(p) != _key(new_profile)] + [_key(new_profile)]
        ok, old = _parsed(raw)
        new = json.loads(path.read_bytes())
        if not raw.strip():
            dropped = False
        elif not ok or not isinstance(old, dict) or not isinstance(old.get("profiles"), list):
            dropped = True
        else:
            kept = [e for e in old["profiles"] if not (
                isinstance(e, dict) and e.get("person") == "fuzz" and e.get("camera") == "cam A")]
            dropped = any(not _same(v, new.get(k)) for k, v in old.items()
                          if k != "profiles") or any(
                not any(_same(e, n) for n in new["profiles"]) for e in kept)
        if dropped:
            assert _kept(folder, "profiles.json", raw)
        assert len(_files(folder)) <= 2
