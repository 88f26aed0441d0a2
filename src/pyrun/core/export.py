"""`pyrun export`: the locked set as `requirements.txt` or `pylock.toml` (SPEC §4.3), as uv
0.13.9 writes them.

The export is *universal*: it walks the lock's edges from the roots (the target members, the
selected groups, and the requirements of no member: a virtual root's groups or a script's
dependencies) without evaluating any marker, and gives every package reached the marker under
which it is reachable. That marker is the union, over every path from a root, of the
conjunction of the edge markers along the path (uv's `marker_reachability`), computed to a fixed
point so cycles terminate. Combining is done by `pyrun.core.markers`, a port of uv's marker
algebra, so equal conditions print identically. The edge markers are used as the lock stores
them (already simplified against `requires-python`), exactly as uv does, so nothing is
re-simplified at the end.

Declared conflicts are decided by the selection: a conflict marker (`extra == 'extra-3-pkg-x'`)
is true when that extra or group is activated by the roots or by an extra node that is itself
reachable, false otherwise (computed to a fixed point).

Pure: the caller passes the parsed lock and the selection; the text is returned.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from packaging.version import InvalidVersion, Version

from pyrun.core.lockfile import Dependency, Lock, Package, Requirement
from pyrun.core.markers import normalize_marker
from pyrun.core.project import normalize_name
from pyrun.core.records import Record
from pyrun.errors import FailureError, PyrunError

__all__ = [
    "PYLOCK_TOML",
    "REQUIREMENTS_TXT",
    "ExportEntry",
    "ExportSelection",
    "check_conflicts",
    "choose_format",
    "exportable",
    "header",
    "is_pylock_name",
    "parse_format",
    "pylock_toml",
    "requirements_txt",
]

# How `pyrun.core.markers` prints an unsatisfiable marker, and a marker it reduces to "always".
_FALSE = "python_version < '0'"
_TRUE_ATOM = "(extra == 'x' or extra != 'x')"  # an empty extra name is no tautology


# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------


class ExportSelection(Record):
    """What to export; names are normalised.

    `roots` are the members walked from; `groups` select their `[package.dev-dependencies]`,
    `root_groups` the `[manifest.dependency-groups]` of a virtual root, `inherited_groups` those
    of `group_root`, a root project whose groups (but not itself) a selected member takes.
    `prod` is false under `--only-group` (the roots themselves and their dependencies are left
    out). `project` is
    the single project `--no-emit-project` drops (None for whole-workspace targets, as in uv).
    """

    roots: tuple[str, ...] = ()
    extras: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    root_groups: frozenset[str] = frozenset()
    group_root: str | None = None
    inherited_groups: frozenset[str] = frozenset()
    prod: bool = True
    default_groups: frozenset[str] = frozenset()  # groups chosen only because they are defaults
    project: str | None = None
    prune: frozenset[str] = frozenset()
    no_emit_project: bool = False
    no_emit_workspace: bool = False
    no_emit_packages: frozenset[str] = frozenset()


class ExportEntry(Record):
    """One exported package: its reachability marker (None: always) and its parents."""

    package: Package
    marker: str | None
    dependents: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# The graph
# ---------------------------------------------------------------------------------------------

_Id = tuple[str, str | None, str, str]
_ROOT: _Id = ("", None, "", "")
# A graph node: a package, or one of its extras (uv gives each requested extra its own
# reachability, so `foo[ssl]`'s dependencies are only as reachable as the edges asking for it).
_Node = tuple[_Id, str | None]
_ROOT_NODE: _Node = (_ROOT, None)


def _id(package: Package) -> _Id:
    return (package.name, package.version, package.source.kind, package.source.value)


class _Edge(Record):
    parent: _Node
    child: _Node
    marker: str | None
    # The conflict item the edge activates (`extra-3-pkg-x` / `group-3-pkg-g`), if any.
    activates: str | None = None
    # An edge from the root to a target member itself: the one kind outside the lock's forks.
    member: bool = False


class _Graph:
    __slots__ = ("edges", "lock", "nodes", "queue", "seen", "selection")

    def __init__(self, lock: Lock, selection: ExportSelection) -> None:
        self.lock = lock
        self.selection = selection
        self.nodes: dict[_Id, Package] = {}
        self.edges: list[_Edge] = []
        self.seen: set[tuple[_Id, str | None]] = set()
        self.queue: list[tuple[Package, str | None]] = []

    def add(
        self,
        parent: _Node,
        child: Package,
        marker: str | None,
        activates: str | None,
        extras: Iterable[str] = (),
        *,
        member: bool = False,
    ) -> None:
        """Edges to `child` and to each of the `extras` of it the parent asks for."""
        self.nodes.setdefault(_id(child), child)
        for extra in (None, *sorted({normalize_name(e) for e in extras})):
            self.edges.append(_Edge(parent, (_id(child), extra), marker, activates, member))

    def push(self, package: Package, extras: Iterable[str]) -> None:
        for extra in (None, *(normalize_name(e) for e in extras)):
            if (_id(package), extra) not in self.seen:
                self.seen.add((_id(package), extra))
                self.queue.append((package, extra))

    def resolve(self, edge: Dependency) -> Package:
        candidates = [
            p
            for p in self.lock.find(edge.name)
            if (edge.version is None or p.version == edge.version)
            and (edge.source is None or p.source == edge.source)
        ]
        if not candidates:
            raise _broken(f"The lock has no entry for `{edge.name}`")
        return candidates[0]


def _broken(cause: str) -> FailureError:
    return FailureError(
        "Failed to export from `uv.lock`",
        causes=(cause,),
        hint="Run `pyrun lock` to update the lockfile",
    )


def _conflict_item(package: str, name: str, *, group: bool) -> str:
    kind = "group" if group else "extra"
    return f"{kind}-{len(package)}-{package}-{name}"


def _member(lock: Lock, name: str) -> Package:
    local = [p for p in lock.packages if p.name == name and p.source.is_local_tree]
    if not local:
        raise _broken(f"The lock has no entry for workspace member `{name}`")
    return local[0]


def _add_roots(graph: _Graph) -> set[str]:
    """Edges from the root node; returns the conflict items the roots activate."""
    sel, activated = graph.selection, set[str]()
    for name in sel.roots:
        if name in sel.prune:
            continue
        package = _member(graph.lock, name)
        if sel.prod:
            extras = sorted(sel.extras & set(package.optional_dependencies))
            graph.add(_ROOT_NODE, package, None, None, extras, member=True)
            graph.queue.append((package, None))
            graph.queue.extend((package, extra) for extra in extras)
            activated |= {_conflict_item(name, e, group=False) for e in extras}
        activated |= _add_groups(graph, package, sel.groups)
    if sel.group_root is not None and sel.group_root not in sel.prune:
        activated |= _add_groups(graph, _member(graph.lock, sel.group_root), sel.inherited_groups)
    _add_root_requirements(graph)
    return activated


def _add_groups(graph: _Graph, package: Package, groups: frozenset[str]) -> set[str]:
    """Edges from the root to the package's selected groups (not to the package itself);
    returns the conflict items they activate."""
    activated = set[str]()
    for group, deps in package.dev_dependencies.items():
        if group not in groups:
            continue
        activated.add(_conflict_item(package.name, group, group=True))
        for dep in deps:
            if dep.name not in graph.selection.prune:
                child = graph.resolve(dep)
                graph.add(_ROOT_NODE, child, dep.marker, None, dep.extra)
                graph.push(child, dep.extra)
    return activated


def _add_root_requirements(graph: _Graph) -> None:
    """Requirements of no member: a script's dependencies, a virtual root's groups."""
    lock, sel = graph.lock, graph.selection
    requirements: list[Requirement] = list(lock.manifest.requirements)
    for group, reqs in lock.manifest.dependency_groups.items():
        if group in sel.root_groups:
            requirements.extend(reqs)
    for req in requirements:
        name = normalize_name(req.name)
        if name in sel.prune:
            continue
        for package in lock.find(name):
            marker = _requirement_marker(req.marker, package.resolution_markers)
            if marker == _FALSE:
                continue
            graph.add(_ROOT_NODE, package, marker, None, req.extras)
            graph.push(package, req.extras)


def _requirement_marker(marker: str | None, forks: Sequence[str]) -> str | None:
    """The requirement's marker, limited to the forks the entry serves."""
    if not forks:
        return marker
    combined = _or(forks)
    return _and(combined, marker) if combined is not None else marker


