"""The machine a Python build must run on, in managed-key spelling (SPEC §6.3).

Its own small module: interpreter discovery needs it on every full run, without the download
list's parsing code (`pyrun.core.pydownloads`)."""

from __future__ import annotations

from pyrun.core.records import Record


class Host(Record):
    """`linux`, `x86_64`, `gnu`."""

    os: str
    arch: str
    libc: str
