"""An error's hints as uv shows them: its own first, then its cause's, each after a blank line;
a coloured hint of its own replaces the plain one on a coloured terminal."""

from __future__ import annotations

from pyrun.errors import FailureError


def test_cause_hints_follow_the_errors_hint():
    error = FailureError("Failed to build `x==1`", causes=("boom",), hint="why")
    error.cause_hints = ("note",)
    assert (
        error.render()
        == "error: Failed to build `x==1`\n  cause: boom\n\nhint: why\n\nhint: note\n"
    )


def test_cause_hints_alone():
    error = FailureError("Failed to build `x==1`")
    error.cause_hints = ("note",)
    assert error.render() == "error: Failed to build `x==1`\n\nhint: note\n"


def test_the_styled_hint_only_when_colouring():
    error = FailureError("failed", hint="`a`")
    error.styled_hint = "`\x1b[36ma\x1b[39m`"
    assert error.render().endswith("\nhint: `a`\n")
    assert error.render(color=True).endswith(" `\x1b[36ma\x1b[39m`\n")
