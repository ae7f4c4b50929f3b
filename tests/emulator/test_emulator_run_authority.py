"""The run's certificate authority: private files, removed at the end, leaves clients verify, and a
name constraint that keeps it from vouching for anything but AWS's names (RFC 5280 §4.2.1.10)."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from collections.abc import Iterator

import pytest
from cryptography import x509

from accesspath.emulator.aws_hosts import aws_dns_suffixes
from accesspath.emulator.run_authority import RunAuthority


@pytest.fixture(scope="module")
def authority() -> Iterator[RunAuthority]:
    with RunAuthority(aws_dns_suffixes()) as made:
        yield made


def _handshake(authority: RunAuthority, certificate_host: str, server_name: str) -> str:
    """Serve a certificate for ``certificate_host``; a client verifying with the run's CA asks for
    ``server_name``; returns "ok" or the client's error."""
    listener = socket.create_server(("127.0.0.1", 0))
    errors: list[BaseException] = []

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with authority.server_context(certificate_host).wrap_socket(connection, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as error:
            errors.append(error)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(authority.ca_file))
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as sock, \
                client.wrap_socket(sock, server_hostname=server_name) as tls:
            return tls.recv(2).decode()
    except ssl.SSLError as error:
        return str(error)
    finally:
        thread.join(timeout=10)
        listener.close()


def test_files_are_private_and_removed_at_the_end() -> None:
    authority = RunAuthority(aws_dns_suffixes())
    directory = authority.directory
    authority.server_context("sqs.eu-west-1.amazonaws.com")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    names = {path.name for path in directory.iterdir()}
    assert {"ca-key.pem", "ca.pem", "bundle.pem", "leaf-key.pem"} <= names and len(names) == 5
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in directory.iterdir())
    authority.close()
    assert not directory.exists()


def test_the_bundle_holds_the_system_cas_and_the_run_ca(authority: RunAuthority) -> None:
    bundle = authority.bundle_file.read_bytes()
    assert authority.ca_file.read_bytes() in bundle
    assert bundle.count(b"-----BEGIN CERTIFICATE-----") > 1


def test_a_client_trusting_the_run_ca_accepts_the_leaf_for_its_host(authority: RunAuthority) -> None:
    assert _handshake(authority, "sqs.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com") == "ok"
    assert _handshake(authority, "my.bucket.s3.us-east-1.amazonaws.com", "my.bucket.s3.us-east-1.amazonaws.com") == "ok"


def test_a_client_naming_another_host_is_refused(authority: RunAuthority) -> None:
    # SNI names another host than the tunnel's: the handshake fails (one connection, one name).
    assert "UNRECOGNIZED_NAME" in _handshake(authority, "sqs.eu-west-1.amazonaws.com", "sqs.us-east-1.amazonaws.com")


def test_the_ca_cannot_vouch_for_names_outside_aws(authority: RunAuthority) -> None:
    # Even a leaf the authority signs for another name fails verification: the CA is name-constrained.
    assert "CERTIFICATE_VERIFY_FAILED" in _handshake(authority, "example.com", "example.com")
    constraints = authority.ca_certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert x509.DNSName("amazonaws.com") in (constraints.value.permitted_subtrees or [])


def test_leaves_are_cached_per_host(authority: RunAuthority) -> None:
    first = authority.server_context("logs.eu-west-1.amazonaws.com")
    assert authority.server_context("LOGS.eu-west-1.amazonaws.com") is first
    leaf = authority.leaf_certificate("logs.eu-west-1.amazonaws.com")
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["logs.eu-west-1.amazonaws.com"]
