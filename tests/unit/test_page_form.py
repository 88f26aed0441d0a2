"""A parsed page kept beside its HTTP cache entry is used only for the very body it came from."""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.version import Version

from pyrun.core.index import page_form, page_from_form, parse_json_page
from pyrun.net.index import IndexClient
from tests.unit.test_index_client import INDEX, Recorder, client_for, json_page, run, wheel_entry

PAGE = (
    b'{"meta": {"api-version": "1.1"}, "name": "Demo", "files": ['
    b'{"filename": "demo-1.0-py3-none-any.whl", "url": "https://f.invalid/demo-1.0.whl",'
    b' "hashes": {"SHA256": "AB"}, "requires-python": ">=3.8", "yanked": "broken",'
    b' "size": 10, "upload-time": "2024-01-01T00:00:00Z", "core-metadata": {"sha256": "cd"}},'
    b'{"filename": "demo-1.0.tar.gz", "url": "../../files/demo-1.0.tar.gz", "hashes": {}}]}'
)
URL = "https://index.invalid/simple/demo/"


def test_the_form_round_trips_through_marshal():
    page = parse_json_page(PAGE, url=URL, name="demo")
    stored = marshal.loads(marshal.dumps(page_form(page, "k1")))
    assert page_from_form(stored, "k1") == page
    assert [f.hashes for f in page_from_form(stored, "k1").files] == [{"sha256": "ab"}, {}]


def test_a_form_for_another_body_or_version_is_not_used():
    page = parse_json_page(PAGE, url=URL, name="demo")
    assert page_from_form(page_form(page, "k1"), "k2") is None
    assert page_from_form(("pyrun-page 0", "k1", "demo", URL, ()), "k1") is None
    assert page_from_form(["not", "a", "tuple"], "k1") is None


def test_a_revalidated_page_comes_from_its_parsed_form(tmp_path: Path) -> None:
    body = {"version": 1}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == f'"v{body["version"]}"':
            return httpx.Response(304, headers={"ETag": f'"v{body["version"]}"'})
        extra = {"yanked": True} if body["version"] == 2 else {}
        response = json_page(wheel_entry(**extra))
        response.headers["ETag"] = f'"v{body["version"]}"'
        return response

    async def fetch() -> Any:
        async with client_for(Recorder(answer)) as http:
            return await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")

    first = run(fetch)
    (parsed,) = (tmp_path / "simple-v1").glob("*/demo.parsed")
    # Mark the stored form: a 304 must be answered from it, not by parsing the body again.
    form = list(marshal.loads(parsed.read_bytes()))
    form[3] = "https://marked.invalid/"
    parsed.write_bytes(marshal.dumps(tuple(form)))
    assert run(fetch).url == "https://marked.invalid/"
    # A changed body (new ETag, new content) is parsed again and its form replaces the old.
    body["version"] = 2
    changed = run(fetch)
    assert changed.files[0].yanked is True and changed.url == first.url
    parsed.write_bytes(b"\x00garbage")
    assert run(fetch) == changed


def test_the_form_keeps_the_grouping_by_version():
    page = parse_json_page(PAGE, url=URL, name="demo")
    stored = page_from_form(marshal.loads(marshal.dumps(page_form(page, "k1"))), "k1")
    assert stored is not None and stored.groups == (("1.0", (0, 1)),)
    assert stored.versions() == page.versions() == {Version("1.0"): list(page.files)}


def test_stored_groups_come_from_the_form_not_from_the_filenames():
    page = parse_json_page(PAGE, url=URL, name="demo")
    form = list(page_form(page, "k1"))
    form[5] = (("9.9", (1,)),)  # only the stored grouping could say this
    stored = page_from_form(tuple(form), "k1")
    assert stored is not None and stored.versions() == {Version("9.9"): [page.files[1]]}


@pytest.mark.parametrize(
    "groups",
    [
        None,
        [("1.0", (0,))],
        (("1.0", (2,)),),
        (("1.0", (-1,)),),
        ((1, (0,)),),
        (("1.0", [0]),),
        (("1.0", (0.0,)),),
        (("1.0", ("0",)),),
        (("1.0", (0,)), ("2.0", (1,), "extra")),
        (5,),
        ("ab",),
    ],
)
def test_a_form_whose_groups_do_not_fit_its_files_is_not_used(groups: object):
    form = list(page_form(parse_json_page(PAGE, url=URL, name="demo"), "k1"))
    form[5] = groups
    assert page_from_form(tuple(form), "k1") is None


@pytest.mark.parametrize("row", [("demo-1.0.tar.gz", "u"), "not a row", (*"abcdefghi",)])
def test_a_form_whose_rows_do_not_fit_is_not_used(row: object):
    form = list(page_form(parse_json_page(PAGE, url=URL, name="demo"), "k1"))
    form[4] = (form[4][0], row)
    assert page_from_form(tuple(form), "k1") is None


def test_stored_files_are_the_files_parsed():
    page = parse_json_page(PAGE, url=URL, name="demo")
    loaded = page_from_form(page_form(page, "k1"), "k1")
    assert loaded is not None
    for stored, parsed in zip(loaded.files, page.files, strict=True):
        assert stored == parsed and hash(stored) == hash(parsed) and repr(stored) == repr(parsed)
        with pytest.raises(AttributeError):
            stored.url = "elsewhere"  # type: ignore[misc]  # still frozen


def test_a_page_without_files_round_trips():
    page = parse_json_page(b'{"meta": {"api-version": "1.0"}, "files": []}', url=URL, name="demo")
    stored = page_from_form(marshal.loads(marshal.dumps(page_form(page, "k1"))), "k1")
    assert stored == page and stored is not None and stored.groups == ()
