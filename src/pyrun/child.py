"""Start the command, relay signals to it, and turn its end into pyrun's exit status.

Why pyrun spawns and waits instead of exec'ing (SPEC §2.13): temporary environments must be
removed after the child exits, and the SIGINT rule below needs a parent that outlives the child.

Signals. When pyrun runs in a terminal, Ctrl-C sends SIGINT to the whole foreground process group,
so the child (which shares pyrun's group) already has it: forwarding would deliver it twice, and a
program that treats a second Ctrl-C as "abort now" (an interactive REPL, pytest) would misbehave.
So pyrun ignores SIGINT when stdin is a terminal. Otherwise the SIGINT was sent to pyrun alone
(`kill -INT`, a supervisor, a test) and is forwarded after 200 ms, which leaves time for a
terminal-delivered copy to arrive first when the terminal check guessed wrong. Signals a terminal
never sends to the group (SIGTERM from a container runtime, SIGHUP, SIGUSR1, ...) are forwarded at
once. On Linux the child also gets a parent-death signal, so a SIGKILLed pyrun leaves no orphan.
"""

from __future__ import annotations

import os
import sys

from pyrun.errors import PyrunError, os_error_text

# `signal` imports `enum` and `functools` (~5 ms): the warm path, which only needs
# `child_environment`, must not pay for them, so they load where signals are handled.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from collections.abc import Callable
    from types import FrameType

    Handler = Callable[[int, FrameType | None], None]

FORWARDED = (
    "SIGTERM",
    "SIGHUP",
    "SIGUSR1",
    "SIGUSR2",
    "SIGALRM",
    "SIGQUIT",
    "SIGWINCH",
    "SIGPIPE",
    "SIGINFO",
)
SIGINT_DELAY = 0.2


class ChildSpec:
    """What to run: argv (argv[0] resolved or looked up on env's PATH), environment and cwd."""

    __slots__ = ("argv", "cleanup", "display", "env")

    def __init__(
        self, argv: list[str], env: dict[str, str], display: str, cleanup: list[str] | None = None
    ) -> None:
        self.argv = argv
        self.env = env
        self.display = display
        self.cleanup = cleanup or []


RECURSION_VAR = "PYRUN_RUN_RECURSION_DEPTH"


def child_environment(
    bin_dirs: list[str], venv: str | None, depth: int, env_files: dict[str, str]
) -> dict[str, str]:
    """pyrun's environment plus what SPEC §2.12 adds; env-file keys never override it."""
    environ = dict(os.environ)
    environ.pop("PYTHONHOME", None)
    bins: list[str] = []
    for directory in bin_dirs:
        if not bins or bins[-1] != directory:  # consecutive duplicates only
            bins.append(directory)
    original = environ.get("PATH", "")
    environ["PATH"] = os.pathsep.join(bins + ([original] if original else []))
    if venv is not None:
        environ["VIRTUAL_ENV"] = venv
    environ[RECURSION_VAR] = str(depth + 1)
    launcher = pyrun_executable()
    if launcher:
        environ["PYRUN"] = launcher
    for key, value in env_files.items():
        environ.setdefault(key, value)
    return environ


def pyrun_executable() -> str | None:
    """The running `pyrun` launcher, or the one beside the interpreter under `python -m pyrun`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "pyrun" and os.path.isfile(argv0):
        return os.path.abspath(argv0)
    beside = os.path.join(os.path.dirname(sys.executable), "pyrun")
    return beside if os.path.isfile(beside) else None


def exit_status(returncode: int) -> int:
    """The child's code, or 128+N when it died of signal N."""
    return 128 - returncode if returncode < 0 else returncode


def run_child(spec: ChildSpec) -> int:
    import subprocess

    apply_rlimit()
    try:
        process = subprocess.Popen(spec.argv, env=spec.env, preexec_fn=_preexec())
    except OSError as exc:
        raise PyrunError(f"Failed to spawn: {spec.display}", causes=[os_error_text(exc)]) from exc
    except ValueError as exc:  # a NUL in the command or the environment (`--env-file`)
        raise PyrunError(
            f"Failed to spawn: {spec.display}", causes=["nul byte found in provided data"]
        ) from exc
    previous = _install_relay(process)
    try:
        return exit_status(_wait(process))
    finally:
        _restore(previous)


def _wait(process: object) -> int:
    import subprocess

    assert isinstance(process, subprocess.Popen)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            # Raised only if SIGINT arrived before our handler was installed; the child got or
            # will get its own copy, so keep waiting for it.
            continue


def _install_relay(process: object) -> dict[int, object]:
    import signal

    previous: dict[int, object] = {}

    def forward(signum: int, _frame: FrameType | None) -> None:
        try:
            process.send_signal(signum)  # type: ignore[attr-defined]
        except (ProcessLookupError, OSError):
            pass

    for name in FORWARDED:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, forward)
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, _sigint_handler(forward))
    return previous


def _sigint_handler(forward: Handler) -> Handler | signal.Handlers:
    import signal

    if _stdin_is_tty():
        return signal.SIG_IGN

    def delayed(signum: int, frame: FrameType | None) -> None:
        import threading

        timer = threading.Timer(SIGINT_DELAY, forward, args=(signum, frame))
        timer.daemon = True
        timer.start()

    return delayed


def _stdin_is_tty() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def _restore(previous: dict[int, object]) -> None:
    import signal

    for signum, handler in previous.items():
        try:
            signal.signal(signum, handler)  # type: ignore[arg-type]
        except (TypeError, ValueError, OSError):
            pass


def _preexec() -> Callable[[], None] | None:
    """On Linux, ask the kernel to send SIGTERM to the child when pyrun dies (§5.4)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_parent_death_signal() -> None:
        pr_set_pdeathsig = 1
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl; then nobody would signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return set_parent_death_signal


def apply_rlimit() -> None:
    """`PYRUN_RUN_RLIMIT_NOFILE`: the open-files limit the command starts with."""
    raw = os.environ.get("PYRUN_RUN_RLIMIT_NOFILE")
    if not raw:
        return
    import resource

    try:
        wanted = int(raw)
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    except (ValueError, OSError):
        pass
