"""Shared pieces of the emulator tests: signing raw requests, a recording upstream, running emulators."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from accesspath.emulator import (
    CredentialStore, DecisionLog, Emulator, KnownCredentials, RunningServer, UpstreamRequest, start_emulator,
)
from accesspath.environment import load_environment, resolve_caller

ROOT = Path(__file__).resolve().parents[2]
SEED000 = str(ROOT / "examples/seed000-ecs-endpoint-policy/template.yaml")
SEED004 = str(ROOT / "examples/seed004-logs-endpoint-policy/template.yaml")
S3_TEMPLATE = str(Path(__file__).with_name("s3-gateway.yaml"))


class _CannedResponse:
    def __init__(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.status = status
        self.reason = "OK"
        self._body = io.BytesIO(body)
        self._headers = headers + [("Content-Length", str(len(body)))]

    def header_items(self) -> list[tuple[str, str]]:
        return list(self._headers)

    def read_chunk(self, size: int) -> bytes:
        return self._body.read(size)

    def close(self) -> None:
        pass


@dataclass
class RecordingUpstream:
    """An upstream that records what reaches it: only requests whose body arrived whole are 'received'."""

    received: list[tuple[UpstreamRequest, bytes]] = field(default_factory=list)
    started: int = 0
    body: bytes = b'{"clusterArns": []}'
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, request: UpstreamRequest) -> _CannedResponse:
        with self.lock:
            self.started += 1
        data = request.body if isinstance(request.body, bytes) else b"".join(request.body)
        with self.lock:
            self.received.append((request, data))
        return _CannedResponse(200, self.body, [("Content-Type", "application/x-amz-json-1.1")])

    def close(self) -> None:
        pass


@dataclass
class RunningEmulator:
    server: RunningServer
    emulator: Emulator
    credentials: KnownCredentials
    log: io.StringIO

    @property
    def url(self) -> str:
        return self.server.url

    def log_entries(self, at_least: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """The decision log (written once the answer is sent, so wait for it a little)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = [json.loads(line) for line in self.log.getvalue().splitlines()]
            if len(entries) >= at_least or time.monotonic() > deadline:
                return entries
            time.sleep(0.02)

    def boto3_client(self, service: str, region: str, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.url, region_name=region,
                            aws_access_key_id=self.credentials.access_key_id,
                            aws_secret_access_key=self.credentials.secret_access_key,
                            aws_session_token=self.credentials.session_token,
                            config=Config(retries={"max_attempts": 1}, **config))


@contextmanager
def running_emulator(templates: list[str], caller_id: str, upstream: Any, *, region: str | None = None,
                     parameters: dict[str, str] | None = None) -> Iterator[RunningEmulator]:
    env = load_environment(templates, region=region, parameters=parameters or {})
    store = CredentialStore()
    issued = store.issue(resolve_caller(env, caller_id))
    log = io.StringIO()
    emulator = Emulator(env, upstream, credentials=store, decision_log=DecisionLog(log, live_summary=False))
    server = start_emulator(emulator)
    try:
        yield RunningEmulator(server, emulator, issued, log)
    finally:
        server.stop()


def sign(method: str, url: str, *, service: str, region: str, credentials: KnownCredentials | None = None,
         access_key: str | None = None, secret: str | None = None, token: str | None = None,
         body: bytes = b"", headers: dict[str, str] | None = None, s3: bool = False) -> dict[str, str]:
    """Headers of a request signed by botocore's SigV4 signer (the reference the emulator must agree with)."""
    if credentials is not None:
        access_key, secret, token = credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = (S3SigV4Auth if s3 else SigV4Auth)(Credentials(access_key, secret, token), service, region)
    signer.add_auth(request)
    return {k: v for k, v in request.headers.items()}


def raw_request(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if not any(name.lower() == "host" for name in headers):
            connection.putheader("Host", f"{host}:{port}")
        for name, value in headers.items():
            connection.putheader(name, value)
        if body and "Content-Length" not in headers:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


def ecs_headers(url: str, operation: str, body: bytes, credentials: KnownCredentials,
                region: str = "ap-northeast-1") -> dict[str, str]:
    return sign("POST", url + "/", service="ecs", region=region, credentials=credentials, body=body,
                headers={"X-Amz-Target": f"{ECS_TARGET}.{operation}",
                         "Content-Type": "application/x-amz-json-1.1",
                         "Host": url.removeprefix("http://")})


LAB_TEMPLATE = str(Path(__file__).with_name("lab.yaml"))


def sign_fields(method: str, target: str, fields: list[tuple[str, str]], body: bytes, credentials: KnownCredentials,
                *, service: str, region: str) -> list[tuple[str, str]]:
    """``fields`` plus a SigV4 signature over all of them, repeated fields included (their values
    joined with commas, as SigV4 canonicalises them): the request a client holding valid
    credentials can send, however odd. Framing fields are left unsigned."""
    import hashlib
    from datetime import UTC, datetime
    from urllib.parse import unquote

    from accesspath.emulator.sigv4 import (
        CredentialScope, SignedRequestParts, canonical_request, signature, string_to_sign,
    )

    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fields = [*fields, ("X-Amz-Date", amz_date)]
    if credentials.session_token:
        fields.append(("X-Amz-Security-Token", credentials.session_token))
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name.lower(), []).append(value)
    payload = values.get("x-amz-content-sha256", [hashlib.sha256(body).hexdigest()])[0]
    signed = tuple(sorted(name for name in values if name not in ("content-length", "transfer-encoding")))
    scope = CredentialScope(credentials.access_key_id, amz_date[:8], region, service, "aws4_request")
    parts = SignedRequestParts(scope, amz_date, signed, "", False)
    raw_path, _, query = target.partition("?")
    pairs = [(unquote(n), unquote(v)) for n, _, v in (item.partition("=") for item in query.split("&") if item)]
    canonical = canonical_request(method, raw_path, pairs, values, parts, payload)
    signed_value = signature(credentials.secret_access_key, parts, string_to_sign(parts, canonical))
    return [*fields, ("Authorization", f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope.text},"
                                       f" SignedHeaders={';'.join(signed)}, Signature={signed_value}")]


def send_raw(url: str, method: str, target: str, fields: list[tuple[str, str]], body: bytes = b"", *,
             content_length: bool = True, timeout: float = 10) -> tuple[int | None, dict[str, str], bytes]:
    """Send exactly these fields (repeats and all) over a fresh connection; the write side is closed
    after the body, so a server waiting for more body sees the end. Status None: no answer."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    head = f"{method} {target} HTTP/1.1\r\n"
    if content_length and body and not any(name.lower() in ("content-length", "transfer-encoding")
                                           for name, _ in fields):
        fields = [*fields, ("Content-Length", str(len(body)))]
    head += "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(head.encode("utf-8", "surrogateescape") + body)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass            # the server answered and closed before the whole body was sent
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            return None, {}, b""
