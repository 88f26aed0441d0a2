"""One description of the machine for managed-Python discovery and downloads."""

from __future__ import annotations

import platform

import pytest

from pyrun.local import host


def test_this_machine_in_key_spelling():
    found = host.host_platform()
    assert (found.os, found.arch, found.libc) == ("linux", "x86_64", "gnu")


def test_libc_override_wins():
    assert host.host_platform("MUSL").libc == "musl"


@pytest.mark.parametrize(
    ("machine", "arch"),
    [("AMD64", "x86_64"), ("arm64", "aarch64"), ("i586", "i686"), ("armv7l", "armv7")],
)
def test_machine_aliases(monkeypatch, machine, arch):
    monkeypatch.setattr(host, "_machine", lambda: machine)
    assert host.host_platform().arch == arch


def test_armv7_glibc_is_gnueabihf(monkeypatch):
    monkeypatch.setattr(host, "_machine", lambda: "armv7l")
    assert host.host_platform().libc == "gnueabihf"


def test_the_machine_is_platforms_without_importing_it():
    assert host._machine() == platform.machine()
