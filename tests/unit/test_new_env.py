"""`pyrun.local.new_env`: early installs only into an env with nothing installed, and `undo`
takes it back to what it held, touching nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from pyrun.local.install import InstallTarget
from pyrun.local.new_env import NewEnv


def created(root: Path) -> InstallTarget:
    """A venv as its creation leaves it (a `lib64` link to `lib`, activation scripts)."""
    target = InstallTarget.for_venv(root, (3, 12))
    target.site_packages.mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "bin" / "activate").write_text("# activate\n")
    (root / "bin" / "python").symlink_to("/usr/bin/python3")
    (root / "lib64").symlink_to("lib")
    (root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return target


def paths(root: Path) -> list[str]:
    found = []
    for directory, dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(directory, n), root) for n in (*dirs, *files)]
    return sorted(found)


def test_an_env_with_anything_installed_gets_no_early_installs(tmp_path):
    target = created(tmp_path / ".venv")
    (target.site_packages / "old.pth").write_text("")
    assert NewEnv.open(target, "hardlink") is None
    assert NewEnv.open(InstallTarget.for_venv(tmp_path / "missing", (3, 12)), "hardlink") is None


def test_undo_removes_what_was_made_since_and_nothing_else(tmp_path):
    target = created(tmp_path / ".venv")
    before = paths(tmp_path / ".venv")
    new_env = NewEnv.open(target, "hardlink")
    assert new_env is not None
    package = target.site_packages / "alpha"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (target.site_packages / "alpha-1.0.dist-info").mkdir()
    (target.site_packages / "alpha-1.0.dist-info" / "RECORD").write_text("")
    (target.site_packages / "linked").symlink_to(package)  # a link to a directory: unlinked
    (tmp_path / ".venv" / "bin" / "alpha").write_text("#!python\n")
    (tmp_path / ".venv" / "share" / "alpha").mkdir(parents=True)  # a wheel's `.data/data`
    new_env.versions["alpha"] = "1.0"
    new_env.undo()
    assert paths(tmp_path / ".venv") == before
    assert os.readlink(tmp_path / ".venv" / "lib64") == "lib"
    assert new_env.versions == {}
