"""Build valid wheels and source distributions in memory, for tests.

`make_wheel` follows the binary distribution format (PEP 427/491): a `.dist-info` with METADATA,
WHEEL, optional `entry_points.txt`, and a RECORD holding every other file's sha256 and size.
Archives are deterministic (fixed timestamps and order), so the same arguments give the same
bytes, and therefore the same hashes, in every test run.

`make_sdist` builds a source distribution that any PEP 517 frontend can build *offline*: by
default its `pyproject.toml` names a tiny in-tree backend (`backend-path = ["."]`, no build
requirements) whose source is `INTREE_BACKEND`. `source_tree`/`write_source_tree` give the same
files unpacked, for local-project tests.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

ZIP_DATE = (2020, 1, 1, 0, 0, 0)
TAR_MTIME = 1577836800  # 2020-01-01T00:00:00Z
BACKEND_MODULE = "pyrun_test_backend"

Extras = Mapping[str, Sequence[str]] | Sequence[str]
Files = Mapping[str, bytes | str]
EntryPoints = Mapping[str, Mapping[str, str]]


# -- names ---------------------------------------------------------------------------------------


def dist_name(name: str) -> str:
    """The distribution name as it appears in filenames: `My.Pkg` -> `my_pkg`."""
    return re.sub(r"[-_.]+", "_", name).lower()


def import_name(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


def normalize_version(version: str) -> str:
    return str(Version(version))


def wheel_filename(
    name: str, version: str, tag: str = "py3-none-any", build: str | None = None
) -> str:
    parts = [dist_name(name), normalize_version(version), *([build] if build else []), tag]
    return "-".join(parts) + ".whl"


def sdist_filename(name: str, version: str) -> str:
    return f"{dist_name(name)}-{normalize_version(version)}.tar.gz"


# -- METADATA ------------------------------------------------------------------------------------


def metadata_text(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras = (),
    summary: str | None = None,
    metadata_version: str = "2.3",
) -> str:
    """Core metadata (the METADATA / PKG-INFO format) for a distribution."""
    lines = [
        f"Metadata-Version: {metadata_version}",
        f"Name: {name}",
        f"Version: {normalize_version(version)}",
    ]
    if summary:
        lines.append(f"Summary: {summary}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {requirement}" for requirement in requires_dist]
    for extra, requirements in _extras_table(extras).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [_with_extra_marker(r, extra) for r in requirements]
    return "\n".join(lines) + "\n\n"


def _extras_table(extras: Extras) -> dict[str, list[str]]:
    if isinstance(extras, Mapping):
        return {extra: list(requirements) for extra, requirements in extras.items()}
    return {extra: [] for extra in extras}


def _with_extra_marker(requirement: str, extra: str) -> str:
    condition = f'extra == "{extra}"'
    if ";" in requirement:
        head, marker = requirement.split(";", 1)
        return f"Requires-Dist: {head.strip()}; ({marker.strip()}) and {condition}"
    return f"Requires-Dist: {requirement}; {condition}"


def entry_points_text(entry_points: EntryPoints) -> str:
    sections = []
    for group, entries in entry_points.items():
        body = "".join(f"{key} = {value}\n" for key, value in entries.items())
        sections.append(f"[{group}]\n{body}")
    return "\n".join(sections)


# -- wheels --------------------------------------------------------------------------------------


def make_wheel(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras = (),
    files: Files | None = None,
    entry_points: EntryPoints | None = None,
    tag: str = "py3-none-any",
    data: Files | None = None,
    build: str | None = None,
    summary: str | None = None,
    extra_dist_info: Files | None = None,
) -> bytes:
    """A valid wheel.

    `files` maps archive paths to contents (default: `<import name>/__init__.py` setting
    `__version__`); `data` maps `<scheme>/<path>` (e.g. `scripts/tool`, `data/share/x`) into the
    `.data` directory; `extra_dist_info` adds files to the `.dist-info` directory.
    """
    prefix = f"{dist_name(name)}-{normalize_version(version)}"
    dist_info = f"{prefix}.dist-info"
    members: dict[str, bytes] = {}
    for path, content in _default_files(name, version, files).items():
        members[path] = _bytes(content)
    for path, content in (data or {}).items():
        members[f"{prefix}.data/{path}"] = _bytes(content)
    members[f"{dist_info}/METADATA"] = metadata_text(
        name,
        version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
        summary=summary,
    ).encode()
    members[f"{dist_info}/WHEEL"] = wheel_file_text(tag, build).encode()
    if entry_points:
        members[f"{dist_info}/entry_points.txt"] = entry_points_text(entry_points).encode()
    for path, content in (extra_dist_info or {}).items():
        members[f"{dist_info}/{path}"] = _bytes(content)
    members[f"{dist_info}/RECORD"] = record_text(members, f"{dist_info}/RECORD").encode()
    return _zip(members)


def _default_files(name: str, version: str, files: Files | None) -> Files:
    if files is not None:
        return files
    module = import_name(name)
    return {f"{module}/__init__.py": f'__version__ = "{normalize_version(version)}"\n'}


def wheel_file_text(tag: str, build: str | None = None) -> str:
    purelib = tag.endswith("-none-any")
    lines = [
        "Wheel-Version: 1.0",
        "Generator: pyrun-tests",
        f"Root-Is-Purelib: {'true' if purelib else 'false'}",
    ]
    lines += [f"Tag: {expanded}" for expanded in expand_tag(tag)]
    if build:
        lines.append(f"Build: {build}")
    return "\n".join(lines) + "\n"


def expand_tag(tag: str) -> list[str]:
    """`py2.py3-none-any` -> `py2-none-any`, `py3-none-any` (compressed tag sets, PEP 425)."""
    interpreters, abis, platforms = tag.split("-")
    return [
        f"{i}-{a}-{p}"
        for i in interpreters.split(".")
        for a in abis.split(".")
        for p in platforms.split(".")
    ]


def record_text(members: Mapping[str, bytes], record_path: str) -> str:
    rows = [
        f"{path},sha256={urlsafe_sha256(content)},{len(content)}"
        for path, content in members.items()
    ]
    rows.append(f"{record_path},,")
    return "\n".join(rows) + "\n"


def urlsafe_sha256(content: bytes) -> str:
    digest = hashlib.sha256(content).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _zip(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in members.items():
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            executable = "/scripts/" in path or path.startswith("bin/")
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def _bytes(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content


def read_wheel_metadata(wheel: bytes) -> bytes:
    """The METADATA member of a wheel (what a PEP 658 `.metadata` file serves)."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise ValueError(f"expected one .dist-info/METADATA, found {names}")
        return archive.read(names[0])


