"""Which sdists the resolver reads without a build (`pyrun.net.lock.static_sdist_metadata`)."""

from __future__ import annotations

from email.parser import BytesParser

import pytest
from packaging.requirements import Requirement

from pyrun.net.lock import static_sdist_metadata
from tests.support.wheels import sdist_archive

PYPROJECT = """
[project]
name = "pkg"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["b>=1"]
{more}

[project.optional-dependencies]
Fast = ["c ; python_version >= '3.10'"]
"""


def read(files: dict[str, str]) -> dict[str, list[str]] | None:
    raw = static_sdist_metadata("pkg-1.0.tar.gz", sdist_archive("pkg", "1.0", files))
    if raw is None:
        return None
    message = BytesParser().parsebytes(raw, headersonly=True)
    return {key: [str(v) for v in message.get_all(key) or ()] for key in set(message.keys())}


def test_a_static_pyproject_is_read_first() -> None:
    pkg_info = "Metadata-Version: 2.2\nName: pkg\nVersion: 1.0\nRequires-Dist: other\n"
    found = read({"pyproject.toml": PYPROJECT.format(more=""), "PKG-INFO": pkg_info})
    assert found is not None
    first, second = (Requirement(text) for text in found["Requires-Dist"])
    assert (first.name, str(first.specifier), first.marker) == ("b", ">=1", None)
    assert second.name == "c" and second.marker is not None
    assert second.marker.evaluate({"python_version": "3.11", "extra": "Fast"})
    assert not second.marker.evaluate({"python_version": "3.11", "extra": ""})
    assert not second.marker.evaluate({"python_version": "3.9", "extra": "Fast"})
    assert found["Provides-Extra"] == ["Fast"]
    assert found["Requires-Python"] == [">=3.9"]


@pytest.mark.parametrize("field", ["version", "dependencies", "requires-python"])
def test_a_dynamic_pyproject_falls_back_to_pkg_info(field: str) -> None:
    text = PYPROJECT.format(more=f'dynamic = ["{field}"]')
    if field == "version":
        text = text.replace('version = "1.0"\n', "")
    pkg_info = "Metadata-Version: 2.2\nName: pkg\nVersion: 1.0\nRequires-Dist: other\n"
    found = read({"pyproject.toml": text, "PKG-INFO": pkg_info})
    assert found is not None and found["Requires-Dist"] == ["other"]


@pytest.mark.parametrize(
    "pkg_info",
    [
        "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: other\n",
        "Metadata-Version: 2.2\nName: pkg\nVersion: 1.0\nDynamic: Requires-Dist\n",
        "Metadata-Version: 2.4\nName: pkg\nVersion: 1.0\nDynamic: Provides-Extra\n",
    ],
)
def test_only_a_build_can_tell(pkg_info: str) -> None:
    dynamic = PYPROJECT.format(more='dynamic = ["dependencies"]').replace(
        'dependencies = ["b>=1"]\n', ""
    )
    assert read({"pyproject.toml": dynamic, "PKG-INFO": pkg_info}) is None


def test_a_malformed_pyproject_is_left_to_the_backend() -> None:
    broken = PYPROJECT.format(more="").replace('["b>=1"]', '["b>=>1"]')
    assert read({"pyproject.toml": broken}) is None
    assert read({"pyproject.toml": "[project\n"}) is None


def test_a_static_source_for_another_version_is_passed_over() -> None:
    """uv validates static metadata against the sdist's name and version, as a build's."""
    pkg_info = "Metadata-Version: 2.2\nName: pkg\nVersion: 1.0\nRequires-Dist: other\n"
    other_version = PYPROJECT.format(more="").replace('version = "1.0"', 'version = "0.9"')
    found = read({"pyproject.toml": other_version, "PKG-INFO": pkg_info})
    assert found is not None and found["Requires-Dist"] == ["other"]
    other_name = pkg_info.replace("Name: pkg", "Name: pkg2")
    assert read({"pyproject.toml": other_version, "PKG-INFO": other_name}) is None


def test_an_index_version_stands_in_for_a_dynamic_one() -> None:
    text = PYPROJECT.format(more='dynamic = ["version"]').replace('version = "1.0"\n', "")
    data = sdist_archive("pkg", "1.0", {"pyproject.toml": text})
    assert static_sdist_metadata("pkg-1.0.tar.gz", data) is None  # a URL's: no version known
    raw = static_sdist_metadata("pkg-1.0.tar.gz", data, "1.0")
    assert raw is not None
    message = BytesParser().parsebytes(raw, headersonly=True)
    assert (message["Name"], message["Version"]) == ("pkg", "1.0")
    assert message.get_all("Requires-Dist")[0] == "b>=1"
    # The index's version must still be the sdist's own.
    assert static_sdist_metadata("pkg-1.0.tar.gz", data, "2.0") is None


@pytest.mark.parametrize("dependencies", ["", 'dependencies = ["b"]\n'])
def test_a_poetry_tables_requirements_are_not_static(dependencies: str) -> None:
    text = f'[project]\nname = "pkg"\nversion = "1.0"\n{dependencies}'
    text += '\n[tool.poetry.dependencies]\nb = "*"\n'
    found = read({"pyproject.toml": text})
    assert (found is None) == (not dependencies)
