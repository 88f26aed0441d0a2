"""Python-version specifiers without `packaging` answer as `packaging` does, on every case."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import textwrap

import pytest
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyrun.core.pyversions import (
    BadSpecifier,
    PlainVersion,
    ReleaseSpecifier,
    is_version,
    parse_any_version,
    parse_specifier,
    parse_version,
    specifier_contains,
    specifier_set_contains,
)

PLAIN = [
    *("0", "0.0", "1", "3", "3.0", "3.0.0", "3.1", "3.6", "3.11", "3.11.9", "3.12", "3.12.0"),
    *("3.12.1", "3.12.0.0", "3.12.0.1", "3.012", "3.12a1", "3.12.0a1", "3.12a2", "3.12b1"),
    *("3.12b2", "3.12rc1", "3.12.0rc1", "3.12.0rc2", "3.12.1rc1", "3.12.1a1", "3.13", "3.13.0"),
    *("3.13.0b1", "3.13.1", "3.14.0a7", "3.14.0rc3", "4", "4.0", "4.0a0", "10", "10.0", "312"),
]
# Versions packaging accepts that this module leaves to it, and some it refuses.
OTHERS = [
    *("3.12.post1", "3.12.dev0", "3.12rc1.dev1", "3.12+local", "3.12.1+g1234", "1!3.12"),
    *("V3.12", "v3.12", "3.12RC1", "3.12-rc.1", "3.12rc", "3.12c1", "3.12alpha1", "3.12-1"),
    *(" 3.12", "3.12 ", "", "abc", "3.x", "3..12", "3.12.", "٣.١٢", "3." + "1" * 80),
]
OPERATORS = ["==", "!=", "<=", ">=", "<", ">", "~="]
BOUNDS = ["3", "3.0", "3.12", "3.12.0", "3.12.1", "3.12rc1", "3.12.0b1", "3.13", "4.0a1"]
SPECIFIERS = [
    *(op + bound for op, bound in itertools.product(OPERATORS, BOUNDS)),
    *(f"{op}{bound}.*" for op, bound in itertools.product(OPERATORS, ["3", "3.12", "3.12.0"])),
    *(">= 3.12", "  <3.13  ", "==\t3.12.*", "~= 3.10", "!=3.12rc1.*", "==3.12rc1.*", "~=3"),
    *("~=3.12rc1", "~=3.12.*", ">=3.12.post1", "<3.12.dev0", "==3.12+local", "!=3.12.1+x"),
    *(">3.12.post1", "<3.12.post1", "===3.12", "=== 3.12", "=3.12", ">=V3.12", ">=3.12RC1"),
    *("", "3.12", ">=", ">=3.x", "<=3.12.*", "~=3.12+x", ">=1!3", "=<3.12", ">=3.12.0.*"),
]


def packaging_specifier(text: str) -> Specifier | str:
    try:
        return Specifier(text)
    except InvalidSpecifier as exc:
        return str(exc)


@pytest.mark.parametrize("text", SPECIFIERS)
def test_a_specifier_reads_as_packaging_reads_it(text: str) -> None:
    expected = packaging_specifier(text)
    if isinstance(expected, str):
        with pytest.raises(BadSpecifier) as caught:
            parse_specifier(text)
        assert str(caught.value) == expected
        return
    spec = parse_specifier(text)
    assert (str(spec), spec.operator, spec.version) == (
        str(expected),
        expected.operator,
        expected.version,
    )
    assert spec.prereleases == expected.prereleases


@pytest.mark.parametrize("text", SPECIFIERS)
def test_a_specifier_contains_what_packaging_says(text: str) -> None:
    expected = packaging_specifier(text)
    if isinstance(expected, str):
        return
    spec = parse_specifier(text)
    for version in PLAIN + OTHERS:
        answer = expected.contains(version, prereleases=True)
        assert specifier_contains(spec, version) == answer, (text, version)


def test_the_shapes_python_versions_take_are_read_without_packaging() -> None:
    for text in SPECIFIERS:
        expected = packaging_specifier(text)
        if not isinstance(expected, Specifier) or expected.operator == "===":
            continue
        plain = not any(mark in expected.version for mark in ("post", "dev", "+", "!", "V", "RC"))
        assert isinstance(parse_specifier(text), ReleaseSpecifier) == plain, text
    assert all(isinstance(parse_version(text), PlainVersion) for text in PLAIN)
    assert not any(isinstance(parse_version(text), PlainVersion) for text in OTHERS)


def test_sets_contain_what_packaging_says() -> None:
    valid = [text for text in SPECIFIERS if isinstance(packaging_specifier(text), Specifier)]
    pairs = [", ".join(pair) for pair in itertools.combinations(valid[::3], 2)]
    extra = ["", " , ", ">=3.11,", "===3.12", ">=3.11, ===3.12", "==3.12.*,>=3.12.post1"]
    for specifiers in [*extra, *pairs]:
        expected = SpecifierSet(specifiers)
        for version in PLAIN + OTHERS:
            answer = expected.contains(version, prereleases=True)
            assert specifier_set_contains(specifiers, version) == answer, (specifiers, version)


def test_a_set_with_a_bad_specifier_fails_as_packaging_does() -> None:
    for specifiers in (">=3.11,<", "<3.13, >=3.x", ">=3.11,,<3.13 ,=3"):
        with pytest.raises(InvalidSpecifier) as expected:
            SpecifierSet(specifiers)
        with pytest.raises(BadSpecifier) as caught:
            specifier_set_contains(specifiers, "3.12")
        assert str(caught.value) == str(expected.value)


def test_random_specifiers_and_versions_agree_with_packaging() -> None:
    rng = random.Random(15)

    def release() -> str:
        parts = [str(rng.choice([0, 1, 3, 3, 12, 13])) for _ in range(rng.randint(1, 4))]
        pre = rng.choice(["", "", "a1", "b2", "rc1", "rc0"])
        return ".".join(parts) + pre

    for _ in range(4000):
        operator = rng.choice([*OPERATORS, "==", ">=", "<"])
        text = operator + release() + rng.choice(["", "", "", ".*"])
        expected = packaging_specifier(text)
        if isinstance(expected, str):
            with pytest.raises(BadSpecifier):
                parse_specifier(text)
            continue
        version = release()
        answer = expected.contains(version, prereleases=True)
        assert specifier_contains(parse_specifier(text), version) == answer, (text, version)


def test_plain_versions_have_packagings_parts_and_order() -> None:
    for text in PLAIN:
        plain, version = parse_version(text), Version(text)
        assert plain is not None
        parts = (plain.release, plain.pre, plain.epoch, plain.post, plain.dev, plain.local)
        assert parts == (version.release, version.pre, 0, None, None, None)
        assert plain.is_prerelease == version.is_prerelease
        assert str(plain) == text
    for left, right in itertools.product(PLAIN, repeat=2):
        a, b = parse_version(left), parse_version(right)
        assert a is not None and b is not None
        assert (a.key < b.key, a.key == b.key) == (
            Version(left) < Version(right),
            Version(left) == Version(right),
        )


WHEEL_VERSIONS = [
    *("2.9.0.post0", "1.0.dev3", "1.0rc1.post1.dev1+abc.1", "2024.1", "1.0+ubuntu.1", "0.0.0"),
    *("1.0+", "1.0+ABC", "1.0+a-b", "1.0+a..b", "1.0.dev1.post2", "1.0.post", "1.0.post1.post2"),
    *("1!1.0", ".dev1", "1.0-1", "1.0.rc1", "1.0rc1.post1+", "1.0.dev٣", "1.0+é", "1.0_post1"),
]


def test_is_version_answers_as_packaging() -> None:
    for text in PLAIN + OTHERS + WHEEL_VERSIONS:
        try:
            Version(text)
        except InvalidVersion:
            accepted = False
        else:
            accepted = True
        assert is_version(text) == accepted, text


def test_other_versions_are_packagings_own() -> None:
    assert isinstance(parse_any_version("3.12.post1"), Version)
    assert isinstance(parse_any_version("3.12"), PlainVersion)
    with pytest.raises(InvalidVersion):
        parse_any_version("3.x")


def test_plain_answers_import_no_packaging() -> None:
    code = textwrap.dedent(
        """
        import sys
        from pyrun.core import pyversions as p
        assert p.specifier_set_contains(">=3.11, <3.14, !=3.12.0", "3.12.1")
        assert not p.specifier_contains(p.parse_specifier("<3.13"), "3.13.0rc1")
        assert p.parse_version("3.13t") is None
        assert p.is_version("2.9.0.post0") and p.is_version("1.0rc1.dev2+local.1")
        print(sorted(m for m in sys.modules if m.split(".")[0] == "packaging"))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
