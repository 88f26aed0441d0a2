"""The script env's pieces that need no interpreter or network (SPEC §2.3)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.install_step import select_requirements
from pyrun.commands.resolve_step import locals_of, preferences_of
from pyrun.commands.run_script import warn_ignored_options
from pyrun.commands.script_file import Script, load_script
from pyrun.commands.script_stamp import STAMP_NAME, record_holds, stamp_holds, write_stamp
from pyrun.console import Console
from pyrun.core.lockfile import Requirement, loads
from pyrun.core.pep723 import parse_metadata_toml
from pyrun.errors import PyrunError
from pyrun.local.target import Target
from pyrun.options import settle
from pyrun.stamp import SCRIPT_STAMP_FORMAT, file_record, python_record

META = parse_metadata_toml('dependencies = ["alpha"]\n', path="s.py")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_env_name_of_a_local_script_is_stem_and_path_hash():
    script = Script(kind="file", path="/w/tool.py", directory="/w", metadata=META)
    assert script.env_name == f"tool-{digest('/w/tool.py')}"
    assert script.lock_path == "/w/tool.py.lock"


def test_env_name_of_stdin_and_remote_scripts():
    stdin = Script(kind="stdin", path=None, directory="/w", metadata=META)
    assert stdin.env_name == digest(META.raw)
    assert stdin.lock_path is None
    url = "https://example.invalid/x.py"
    remote = Script(kind="url", path="/tmp/x.py", directory="/w", metadata=META, url=url)
    assert remote.env_name == digest(url)
    assert remote.lock_path is None


def test_env_name_without_a_usable_stem():
    script = Script(kind="file", path="/w/a b.py", directory="/w", metadata=META)
    assert script.env_name == digest("/w/a b.py")


def test_load_script(tmp_path):
    (tmp_path / "s.py").write_text("# /// script\n# dependencies = ['x']\n# ///\n")
    (tmp_path / "plain.py").write_text("print(1)\n")
    found = load_script(Target(kind="pyfile", name="s.py", scriptlike=True), str(tmp_path))
    assert found is not None and found.metadata.dependencies == ("x",)
    assert found.directory == str(tmp_path)
    assert (
        load_script(Target(kind="pyfile", name="plain.py", scriptlike=True), str(tmp_path)) is None
    )
    missing = Target(kind="script", name="missing.py", scriptlike=True)
    assert load_script(missing, str(tmp_path)) is None
    assert load_script(Target(kind="module", name="s.py"), str(tmp_path)) is None


def test_load_stdin_script():
    text = "# /// script\n# dependencies = []\n# ///\nprint(1)\n"
    found = load_script(Target(kind="stdin", name="-", stdin_text=text, scriptlike=True), "/w")
    assert found is not None and found.kind == "stdin" and found.directory == "/w"


def test_unclosed_block_is_an_error(tmp_path):
    (tmp_path / "s.py").write_text("# /// script\n# dependencies = []\n")
    with pytest.raises(PyrunError) as caught:
        load_script(Target(kind="pyfile", name="s.py", scriptlike=True), str(tmp_path))
    assert caught.value.code == 2
    assert "without a closing tag" in caught.value.message


# -- the stamp -------------------------------------------------------------------------------


def fake_env(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("")
    return prefix


def records_for(prefix: Path, *files: Path) -> list[str]:
    return [
        "options\tabc",
        "block\tdef",
        python_record(str(prefix)),
        *(file_record(str(path)) for path in files),
    ]


def test_stamp_holds_for_the_same_key_and_files(tmp_path):
    prefix = fake_env(tmp_path)
    config = tmp_path / "uv.toml"
    config.write_text("x")
    records = records_for(prefix, config, tmp_path / "absent.toml")
    assert records[-1] == f"absent\t{tmp_path / 'absent.toml'}"
    write_stamp(str(prefix), "key-1", records, [str(tmp_path / "src.py")])
    assert stamp_holds(str(prefix), "key-1")
    assert not stamp_holds(str(prefix), "key-2")
    text = (prefix / STAMP_NAME).read_text().splitlines()
    assert text[:3] == [SCRIPT_STAMP_FORMAT, "key\tkey-1", "options\tabc"]
    assert text[-1] == f"input\t{tmp_path / 'src.py'}\t-"


def test_stamp_fails_when_a_file_changes_or_appears(tmp_path):
    prefix = fake_env(tmp_path)
    config = tmp_path / "uv.toml"
    config.write_text("x")
    absent = tmp_path / "pyproject.toml"
    write_stamp(str(prefix), "k", records_for(prefix, config, absent), [])
    absent.write_text("now here")
    assert not stamp_holds(str(prefix), "k")
    absent.unlink()
    assert stamp_holds(str(prefix), "k")
    os.utime(config, ns=(1, 1))  # touched, same content: still holds
    assert stamp_holds(str(prefix), "k")
    config.write_text("y")
    assert not stamp_holds(str(prefix), "k")


def test_stamp_fails_when_a_local_input_changes(tmp_path):
    prefix = fake_env(tmp_path)
    source = tmp_path / "setup.py"
    source.write_text("a")
    write_stamp(str(prefix), "k", records_for(prefix), [str(source)])
    assert stamp_holds(str(prefix), "k")
    source.write_text("ab")
    assert not stamp_holds(str(prefix), "k")


def test_stamp_fails_without_the_interpreter(tmp_path):
    prefix = fake_env(tmp_path)
    write_stamp(str(prefix), "k", records_for(prefix), [])
    os.unlink(prefix / "bin" / "python")
    assert not stamp_holds(str(prefix), "k")
    assert not record_holds("mystery\tx", str(prefix))


# -- warnings --------------------------------------------------------------------------------


@dataclass
class RecordingConsole(Console):
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def warn(self, message: str) -> None:
        self.lines.append(message)


def test_project_only_options_warn_in_uv_order():
    args = parse_argv(
        ["run", "--isolated", "--only-group", "h", "--package", "p", "--no-dev", "s.py"]
    )
    console = RecordingConsole()
    warn_ignored_options(settle(args.command_line()), console)
    assert console.lines == [
        "`--no-dev` is not supported for Python scripts with inline metadata",
        "`--only-group h` is not supported for Python scripts with inline metadata",
        "`--package` is a no-op for Python scripts with inline metadata, which always run in "
        "isolation",
        "`--isolated` is a no-op for Python scripts with inline metadata, which always run in "
        "isolation",
    ]


# -- locks -----------------------------------------------------------------------------------

SCRIPT_LOCK = """\
version = 1
revision = 5
requires-python = ">=3.11"