def _walk(graph: _Graph) -> None:
    while graph.queue:
        package, extra = graph.queue.pop(0)
        if extra is None:
            deps: Sequence[Dependency] = package.dependencies
            activates = None
        else:
            deps = package.optional_dependencies.get(extra, ())
            activates = _conflict_item(package.name, extra, group=False)
        for dep in deps:
            if dep.name in graph.selection.prune:
                continue
            child = graph.resolve(dep)
            graph.add((_id(package), extra), child, dep.marker, activates, dep.extra)
            graph.push(child, dep.extra)


# ---------------------------------------------------------------------------------------------
# Markers
# ---------------------------------------------------------------------------------------------


def _and(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return _normal(f"({a}) and ({b})")


def _or(markers: Iterable[str | None]) -> str | None:
    parts = list(markers)
    if any(m is None for m in parts):
        return None
    if not parts:
        return _FALSE
    return _normal(" or ".join(f"({m})" for m in parts))


def _normal(text: str) -> str | None:
    return normalize_marker(text) or None


def _canonical(marker: str | None) -> str | None:
    return None if marker is None else _normal(marker)


_CONFLICT_ATOM = re.compile(r"extra\s*(==|!=)\s*'((?:extra|group)-\d+-[^']*)'")


def _resolve_conflicts(marker: str | None, activated: set[str]) -> str | None:
    """Replace conflict markers by their truth value for this export (see module doc)."""
    if marker is None or "extra" not in marker:
        return marker

    def value(match: re.Match[str]) -> str:
        truth = (match.group(2) in activated) == (match.group(1) == "==")
        return _TRUE_ATOM if truth else _FALSE

    return _normal(_CONFLICT_ATOM.sub(value, marker))


def _reachability(graph: _Graph, activated: set[str], forks: str | None) -> dict[_Node, str | None]:
    """Each node's marker: the union over paths of the conjunction of edge markers. In a
    forked lock every dependency edge is also limited to the union of the forks (`forks`), as
    uv does, while the target members themselves stay unconditional."""
    outgoing: dict[_Node, list[_Edge]] = {}
    for edge in graph.edges:
        outgoing.setdefault(edge.parent, []).append(edge)
    # Every marker is printed in uv's canonical form, even one copied from a single edge: the
    # lock may hold a form an older uv wrote (a plain DNF where uv 0.13.9 factors).
    edge_markers = {
        id(edge): _canonical(_resolve_conflicts(edge.marker, activated)) for edge in graph.edges
    }
    if forks is not None:
        # The forks of a lock with conflicts carry conflict items too: decided the same way.
        forks = _canonical(_resolve_conflicts(forks, activated))
    if forks is not None:
        for edge in graph.edges:
            if not edge.member:
                edge_markers[id(edge)] = _and(edge_markers[id(edge)], forks)
    reach: dict[_Node, str | None] = {_ROOT_NODE: None}
    stack = [_ROOT_NODE]
    while stack:
        parent = stack.pop()
        for edge in outgoing.get(parent, ()):
            through = _and(reach[parent], edge_markers[id(edge)])
            if edge.child in reach:
                through = _or([through, reach[edge.child]])
                if through == reach[edge.child]:
                    continue
            reach[edge.child] = through
            stack.append(edge.child)
    return reach


def _activated_reach(
    graph: _Graph, initial: set[str], forks: str | None
) -> dict[_Node, str | None]:
    """Reachability with conflict markers decided by the items the selection activates: the
    roots' own, plus each extra whose node is itself reachable. An extra edge that is only
    reachable under a conflict marker the selection makes false (`pkg[x] ; extra == 'extra-3-
    root-x'` with `x` not selected) activates nothing, as in uv: repeat until the set of
    activated items is stable."""
    activated = set(initial)
    for _ in range(8):  # each round can only follow one more level of conditional extras
        reach = _reachability(graph, activated, forks)
        if not graph.lock.conflicts:
            return reach  # no conflict markers: what is activated changes nothing
        found = initial | {
            e.activates
            for e in graph.edges
            if e.activates is not None and reach.get(e.parent, _FALSE) != _FALSE
        }
        if found == activated:
            return reach
        activated = found
    return reach


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def exportable(lock: Lock, selection: ExportSelection) -> list[ExportEntry]:
    """The packages to export with their markers and parents (unsorted, virtual ones kept)."""
    graph = _Graph(lock, selection)
    initial = _add_roots(graph)
    _walk(graph)
    forks = _or(lock.resolution_markers) if lock.resolution_markers else None
    reach = _activated_reach(graph, initial, forks)
    parents: dict[_Id, set[str]] = {}
    for edge in graph.edges:
        (child, extra), (parent, _) = edge.child, edge.parent
        if parent != _ROOT and extra is None:
            parents.setdefault(child, set()).add(parent[0])
    members = set(lock.manifest.members)
    entries = []
    for key, package in graph.nodes.items():
        marker = reach.get((key, None), _FALSE)
        if marker == _FALSE or not _emitted(package.name, selection, members):
            continue
        dependents = tuple(sorted(parents.get(key, ())))
        entries.append(ExportEntry(package=package, marker=marker, dependents=dependents))
    return entries


def _emitted(name: str, sel: ExportSelection, members: set[str]) -> bool:
    """uv's `InstallOptions::include_package` for the `--no-emit-*` options."""
    if (sel.no_emit_project or sel.no_emit_workspace) and name == sel.project:
        return False
    if sel.no_emit_workspace and name in members:
        return False
    return name not in sel.no_emit_packages


# ---------------------------------------------------------------------------------------------
# requirements.txt
# ---------------------------------------------------------------------------------------------


def requirements_txt(
    entries: Iterable[ExportEntry],
    *,
    hashes: bool = True,
    annotate: bool = True,
    editable: bool = True,
) -> str:
    """The entries as uv's `RequirementsTxtExport` prints them (without the header)."""
    out: list[str] = []
    for entry in sorted(entries, key=_requirements_key):
        if entry.package.source.kind == "virtual":
            continue
        line = _requirement_line(entry.package, editable)
        if entry.marker is not None:
            line += f" ; {entry.marker}"
        if hashes:
            line += "".join(f" \\\n    --hash={digest}" for digest in _hashes(entry.package))
        out.append(line + "\n")
        if annotate:
            out.append(_annotation(entry.dependents))
    return "".join(out)


def _requirements_key(entry: ExportEntry) -> tuple[object, ...]:
    """Editables first, then other local paths (by path), then the rest by name and version."""
    source = entry.package.source
    if source.kind == "editable":
        return (0, source.value)
    if source.kind in ("path", "directory"):
        return (1, source.value)
    return (2, _package_key(entry.package))


def _package_key(package: Package) -> tuple[object, ...]:
    try:
        version: tuple[object, ...] = (0, Version(package.version or ""))
    except InvalidVersion:
        version = (1, package.version or "")
    return (package.name, version, package.source.kind, package.source.value)


def _requirement_line(package: Package, editable: bool) -> str:
    source = package.source
    if source.kind == "registry":
        return f"{package.name}=={package.version}"
    if source.kind == "git":
        return f"{package.name} @ {_git_requirement(source.value)}"
    if source.kind == "url":
        fragment = f"#subdirectory={source.subdirectory}" if source.subdirectory else ""
        return f"{package.name} @ {source.value}{fragment}"
    if source.kind == "editable" and editable:
        return f"-e {_anchor(source.value)}"
    return _local_path(source.value)


def _git_requirement(value: str) -> str:
    """`git+<repository>@<commit>` (plus `#subdirectory=`), from the lock's git source."""
    parts = urlsplit(value)
    query = dict(_query_pairs(parts.query))
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    text = f"git+{base.removeprefix('git+')}"
    if parts.fragment:
        text += f"@{parts.fragment}"
    if "subdirectory" in query:
        text += f"#subdirectory={query['subdirectory']}"
    return text


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _anchor(path: str) -> str:
    """uv's `anchor`: relative paths start with `./` (or `../`); the root is `.`."""
    if path in ("", "."):
        return "."
    if path.startswith(("./", "../")) or path == "..":
        return path
    return f"./{path}"


def _local_path(path: str) -> str:
    if posixpath.isabs(path):
        return f"file://{path}"
    return _anchor(path)


def _hashes(package: Package) -> list[str]:
    found = []
    if package.sdist is not None and package.sdist.hash:
        found.append(package.sdist.hash)
    for wheel in package.wheels:
        if wheel.hash:
            found.append(wheel.hash)
        if wheel.zstd is not None and wheel.zstd.hash:
            found.append(wheel.zstd.hash)
    return sorted(found)


def _annotation(dependents: Sequence[str]) -> str:
    if not dependents:
        return ""
    if len(dependents) == 1:
        return f"    # via {dependents[0]}\n"
    return "    # via\n" + "".join(f"    #   {name}\n" for name in dependents)


# ---------------------------------------------------------------------------------------------
# pylock.toml (PEP 751)
# ---------------------------------------------------------------------------------------------


def pylock_toml(
    lock: Lock,
    entries: Iterable[ExportEntry],
    *,
    editable: bool = True,
    created_by: str = "pyrun",
    root: str = "",
) -> str:
    """The entries as uv's `PylockToml::to_toml` writes them (without the header).

    `root` (the absolute workspace root) is only needed for registries that are local paths.
    """
    lines = [
        'lock-version = "1.0"\n',
        f"created-by = {_toml_string(created_by)}\n",
    ]
    if lock.supported_markers:
        # uv 0.13.9 records the lock's supported environments (PEP 751 `environments`).
        environments = ", ".join(_toml_string(m) for m in lock.supported_markers)
        lines.append(f"environments = [{environments}]\n")
    lines.append(f"requires-python = {_toml_string(lock.requires_python)}\n")
    packages = [e for e in sorted(entries, key=lambda e: _package_key(e.package))]
    packages = [e for e in packages if e.package.source.kind != "virtual"]
    if not packages:
        lines.append("packages = []\n")
    for entry in packages:
        lines.append("\n[[packages]]\n")
        lines.extend(_pylock_package(entry, editable, root))
    return "".join(lines)


def _pylock_package(entry: ExportEntry, editable: bool, root: str) -> list[str]:
    package, source = entry.package, entry.package.source
    pairs: list[tuple[str, str]] = [("name", _toml_string(package.name))]
    if package.version is not None and source.kind not in ("editable", "directory"):
        pairs.append(("version", _toml_string(package.version)))
    if entry.marker is not None:
        pairs.append(("marker", _toml_string(entry.marker)))
    if source.kind == "registry":
        pairs.append(("index", _toml_string(_index_url(source.value, root))))
    pairs.extend(_pylock_source(package, editable, root))
    return [f"{key} = {value}\n" for key, value in pairs]


def _index_url(registry: str, root: str) -> str:
    if "://" in registry:
        return registry
    return "file://" + posixpath.normpath(posixpath.join(root, registry))


def _pylock_source(package: Package, editable: bool, root: str) -> list[tuple[str, str]]:
    source = package.source
    if source.kind == "git":
        return [("vcs", _vcs_table(source.value))]
    if source.kind in ("editable", "directory"):
        flag: str | None = None
        if editable:
            flag = "true" if source.kind == "editable" else "false"
        return [("directory", _inline([("path", _toml_string(source.value)), ("editable", flag)]))]
    if source.kind in ("url", "path"):
        return _archive(package)
    return _registry_files(package, root)


def _vcs_table(value: str) -> str:
    parts = urlsplit(value)
    query = dict(_query_pairs(parts.query))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).removeprefix("git+")
    revision = next((query[k] for k in ("rev", "tag", "branch") if k in query), None)
    pairs = [
        ("type", '"git"'),
        ("url", _toml_string(url)),
        ("requested-revision", _opt(revision)),
        ("commit-id", _toml_string(parts.fragment)),
        ("subdirectory", _opt(query.get("subdirectory"))),
    ]
    return _inline(pairs)


