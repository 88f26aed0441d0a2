"""A CA bundle as an OpenSSL hashed directory, so a TLS handshake parses only its roots.

Loading the bundle as a CA file parses all of its ~150 certificates up front: ~200 million
instructions, nearly a tenth of a lock from scratch, for the one or two roots its handshakes
use. OpenSSL's other form of trust store (`capath`) is a directory with each certificate in a
file named after the hash of its subject (`openssl rehash`); a handshake looks up its issuer by
that name and reads only that file. The directory is made once per bundle content, in the
cache, with every certificate of the bundle and nothing else, so it trusts exactly what the
bundle trusts. Anything in the bundle this module cannot name as OpenSSL does, or that is not
a certificate, means no directory: the caller then loads the bundle itself.

The name is `X509_NAME_hash_ex` (`openssl x509 -subject_hash`): the first four bytes, little
endian, of the SHA-1 of the subject's canonical encoding, where each attribute value of a
string type OpenSSL canonicalises is converted to UTF-8, stripped of surrounding ASCII white
space, its inner runs of it made one space, ASCII letters lowered, and encoded as a
UTF8String; the attributes of each RDN are re-encoded as a DER `SET OF` (sorted), and the
RDNs are concatenated without the outer `SEQUENCE`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import time
from pathlib import Path

from pyrun.local.cache import CERTS_BUCKET

_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"
_PEM = re.compile(re.escape(_BEGIN) + rb"\s*(.*?)\s*" + re.escape(_END), re.DOTALL)

_SEQUENCE, _SET, _OID, _INTEGER, _VERSION = 0x30, 0x31, 0x06, 0x02, 0xA0
_UTF8 = 0x0C
# PrintableString, T61String, IA5String, VisibleString: one byte a character (T61 as Latin-1).
_ONE_BYTE = frozenset({0x13, 0x14, 0x16, 0x1A})
_BMP, _UNIVERSAL = 0x1E, 0x1C  # two and four bytes a character, big endian
_WHITE_SPACE = b" \t\n\x0b\x0c\r"  # `ossl_isspace`: ASCII only
_WHITE_RUNS = re.compile(rb"[ \t\n\x0b\x0c\r]+")


def hashed_directory(
    bundle: str, cache_root: str | os.PathLike[str], *, make: bool = True
) -> str | None:
    """The hashed directory of the PEM bundle at `bundle` under `cache_root`, made if it is
    not there yet (unless not `make`); None when there is none: the bundle cannot be read or
    named, or the cache not written."""
    try:
        data = Path(bundle).read_bytes()
    except OSError:
        return None
    target = _target(data, cache_root)
    if target.is_dir():
        return str(target)
    return _make(data, target) if make else None


def make_when_read_again(bundle: str, cache_root: str | os.PathLike[str]) -> None:
    """For a bundle just loaded from its file: make its directory when a run has loaded it
    from the file before (a mark left then says so), else leave that mark. A cache that one
    run uses and drops (a CI job's, an empty one each time) then costs an empty file, not the
    ~20 ms of CPU of a directory no run would read."""
    try:
        data = Path(bundle).read_bytes()
        target = _target(data, cache_root)
        mark = target.with_name(f"{target.name}.read")
        if mark.exists():
            _make(data, target)
        else:
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.touch()
    except OSError:
        pass  # only a speed-up for the next run


def _target(bundle: bytes, cache_root: str | os.PathLike[str]) -> Path:
    return Path(cache_root, CERTS_BUCKET, hashlib.sha256(bundle).hexdigest()[:16])


def _make(bundle: bytes, target: Path) -> str | None:
    try:
        files = hashed_files(bundle)
    except ValueError:
        return None
    return str(target) if _write_directory(target, files) else None


def hashed_files(bundle: bytes) -> dict[str, bytes]:
    """Each certificate of a PEM bundle under its hashed name (`<hash>.<n>`, n counting the
    certificates whose subjects share a hash, in bundle order). ValueError: a certificate that
    cannot be read, or none at all."""
    if bundle.count(b"-----BEGIN ") != bundle.count(_BEGIN):
        # A trusted certificate with its trust settings, a CRL, a key: OpenSSL reads more
        # from a CA file than certificates, which a directory of them would leave out.
        raise ValueError("a PEM block that is not a certificate")
    files: dict[str, bytes] = {}
    for match in _PEM.finditer(bundle):
        der = base64.b64decode(b"".join(match[1].split()), validate=True)
        name = subject_hash(der)
        count = 0
        while f"{name}.{count}" in files:
            count += 1
        files[f"{name}.{count}"] = match[0] + b"\n"
    if not files:
        raise ValueError("no certificate in the bundle")
    return files


def subject_hash(certificate: bytes) -> str:
    """`openssl x509 -subject_hash` of a DER certificate."""
    digest = hashlib.sha1(canonical_name(_subject(certificate)), usedforsecurity=False)
    return f"{int.from_bytes(digest.digest()[:4], 'little'):08x}"


def canonical_name(rdns: bytes) -> bytes:
    """The canonical encoding of a Name (the content of its `SEQUENCE`: the RDNs)."""
    encoded = []
    for tag, rdn in _elements(rdns):
        _expect(tag, _SET)
        attributes = []
        for tag, attribute in _elements(rdn):
            _expect(tag, _SEQUENCE)
            (oid_tag, oid), (value_tag, value) = _elements(attribute)
            _expect(oid_tag, _OID)
            attributes.append(_der(_SEQUENCE, _der(_OID, oid) + _canonical_value(value_tag, value)))
        encoded.append(_der(_SET, b"".join(sorted(attributes))))
    return b"".join(encoded)


def _canonical_value(tag: int, value: bytes) -> bytes:
    if tag == _UTF8:
        text = value.decode("utf-8")
    elif tag in _ONE_BYTE:
        text = value.decode("latin-1")
    elif tag in (_BMP, _UNIVERSAL):
        width = 2 if tag == _BMP else 4
        if len(value) % width:
            raise ValueError("a string of a fixed-width type has a partial character")
        points = (int.from_bytes(value[i : i + width], "big") for i in range(0, len(value), width))
        text = "".join(map(chr, points))  # a lone surrogate stays one, as OpenSSL keeps it
    else:
        return _der(tag, value)  # not a type OpenSSL canonicalises: kept as it is
    utf8 = text.encode("utf-8", "surrogatepass").strip(_WHITE_SPACE)
    return _der(_UTF8, _WHITE_RUNS.sub(b" ", utf8).lower())  # `bytes.lower`: ASCII only


def _subject(certificate: bytes) -> bytes:
    """The content of the subject `Name` of a DER certificate."""
    ((tag, body),) = _elements(certificate)
    _expect(tag, _SEQUENCE)
    tag, tbs = _elements(body)[0]
    _expect(tag, _SEQUENCE)
    fields = _elements(tbs)
    if fields and fields[0][0] == _VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject
    if len(fields) < 5:
        raise ValueError("a certificate without a subject")
    _expect(fields[0][0], _INTEGER)
    _expect(fields[4][0], _SEQUENCE)
    return fields[4][1]


def _elements(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) of each DER element in `data`, which they must fill exactly."""
    found = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError("a truncated element")
        tag, length = data[position], data[position + 1]
        position += 2
        if tag & 0x1F == 0x1F:
            raise ValueError("a tag number a certificate name does not use")
        if length & 0x80:
            size = length & 0x7F
            if not 0 < size <= 4 or position + size > len(data):
                raise ValueError("a length DER does not allow")
            length = int.from_bytes(data[position : position + size], "big")
            position += size
        end = position + length
        if end > len(data):
            raise ValueError("a truncated element")
        found.append((tag, data[position:end]))
        position = end
    return found


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + content


def _expect(tag: int, wanted: int) -> None:
    if tag != wanted:
        raise ValueError(f"an element of tag {tag:#04x} where {wanted:#04x} belongs")


_TEMP_PREFIX = ".tmp-"
# A directory is written in well under a second: a temporary one older than this was left by
# a process that ended while writing it (it is made in the background, see `pyrun.net.trust`).
_ABANDONED_AFTER = 600.0


def _remove_abandoned(bucket: Path) -> None:
    import shutil  # here, as `tempfile` below: only the writer thread needs them

    now = time.time()
    for entry in os.scandir(bucket):
        if entry.name.startswith(_TEMP_PREFIX):
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > _ABANDONED_AFTER:
                    shutil.rmtree(entry.path)


def _write_directory(target: Path, files: dict[str, bytes]) -> bool:
    """Write the directory whole under a temporary name, then rename it into place: a reader
    sees all of it or none. Another process that got there first wins."""
    import shutil
    import tempfile

    temp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(target.parent)
        temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=_TEMP_PREFIX))
        for name, pem in files.items():
            (temp / name).write_bytes(pem)
        os.rename(temp, target)
        return True
    except OSError:
        return target.is_dir()
    finally:
        if temp is not None and temp.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(temp)