[manifest]
requirements = [
    { name = "alpha" },
    { name = "winonly", marker = "sys_platform == 'win32'" },
]

[[package]]
name = "alpha"
version = "1.0.0"
source = { registry = "https://index.invalid/simple" }
dependencies = [{ name = "beta" }]
wheels = [{ url = "https://files.invalid/alpha-1.0.0-py3-none-any.whl", hash = "sha256:aa" }]

[[package]]
name = "beta"
version = "2.0.0"
source = { registry = "https://index.invalid/simple" }
wheels = [{ url = "https://files.invalid/beta-2.0.0-py3-none-any.whl", hash = "sha256:bb" }]

[[package]]
name = "winonly"
version = "1.0.0"
source = { registry = "https://index.invalid/simple" }
wheels = [{ url = "https://files.invalid/winonly-1.0.0-py3-none-any.whl", hash = "sha256:cc" }]
"""


@dataclass
class StubInterpreter:
    markers: dict[str, str]

    def tag_ranks(self) -> dict[tuple[str, str, str], int]:
        return {("py3", "none", "any"): 0}


LINUX = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "python_version": "3.12",
    "python_full_version": "3.12.1",
    "implementation_name": "cpython",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


def test_select_requirements_walks_the_manifest_requirements():
    lock = loads(SCRIPT_LOCK)
    interpreter: Any = StubInterpreter(LINUX)
    selection = select_requirements(lock, root="/w", interpreter=interpreter)
    assert [s.dist.name for s in selection.selected] == ["alpha", "beta"]
    assert selection.selected[1].artifact.location.endswith("beta-2.0.0-py3-none-any.whl")


def test_preferences_of_a_lock_and_a_mapping():
    lock = loads(SCRIPT_LOCK)
    assert preferences_of(lock)["beta"] == ("2.0.0",)
    assert preferences_of({"x": ("1",)}) == {"x": ("1",)}
    assert preferences_of(None) == {}


def test_locals_of_requirement_tables():
    tables = (
        Requirement(name="a", specifier=">=1"),
        Requirement(name="b", editable="../b"),
        Requirement(name="c", url="https://x.invalid/c-1.0-py3-none-any.whl"),
        Requirement(name="b", directory="other"),
    )
    found = {dep.name: (dep.kind, dep.location) for dep in locals_of(tables)}
    assert found == {"b": ("editable", "../b"), "c": ("url", tables[2].url)}
