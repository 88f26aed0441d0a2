"""Parsing index pages (PEP 691 JSON, PEP 503 HTML), filenames, and METADATA from zip pieces."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from packaging.version import Version

from pyrun.core.index import (
    ZIP_TAIL_SIZE,
    IndexFile,
    ProjectPage,
    ZipLayoutError,
    extract_member,
    find_central_directory,
    find_metadata_member,
    local_member_span,
    metadata_path,
    parse_dist_filename,
    parse_html_page,
    parse_json_page,
    parse_project_page,
    parse_sdist_filename,
    parse_wheel_filename,
    versions_across,
)
from pyrun.errors import FailureError
from tests.support.wheels import make_wheel

PAGE_URL = "https://index.invalid/simple/demo-pkg/"


def _json_page(files: list[dict[str, Any]], **extra: object) -> bytes:
    page = {"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": files, **extra}
    return json.dumps(page).encode()


# -- JSON ------------------------------------------------------------------------------------------


def test_json_page_fields() -> None:
    body = _json_page(
        [
            {
                "filename": "demo_pkg-1.0-py3-none-any.whl",
                "url": "../../files/demo_pkg-1.0-py3-none-any.whl",
                "hashes": {"sha256": "ABCD"},
                "requires-python": ">=3.8",
                "yanked": False,
                "size": 1234,
                "upload-time": "2024-01-01T00:00:00.000000Z",
                "core-metadata": {"sha256": "beef"},
            }
        ]
    )
    page = parse_json_page(body, url=PAGE_URL, name="Demo.Pkg")
    assert page.name == "demo-pkg"
    (file,) = page.files
    assert file == IndexFile(
        filename="demo_pkg-1.0-py3-none-any.whl",
        url="https://index.invalid/files/demo_pkg-1.0-py3-none-any.whl",
        hashes={"sha256": "abcd"},
        requires_python=">=3.8",
        yanked=False,
        size=1234,
        upload_time="2024-01-01T00:00:00.000000Z",
        core_metadata={"sha256": "beef"},
    )
    assert file.metadata_url == file.url + ".metadata"
    assert {file, file} == {file}  # usable in sets despite its dict fields
    assert hash(page) == hash(parse_json_page(body, url=PAGE_URL, name="demo-pkg"))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({}, False),
        ({"core-metadata": True}, True),
        ({"core-metadata": False, "dist-info-metadata": True}, False),  # PEP 714: new key wins
        ({"dist-info-metadata": {"sha256": "aa"}}, {"sha256": "aa"}),
        ({"data-dist-info-metadata": True}, False),  # an HTML attribute name means nothing here
    ],
)
def test_json_core_metadata_spellings(entry: dict[str, object], expected: object) -> None:
    file = {"filename": "a-1.0.tar.gz", "url": "https://x.invalid/a-1.0.tar.gz", **entry}
    page = parse_json_page(_json_page([file]), url=PAGE_URL, name="a")
    assert page.files[0].core_metadata == expected


@pytest.mark.parametrize(
    ("yanked", "expected"), [(True, True), ("bad build", "bad build"), ("", True), (False, False)]
)
def test_json_yanked(yanked: object, expected: object) -> None:
    file = {"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "yanked": yanked}
    page = parse_json_page(_json_page([file]), url=PAGE_URL, name="a")
    assert page.files[0].yanked == expected
    assert page.files[0].url == PAGE_URL + "a-1.0.tar.gz"


def test_json_absolute_url_and_fragment_are_kept_apart() -> None:
    file = {"filename": "a-1.0.tar.gz", "url": "https://files.invalid/a-1.0.tar.gz#sha256=00"}
    page = parse_json_page(_json_page([file]), url=PAGE_URL, name="a")
    assert page.files[0].url == "https://files.invalid/a-1.0.tar.gz"


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (b"{not json", "The response is not valid JSON"),
        (b"[1, 2]", "Expected a JSON object"),
        (json.dumps({"meta": {"api-version": "2.0"}, "files": []}).encode(), "`2.0`"),
        (json.dumps({"meta": {"api-version": "1.0"}}).encode(), "`files` key"),
        (_json_page([{"filename": 3, "url": "x"}]), "`files[0]` needs string"),
        (_json_page([{"filename": "a", "url": "a", "hashes": ["x"]}]), "`files[0].hashes`"),
    ],
)
def test_json_garbage_names_the_url(body: bytes, cause: str) -> None:
    with pytest.raises(FailureError) as caught:
        parse_json_page(body, url=PAGE_URL, name="a")
    assert PAGE_URL in caught.value.message
    assert cause in caught.value.causes[0]


# -- HTML ------------------------------------------------------------------------------------------

HTML = b"""<!DOCTYPE html>
<html><head><title>Links for demo</title></head><body>
<a href="../../files/demo-1.0.tar.gz#sha256=AA11"
   data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
<a href="https://files.invalid/demo-2.0-py3-none-any.whl#md5=ff"
   data-yanked="" data-core-metadata="sha256=bb22">demo-2.0-py3-none-any.whl</a>