# -- source distributions ------------------------------------------------------------------------


def make_sdist(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras = (),
    files: Files | None = None,
    entry_points: EntryPoints | None = None,
    backend: str = "intree",
    build_requires: Sequence[str] = (),
) -> bytes:
    """A valid `.tar.gz` sdist: `<name>-<version>/` with PKG-INFO, pyproject.toml and the code.

    `backend="intree"` (default) builds offline with the bundled backend; `"setuptools"` uses
    `setuptools.build_meta` (its build needs setuptools from an index).
    """
    tree = source_tree(
        name,
        version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
        files=files,
        entry_points=entry_points,
        backend=backend,
        build_requires=build_requires,
    )
    root = f"{dist_name(name)}-{normalize_version(version)}"
    return _tar_gz({f"{root}/{path}": content for path, content in tree.items()})


def sdist_archive(name: str, version: str, files: Files) -> bytes:
    """A `.tar.gz` sdist holding exactly `files` under `<name>-<version>/` (no PKG-INFO unless
    given): for sdists whose metadata only a real build backend can produce."""
    root = f"{dist_name(name)}-{normalize_version(version)}"
    return _tar_gz({f"{root}/{path}": _bytes(content) for path, content in files.items()})


def source_tree(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras = (),
    files: Files | None = None,
    entry_points: EntryPoints | None = None,
    backend: str = "intree",
    build_requires: Sequence[str] = (),
) -> dict[str, bytes]:
    """The files of a buildable project, relative to its root (PKG-INFO included)."""
    if backend not in ("intree", "setuptools"):
        raise ValueError(f"unknown backend {backend!r}")
    tree = {path: _bytes(content) for path, content in _default_files(name, version, files).items()}
    tree["PKG-INFO"] = metadata_text(
        name,
        version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
        metadata_version="2.2",
    ).encode()
    tree["pyproject.toml"] = pyproject_text(
        name,
        version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
        entry_points=entry_points,
        backend=backend,
        build_requires=build_requires,
    ).encode()
    if backend == "intree":
        tree[f"{BACKEND_MODULE}.py"] = INTREE_BACKEND.encode()
        if entry_points:
            tree["entry_points.txt"] = entry_points_text(entry_points).encode()
    return tree


def write_source_tree(directory: Path, name: str, version: str, **options: object) -> Path:
    """Write `source_tree(...)` into `directory` (created) and return it."""
    for path, content in source_tree(name, version, **options).items():  # type: ignore[arg-type]
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return directory


def pyproject_text(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Extras = (),
    entry_points: EntryPoints | None = None,
    backend: str = "intree",
    build_requires: Sequence[str] = (),
) -> str:
    """A static `pyproject.toml` whose `[project]` agrees with the PKG-INFO we write."""
    project: dict[str, object] = {"name": name, "version": normalize_version(version)}
    if requires_python:
        project["requires-python"] = requires_python
    project["dependencies"] = list(requires_dist)
    tables: dict[str, Mapping[str, object]] = {
        "build-system": _build_system(backend, build_requires)
    }
    tables["project"] = project
    if extras:
        tables["project.optional-dependencies"] = _extras_table(extras)
    for group, entries in (entry_points or {}).items():
        key = "project.scripts" if group == "console_scripts" else f'project.entry-points."{group}"'
        tables[key] = dict(entries)
    if backend == "setuptools":
        tables["tool.setuptools"] = {"packages": [import_name(name)]}
    return toml_text(tables)


