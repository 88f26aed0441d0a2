"""Managed Python keys, the download list and build selection (SPEC §6.1-§6.3)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyrun.core.pydownloads import (
    Download,
    Host,
    ManagedKey,
    cache_file_name,
    download_urls,
    key_matches,
    parse_download_list,
    request_key_text,
    require_download,
    rewrite_url,
    select_download,
    version_order,
)
from pyrun.core.requests import parse_request
from pyrun.errors import PyrunError
from pyrun.local.pythons import load_bundled_downloads

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
BUNDLED = REPO / "src" / "pyrun" / "data" / "python-downloads.json"
LINUX = Host(os="linux", arch="x86_64", libc="gnu")
PBS = "https://github.com/astral-sh/python-build-standalone/releases/download/"


@pytest.fixture(scope="module")
def bundled() -> list[Download]:
    return load_bundled_downloads()


def pick(downloads: list[Download], text: str, host: Host = LINUX) -> str | None:
    found = select_download(downloads, parse_request(text), host)
    return str(found.key) if found else None


def entry(
    version: str = "3.12.7",
    *,
    prerelease: str = "",
    arch: str = "x86_64",
    arch_variant: str | None = None,
    os: str = "linux",
    libc: str = "gnu",
    variant: str | None = None,
    name: str = "cpython",
) -> dict[str, object]:
    major, minor, patch = map(int, version.split("."))
    return {
        "name": name,
        "arch": {"family": arch, "variant": arch_variant},
        "os": os,
        "libc": libc,
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": prerelease,
        "url": f"{PBS}20250101/cpython-{version}{prerelease}%2B20250101-{arch}-x.tar.gz",
        "sha256": "AB" * 32,
        "variant": variant,
        "build": "20250101",
    }


def downloads_of(*entries: dict[str, object]) -> list[Download]:
    return parse_download_list(json.dumps({str(i): e for i, e in enumerate(entries)}), "test")


# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "cpython-3.12.14-linux-x86_64-gnu",
        "cpython-3.13.5+freethreaded-linux-aarch64-musl",
        "cpython-3.13.5+freethreaded+debug-windows-x86_64-none",
        "cpython-3.15.0rc1-linux-x86_64_v3-gnu",
        "pypy-3.10.16-macos-aarch64-none",
    ],
)
def test_key_round_trips(text: str) -> None:
    key = ManagedKey.parse(text)
    assert key is not None
    assert str(key) == text


def test_key_parts_and_darwin_shown_as_macos() -> None:
    key = ManagedKey.parse("cpython-3.15.0rc1+debug-darwin-x86_64_v2-none")
    assert key == ManagedKey(
        implementation="cpython",
        major=3,
        minor=15,
        patch=0,
        prerelease="rc1",
        variant="debug",
        os="macos",
        arch="x86_64",
        arch_variant="v2",
        libc="none",
    )
    assert str(key) == "cpython-3.15.0rc1+debug-macos-x86_64_v2-none"
    assert key.minor_link_name() == "cpython-3.15+debug-macos-x86_64_v2-none"


@pytest.mark.parametrize("text", ["cpython-3.12-linux-x86_64-gnu", ".temp", ".lock", "junk"])
def test_minor_links_and_other_names_are_not_install_keys(text: str) -> None:
    assert ManagedKey.parse(text) is None


def test_version_order_puts_final_after_rc_after_beta_after_alpha() -> None:
    names = ["3.14.0a7", "3.14.0", "3.14.0rc2", "3.14.0b1", "3.14.0rc10", "3.13.9"]
    keys = {n: ManagedKey.parse(f"cpython-{n}-linux-x86_64-gnu") for n in names}
    ordered = sorted(names, key=lambda n: version_order(keys[n]))  # type: ignore[arg-type]
    assert ordered == ["3.13.9", "3.14.0a7", "3.14.0b1", "3.14.0rc2", "3.14.0rc10", "3.14.0"]


# --- the list ------------------------------------------------------------------------------


def test_bundled_list_loads_every_entry(bundled: list[Download]) -> None:
    assert len(bundled) == len(json.loads(BUNDLED.read_bytes()))
    assert {d.key.implementation for d in bundled} == {"cpython", "pypy", "graalpy"}
    assert all(d.sha256 is None or len(d.sha256) == 64 for d in bundled)


def test_unparseable_entries_are_skipped() -> None:
    good = entry()
    text = json.dumps({"a": good, "b": {**good, "major": "three"}, "c": [1], "d": {"name": 1}})
    assert [str(d.key) for d in parse_download_list(text, "x")] == [
        "cpython-3.12.7-linux-x86_64-gnu"
    ]


def test_sha256_is_lower_cased_and_null_means_no_check() -> None:
    first, second = downloads_of(entry(), {**entry("3.12.8"), "sha256": None})
    assert first.sha256 == "ab" * 32
    assert second.sha256 is None


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_bad_json_names_the_location(text: str) -> None:
    with pytest.raises(PyrunError) as caught:
        parse_download_list(text, "/tmp/list.json")
    assert caught.value.message == "Unable to parse the JSON Python download list at /tmp/list.json"


def _load_script() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "update_python_downloads", REPO / "scripts" / "update_python_downloads.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
@pytest.mark.skipif(shutil.which("zstd") is None, reason="needs the zstd command")
def test_script_regenerates_the_data_file_from_uv_byte_identically(tmp_path: Path) -> None:
    """The bundled list is the one compiled into the pinned uv, and `uv python list` shows no
    key it lacks."""
    script = _load_script()
    output = tmp_path / "out.json"
    argv = ["--from-uv", str(UV), "--output", str(output)]
    assert script.main(argv) == 0  # type: ignore[attr-defined]
    assert output.read_bytes() == BUNDLED.read_bytes()


def test_script_reads_a_list_embedded_as_a_zstd_frame(tmp_path: Path) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("needs the zstd command")
    script = _load_script()
    listing = json.dumps({"cpython-3.12.7-linux-x86_64-gnu": entry()}).encode()
    frame = subprocess.run(["zstd", "-c", "-q"], input=listing, capture_output=True, check=True)
    other = subprocess.run(["zstd", "-c", "-q"], input=b"[1]", capture_output=True, check=True)
    binary = tmp_path / "uv"
    binary.write_bytes(b"\x7fELF" + other.stdout + b"\0" * 9 + frame.stdout + b"\0trailing")
    assert script.read_uv_binary(str(binary)) == listing  # type: ignore[attr-defined]
    binary.write_bytes(b"\x7fELF" + other.stdout)
    with pytest.raises(ValueError, match="no embedded download list"):
        script.read_uv_binary(str(binary))  # type: ignore[attr-defined]


def test_script_names_keys_uv_lists_that_the_list_lacks() -> None:
    script = _load_script()
    data = {
        "cpython-3.12.7-darwin-aarch64-none": {},
        "cpython-3.12.1-emscripten-wasm32-musl": {},
    }
    keys = {
        "cpython-3.12.7-macos-aarch64-none",
        "pyodide-3.12.1-emscripten-wasm32-musl",
        "cpython-3.15.2-linux-x86_64-gnu",
    }
    assert script.unlisted(data, keys) == ["cpython-3.15.2-linux-x86_64-gnu"]  # type: ignore[attr-defined]


def test_script_rejects_invalid_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _load_script()
    source = tmp_path / "in.json"
    good = entry()
    bad_key = entry("3.12.8")
    source.write_text(
        json.dumps(
            {
                "cpython-3.12.7-linux-x86_64-gnu": {**good, "sha256": "xyz"},
                "cpython-3.12.9-linux-x86_64-gnu": bad_key,
            }
        )
    )
    output = tmp_path / "out.json"
    assert script.main([str(source), "--output", str(output)]) == 1  # type: ignore[attr-defined]
    err = capsys.readouterr().err
    assert "cpython-3.12.7-linux-x86_64-gnu.sha256: expected 64 hex digits or null" in err
    assert "the key does not match its fields (cpython-3.12.8-linux-x86_64-gnu)" in err
    assert not output.exists()


# --- selection -----------------------------------------------------------------------------
# The expected picks are uv 0.13.9's (`uv python install REQUEST` against an unreachable mirror
# names the build it chose); tests/integration/test_python_choice_vs_uv.py asks uv itself.


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("3.12", "cpython-3.12.16-linux-x86_64-gnu"),
        ("312", "cpython-3.12.16-linux-x86_64-gnu"),
        ("cpython@3.12", "cpython-3.12.16-linux-x86_64-gnu"),
        ("cp312", "cpython-3.12.16-linux-x86_64-gnu"),
        ("3.12.3", "cpython-3.12.3-linux-x86_64-gnu"),
        (">=3.11,<3.13", "cpython-3.12.16-linux-x86_64-gnu"),
        ("3.13t", "cpython-3.13.18+freethreaded-linux-x86_64-gnu"),
        ("3.13+freethreaded", "cpython-3.13.18+freethreaded-linux-x86_64-gnu"),
        ("3.13+gil", "cpython-3.13.18-linux-x86_64-gnu"),
        ("3.12d", "cpython-3.12.16+debug-linux-x86_64-gnu"),
        ("3.13td", "cpython-3.13.18+freethreaded+debug-linux-x86_64-gnu"),
        ("3.14rc1", "cpython-3.14.0rc1-linux-x86_64-gnu"),
        ("3.15", "cpython-3.15.2-linux-x86_64-gnu"),
        ("3.16", "cpython-3.16.0a2-linux-x86_64-gnu"),  # nothing stable: a pre-release
        (">=3.12", "cpython-3.15.2-linux-x86_64-gnu"),  # stable first, not 3.16.0a2
        ("3.16.0a1", "cpython-3.16.0a1-linux-x86_64-gnu"),
        ("any", "cpython-3.16.0a2-linux-x86_64-gnu"),  # `any` takes pre-releases (as uv)
        ("default", "cpython-3.15.2-linux-x86_64-gnu"),
        ("pypy", "pypy-3.12.15-linux-x86_64-gnu"),
        ("graalpy", "graalpy-3.13.0-linux-x86_64-gnu"),
        ("pypy@3.10", "pypy-3.10.16-linux-x86_64-gnu"),
        ("pp310", "pypy-3.10.16-linux-x86_64-gnu"),
        ("cpython-3.12-linux-x86_64_v3-gnu", "cpython-3.12.16-linux-x86_64_v3-gnu"),
        ("cpython-3.12-linux-aarch64-gnu", "cpython-3.12.16-linux-aarch64-gnu"),
        ("3.99", None),
    ],
)
def test_select_on_linux_x86_64_gnu(
    bundled: list[Download], request_text: str, expected: str | None
) -> None:
    assert pick(bundled, request_text) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (Host(os="linux", arch="x86_64", libc="musl"), "cpython-3.12.16-linux-x86_64-musl"),
        (Host(os="linux", arch="aarch64", libc="gnu"), "cpython-3.12.16-linux-aarch64-gnu"),
        (Host(os="macos", arch="aarch64", libc="none"), "cpython-3.12.16-macos-aarch64-none"),
        (Host(os="windows", arch="x86_64", libc="none"), "cpython-3.12.16-windows-x86_64-none"),
    ],
)
def test_select_follows_the_host(bundled: list[Download], host: Host, expected: str) -> None:
    assert pick(bundled, "3.12", host) == expected


def test_libc_must_match_exactly() -> None:
    downloads = downloads_of(entry(libc="musl"))
    assert pick(downloads, "3.12") is None
    assert pick(downloads, "3.12", Host(os="linux", arch="x86_64", libc="musl")) is not None


def test_plain_arch_first_then_lowest_microarch_level() -> None:
    levels = downloads_of(entry(arch_variant="v3"), entry(arch_variant="v2"), entry())
    assert pick(levels, "3.12") == "cpython-3.12.7-linux-x86_64-gnu"
    assert pick(levels[:2], "3.12") == "cpython-3.12.7-linux-x86_64_v2-gnu"
    # A requested level is matched exactly; a plain requested arch is too.
    assert pick(levels, "cpython-3.12-linux-x86_64_v3-gnu") == "cpython-3.12.7-linux-x86_64_v3-gnu"
    assert pick(levels[:2], "cpython-3.12-linux-x86_64-gnu") is None


def test_newest_patch_first_whatever_the_list_order() -> None:
    downloads = downloads_of(entry("3.12.2"), entry("3.12.10"), entry("3.12.9"))
    assert pick(downloads, "3.12") == "cpython-3.12.10-linux-x86_64-gnu"


def test_variant_is_matched_exactly() -> None:
    downloads = downloads_of(entry("3.13.1", variant="freethreaded"), entry("3.13.0"))
    assert pick(downloads, "3.13") == "cpython-3.13.0-linux-x86_64-gnu"
    assert pick(downloads, "3.13t") == "cpython-3.13.1+freethreaded-linux-x86_64-gnu"
    assert pick(downloads_of(entry("3.12.1", variant="debug")), "3.12") is None


def test_path_and_executable_requests_are_never_downloaded(bundled: list[Download]) -> None:
    assert pick(bundled, "/usr/bin/python3.12") is None
    assert pick(bundled, "mypython") is None
    with pytest.raises(PyrunError, match="`mypython` is not a valid Python download request"):
        require_download(bundled, parse_request("mypython"), LINUX)


def test_installed_keys_match_like_downloads() -> None:
    key = ManagedKey.parse("cpython-3.12.7-linux-x86_64_v3-gnu")
    assert key is not None
    assert key_matches(key, parse_request("3.12"), LINUX)
    assert not key_matches(key, parse_request("3.12d"), LINUX)
    assert not key_matches(key, parse_request("3.11"), LINUX)
    assert not key_matches(key, parse_request("3.12"), Host(os="linux", arch="x86_64", libc="musl"))


def test_no_download_error_names_the_request_as_uv_does() -> None:
    with pytest.raises(PyrunError) as caught:
        require_download([], parse_request("3.99"), LINUX)
    assert caught.value.message == "No download found for request: cpython-3.99-linux-x86_64-gnu"
    assert caught.value.code == 2
    assert request_key_text(parse_request("pypy@3.13t"), LINUX) == (
        "pypy-3.13+freethreaded-linux-x86_64-gnu"
    )


# --- mirrors and the archive cache ---------------------------------------------------------


def test_mirror_replaces_the_release_prefix() -> None:
    (download,) = downloads_of(entry())
    rest = download.url.removeprefix(PBS)
    assert rewrite_url(download, "http://127.0.0.1:8000/pbs/", None) == (
        f"http://127.0.0.1:8000/pbs/{rest}"
    )
    assert rewrite_url(download, "file:///srv/mirror", None) == f"file:///srv/mirror/{rest}"
    assert rewrite_url(download, None, "http://pypy.invalid/") == download.url


def test_cpython_comes_from_astral_first_then_github_as_uv_does() -> None:
    (download,) = downloads_of(entry())
    rest = download.url.removeprefix(PBS)
    astral = "https://releases.astral.sh/github/python-build-standalone/releases/download/"
    assert download_urls(download, None, None) == [astral + rest, download.url]
    # A user mirror is the only source; PyPy has one URL.
    assert download_urls(download, "file:///srv/m", None) == [f"file:///srv/m/{rest}"]
    pypy = {**entry(name="pypy"), "url": "https://downloads.python.org/pypy/pypy3.10-v7.tar.bz2"}
    (pypy_download,) = downloads_of(pypy)
    assert download_urls(pypy_download, None, None) == [pypy_download.url]


def test_mirror_for_a_foreign_url_is_an_error() -> None:
    (download,) = downloads_of({**entry(), "url": "https://example.invalid/python.tar.gz"})
    with pytest.raises(PyrunError) as caught:
        rewrite_url(download, "http://127.0.0.1:1/", None)
    assert "cannot be rewritten for the mirror" in caught.value.message


def test_pypy_mirror() -> None:
    pypy = {**entry(name="pypy"), "url": "https://downloads.python.org/pypy/pypy3.10-v7.tar.bz2"}
    (download,) = downloads_of(pypy)
    assert rewrite_url(download, "http://cpython.invalid/", "http://127.0.0.1:1/pypy") == (
        "http://127.0.0.1:1/pypy/pypy3.10-v7.tar.bz2"
    )


def test_cache_file_name() -> None:
    (download,) = downloads_of(entry())
    assert cache_file_name(download) == "ababababa-cpython-3.12.7-20250101-x86_64-x.tar.gz"
