"""The command line dispatches through the parser (issue 12): no list of commands in main."""

from __future__ import annotations

import pytest

from posture_monitor import cli
from posture_monitor.core.common.settings import SETTINGS


def test_every_subcommand_names_the_function_that_runs_it():
    parser = cli.build_parser()
    names = cli.subcommands(parser)
    assert {"start", "gui", "analyze", "train", "evaluate", "sessions", "patients",
            "report"} <= names
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {n for n in names if not callable(sub.choices[n].get_default("func"))} == set()


def test_a_command_added_to_the_parser_is_dispatched_not_taken_for_the_main_job(monkeypatch):
    calls = []
    real = cli.build_parser

    def with_hello():
        parser = real()
        sub = next(a for a in parser._actions if a.dest == "command")
        hello = sub.add_parser("hello")
        hello.add_argument("--times", type=int, default=1)
        hello.set_defaults(func=lambda args: calls.append(args.times) or 7)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_hello)
    monkeypatch.setattr(cli, "cmd_start", lambda args: pytest.fail("routed to the main job"))
    assert cli.main(["hello", "--times", "3"]) == 7
    assert calls == [3]


def test_bare_options_and_no_arguments_go_to_the_main_job(monkeypatch):
    seen = []
    real = cli.build_parser

    def spying():
        parser = real()
        sub = next(a for a in parser._actions if a.dest == "command")
        sub.choices["start"].set_defaults(func=lambda args: seen.append(args) or 0)
        return parser

    monkeypatch.setattr(cli, "build_parser", spying)
    assert cli.main([]) == 0
    assert cli.main(["--source", "clip.mp4", "--model", "lite"]) == 0
    assert [(a.command, a.source, a.model) for a in seen] == [
        ("start", "0", "full"), ("start", "clip.mp4", "lite")]


@pytest.mark.parametrize("argv", [["--help"], ["analyze", "--help"], ["--version"]])
def test_help_and_version_exit_0_with_text(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.strip()
    if argv == ["--help"]:
        assert "analyze" in out and "sessions" in out
    if argv == ["analyze", "--help"]:
        assert "--baseline-from" in out


@pytest.mark.parametrize("onset", ["-1", "60.5"])
def test_onset_outside_the_settings_tables_range_is_a_one_line_usage_error(onset, capsys,
                                                                           tmp_path):
    spec = SETTINGS["alert_onset_s"]
    assert cli.main(["analyze", "missing.mp4", "--out", str(tmp_path), "--onset", onset]) == 2
    err = capsys.readouterr().err
    assert f"between {spec.low:g} and {spec.high:g}" in err and err.count("\n") == 1


def test_onset_flag_default_and_help_come_from_the_settings_table(capsys):
    spec = SETTINGS["alert_onset_s"]
    args = cli.build_parser().parse_args(["analyze", "x", "--out", "o"])
    assert args.onset == spec.default
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    assert f"({spec.low:g}-{spec.high:g}, default {spec.default:g})" in capsys.readouterr().out