def _build_system(backend: str, build_requires: Sequence[str]) -> dict[str, object]:
    if backend == "setuptools":
        return {
            "requires": list(build_requires) or ["setuptools>=61"],
            "build-backend": "setuptools.build_meta",
        }
    return {
        "requires": list(build_requires),
        "build-backend": BACKEND_MODULE,
        "backend-path": ["."],
    }


def toml_text(tables: Mapping[str, Mapping[str, object]]) -> str:
    """A minimal TOML writer: tables of strings, booleans, numbers, lists and inline tables."""
    chunks = []
    for table, values in tables.items():
        body = "".join(f"{_toml_key(key)} = {toml_value(value)}\n" for key, value in values.items())
        chunks.append(f"[{table}]\n{body}")
    return "\n".join(chunks)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of TOML basic-string escapes.
        return json.dumps(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _tar_gz(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    # mtime=0 in the gzip header keeps the archive byte-identical across runs.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path, content in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = TAR_MTIME
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# The in-tree PEP 517 backend shipped inside test sdists. It runs under the *target* interpreter
# (any CPython >= 3.8), so it uses only the stdlib and old syntax. It takes the metadata verbatim
# from PKG-INFO and packs every file of the tree except the build files themselves.
INTREE_BACKEND = r'''"""A minimal offline PEP 517/660 backend for pyrun's tests."""
import base64
import email.parser
import hashlib
import io
import os
import tarfile
import zipfile

_SKIP_FILES = {"PKG-INFO", "pyproject.toml", "pyrun_test_backend.py", "entry_points.txt"}
_SKIP_DIRS = {"build", "dist", "__pycache__"}
_DATE = (2020, 1, 1, 0, 0, 0)


def _root():
    return os.path.abspath(os.getcwd())


def _pkg_info():
    with open(os.path.join(_root(), "PKG-INFO"), "rb") as handle:
        return handle.read()


def _name_version():
    headers = email.parser.BytesParser().parsebytes(_pkg_info(), headersonly=True)
    name = headers["Name"].replace("-", "_").replace(".", "_").lower()
    return name, headers["Version"]


def _dist_info_files():
    files = {"METADATA": _pkg_info().replace(b"Metadata-Version: 2.2", b"Metadata-Version: 2.3")}
    files["WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: pyrun-test-backend\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    ).encode()
    entry_points = os.path.join(_root(), "entry_points.txt")
    if os.path.exists(entry_points):
        with open(entry_points, "rb") as handle:
            files["entry_points.txt"] = handle.read()
    return files


def _tree_files():
    root = _root()
    found = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                         and not d.endswith(".egg-info"))
        for name in sorted(names):
            path = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            if path in _SKIP_FILES or name.endswith((".pyc", ".lock")):
                continue
            with open(os.path.join(directory, name), "rb") as handle:
                found[path] = handle.read()
    return found


def _record(members, record_path):
    rows = []
    for path, content in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        rows.append("%s,sha256=%s,%d" % (path, digest.decode(), len(content)))
    rows.append(record_path + ",,")
    return ("\n".join(rows) + "\n").encode()


def _write_wheel(wheel_directory, members):
    name, version = _name_version()
    dist_info = "%s-%s.dist-info" % (name, version)
    for path, content in _dist_info_files().items():
        members[dist_info + "/" + path] = content
    members[dist_info + "/RECORD"] = _record(members, dist_info + "/RECORD")
    filename = "%s-%s-py3-none-any.whl" % (name, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for path, content in members.items():
            info = zipfile.ZipInfo(path, date_time=_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name, version = _name_version()
    dist_info = "%s-%s.dist-info" % (name, version)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for path, content in _dist_info_files().items():
        with open(os.path.join(metadata_directory, dist_info, path), "wb") as handle:
            handle.write(content)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _tree_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    name, _version = _name_version()
    return _write_wheel(wheel_directory, {"_%s_editable.pth" % name: (_root() + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    name, version = _name_version()
    base = "%s-%s" % (name, version)
    members = _tree_files()
    members["PKG-INFO"] = _pkg_info()
    for extra in ("pyproject.toml", "pyrun_test_backend.py", "entry_points.txt"):
        path = os.path.join(_root(), extra)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                members[extra] = handle.read()
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as archive:
        for path, content in sorted(members.items()):
            info = tarfile.TarInfo(base + "/" + path)
            info.size = len(content)
            info.mtime = 1577836800
            archive.addfile(info, io.BytesIO(content))
    return filename
'''
