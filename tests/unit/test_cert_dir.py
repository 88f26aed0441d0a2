"""certifi's bundle as an OpenSSL hashed directory (`pyrun.net.cert_dir`): each certificate
named as `openssl x509 -subject_hash` names it, and a handshake trusts through the directory
exactly what it trusts through the bundle."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from pyrun.net import cert_dir, trust
from pyrun.net.cert_dir import CERTS_BUCKET, hashed_directory, hashed_files, subject_hash

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


def openssl_hash(pem: bytes) -> str:
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, "x509", "-subject_hash", "-noout"], input=pem, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def make_cert(
    directory: Path,
    name: str,
    subject: str,
    *,
    issuer: tuple[Path, Path] | None = None,
    config: str = "",
    extra: tuple[str, ...] = (),
) -> tuple[Path, Path]:
    """A certificate (self-signed, or signed by `issuer`'s cert and key) and its key."""
    assert OPENSSL is not None
    cnf = directory / f"{name}.cnf"
    cnf.write_text(
        "[req]\ndistinguished_name = dn\n" + config + "[dn]\n"
        "[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = keyCertSign\n"
        "[leaf]\nsubjectAltName = IP:127.0.0.1\n"
    )
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key]
    common = ["-days", "2", "-subj", subject, "-config", cnf, "-utf8", *extra]
    if issuer is None:
        command = [OPENSSL, "req", "-x509", *newkey, "-out", cert, "-extensions", "ca", *common]
        subprocess.run(command, check=True, capture_output=True)
        return cert, key
    request = directory / f"{name}.csr"
    subprocess.run([OPENSSL, "req", "-new", *newkey, "-out", request, *common], check=True)
    signing = ["-CA", issuer[0], "-CAkey", issuer[1], "-CAcreateserial", "-extfile", cnf]
    subprocess.run(
        [OPENSSL, "x509", "-req", "-in", request, *signing, "-extensions", "leaf", "-out", cert],
        check=True,
        capture_output=True,
    )
    return cert, key


@needs_openssl
def test_every_certificate_of_certifis_bundle_is_named_as_openssl_names_it() -> None:
    files = hashed_files(Path(certifi.where()).read_bytes())
    assert len(files) > 50
    for name, pem in files.items():
        assert name.rsplit(".", 1)[0] == openssl_hash(pem), pem.decode()


@needs_openssl
@pytest.mark.parametrize(
    ("subject", "config", "extra"),
    [
        # white space around and inside, capitals, as UTF8String
        ("/CN=  Foo   BAR  /O=ACME Corp", "", ()),
        # a BMPString with non-ASCII characters, white space kept around them
        ("/CN=  Grüße   AUS Köln /O=ACME", "string_mask = MASK:0x800\n", ()),
        # PrintableString
        ("/C=DE/CN=  Foo   BAR  ", "string_mask = MASK:0x2\n", ()),
        # a multi-valued RDN, whose attributes the canonical form sorts
        ("/CN=Zed+OU=alpha  BETA/O=X", "", ("-multivalue-rdn",)),
    ],
)
def test_subject_names_are_canonicalised_as_openssl_does(
    tmp_path: Path, subject: str, config: str, extra: tuple[str, ...]
) -> None:
    cert, _key = make_cert(tmp_path, "ca", subject, config=config, extra=extra)
    pem = cert.read_bytes()
    assert subject_hash(ssl.PEM_cert_to_DER_cert(pem.decode())) == openssl_hash(pem)


def test_subjects_sharing_a_hash_are_numbered_in_bundle_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = Path(certifi.where()).read_bytes()
    monkeypatch.setattr(cert_dir, "subject_hash", lambda der: "0badcafe")
    files = hashed_files(bundle)
    assert list(files)[:3] == ["0badcafe.0", "0badcafe.1", "0badcafe.2"]
    assert b"".join(files.values()).count(b"BEGIN CERTIFICATE") == bundle.count(b"BEGIN CERT")