def _archive(package: Package) -> list[tuple[str, str]]:
    """A `url` or `path` source: the archive's location, size and hash (wheel or sdist)."""
    source = package.source
    wheel = package.wheels[0] if package.wheels else None
    sdist = package.sdist
    if wheel is not None and sdist is None:
        size, digest = wheel.size, wheel.hash
    else:
        size = sdist.size if sdist else None
        digest = sdist.hash if sdist else None
    location = ("url" if source.kind == "url" else "path", _toml_string(source.value))
    pairs = [
        location,
        ("size", None if size is None else str(size)),
        ("subdirectory", _opt(source.subdirectory)),
        ("hashes", _hash_table(digest)),
    ]
    return [("archive", _inline(pairs))]


def _registry_files(package: Package, root: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    registry = package.source.value
    if package.sdist is not None:
        s = package.sdist
        out.append(("sdist", _file_table(_file_url(s.url, s.path, registry, root), s)))
    wheels = [
        _file_table(url, w, name=_wheel_name(url))
        for w in package.wheels
        for url in [_file_url(w.url, w.path, registry, root)]
    ]
    if len(wheels) == 1:
        out.append(("wheels", f"[{wheels[0]}]"))
    elif wheels:
        out.append(("wheels", "[\n" + "".join(f"    {w},\n" for w in wheels) + "]"))
    return out


def _file_url(url: str | None, path: str | None, registry: str, root: str) -> str:
    if url is not None:
        return url
    base = root if "://" in registry else posixpath.join(root, registry)
    return "file://" + posixpath.normpath(posixpath.join(base, path or ""))


class _File(Protocol):
    """What `_file_table` reads from an sdist or a wheel."""

    @property
    def size(self) -> int | None: ...
    @property
    def hash(self) -> str | None: ...
    @property
    def upload_time(self) -> str | None: ...


def _file_table(url: str, artifact: _File, *, name: str | None = None) -> str:
    pairs = [
        ("name", None if name is None else _toml_string(name)),
        ("url", _toml_string(url)),
        ("upload-time", _toml_datetime(artifact.upload_time)),
        ("size", None if artifact.size is None else str(artifact.size)),
        ("hashes", _hash_table(artifact.hash)),
    ]
    return _inline(pairs)


def _wheel_name(url: str) -> str | None:
    """PEP 751's optional `name`, which uv writes when the URL's last component is not the
    wheel's normalised filename (`backports.tarfile-…` is `backports_tarfile-…`)."""
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    project, sep, rest = last.partition("-")
    if not sep or not last.endswith(".whl"):
        return None
    normalized = f"{re.sub(r'[-_.]+', '_', project).lower()}-{rest}"
    return None if normalized == last else normalized


def _toml_datetime(text: str | None) -> str | None:
    """An offset datetime in whole seconds, as uv writes PEP 751 `upload-time` values."""
    if text is None:
        return None
    return re.sub(r"\.\d+", "", text)


def _hash_table(digest: str | None) -> str:
    if not digest or ":" not in digest:
        return "{}"
    algorithm, value = digest.split(":", 1)
    return _inline([(algorithm, _toml_string(value))])


def _inline(pairs: Sequence[tuple[str, str | None]]) -> str:
    items = [f"{key} = {value}" for key, value in pairs if value is not None]
    return "{ " + ", ".join(items) + " }" if items else "{}"


def _opt(value: str | None) -> str | None:
    return None if value is None else _toml_string(value)


_ESCAPES: Mapping[str, str] = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


def _toml_string(value: str) -> str:
    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"

    return '"' + re.sub(r'[\x00-\x1f\x7f"\\]', escape, value) + '"'


# ---------------------------------------------------------------------------------------------
# Format, header and conflicts
# ---------------------------------------------------------------------------------------------

REQUIREMENTS_TXT = "requirements.txt"
PYLOCK_TOML = "pylock.toml"
_FORMATS = {"requirements.txt": REQUIREMENTS_TXT, "requirements-txt": REQUIREMENTS_TXT}
_FORMATS[PYLOCK_TOML] = PYLOCK_TOML
_PYLOCK_NAME = re.compile(r"^pylock(\.[^.]+)?\.toml$")


def is_pylock_name(file_name: str) -> bool:
    """PEP 751 file names: `pylock.toml` or `pylock.<name>.toml` (non-empty, no dots)."""
    return bool(_PYLOCK_NAME.match(file_name))


def parse_format(value: str) -> str:
    """`--format`'s value as a canonical format name; unknown values are usage errors."""
    if value in _FORMATS:
        return _FORMATS[value]
    raise PyrunError(
        f"invalid value '{value}' for '--format <FORMAT>'",
        causes=("[possible values: requirements.txt, pylock.toml]",),
    )


def choose_format(requested: str | None, output_name: str | None) -> str:
    """The export format: as requested, else pylock for a PEP 751 output name (SPEC §4.3).

    A pylock export to a file with another name is refused, as uv refuses it.
    """
    if requested is not None:
        chosen = parse_format(requested)
    elif output_name is not None and not output_name.lower().endswith(".txt"):
        chosen = PYLOCK_TOML if is_pylock_name(output_name) else REQUIREMENTS_TXT
    else:
        chosen = REQUIREMENTS_TXT
    if chosen == PYLOCK_TOML and output_name is not None and not is_pylock_name(output_name):
        raise PyrunError(
            "Expected the output filename to be `pylock.toml` or `pylock.<name>.toml`, where "
            f"`<name>` is non-empty and contains no dots; found `{output_name}`"
        )
    return chosen


def header(argv: Sequence[str], program: str = "pyrun") -> str:
    """The two comment lines both formats start with: the command as typed, minus the options
    that do not change the output (`-q`, `-v`, `-U`, `-P NAME`), exactly as uv filters them."""
    kept: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
            continue
        if arg in ("--upgrade-package", "-P"):
            skip_next = True
            continue
        if arg in ("--upgrade", "-U", "--quiet", "-q", "--verbose", "-v"):
            continue
        if arg.startswith(("--upgrade-package=", "-P")):
            continue
        kept.append(arg)
    command = " ".join([program, *kept])
    return (
        f"# This file was autogenerated by {program} via the following command:\n#    {command}\n"
    )


def check_conflicts(lock: Lock, selection: ExportSelection) -> None:
    """Refuse to export a selection that activates two items of a declared conflict set."""
    from pyrun.core.conflicts import conflict_error, installed_members

    members = installed_members(
        lock,
        selection.roots,
        extras=selection.extras,
        groups=selection.groups,
        prod=selection.prod,
    )
    error = conflict_error(
        lock.conflicts,
        members,
        extras=selection.extras,
        groups=selection.groups,
        prod=selection.prod,
        default_groups=selection.default_groups,
    )
    if error is not None:
        raise error
