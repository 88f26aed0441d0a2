"""The last-resort handler: an exception nothing translated is one `error:` line and a hint,
exit 2, with the traceback only under `-v`."""

from __future__ import annotations

import pytest

from pyrun import cli

HINT = "hint: this is a bug in pyrun; please report it with the output of the same command with -v"


def _fail_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def dispatch(argv: list[str]) -> int:
        raise exc

    monkeypatch.setattr(cli, "_dispatch", dispatch)


def test_unexpected_exception_is_an_error_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, RuntimeError("the frobnicator broke\nsecond line"))
    assert cli.main(["--color", "never", "lock"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: unexpected RuntimeError: the frobnicator broke\n\n{HINT}\n"


@pytest.mark.parametrize(
    "argv",
    [["-v", "lock"], ["lock", "-v"], ["lock", "--verbose"], ["--color", "never", "sync", "-vv"]],
)
def test_traceback_only_under_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    _fail_with(monkeypatch, KeyError("missing"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "error: unexpected KeyError: 'missing'" in err


def test_run_command_flags_are_not_pyruns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, ValueError("boom"))
    assert cli.main(["run", "python", "-v"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_exception_group_without_pyrun_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, ExceptionGroup("nursery", [TypeError("bad operand")]))
    assert cli.main(["lock"]) == 2
    assert "error: unexpected ExceptionGroup: nursery (1 sub-exception)" in capsys.readouterr().err


def test_keyboard_interrupt_and_exit_are_not_bugs(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, SystemExit(3))
    with pytest.raises(SystemExit):
        cli.main(["lock"])
    # Ctrl-C inside a nursery is an interruption (exit 130), never reported as a bug.
    _fail_with(monkeypatch, BaseExceptionGroup("nursery", [KeyboardInterrupt()]))
    assert cli.main(["lock"]) == 130
