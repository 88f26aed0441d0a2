"""Reading the resolver's fields from a wheel's METADATA (headers only, as the email parser)."""

from __future__ import annotations

import subprocess
import sys

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


def _as_email_reads(data: bytes) -> tuple[object, ...]:
    """What `email`'s parser reads of the four fields (the reading `parse_core_metadata` keeps)."""
    from email.parser import BytesParser

    end = data.find(b"\n\n")
    message = BytesParser().parsebytes(data[: end + 2] if end >= 0 else data, headersonly=True)

    def first(name: str) -> str | None:
        value = message.get(name)
        return None if value is None else str(value).strip() or None

    every = lambda name: tuple(str(v) for v in message.get_all(name) or ())  # noqa: E731
    return (
        every("Requires-Dist"),
        first("Requires-Python"),
        first("Version"),
        every("Provides-Extra"),
    )


@pytest.mark.parametrize(
    "data",
    [
        HEADERS.encode() + b"\nbody",
        b"License: MIT\n  more\nrequires-dist: c>1\nRequires-Python:  >=3.8 \n\n",
        b"Author: \xc5\x81ukasz\nVersion: 5\nRequires-Dist: d\n\n",  # another header's bytes
        b"Version: 6\xc3\xa9\nRequires-Dist: d\xc3\xa9\n\n",  # a field read with them
        b"  Name: x\nVersion: 1\n\n",  # a continuation before any header
        b"Name: x\nbad line\nVersion: 3\n\n",  # a line that is no header ends them
        b":x\nVersion: 4\n\n",
        b"Na me: x\nVersion: 7\n\n",
        b"From nobody\nVersion: 2\n\n",
        b"Version:\nRequires-Python:\n\n",
        b"Version: 8",
        b"",
    ],
)
def test_fields_are_read_as_the_email_parser_reads_them(data: bytes) -> None:
    metadata = parse_core_metadata(data)
    read = (metadata.requires_dist, metadata.requires_python, metadata.version)
    assert (*read, metadata.provides_extras) == _as_email_reads(data)


def test_a_lock_of_usual_metadata_does_not_import_the_email_parser() -> None:
    # ~5 ms of imports a cold lock spared: METADATA in LF lines, the fields read in ASCII on
    # one line each, other headers (an author's name, a license on several lines) as they come.
    code = (
        "import sys\n"
        "from pyrun.net import threaded_lock\n"
        "from pyrun.net.lock_source import parse_core_metadata\n"
        "m = parse_core_metadata("
        "b'Metadata-Version: 2.1\\nName: a\\nVersion: 1.0\\nAuthor: \\xc5\\x81ukasz\\n"
        "License: MIT\\n        more\\nRequires-Dist: b>=1\\n\\nbody')\n"
        "assert m.requires_dist == ('b>=1',) and m.version == '1.0', m\n"
        "print(sorted(n for n in sys.modules if n.startswith('email')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
