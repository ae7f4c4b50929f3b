"""A certificate authority made for one run of the emulator, so clients that call AWS by name can be
answered by it (transparent mode, ``connect_proxy.py``).

The authority exists only for the run: its key and certificates live in a private temporary
directory (mode 0700, files 0600) that :meth:`RunAuthority.close` removes, nothing is added to a
system trust store, and clients trust it only through the variables ``accesspath run`` sets for its
child (``AWS_CA_BUNDLE``, ``SSL_CERT_FILE``...). Its certificate is name-constrained to AWS's DNS
suffixes (RFC 5280 §4.2.1.10), so even a copied key cannot vouch for any other site. Leaf
certificates are issued on demand, one per host name a client connects to, and cached.
"""

from __future__ import annotations

import datetime
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)
"""How long the authority and its leaves are valid: longer than any run (``serve --proxy`` may run for days)."""
CLOCK_SKEW = datetime.timedelta(hours=1)
"""Certificates are valid from an hour ago, so a client whose clock is a little behind accepts them."""


class RunAuthority:
    """The run's CA: ``ca_file`` (its certificate), ``bundle_file`` (the system's trusted CAs and this
    one), and a server TLS context per AWS host name (:meth:`server_context`)."""

    def __init__(self, permitted_domains: Iterable[str], *, trusted_bundle: str | None = None,
                 clock: datetime.datetime | None = None) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="accesspath-ca-"))   # mkdtemp: mode 0700
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        try:
            now = clock or datetime.datetime.now(datetime.UTC)
            self._not_before, self._not_after = now - CLOCK_SKEW, now + VALIDITY
            self._ca_key = ec.generate_private_key(ec.SECP256R1())
            self.ca_certificate = self._issue_ca(sorted(set(permitted_domains)))
            self._leaf_key = ec.generate_private_key(ec.SECP256R1())
            ca_pem = self.ca_certificate.public_bytes(serialization.Encoding.PEM)
            self._write("ca-key.pem", self._ca_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            self._write("leaf-key.pem", self._leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            self.ca_file = self._write("ca.pem", ca_pem)
            self.bundle_file = self._write("bundle.pem", _trusted_pem(trusted_bundle) + ca_pem)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Remove the directory with the keys; the authority cannot issue after this."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RunAuthority:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for ``host`` (issued once, then cached). The
        handshake fails when the client's SNI names another host: one connection, one name."""
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = self._context_for(host)
                self._contexts[host] = context
            return context

    def leaf_certificate(self, host: str) -> x509.Certificate:
        return self._issue_leaf(host.lower())

    # -- issuing ----------------------------------------------------------------------------------

    def _issue_ca(self, permitted_domains: list[str]) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "accesspath"),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"accesspath run CA {os.getpid()}"
                                                                  f" {self._not_before:%Y-%m-%dT%H:%M:%SZ}")])
        public_key = self._ca_key.public_key()
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self._not_before).not_valid_after(self._not_after)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        if permitted_domains:
            builder = builder.add_extension(x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(domain) for domain in permitted_domains], excluded_subtrees=None),
                critical=True)
        return builder.sign(self._ca_key, hashes.SHA256())

    def _issue_leaf(self, host: str) -> x509.Certificate:
        public_key = self._leaf_key.public_key()
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(self.ca_certificate.subject).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(self._not_before).not_valid_after(self._not_after)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                               critical=False)
                .sign(self._ca_key, hashes.SHA256()))

    def _context_for(self, host: str) -> ssl.SSLContext:
        certificate = self._issue_leaf(host)
        chain = self._write(f"leaf-{len(self._contexts)}.pem", certificate.public_bytes(serialization.Encoding.PEM)
                            + self.ca_certificate.public_bytes(serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])      # the emulator speaks HTTP/1.1 only
        context.load_cert_chain(chain, self.directory / "leaf-key.pem")

        def same_name(_: ssl.SSLObject, server_name: str | None, __: ssl.SSLContext) -> int | None:
            if server_name is not None and server_name.lower().rstrip(".") != host:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
            return None

        context.sni_callback = same_name  # type: ignore[assignment]
        return context

    def _write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return path


def _trusted_pem(explicit: str | None) -> bytes:
    """The CAs a child trusts besides the run's: ``explicit`` (the operator's own bundle), else the
    system's default bundle, else certifi's; clients given the combined bundle still verify every site
    that is not AWS (tunnelled, never intercepted) as they would without the emulator."""
    candidates = [explicit, ssl.get_default_verify_paths().cafile]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            data = Path(candidate).read_bytes()
            return data if data.endswith(b"\n") else data + b"\n"
    return b""
