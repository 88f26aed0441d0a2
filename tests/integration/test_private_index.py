"""A private index that needs HTTP Basic credentials: `lock`, `sync` and `run` all authenticate.

The index on 127.0.0.1 answers 401 to any request without the credentials, pages, metadata and
wheel files alike (`IndexServer(auth=...)`). Credentials come from the index URL, from
`PYRUN_INDEX_<NAME>_USERNAME`/`_PASSWORD`, or from a netrc file; the password must never be
printed (also at `-v`) nor written anywhere (lock, environment, cache).
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")
UV = Path(sys.executable).parent / "uv"
USER, PASSWORD = "alice", "s3cr3t-Pa55word"

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")


@pytest.fixture
def private() -> Iterator[IndexServer]:
    with IndexServer(auth=(USER, PASSWORD)) as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        yield server


def write_project(root: Path, tail: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["alpha"]
        {tail}
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
    return root


def pyrun(sandbox: PyrunEnv, project: Path, *args: str, **env: str) -> Result:
    extra = {"PYRUN_PYTHON": str(PYTHON), **env}
    return sandbox.run(*args, cwd=project, env=extra)


def assert_secret_nowhere(sandbox: PyrunEnv, project: Path, *results: Result) -> None:
    for result in results:
        assert PASSWORD not in result.stdout + result.stderr, result
    for root in (project, sandbox.cache, sandbox.root / "cache-2"):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert PASSWORD.encode() not in path.read_bytes(), path


def run_lock_sync(
    sandbox: PyrunEnv, index: IndexServer, project: Path, *options: str, **env: str
) -> list[Result]:
    """A cold `run` (resolves while the helper process prefetches wheels, then syncs), then
    `lock` and `sync` from a new cache: every request must have carried the credentials."""
    ran = pyrun(sandbox, project, "-v", "run", *options, "python", "-c", IMPORT, **env)
    assert ran.returncode == 0, ran
    assert ran.stdout.strip() == "ok"
    # Again with the pages from the cache, where file URLs carry no credentials.
    for path in (sandbox.cache / "archive-v0", project / ".venv"):
        shutil.rmtree(path)
    (project / "uv.lock").unlink()
    again = pyrun(sandbox, project, "-v", "run", *options, "python", "-c", IMPORT, **env)
    assert again.returncode == 0, again
    fresh = {"PYRUN_CACHE_DIR": str(sandbox.root / "cache-2"), **env}
    locked = pyrun(sandbox, project, "-v", "lock", "--refresh", *options, **fresh)
    assert locked.returncode == 0, locked
    synced = pyrun(sandbox, project, "-v", "sync", "--reinstall", *options, **fresh)
    assert synced.returncode == 0, synced
    assert index.downloads("alpha-1.0.0-py3-none-any.whl") >= 2
    unauthorized = [path for _m, path, headers in index.log if "Authorization" not in headers]
    assert unauthorized == []
    return [ran, again, locked, synced]


IMPORT = "import alpha, beta; print('ok')"


def test_credentials_in_the_index_url(pyrun_env: PyrunEnv, private: IndexServer, tmp_path):
    project = write_project(tmp_path / "app")
    url = private.authenticated_index_url()
    results = run_lock_sync(pyrun_env, private, project, "--default-index", url)
    lock = (project / "uv.lock").read_text()
    assert f'registry = "{private.index_url}"' in lock
    assert f"{private.url}/files/alpha-1.0.0-py3-none-any.whl" in lock
    assert_secret_nowhere(pyrun_env, project, *results)


def test_credentials_in_pyrun_index_url_variable(pyrun_env, private, tmp_path):
    project = write_project(tmp_path / "app")
    url = private.authenticated_index_url()
    results = run_lock_sync(pyrun_env, private, project, PYRUN_INDEX_URL=url)
    assert_secret_nowhere(pyrun_env, project, *results)


def test_credentials_from_named_index_variables(pyrun_env, private, tmp_path):
    tail = f"""
        [[tool.uv.index]]
        name = "corp-internal"
        url = "{private.index_url}"
        default = true
        """
    project = write_project(tmp_path / "app", textwrap.dedent(tail))
    credentials = {
        "PYRUN_INDEX_CORP_INTERNAL_USERNAME": USER,
        "PYRUN_INDEX_CORP_INTERNAL_PASSWORD": PASSWORD,
    }
    results = run_lock_sync(pyrun_env, private, project, **credentials)
    assert_secret_nowhere(pyrun_env, project, *results)
    missing = pyrun(pyrun_env, project, "lock", "--refresh", "--upgrade")
    assert missing.returncode == 1, missing
    assert "401 Unauthorized" in missing.stderr


def test_credentials_from_netrc(pyrun_env, private, tmp_path):
    project = write_project(tmp_path / "app")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    results = run_lock_sync(
        pyrun_env, private, project, "--default-index", private.index_url, NETRC=str(netrc)
    )
    assert_secret_nowhere(pyrun_env, project, *results)


def test_failures_mask_the_password(pyrun_env, private, tmp_path):
    project = write_project(tmp_path / "app")
    wrong = private.index_url.replace("http://", f"http://{USER}:wrong-{PASSWORD}@", 1)
    result = pyrun(pyrun_env, project, "-v", "lock", "--default-index", wrong)
    assert result.returncode != 0, result
    assert "401 Unauthorized" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


class _Redirector:
    """A server that sends every request to another host, recording what it received."""

    def __init__(self, target: str) -> None:
        self.authorization: list[str | None] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.authorization.append(self.headers.get("Authorization"))
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_to_another_host_gets_no_credentials(pyrun_env, tmp_path):
    # `localhost` and `127.0.0.1` are different hosts to a client, though the same machine.
    with IndexServer() as target:
        target.add_wheel("alpha", "1.0.0")
        target.add_wheel("beta", "1.0.0")
        redirector = _Redirector(target.url.replace("127.0.0.1", "localhost"))
        try:
            project = write_project(tmp_path / "app")
            url = f"http://{USER}:{PASSWORD}@127.0.0.1:{redirector.port}/simple"
            result = pyrun(pyrun_env, project, "lock", "--default-index", url)
            assert result.returncode == 0, result
        finally:
            redirector.close()
        assert redirector.authorization and all(redirector.authorization)
        received = [headers.get("Authorization") for _m, _p, headers in target.log]
        assert received and not any(received)


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
def test_lock_matches_uv_for_an_authenticated_index(pyrun_env, private, tmp_path):
    ours = write_project(tmp_path / "ours")
    theirs = write_project(tmp_path / "theirs")
    url = private.authenticated_index_url()
    mine = pyrun(pyrun_env, ours, "lock", "--default-index", url)
    assert mine.returncode == 0, mine
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.update(
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON=str(PYTHON),
        UV_PYTHON_DOWNLOADS="never",
        NO_COLOR="1",
    )
    done = subprocess.run(
        [str(UV), "lock", "--default-index", url],
        cwd=theirs,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