def test_the_directory_is_made_once_per_bundle_content(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    shutil.copy(certifi.where(), bundle)
    first = hashed_directory(str(bundle), tmp_path / "cache")
    assert first is not None and Path(first).parent == tmp_path / "cache" / CERTS_BUCKET
    assert sorted(p.name for p in Path(first).iterdir()) == sorted(
        hashed_files(bundle.read_bytes())
    )
    assert hashed_directory(str(bundle), tmp_path / "cache") == first
    end = b"-----END CERTIFICATE-----\n"
    bundle.write_bytes(bundle.read_bytes().split(end)[0] + end)
    second = hashed_directory(str(bundle), tmp_path / "cache")
    assert second is not None and second != first and len(list(Path(second).iterdir())) == 1
    assert [p.name for p in (tmp_path / "cache" / CERTS_BUCKET).iterdir() if p.name[0] == "."] == []


@pytest.mark.parametrize(
    ("content", "after_certifi"),
    [
        (b"no certificate at all\n", False),
        (b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n", True),
        (b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n", True),  # no cert
    ],
)
def test_a_bundle_it_cannot_name_gets_no_directory(
    tmp_path: Path, content: bytes, after_certifi: bool
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((Path(certifi.where()).read_bytes() if after_certifi else b"") + content)
    assert hashed_directory(str(bundle), tmp_path / "cache") is None
    assert hashed_directory(str(tmp_path / "missing.pem"), tmp_path / "cache") is None


def test_an_unwritable_cache_gets_no_directory(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache should be")
    assert hashed_directory(certifi.where(), tmp_path / "cache") is None


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on 127.0.0.1 whose certificate a test CA signed; yields its port and the
    CA's certificate."""
    if OPENSSL is None:
        pytest.skip("the openssl command is not installed")
    ca = make_cert(tmp_path, "ca", "/CN=pyrun  Test CA/O=Pyrun")
    leaf_cert, leaf_key = make_cert(tmp_path, "leaf", "/CN=127.0.0.1", issuer=ca)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf_cert, leaf_key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], ca[0]
    stop.set()
    thread.join(5)
    listener.close()


def _greeting(port: int, context: ssl.SSLContext) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return tls.recv(5)


def test_a_handshake_trusts_through_the_directory_what_the_bundle_trusts(
    tmp_path: Path, tls_server: tuple[int, Path]
) -> None:
    port, ca = tls_server
    with_ca = tmp_path / "with-ca.pem"
    with_ca.write_bytes(Path(certifi.where()).read_bytes() + ca.read_bytes())
    directory = hashed_directory(str(with_ca), tmp_path / "cache")
    assert directory is not None
    assert _greeting(port, ssl.create_default_context(capath=directory)) == b"hello"
    assert _greeting(port, ssl.create_default_context(cafile=with_ca)) == b"hello"

    without = hashed_directory(certifi.where(), tmp_path / "cache")
    assert without is not None
    with pytest.raises(ssl.SSLCertVerificationError):
        _greeting(port, ssl.create_default_context(capath=without))


@pytest.fixture
def fresh_trust_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    trust._load.cache_clear()
    yield
    trust._load.cache_clear()


def _directory_made() -> None:
    for thread in threading.enumerate():
        if thread.name == "pyrun-trust-directory":
            thread.join(30)


@pytest.mark.usefixtures("fresh_trust_store")
def test_with_a_cache_the_context_reads_the_roots_it_needs_only(tmp_path: Path) -> None:
    # The first two runs load the bundle; the second makes the directory on a thread ...
    for _run in range(2):
        trust._load.cache_clear()
        assert trust.ssl_context(False, tmp_path).cert_store_stats()["x509_ca"] > 50
        _directory_made()
    assert len([p for p in (tmp_path / CERTS_BUCKET).iterdir() if p.is_dir()]) == 1
    # ... which the next one reads through: nothing parsed up front.
    trust._load.cache_clear()
    assert trust.ssl_context(False, tmp_path).cert_store_stats()["x509_ca"] == 0
    assert trust.ssl_context(False, None).cert_store_stats()["x509_ca"] > 50


@pytest.mark.usefixtures("fresh_trust_store")
def test_ssl_cert_file_is_what_is_trusted_through_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls_server: tuple[int, Path]
) -> None:
    port, ca = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    for _run in range(2):
        trust._load.cache_clear()
        assert _greeting(port, trust.ssl_context(False, tmp_path / "cache")) == b"hello"
        _directory_made()
    trust._load.cache_clear()
    context = trust.ssl_context(False, tmp_path / "cache")
    assert context.cert_store_stats()["x509_ca"] == 0  # read through the directory
    assert _greeting(port, context) == b"hello"
    monkeypatch.delenv("SSL_CERT_FILE")
    trust._load.cache_clear()
    with pytest.raises(ssl.SSLCertVerificationError):  # certifi's bundle lacks the test CA
        _greeting(port, trust.ssl_context(False, tmp_path / "cache"))


def test_a_directory_left_half_written_long_ago_is_removed(tmp_path: Path) -> None:
    bucket = tmp_path / "cache" / CERTS_BUCKET
    old, recent = bucket / ".tmp-old", bucket / ".tmp-recent"
    for left in (old, recent):
        left.mkdir(parents=True)
        (left / "0badcafe.0").write_text("half written")
    os.utime(old, (1, 1))
    assert hashed_directory(certifi.where(), tmp_path / "cache") is not None
    assert not old.exists() and recent.exists()


def test_a_bundle_read_from_its_file_a_second_time_gets_its_directory(tmp_path: Path) -> None:
    cert_dir.make_when_read_again(certifi.where(), tmp_path)
    assert hashed_directory(certifi.where(), tmp_path, make=False) is None
    cert_dir.make_when_read_again(certifi.where(), tmp_path)
    assert hashed_directory(certifi.where(), tmp_path, make=False) is not None


def test_without_make_only_an_existing_directory_is_answered(tmp_path: Path) -> None:
    assert hashed_directory(certifi.where(), tmp_path, make=False) is None
    assert not (tmp_path / CERTS_BUCKET).exists()
    made = hashed_directory(certifi.where(), tmp_path)
    assert made is not None
    assert hashed_directory(certifi.where(), tmp_path, make=False) == made


@pytest.mark.usefixtures("fresh_trust_store")
def test_a_missing_ssl_cert_file_still_fails_the_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(FileNotFoundError):
        trust.ssl_context(False, tmp_path / "cache")


@pytest.mark.parametrize("kind", ["TRUSTED CERTIFICATE", "X509 CRL"])
def test_a_bundle_with_more_than_certificates_gets_no_directory(tmp_path: Path, kind: str) -> None:
    bundle = tmp_path / "bundle.pem"
    extra = f"-----BEGIN {kind}-----\nMAMCAQE=\n-----END {kind}-----\n"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + extra.encode())
    assert hashed_directory(str(bundle), tmp_path / "cache") is None
