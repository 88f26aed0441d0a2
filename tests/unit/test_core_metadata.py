"""Reading the resolver's fields from a wheel's METADATA (headers only, as the email parser)."""

from __future__ import annotations

import pytest

from pyrun.net.lock import parse_core_metadata

HEADERS = (
    "Metadata-Version: 2.4\n"
    "Name: demo\n"
    "Version: 1.0\n"
    "Requires-Python: >=3.9\n"
    "Provides-Extra: fast\n"
    "Requires-Dist: idna>=2\n"
    "Requires-Dist: cffi; extra ==\n"
    "  'fast'\n"
    " \n"
    "Requires-Dist: six\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_description_is_not_read_as_headers(newline: str) -> None:
    body = "Requires-Dist: from-the-description\n\nRequires-Python: <3\n"
    text = (HEADERS + "\n" + body).replace("\n", newline)
    metadata = parse_core_metadata(text.encode())
    assert metadata.requires_dist[0] == "idna>=2"
    assert metadata.requires_dist[1].split(";")[0] == "cffi"
    assert "extra ==" in metadata.requires_dist[1] and "'fast'" in metadata.requires_dist[1]
    # A line of blanks continues the header before it; only an empty line ends the headers.
    assert metadata.requires_dist[-1] == "six"
    assert len(metadata.requires_dist) == 3
    assert metadata.requires_python == ">=3.9"
    assert metadata.version == "1.0"
    assert metadata.provides_extras == ("fast",)


def test_headers_without_a_description() -> None:
    metadata = parse_core_metadata(HEADERS.encode())
    assert len(metadata.requires_dist) == 3


def test_a_built_dynamic_version_is_checked_before_the_resolver_compares_it() -> None:
    from pyrun.errors import FailureError
    from pyrun.net.lock import built_version

    built = parse_core_metadata(b"Metadata-Version: 2.1\nName: sdk\nVersion: 0.4.3\n")
    assert built_version("sdk", "../sdk", built) == "0.4.3"
    assert built_version("sdk", "../sdk", None) is None  # nothing was built
    for data, found in [(b"Version: latest\n", "`latest`"), (b"Name: sdk\n", "no version")]:
        with pytest.raises(FailureError) as info:
            built_version("sdk", "../sdk", parse_core_metadata(data))
        assert info.value.message == "Failed to read metadata of `sdk` at `../sdk`"
        assert info.value.causes == (f"its build backend reported {found}, not a valid version",)
