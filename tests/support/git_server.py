"""Local git repositories for tests, and a smart-HTTP server for them on 127.0.0.1.

`GitHttpServer` serves every repository under its root through `git http-backend` (the CGI
program git ships), so clients fetch over `http://127.0.0.1:<port>/<name>` exactly as from a
forge. It counts the requests it answers, so a test can prove that a run fetched nothing.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from pathlib import Path
from types import TracebackType

_AUTHOR = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    """Run `git` in `repo` with a fixed identity and no user configuration; its stdout."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **_AUTHOR},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def init_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo


def commit_all(repo: Path, message: str) -> str:
    """Commit every change in `repo`; the new commit's id."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


class GitHttpServer:
    """Smart HTTP for the repositories under `root`, on an ephemeral port of 127.0.0.1."""

    def __init__(self, root: Path, *, protocol_v2: bool = True) -> None:
        self.root = root
        # Protocol v0 (as older forges speak it) refuses to send commits no ref points at.
        self.protocol_v2 = protocol_v2
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(_BackendHandler):
            owner = server

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/{name}"

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def __enter__(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _BackendHandler(http.server.BaseHTTPRequestHandler):
    owner: GitHttpServer

    def do_GET(self) -> None:
        self._backend()

    def do_POST(self) -> None:
        self._backend()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def _backend(self) -> None:
        self.owner.count()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environ = {
            **os.environ,
            "GIT_PROJECT_ROOT": str(self.owner.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", "") if self.owner.protocol_v2 else "",
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=environ, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
