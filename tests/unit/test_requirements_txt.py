"""requirements.txt parsing for `--with-requirements`; messages as uv 0.13.9 prints them."""

from __future__ import annotations

import errno

import pytest

from pyrun.core.requirements_txt import RequirementsTxt, parse_requirements_txt
from pyrun.errors import PyrunError


def parse(text: str, files: dict[str, str] | None = None, **kwargs: object) -> RequirementsTxt:
    files = files or {}

    def read(path: str) -> str:
        if path not in files:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return files[path]

    return parse_requirements_txt(text, path="reqs/r.txt", read=read, **kwargs)  # type: ignore[arg-type]


def error(text: str, files: dict[str, str] | None = None) -> PyrunError:
    with pytest.raises(PyrunError) as info:
        parse(text, files)
    return info.value


def test_requirements_comments_and_continuations() -> None:
    text = (
        "# header\n"
        "\n"
        "anyio>=4  # trailing comment\n"
        "sniffio \\\n"
        "    ==1.3.0 ; python_version >= '3.8'\n"
        "   idna\n"
        "foo @ https://files.invalid/foo-1.0.tar.gz\n"
    )
    result = parse(text)
    assert [entry.text for entry in result.requirements] == [
        "anyio>=4",
        "sniffio     ==1.3.0 ; python_version >= '3.8'",
        "idna",
        "foo @ https://files.invalid/foo-1.0.tar.gz",
    ]
    assert [entry.line for entry in result.requirements] == [3, 4, 6, 7]
    sniffio = result.requirements[1].requirement
    assert sniffio is not None and str(sniffio.specifier) == "==1.3.0"
    assert result.warnings == ()


def test_hashes_across_continuation_lines() -> None:
    text = "foo==1.0 \\\n    --hash=sha256:aaa \\\n    --hash sha256:bbb\nbar\n"
    result = parse(text)
    assert result.requirements[0].hashes == ("sha256:aaa", "sha256:bbb")
    assert result.requirements[1].text == "bar"


def test_unnamed_and_editable_requirements() -> None:
    text = (
        "-e ./pkg[cli]\n"
        "--editable=../other\n"
        "./wheels/x-1.0-py3-none-any.whl ; sys_platform == 'linux'\n"
        "git+https://git.invalid/repo.git@main#egg=repo\n"
    )
    entries = parse(text).requirements
    assert [(e.location, e.editable) for e in entries] == [
        ("./pkg", True),
        ("../other", True),
        ("./wheels/x-1.0-py3-none-any.whl", False),
        ("git+https://git.invalid/repo.git@main#egg=repo", False),
    ]
    assert entries[0].extras == ("cli",)
    assert entries[2].marker == "sys_platform == 'linux'"
    assert all(e.requirement is None for e in entries)


def test_editable_named_requirement_without_url_is_an_error() -> None:
    exc = error("-e foo==1.0\n")
    assert exc.message == "Unsupported editable requirement in `reqs/r.txt` at line 1: `foo==1.0`"


def test_environment_variables() -> None:
    text = "${PKG}==1.0\n./${DIR}/pkg\n./${lower}/${UNSET}\n"
    result = parse(text, environ={"PKG": "anyio", "DIR": "d"})
    assert [e.text for e in result.requirements] == ["anyio==1.0", "./d/pkg", "./${lower}/${UNSET}"]


def test_includes_and_constraints() -> None:
    files = {
        "reqs/base.txt": "anyio\n-c sub/pins.txt\n-r r.txt\n",
        "reqs/sub/pins.txt": "sniffio==1.3.0\n",
    }
    result = parse("-r base.txt\nidna\n-r base.txt\n", files)
    assert [(e.text, e.source) for e in result.requirements] == [
        ("anyio", "reqs/base.txt"),
        ("idna", "reqs/r.txt"),
    ]
    assert [(e.text, e.source) for e in result.constraints] == [
        ("sniffio==1.3.0", "reqs/sub/pins.txt")
    ]


