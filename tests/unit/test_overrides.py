"""Which extra an overridden requirement belongs to (uv's `MarkerTree::top_level_extra`)."""

from __future__ import annotations

import pytest

from pyrun.core.overrides import override_applies, top_level_extra


@pytest.mark.parametrize(
    ("marker", "extra"),
    [
        (None, None),
        ("python_version < '3.11'", None),
        ("extra == 'fast'", "fast"),
        ("extra == 'Fast_Path'", "fast-path"),
        ("python_version < '3.11' and extra == 'fast'", "fast"),
        ("(extra == 'fast' and os_name == 'nt') or (extra == 'fast' and os_name != 'nt')", "fast"),
        # Not the same extra in every conjunction, or not required at all: no top-level extra.
        ("extra == 'fast' or extra == 'slow'", None),
        ("extra == 'fast' or python_version < '3.11'", None),
        ("extra != 'fast'", None),
    ],
)
def test_top_level_extra(marker: str | None, extra: str | None) -> None:
    assert top_level_extra(marker) == extra


def test_an_override_applies_where_the_original_requirement_was_declared() -> None:
    assert override_applies("python_version < '3.11'", None)  # the original marker is dropped
    assert not override_applies("python_version < '3.11'", "fast")
    assert override_applies("extra == 'fast' and python_version < '3.11'", "fast")
    assert not override_applies("extra == 'fast'", None)
    # uv finds no top-level extra here, so the override becomes a dependency of the package.
    assert override_applies("extra == 'fast' or extra == 'slow'", None)
