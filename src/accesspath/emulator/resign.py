"""Re-sign forwarded requests for an upstream that checks signatures (a real AWS endpoint).

Clients sign for the emulator with credentials accesspath issued; a real upstream knows nothing of
them. :class:`ResigningUpstream` wraps the transport: for each allowed request it drops the
client's signature, keeps the client's credential scope (region and service) and payload hash
(``x-amz-content-sha256`` as sent, so streamed S3 bodies need no buffering; the SHA-256 of a
buffered body otherwise) and signs again with the upstream credentials, for the upstream host
(IAM User Guide, create-signed-request.md). moto checks no signatures and needs none of this.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from accesspath.emulator.sigv4 import (
    CredentialScope,
    SignatureProblem,
    SignedRequestParts,
    canonical_request,
    parse_credential,
    parse_query_pairs,
    signature,
    string_to_sign,
)
from accesspath.emulator.upstream import (
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTransport,
    as_async_transport,
)
from accesspath.errors import UsageError

# Headers a forwarder must sign when present (the rest of the client's x-amz-* headers are signed too).
_ALWAYS = ("host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "content-type", "x-amz-target",
           "content-md5")


@dataclass(frozen=True)
class UpstreamCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def load_upstream_credentials(path: str) -> UpstreamCredentials:
    """A JSON file ``{"AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ...}`` (the shape
    ``aws sts get-session-token`` prints under ``Credentials``; that wrapper is accepted too)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"no such file '{path}'") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read upstream credentials '{path}': {error}") from None
    if isinstance(data, dict) and isinstance(data.get("Credentials"), dict):
        data = data["Credentials"]
    if not isinstance(data, dict) or not isinstance(data.get("AccessKeyId"), str) or not isinstance(
            data.get("SecretAccessKey"), str):
        raise UsageError(f"'{path}' must hold AccessKeyId and SecretAccessKey (and optionally SessionToken)")
    token = data.get("SessionToken")
    return UpstreamCredentials(data["AccessKeyId"], data["SecretAccessKey"], token if isinstance(token, str) else None)


class ResigningUpstream:
    """An :class:`UpstreamTransport` that signs every request again for ``upstream_url``."""

    def __init__(self, inner: Any, upstream_url: str, credentials: UpstreamCredentials,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.inner: UpstreamTransport = as_async_transport(inner)
        self.host = urlsplit(upstream_url).netloc
        self.authority = self.host
        self.credentials = credentials
        self.clock = clock or (lambda: datetime.now(UTC))

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return await self.inner.send(resign(request, self.host, self.credentials, self.clock()))

    def close(self) -> None:
        self.inner.close()


def resign(request: UpstreamRequest, host: str, credentials: UpstreamCredentials, now: datetime) -> UpstreamRequest:
    headers = list(request.headers)
    lowered = {name.lower(): value for name, value in headers}
    authorization = lowered.get("authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        raise SignatureProblem("resign", "only requests signed with AWS4-HMAC-SHA256 headers can be re-signed for the"
                                         " upstream (presigned URLs carry the client's own signature)")
    credential = authorization.split("Credential=", 1)[1].split(",", 1)[0].strip()
    client_scope = parse_credential(credential)
    payload_hash = lowered.get("x-amz-content-sha256")
    if payload_hash is None:
        if not isinstance(request.body, bytes):
            raise SignatureProblem("resign", "a streamed body without x-amz-content-sha256 cannot be re-signed")
        payload_hash = hashlib.sha256(request.body).hexdigest()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    kept = [(n, v) for n, v in headers
            if n.lower() not in ("authorization", "x-amz-date", "x-amz-security-token", "host")]
    kept.append(("Host", host))
    kept.append(("X-Amz-Date", amz_date))
    if credentials.session_token:
        kept.append(("X-Amz-Security-Token", credentials.session_token))
    values: dict[str, list[str]] = {}
    for name, value in kept:
        values.setdefault(name.lower(), []).append(value)
    signed = tuple(sorted(n for n in values if n in _ALWAYS or n.startswith("x-amz-")))
    scope = CredentialScope(credentials.access_key_id, amz_date[:8], client_scope.region, client_scope.service,
                            "aws4_request")
    parts = SignedRequestParts(scope, amz_date, signed, "", False)
    path, _, query = request.target.partition("?")
    canonical = canonical_request(request.method, path, parse_query_pairs(query), values, parts, payload_hash)
    new_signature = signature(credentials.secret_access_key, parts, string_to_sign(parts, canonical))
    kept.append(("Authorization", f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope.text}, "
                                  f"SignedHeaders={';'.join(signed)}, Signature={new_signature}"))
    return UpstreamRequest(request.method, request.target, kept, request.body, request.content_length)
