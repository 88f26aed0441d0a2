"""uv 0.13.9's marker printing under its known-incompatible platform pairs (`os_name` against
`sys_platform`, `platform_system` against `sys_platform`), marker by marker against uv.

Each marker is one requirement of one project; both tools lock it and the `requires-dist`
entries (the requirement's marker as each tool prints it) are compared. The strict xfails are
the shapes pyrun does not print as uv yet (issue 13, starlette's export): uv 0.13.9 simplifies
beyond its 0.12.5 source, which has only the rule pyrun ports (a conjunction wholly inside the
pairs is false).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

# (marker, whether pyrun prints it as uv does yet)
CASES = [
    ("os_name != 'nt' and sys_platform == 'linux'", False),
    (
        "(implementation_name != 'pypy' and os_name == 'nt') or "
        "(platform_machine != 'ppc64le' and sys_platform == 'linux')",
        False,
    ),
    ("(os_name == 'nt') or (sys_platform == 'linux' and platform_machine == 'x86_64')", True),
    ("os_name == 'posix' and sys_platform == 'linux'", True),
    ("os_name == 'posix' or sys_platform == 'linux'", True),
    ("sys_platform == 'win32' and os_name == 'nt'", True),
    ("sys_platform != 'win32' and os_name != 'nt'", True),
    ("(os_name == 'nt' and python_version >= '3.13') or sys_platform == 'darwin'", False),
    ("platform_system == 'FreeBSD' and sys_platform == 'linux'", True),
    ("platform_system != 'FreeBSD' and sys_platform == 'linux'", False),
    (
        "(platform_system == 'FreeBSD') or (sys_platform == 'linux' and python_version < '3.13')",
        False,
    ),
    ("sys_platform == 'linux' or (os_name == 'nt' and implementation_name == 'cpython')", False),
    ("os_name != 'nt' and platform_machine == 'x86_64'", True),
    ("os_name == 'nt' and sys_platform == 'linux'", True),
    ("os_name != 'nt' or sys_platform != 'linux'", True),
]
NOT_YET = pytest.mark.xfail(strict=True, reason="issue 13: uv's simplification under the pairs")


def printed(root: Path) -> dict[str, str]:
    """Each requirement's marker as the lock at `root` prints it, by package name."""
    lock = tomllib.loads((root / "uv.lock").read_text())
    app = next(p for p in lock["package"] if p["name"] == "app")
    return {entry["name"]: entry.get("marker", "") for entry in app["metadata"]["requires-dist"]}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    """One project asking for `p<i> ; <marker i>`, locked once by each tool."""
    listed = ", ".join(json.dumps(f"p{i} ; {marker}") for i, (marker, _) in enumerate(CASES))
    text = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{listed}]\n"
    )
    tmp = tmp_path_factory.mktemp("pairs")
    ours, theirs = tmp / "ours", tmp / "theirs"
    for root in (ours, theirs):
        write(root, text)
    with IndexServer() as index:
        for i in range(len(CASES)):
            index.add_wheel(f"p{i}", "1.0")
        result = pyrun(PyrunEnv(tmp / "sandbox"), ours, "lock", index=index.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", index=index.index_url)
        assert done.returncode == 0, done.stderr
    return printed(ours), printed(theirs)


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(i, id=marker, marks=() if known else NOT_YET)
        for i, (marker, known) in enumerate(CASES)
    ],
)
def test_a_marker_prints_as_uv_prints_it(
    index: int, both: tuple[dict[str, str], dict[str, str]]
) -> None:
    ours, theirs = both
    assert ours[f"p{index}"] == theirs[f"p{index}"]