def test_unnamed_constraint_is_an_error() -> None:
    exc = error("-c pins.txt\nanyio\n", {"reqs/pins.txt": "./pkg\n"})
    assert exc.message == "Error parsing included file in `reqs/r.txt` at position 0"
    assert exc.causes == ("Unnamed requirements are not allowed as constraints in `reqs/pins.txt`",)


def test_missing_include() -> None:
    exc = error("anyio\n-r missing.txt\n")
    assert exc.message == "Error parsing included file in `reqs/r.txt` at position 6"
    assert exc.causes == (
        "failed to read from file `reqs/missing.txt`: No such file or directory (os error 2)",
    )


def test_error_inside_an_include_is_chained() -> None:
    exc = error("-r inc.txt\n", {"reqs/inc.txt": "foo>=\n"})
    assert exc.message == "Error parsing included file in `reqs/r.txt` at position 0"
    assert exc.causes[0] == "Couldn't parse requirement in `reqs/inc.txt` at position 0"


def test_index_options_are_ignored_with_warnings() -> None:
    text = (
        "-i https://a.invalid/simple\n"
        "--extra-index-url=https://b.invalid/simple\n"
        "--find-links ./wheels\n"
        "--no-index\n"
        "--trusted-host a.invalid\n"
        "--prefer-binary\n"
        "anyio\n"
    )
    result = parse(text)
    assert result.index_url == "https://a.invalid/simple"
    assert result.extra_index_urls == ("https://b.invalid/simple",)
    assert result.find_links == ("./wheels",)
    assert result.no_index
    assert [e.text for e in result.requirements] == ["anyio"]
    assert result.warnings == (
        "Ignoring unsupported option in `reqs/r.txt`: `--index-url` "
        "(hint: pass `--index-url` on the command line instead)",
        "Ignoring unsupported option in `reqs/r.txt`: `--extra-index-url` "
        "(hint: pass `--extra-index-url` on the command line instead)",
        "Ignoring unsupported option in `reqs/r.txt`: `--find-links` "
        "(hint: pass `--find-links` on the command line instead)",
        "Ignoring unsupported option in `reqs/r.txt`: `--no-index` "
        "(hint: pass `--no-index` on the command line instead)",
        "Ignoring unsupported option in `reqs/r.txt`: `--trusted-host` "
        "(hint: pass `--trusted-host` on the command line instead)",
        "Ignoring unsupported option in `reqs/r.txt`: `--prefer-binary`",
    )


def test_empty_file_warns() -> None:
    assert parse("# nothing\n\n").warnings == (
        "Requirements file `reqs/r.txt` does not contain any dependencies",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "--frobnicate\n",
            "Unexpected '-', expected '-c', '-e', '-r' or the start of a requirement: "
            "reqs/r.txt:1:1",
        ),
        (
            "anyio\n!foo\n",
            "Unexpected '!', expected '-c', '-e', '-r' or the start of a requirement: "
            "reqs/r.txt:2:1",
        ),
        ("-r\n", "`--requirement` must be followed by an argument: reqs/r.txt:2:1"),
        ("-r=\n", "`--requirement` must be followed by an argument: reqs/r.txt:1:4"),
        ("-rfoo.txt\n", "Expected '=' or whitespace, found Some('f'): reqs/r.txt:1:3"),
        (
            "foo==1.0 --hsh=sha256:abc\n",
            'Expected `--hash`, found `"--hsh=sha256:abc"`: reqs/r.txt:1:10',
        ),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    exc = error(text)
    assert exc.message == message
    assert exc.code == 2


@pytest.mark.parametrize(
    ("text", "position"),
    [("foo>=\n", 0), ("anyio\nfoo bar baz\n", 6), ("idna\r\nfoo==1.0 extra\n", 6)],
)
def test_invalid_requirement(text: str, position: int) -> None:
    exc = error(text)
    assert exc.message == f"Couldn't parse requirement in `reqs/r.txt` at position {position}"
    assert len(exc.causes) == 1


def test_empty_editable() -> None:
    exc = error("-e\n")
    assert exc.message == "Couldn't parse requirement in `reqs/r.txt` at position 3"
    assert exc.causes == ("Empty field is not allowed for PEP508",)