<a href="demo-3.0-py3-none-any.whl" data-yanked="security" data-dist-info-metadata="true">
  demo-3.0-py3-none-any.whl</a>
</body></html>
"""


def test_html_page_attributes() -> None:
    page = parse_html_page(HTML, url=PAGE_URL, name="demo")
    first, second, third = page.files
    assert first.url == "https://index.invalid/files/demo-1.0.tar.gz"
    assert first.hashes == {"sha256": "aa11"}
    assert first.requires_python == ">=3.8"
    assert (first.yanked, first.core_metadata, first.size, first.upload_time) == (
        False,
        False,
        None,
        None,
    )
    assert second.url == "https://files.invalid/demo-2.0-py3-none-any.whl"
    assert second.hashes == {"md5": "ff"}
    assert (second.yanked, second.core_metadata) == (True, {"sha256": "bb22"})
    assert third.filename == "demo-3.0-py3-none-any.whl"
    assert third.url == PAGE_URL + "demo-3.0-py3-none-any.whl"
    assert (third.yanked, third.core_metadata) == ("security", True)


def test_html_base_tag_changes_resolution() -> None:
    body = b'<html><head><base href="https://mirror.invalid/pkgs/"></head>'
    body += b'<a href="a-1.0.tar.gz">a-1.0.tar.gz</a></html>'
    page = parse_html_page(body, url=PAGE_URL, name="a")
    assert page.files[0].url == "https://mirror.invalid/pkgs/a-1.0.tar.gz"


def test_content_type_selects_the_parser() -> None:
    json_body = _json_page([])
    assert (
        parse_project_page(
            json_body, url=PAGE_URL, content_type="application/vnd.pypi.simple.v1+json", name="x"
        ).files
        == ()
    )
    html_page = parse_project_page(HTML, url=PAGE_URL, content_type="text/html", name="demo")
    assert len(html_page.files) == 3


def test_html_without_links_is_an_empty_page_but_bad_bytes_are_an_error() -> None:
    # uv reads any text as HTML (no links: no versions); undecodable bytes are an error.
    assert parse_html_page(b"nothing here", url=PAGE_URL, name="a").files == ()
    with pytest.raises(FailureError) as caught:
        parse_html_page(b"\xff\xfe\x00junk", url=PAGE_URL, name="a")
    assert caught.value.message == f"Received some unexpected HTML from `{PAGE_URL}`"


def test_json_error_wording_follows_uv() -> None:
    with pytest.raises(FailureError) as caught:
        parse_json_page(b"{garbage", url=PAGE_URL, name="a")
    assert caught.value.message == f"Received some unexpected JSON from `{PAGE_URL}`"


# -- filenames -------------------------------------------------------------------------------------


def test_filename_parsing() -> None:
    wheel = parse_wheel_filename("Demo_Pkg-1.0-1build-cp312-cp312-manylinux_2_17_x86_64.whl")
    assert wheel is not None
    assert (wheel.name, wheel.version, wheel.build, wheel.is_wheel) == (
        "demo-pkg",
        Version("1.0"),
        (1, "build"),
        True,
    )
    assert {str(tag) for tag in wheel.tags} == {"cp312-cp312-manylinux_2_17_x86_64"}
    for archive in ("demo-2.0.tar.gz", "demo-2.0.zip", "demo-2.0.tar.bz2", "demo-2.0.tar.zst"):
        sdist = parse_sdist_filename(archive)
        assert sdist is not None and (sdist.name, sdist.version) == ("demo", Version("2.0"))


@pytest.mark.parametrize(
    "filename",
    ["demo-1.0.exe", "demo.tar.gz", "demo-notaversion.tar.gz", "demo-1.0-py3.whl", "x.whl"],
)
def test_unparseable_filenames_are_skipped(filename: str) -> None:
    assert parse_dist_filename(filename) is None


def test_by_version_skips_strays_and_other_projects() -> None:
    files = [
        _file("demo-1.0.tar.gz"),
        _file("demo-1.0-py3-none-any.whl"),
        _file("demo-2.0b1-py3-none-any.whl"),
        _file("other-1.0.tar.gz"),
        _file("README.txt"),
    ]
    page = ProjectPage(name="demo", url=PAGE_URL, files=tuple(files))  # type: ignore[arg-type]
    grouped = page.by_version()
    assert sorted(grouped) == [Version("1.0"), Version("2.0b1")]
    assert [file.filename for _dist, file in grouped[Version("1.0")]] == [
        "demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
    ]


def test_versions_across_first_index_wins_per_version() -> None:
    first = ProjectPage(
        name="demo",  # type: ignore[arg-type]
        url="https://one.invalid/simple/demo/",
        files=(_file("demo-1.0.tar.gz"), _file("demo-2.0.tar.gz")),
    )
    second = ProjectPage(
        name="demo",  # type: ignore[arg-type]
        url="https://two.invalid/simple/demo/",
        files=(_file("demo-2.0.tar.gz"), _file("demo-3.0.tar.gz")),
    )
    found = versions_across([("https://one.invalid/simple", first), ("two", second)])
    assert [(str(v.version), v.rank) for v in found] == [("2.0", 0), ("1.0", 0), ("3.0", 1)]
    assert found[0].index_url == "https://one.invalid/simple"


def _file(filename: str) -> IndexFile:
    return IndexFile(filename=filename, url=f"https://files.invalid/{filename}", hashes={})


# -- METADATA from zip pieces ----------------------------------------------------------------------


def test_metadata_from_zip_pieces() -> None:
    wheel = make_wheel("demo", "1.0", requires_dist=["dep>=1"])
    tail = wheel[-ZIP_TAIL_SIZE:]
    directory_info = find_central_directory(tail, len(wheel))
    directory = wheel[directory_info.offset : directory_info.offset + directory_info.size]
    member = find_metadata_member(directory, "demo")
    start, end = local_member_span(member)
    metadata = extract_member(wheel[start:end], member)
    assert b"Requires-Dist: dep>=1" in metadata
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        assert metadata == archive.read("demo-1.0.dist-info/METADATA")


def test_metadata_path_requires_exactly_one_top_level_match() -> None:
    names = ["demo/__init__.py", "demo-1.0.dist-info/METADATA", "x/y.dist-info/METADATA"]
    assert metadata_path(names, "demo") == "demo-1.0.dist-info/METADATA"
    with pytest.raises(ZipLayoutError):
        metadata_path(names, "other")
    with pytest.raises(ZipLayoutError):
        metadata_path([*names, "more-2.0.dist-info/METADATA"])


def test_zip_layout_errors() -> None:
    with pytest.raises(ZipLayoutError):
        find_central_directory(b"not a zip at all", 16)
    wheel = make_wheel("demo", "1.0")
    with pytest.raises(ZipLayoutError):
        find_central_directory(wheel[-ZIP_TAIL_SIZE:], 10)  # claims a smaller file


def test_version_groups_match_the_files_parsed_one_by_one() -> None:
    # Grouped by the text before the tags first, then by version: texts of one version
    # (`1.0`, `1.0.0`, `1.0.post0` is another), interleaved, keep page order; strays, other
    # projects, bad tags and repeated names are left out or kept as a file at a time would be.
    names = [
        "demo-1.0.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
        "demo-1.0.tar.gz",
        "demo-1.0-1-py3-none-any.whl",
        "demo-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "demo-1.0.post0.zip",
        "demo-2.0-py3-none-any.whl",
        "demo-3.0-py3-none.whl",
        "demo-3.0-py3-none-any-extra-parts.whl",
        "other-1.0-py3-none-any.whl",
        "Demo-4.0.TAR.GZ",
        "README.txt",
        "demo-1.0.tar.gz",
        "demo-01.0-py3-none-any.whl",
    ]
    page = ProjectPage(name="demo", url=PAGE_URL, files=tuple(map(_file, names)))  # type: ignore[arg-type]
    expected: dict[Version, list[int]] = {}
    for position, file in enumerate(page.files):
        dist = file.dist()
        if dist is not None and dist.name == "demo":
            expected.setdefault(dist.version, []).append(position)
    assert page.version_groups == tuple((str(v), tuple(p)) for v, p in expected.items())
    assert page.version_groups == (
        ("1.0.0", (0, 2, 3, 4, 12, 13)),
        ("2.0", (1, 6)),
        ("1.0.post0", (5,)),
        ("4.0", (10,)),
    )


@pytest.mark.parametrize(
    ("entry", "field", "expected"),
    [
        ({"hashes": {"SHA256": "AB", "md5": "CD"}}, "hashes", {"sha256": "ab", "md5": "cd"}),
        ({"hashes": {"Sha256": "AB"}}, "hashes", {"sha256": "ab"}),
        ({"requires-python": "  "}, "requires_python", None),
        ({"requires-python": 3}, "requires_python", None),
        ({"upload-time": ""}, "upload_time", None),
        ({"size": True}, "size", True),  # a bool is an int to JSON readers, as before
        ({"size": "10"}, "size", None),
        ({"yanked": None}, "yanked", False),
        ({"core-metadata": None, "dist-info-metadata": True}, "core_metadata", False),
    ],
)
def test_json_file_fields_as_read(entry: dict[str, object], field: str, expected: object) -> None:
    file = {"filename": "a-1.0.tar.gz", "url": "https://x.invalid/a-1.0.tar.gz", **entry}
    page = parse_json_page(_json_page([file]), url=PAGE_URL, name="a")
    assert getattr(page.files[0], field) == expected


def test_json_hashes_of_another_type_name_the_file() -> None:
    file = {"filename": "a-1.0.tar.gz", "url": "https://x.invalid/a", "hashes": {"sha256": 1}}
    with pytest.raises(FailureError) as error:
        parse_json_page(_json_page([file]), url=PAGE_URL, name="a")
    assert error.value.causes == ("`files[0].hashes` is not a table of strings",)
