"""trio's import through `pyrun.net` runs no `ldconfig` (`pyrun.net.trio_import`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"),
    reason="the lookup is answered only on glibc Linux",
)

# Each import in a fresh interpreter: the test process may have imported trio already.
PROBE = """
import sys
spawned = []
sys.addaudithook(
    lambda event, args: spawned.append(str(args[0]))
    if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork")
    else None
)
{imports}
import trio._core._thread_cache as cache
print(spawned)
print(cache.set_os_thread_name is not None)
print([f.used for f in sys.meta_path if type(f).__name__ == "_TrioThreadCacheFinder"])
"""


def probe(imports: str) -> list[str]:
    code = textwrap.dedent(PROBE).format(imports=imports)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_trio_alone_runs_ldconfig_at_import() -> None:
    # What the finder is there to avoid (and what the probe below would see).
    spawned, _named, finders = probe("import trio")
    assert "ldconfig" in spawned
    assert finders == "[]"


@pytest.mark.parametrize("first", ["import trio", "import httpx", "import pyrun.net.client"])
def test_trio_through_pyrun_net_spawns_nothing_and_keeps_thread_names(first: str) -> None:
    spawned, named, finders = probe(f"import pyrun.net\nimport pyrun.net.trust\n{first}")
    assert spawned == "[]"
    assert named == "True"  # `pthread_setname_np` was found without the lookup
    assert finders == "[True]"  # one finder (installed once), used once, then inert


def test_thread_names_reach_the_os() -> None:
    code = textwrap.dedent(
        """
        import pyrun.net, threading, trio
        from trio._core._thread_cache import start_thread_soon
        done = threading.Event()
        names = []
        def job():
            with open(f"/proc/self/task/{threading.get_native_id()}/comm") as comm:
                names.append(comm.read().strip())
        start_thread_soon(job, lambda outcome: done.set(), name="pyrun-probe")
        done.wait(10)
        print(names[0])
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pyrun-probe"


def test_the_finder_loads_nothing_until_trio_is_imported() -> None:
    # Most commands load the network layer and never import trio: the finder costs them
    # nothing more than its install (`importlib.machinery` alone is ~2 M instructions).
    code = "import sys, pyrun.net.sync_options; print('importlib.machinery' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]
