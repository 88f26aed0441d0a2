"""The test index itself: valid artifacts, correct pages, working switches, and a real client.

Every later integration test trusts `make_wheel`, `make_sdist`, `IndexServer` and the scenario
files, so they are checked here: wheels pass `installer`'s RECORD validation, sdists build
offline through PEP 517, pages parse, and the real uv resolves every scenario to exactly the
result the scenario file states.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import trio
from installer.sources import WheelFile

from pyrun.core.index import parse_project_page
from pyrun.net.client import ClientOptions, make_client
from pyrun.net.index import IndexClient
from tests.support.index_server import IndexServer
from tests.support.scenarios import (
    Scenario,
    ScenarioError,
    all_scenarios,
    load_scenario,
    scenario_names,
)
from tests.support.wheels import (
    make_sdist,
    make_wheel,
    read_wheel_metadata,
    write_source_tree,
)

T = TypeVar("T")
JSON_ACCEPT = {"Accept": "application/vnd.pypi.simple.v1+json"}
UV = Path(sys.executable).parent / "uv"


def run(function: Callable[[], Awaitable[T]]) -> T:
    return trio.run(function)


@pytest.fixture
def index() -> Any:
    with IndexServer() as server:
        server.add_wheel("demo", "1.0.0", requires_dist=["dep>=1"], requires_python=">=3.8")
        server.add_wheel("demo", "2.0.0", yanked="broken", upload_time="2024-02-01T00:00:00Z")
        server.add_sdist("demo", "2.0.0")
        yield server


# -- artifacts -------------------------------------------------------------------------------------


def test_wheels_are_valid_and_deterministic(tmp_path: Path) -> None:
    wheel = make_wheel(
        "My.Pkg",
        "1.0",
        requires_dist=["dep>=1; python_version < '3.12'"],
        extras={"cli": ["click; sys_platform != 'win32'"]},
        entry_points={"console_scripts": {"tool": "my_pkg:main"}},
        data={"scripts/run-me": "#!python\nprint(1)\n"},
    )
    assert wheel == make_wheel(
        "My.Pkg",
        "1.0",
        requires_dist=["dep>=1; python_version < '3.12'"],
        extras={"cli": ["click; sys_platform != 'win32'"]},
        entry_points={"console_scripts": {"tool": "my_pkg:main"}},
        data={"scripts/run-me": "#!python\nprint(1)\n"},
    )
    path = tmp_path / "my_pkg-1.0-py3-none-any.whl"
    path.write_bytes(wheel)
    with WheelFile.open(path) as source:
        source.validate_record()  # every file listed with the right sha256 and size
        assert source.dist_info_dir == "my_pkg-1.0.dist-info"
        assert "console_scripts" in source.read_dist_info("entry_points.txt")
    metadata = read_wheel_metadata(wheel).decode()
    assert "Name: My.Pkg\n" in metadata
    assert "Requires-Dist: click; (sys_platform != 'win32') and extra == \"cli\"" in metadata
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        assert archive.read("my_pkg/__init__.py") == b'__version__ = "1.0"\n'
        assert "my_pkg-1.0.data/scripts/run-me" in archive.namelist()


def test_sdists_build_offline_with_the_in_tree_backend(tmp_path: Path) -> None:
    sdist = make_sdist("demo-pkg", "1.2", requires_dist=["dep"], extras={"x": ["extra-dep"]})
    assert sdist == make_sdist(
        "demo-pkg", "1.2", requires_dist=["dep"], extras={"x": ["extra-dep"]}
    )
    with tarfile.open(fileobj=io.BytesIO(sdist)) as archive:
        archive.extractall(tmp_path, filter="data")
    tree = tmp_path / "demo_pkg-1.2"
    assert (tree / "PKG-INFO").exists() and (tree / "pyproject.toml").exists()
    wheel = _build_wheel(tree, tmp_path / "out")
    with WheelFile.open(wheel) as source:
        source.validate_record()
        metadata = source.read_dist_info("METADATA")
    assert "Requires-Dist: dep\n" in metadata
    assert 'Requires-Dist: extra-dep; extra == "x"' in metadata
    with zipfile.ZipFile(wheel) as archive:
        assert "demo_pkg/__init__.py" in archive.namelist()
        assert not any(name.startswith("pyrun_test_backend") for name in archive.namelist())


def test_source_trees_are_buildable_projects(tmp_path: Path) -> None:
    project = write_source_tree(tmp_path / "proj", "local-app", "0.3", requires_dist=["a>=1"])
    text = (project / "pyproject.toml").read_text()
    assert 'dependencies = ["a>=1"]' in text and 'backend-path = ["."]' in text
    wheel = _build_wheel(project, tmp_path / "out")
    assert wheel.name == "local_app-0.3-py3-none-any.whl"


def _build_wheel(tree: Path, out: Path) -> Path:
    # A PEP 517 build in a separate interpreter, as a frontend does; no network involved.
    out.mkdir()
    script = (
        "import sys, pyproject_hooks\n"
        "hooks = pyproject_hooks.BuildBackendHookCaller(sys.argv[1], 'pyrun_test_backend', "
        "backend_path=['.'])\n"
        "print(hooks.build_wheel(sys.argv[2]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tree), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out / result.stdout.strip().splitlines()[-1]


# -- pages -----------------------------------------------------------------------------------------


def test_json_and_html_pages_agree(index: IndexServer) -> None:
    url = f"{index.index_url}/Demo/"
    json_response = httpx.get(url, headers=JSON_ACCEPT)
    html_response = httpx.get(url, headers={"Accept": "text/html"})
    assert json_response.headers["content-type"] == "application/vnd.pypi.simple.v1+json"
    assert html_response.headers["content-type"].startswith("text/html")
    from_json = _parse(json_response, url)
    from_html = _parse(html_response, url)
    assert (
        [f.filename for f in from_json.files]
        == [f.filename for f in from_html.files]
        == [
            "demo-1.0.0-py3-none-any.whl",
            "demo-2.0.0-py3-none-any.whl",
            "demo-2.0.0.tar.gz",
        ]
    )
    for json_file, html_file in zip(from_json.files, from_html.files, strict=True):
        assert json_file.url == html_file.url == index.file_url(json_file.filename)
        assert json_file.hashes == html_file.hashes
        assert json_file.requires_python == html_file.requires_python
        assert json_file.yanked == html_file.yanked
        assert json_file.core_metadata == html_file.core_metadata
    first, yanked, sdist = from_json.files
    assert first.requires_python == ">=3.8" and first.size == len(index.dists("demo")[0].data)
    assert yanked.yanked == "broken" and yanked.upload_time == "2024-02-01T00:00:00Z"
    assert sdist.core_metadata is False  # PEP 658 files are only served for wheels


def test_html_only_mode_and_root_listing() -> None:
    with IndexServer(html_only=True) as server:
        server.add_wheel("b", "1.0")
        server.add_wheel("a", "1.0")
        response = httpx.get(f"{server.index_url}/a/", headers=JSON_ACCEPT)
        assert response.headers["content-type"].startswith("text/html")
        root = httpx.get(f"{server.index_url}/").text
        assert root.index('href="a/"') < root.index('href="b/"')
        assert httpx.get(f"{server.index_url}/nope/").status_code == 404


def test_metadata_files_and_their_hashes(index: IndexServer) -> None:
    page = _parse(httpx.get(f"{index.index_url}/demo/", headers=JSON_ACCEPT), index.index_url)
    wheel = page.files[0]
    metadata = httpx.get(wheel.metadata_url).content
    assert isinstance(wheel.core_metadata, dict)
    assert wheel.core_metadata["sha256"] == hashlib.sha256(metadata).hexdigest()
    assert metadata == read_wheel_metadata(httpx.get(wheel.url).content)
    assert httpx.get(wheel.url).content == index.dists("demo")[0].data
    assert hashlib.sha256(httpx.get(wheel.url).content).hexdigest() == wheel.hashes["sha256"]


def test_without_metadata_files() -> None:
    with IndexServer(metadata_files=False) as server:
        server.add_wheel("a", "1.0")
        page = _parse(httpx.get(f"{server.index_url}/a/", headers=JSON_ACCEPT), server.index_url)
        assert page.files[0].core_metadata is False
        assert httpx.get(page.files[0].metadata_url).status_code == 404


def test_refuse_downloads_counts_and_etags(index: IndexServer) -> None:
    file_url = index.file_url("demo-1.0.0-py3-none-any.whl")
    assert httpx.get(file_url).status_code == 200
    index.refuse_downloads = True
    assert httpx.get(file_url).status_code == 403
    assert httpx.get(file_url + ".metadata").status_code == 403
    assert index.downloads("demo-1.0.0-py3-none-any.whl") == 2
    page = httpx.get(f"{index.index_url}/demo/", headers=JSON_ACCEPT)
    assert page.status_code == 200  # pages are still served
    again = httpx.get(
        f"{index.index_url}/demo/", headers={**JSON_ACCEPT, "If-None-Match": page.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert index.page_requests("demo") == 2


def test_fail_with_switches(index: IndexServer) -> None:
    url = f"{index.index_url}/demo/"
    index.fail_with, index.fail_times = 500, 2
    assert [httpx.get(url).status_code for _ in range(3)] == [500, 500, 200]
    index.fail_with, index.fail_times, index.fail_prefix = 404, None, "/files/"
    assert httpx.get(url).status_code == 200
    assert httpx.get(index.file_url("demo-2.0.0.tar.gz")).status_code == 404
    index.fail_with, index.fail_prefix = "garbage", "/"
    garbage = httpx.get(url, headers=JSON_ACCEPT)
    assert garbage.status_code == 200 and not garbage.content.startswith(b"{\n")


def test_range_requests(index: IndexServer) -> None:
    data = index.dists("demo")[0].data
    url = index.file_url("demo-1.0.0-py3-none-any.whl")
    tail = httpx.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    assert tail.headers["Content-Range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
    middle = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert middle.content == data[10:20]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_basic_auth() -> None:
    with IndexServer(auth=("user", "pa55")) as server:
        server.add_wheel("a", "1.0")
        assert httpx.get(f"{server.index_url}/a/").status_code == 401
        assert httpx.get(f"{server.authenticated_index_url()}/a/").status_code == 200


def _parse(response: httpx.Response, url: str) -> Any:
    content_type = response.headers.get("content-type")
    return parse_project_page(
        response.content, url=str(response.url), content_type=content_type, name="demo"
    )


# -- pyrun's own client against the test index -----------------------------------------------------


def _client_run(server: IndexServer, body: Callable[[IndexClient], Awaitable[T]], **opts: Any) -> T:
    async def main() -> T:
        options = ClientOptions(retry_delay=0.0, **opts)
        async with make_client(options) as http:
            return await body(IndexClient(http, opts.get("cache_dir")))

    return run(main)


@pytest.mark.parametrize("mode", ["pep658", "ranges", "download"])
def test_index_client_reads_metadata_every_way(mode: str) -> None:
    with IndexServer(metadata_files=mode == "pep658", ranges=mode == "ranges") as server:
        dist = server.add_wheel(
            "demo", "1.0", requires_dist=["dep"], files={"big.bin": os.urandom(200_000)}
        )

        async def body(client: IndexClient) -> bytes:
            page = await client.fetch_page(server.index_url, "demo")
            assert page is not None
            return await client.fetch_metadata(page.files[0])

        metadata = _client_run(server, body)
        assert metadata == dist.metadata
        file_requests = [
            (path, headers.get("Range"))
            for _method, path, headers in server.log
            if "/files/" in path
        ]
    if mode == "pep658":
        assert file_requests == [("/files/demo-1.0-py3-none-any.whl.metadata", None)]
    elif mode == "ranges":
        assert all(range_header for _path, range_header in file_requests)
        assert len(file_requests) <= 3
    else:
        assert len(file_requests) == 1


def test_index_client_uses_its_cache_when_downloads_are_refused(tmp_path: Path) -> None:
    with IndexServer(html_only=True) as server:
        server.add_wheel("demo", "1.0", requires_dist=["dep"])

        async def body(client: IndexClient) -> bytes:
            page = await client.fetch_page(server.index_url, "demo")
            assert page is not None
            return await client.fetch_metadata(page.files[0])

        first = _client_run(server, body, cache_dir=tmp_path)
        server.refuse_downloads = True
        assert _client_run(server, body, cache_dir=tmp_path) == first
        server.stop()  # no server at all: the cache is enough offline
        assert _client_run(server, body, cache_dir=tmp_path, offline=True) == first


def test_index_client_with_basic_auth() -> None:
    with IndexServer(auth=("user", "pa55")) as server:
        server.add_wheel("demo", "1.0")

        async def body(client: IndexClient) -> bytes:
            page = await client.fetch_page(server.authenticated_index_url(), "demo")
            assert page is not None and "pa55" not in page.files[0].url
            return await client.fetch_metadata(page.files[0])

        assert b"Name: demo" in _client_run(server, body)


# -- scenarios -------------------------------------------------------------------------------------


def test_scenarios_load() -> None:
    scenarios = all_scenarios()
    assert len(scenarios) >= 10
    assert {s.name for s in scenarios} >= {"simple-chain", "conflict", "fork", "diamond"}
    fork = load_scenario("fork")
    assert fork.universal == {"a": ("1.0.0", "2.0.0"), "b": ("1.0.0", "2.0.0")}
    assert [e.python for e in fork.expect] == ["3.8", "3.12"]


def test_scenario_format_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[packages.a]\n"1.0" = { requires-dist = "b" }\n[[expect]]\npython = "3.12"\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml: `a\.requires-dist` must be a list"):
        load_scenario(bad)
    bad.write_text('[[expect]]\npython = "3.12"\npackages = {}\nerror = "x"\n')
    with pytest.raises(ScenarioError, match="exactly one of `packages` and `error`"):
        load_scenario(bad)


def test_scenario_server_serves_every_distribution() -> None:
    scenario = load_scenario("sdist")
    with scenario.serve() as server:
        assert sorted(d.filename for d in server.dists()) == [
            "a-1.0.0-py3-none-any.whl",
            "a-1.0.0.tar.gz",
            "b-1.0.0.tar.gz",
            "c-1.0.0-py3-none-any.whl",
        ]


# -- the real uv against the test index ------------------------------------------------------------


def _uv(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "UV_CACHE_DIR": str(cwd / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    }
    command = [str(UV), "pip", "compile", "pyproject.toml", "--no-config", "--no-header"]
    command += ["--no-annotate", "-q", "--python", sys.executable, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _pins(output: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in output.splitlines():
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if match:
            found.setdefault(match.group(1), set()).add(match.group(2))
    return found


def _check_with_uv(scenario: Scenario, tmp_path: Path) -> None:
    with scenario.serve() as server:
        scenario.write_project(tmp_path)
        for expect in scenario.expect:
            args = ["--index-url", server.index_url, "--python-version", expect.python]
            args += ["--python-platform", expect.platform]
            args += [f"--group={group}" for group in expect.groups]
            args += [f"--extra={extra}" for extra in expect.extras]
            result = _uv(args, tmp_path)
            where = f"{scenario.name} (python {expect.python}): {result.stderr}"
            if expect.error is not None:
                assert result.returncode == 1 and expect.error in result.stderr, where
            else:
                assert result.returncode == 0, where
                wanted = {name: {version} for name, version in (expect.packages or {}).items()}
                assert _pins(result.stdout) == wanted, where
        if scenario.universal is not None:
            # `uv pip compile` ignores the project's requires-python; its lower bound is given.
            lowest = (scenario.root.requires_python or ">=3.8").removeprefix(">=")
            args = ["--index-url", server.index_url, "--universal", "--python-version", lowest]
            result = _uv(args, tmp_path)
            assert result.returncode == 0, result.stderr
            assert _pins(result.stdout) == {k: set(v) for k, v in scenario.universal.items()}


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="the real uv is not installed beside this Python")
@pytest.mark.parametrize("name", scenario_names())
def test_uv_resolves_the_scenario_as_stated(name: str, tmp_path: Path) -> None:
    _check_with_uv(load_scenario(name), tmp_path)


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="the real uv is not installed beside this Python")
def test_uv_reads_the_html_only_index_without_metadata_files(tmp_path: Path) -> None:
    scenario = load_scenario("simple-chain")
    with IndexServer(html_only=True, metadata_files=False, ranges=False) as server:
        scenario.populate(server)
        scenario.write_project(tmp_path)
        result = _uv(["--index-url", server.index_url, "--python-version", "3.12"], tmp_path)
        assert result.returncode == 0, result.stderr
        assert _pins(result.stdout) == {"a": {"2.0.0"}, "b": {"2.1.0"}, "c": {"1.5.0"}}
        assert server.downloads("a-2.0.0-py3-none-any.whl") >= 1  # uv had to read the wheel
    shutil.rmtree(tmp_path / "uv-cache", ignore_errors=True)
