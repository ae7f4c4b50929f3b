"""Signature Version 4 verification: the signature a client sent, recomputed from the request.

Follows "Create a signed AWS API request" (IAM user guide, create-signed-request.md): the canonical
request (method, URI, query, signed headers, payload hash), the string to sign (algorithm, date,
credential scope, hash of the canonical request) and the HMAC chain of the signing key. Both forms
are read: the ``Authorization`` header and presigned ``X-Amz-*`` query strings.

The payload hash is the ``x-amz-content-sha256`` value when the client sent one (S3 always does:
a hex hash, ``UNSIGNED-PAYLOAD`` or a ``STREAMING-*`` value; the signature covers the value, and
for a hex hash the caller checks the body against it), ``UNSIGNED-PAYLOAD`` for presigned S3 URLs,
and the SHA-256 of the body otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_CLOCK_SKEW = timedelta(minutes=15)
"""AWS rejects a request whose X-Amz-Date is more than 15 minutes from its clock."""
MAX_PRESIGNED_EXPIRES = 604800
"""Seven days: the longest X-Amz-Expires SigV4 accepts."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_AUTH_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SignatureProblem(Exception):
    """Why a request's signature cannot be accepted; ``kind`` picks the service's error code.

    kinds: ``missing`` (no signature at all), ``malformed`` (an Authorization header or query that is
    not SigV4), ``unknown-key``, ``bad-token`` (session token missing or wrong), ``mismatch``,
    ``skewed`` (X-Amz-Date too far from now), ``expired-url`` (presigned URL past X-Amz-Expires),
    ``expired-credentials``, ``payload-mismatch`` (body does not hash to x-amz-content-sha256).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class CredentialScope:
    access_key_id: str
    date: str           # YYYYMMDD
    region: str
    service: str
    terminator: str

    @property
    def text(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


@dataclass(frozen=True)
class SignedRequestParts:
    """What a SigV4 request claims: who signed it, when, for which scope, over which headers."""

    scope: CredentialScope
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool
    expires: int | None = None
    security_token: str | None = None
    content_sha256: str | None = None


def parse_credential(value: str) -> CredentialScope:
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        raise SignatureProblem("malformed", f"Credential should be scoped to a valid region, service and"
                                            f" date: '{value}' is not AKID/DATE/REGION/SERVICE/aws4_request")
    key, date, region, service, terminator = parts
    if terminator != "aws4_request":
        raise SignatureProblem("malformed", f"Credential should be scoped with a valid terminator: 'aws4_request',"
                                            f" not '{terminator}'")
    if not re.fullmatch(r"\d{8}", date):
        raise SignatureProblem("malformed", f"Credential date '{date}' is not YYYYMMDD")
    return CredentialScope(key, date, region, service, terminator)


def parse_query_pairs(query: str) -> list[tuple[str, str]]:
    """The raw query string as decoded (name, value) pairs, in order; ``a`` alone is ``("a", "")``."""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def signed_parts(headers: Mapping[str, str], query_pairs: Sequence[tuple[str, str]]) -> SignedRequestParts:
    """Read the SigV4 fields of a request (header or presigned form), or say why they cannot be read."""
    authorization = headers.get("authorization")
    query = {name: value for name, value in query_pairs}
    if authorization is not None:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise SignatureProblem("malformed", f"unsupported authorization type '{algorithm[:40]}': only"
                                                f" {ALGORITHM} (SigV4) is accepted")
        fields: dict[str, str] = {}
        for item in rest.split(","):
            match = _AUTH_FIELD.fullmatch(item)
            if match is None:
                raise SignatureProblem("malformed", f"Authorization header requires 'Credential', 'SignedHeaders'"
                                                    f" and 'Signature' parameters; '{item.strip()[:60]}' is none")
            fields[match.group(1)] = match.group(2)
        missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
        if missing:
            raise SignatureProblem("malformed", f"Authorization header requires '{missing[0]}' parameter")
        amz_date = headers.get("x-amz-date")
        if not amz_date:
            raise SignatureProblem("malformed", "Authorization header requires existence of either a 'X-Amz-Date'"
                                                " or a 'Date' header")
        return SignedRequestParts(
            scope=parse_credential(fields["Credential"]), amz_date=amz_date.strip(),
            signed_headers=tuple(fields["SignedHeaders"].split(";")), signature=fields["Signature"],
            presigned=False, security_token=headers.get("x-amz-security-token"),
            content_sha256=headers.get("x-amz-content-sha256"))
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query or "X-Amz-Algorithm" in query:
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise SignatureProblem("malformed", f"X-Amz-Algorithm must be {ALGORITHM}")
        missing = [name for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
                   if not query.get(name)]
        if missing:
            raise SignatureProblem("malformed", f"AWS query-string parameters missing: {', '.join(missing)}")
        expires: int | None = None
        if "X-Amz-Expires" in query:
            try:
                expires = int(query["X-Amz-Expires"])
            except ValueError:
                raise SignatureProblem("malformed", "X-Amz-Expires should be a number") from None
            if not 0 <= expires <= MAX_PRESIGNED_EXPIRES:
                raise SignatureProblem("malformed", "X-Amz-Expires must be between 0 and 604800 seconds")
        return SignedRequestParts(
            scope=parse_credential(query["X-Amz-Credential"]), amz_date=query["X-Amz-Date"],
            signed_headers=tuple(query["X-Amz-SignedHeaders"].split(";")), signature=query["X-Amz-Signature"],
            presigned=True, expires=expires,
            security_token=query.get("X-Amz-Security-Token") or headers.get("x-amz-security-token"),
            content_sha256=headers.get("x-amz-content-sha256") or query.get("X-Amz-Content-Sha256"))
    if "AWSAccessKeyId" in query and "Signature" in query:
        raise SignatureProblem("malformed", "Signature Version 2 presigned URLs are not accepted: sign with SigV4"
                                            " (botocore: Config(signature_version='s3v4'))")
    raise SignatureProblem("missing", "Missing Authentication Token")


def request_time(parts: SignedRequestParts) -> datetime:
    try:
        return datetime.strptime(parts.amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureProblem("malformed", f"X-Amz-Date '{parts.amz_date[:40]}' is not in ISO 8601 basic"
                                            " format (YYYYMMDD'T'HHMMSS'Z')") from None


def check_time(parts: SignedRequestParts, now: datetime) -> None:
    """The date checks AWS makes before it looks at the signature."""
    when = request_time(parts)
    if parts.scope.date != parts.amz_date[:8]:
        raise SignatureProblem("mismatch", f"Date in Credential scope does not match YYYYMMDD from ISO-8601"
                                           f" version of date from HTTP: '{parts.scope.date}' != '{parts.amz_date[:8]}'")
    if parts.presigned:
        expires = parts.expires if parts.expires is not None else MAX_PRESIGNED_EXPIRES
        if now > when + timedelta(seconds=expires):
            raise SignatureProblem("expired-url", "Request has expired")
        if when - now > MAX_CLOCK_SKEW:
            raise SignatureProblem("skewed", "Request is not yet valid")
        return
    if abs(now - when) > MAX_CLOCK_SKEW:
        earliest = (now - MAX_CLOCK_SKEW).strftime(_AMZ_DATE)
        latest = (now + MAX_CLOCK_SKEW).strftime(_AMZ_DATE)
        raise SignatureProblem("skewed", f"Signature expired: {parts.amz_date} is now earlier than {earliest}"
                                         f" ({now.strftime(_AMZ_DATE)} - 15 min.)" if when < now else
                               f"Signature not yet current: {parts.amz_date} is still later than {latest}"
                               f" ({now.strftime(_AMZ_DATE)} + 15 min.)")


def _uri_encode(text: str, *, keep_slash: bool) -> str:
    return quote(text, safe="/~" if keep_slash else "-_.~")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 5.2.4, as SigV4 normalizes the path of every service but S3.
    output: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if output:
                output.pop()
            continue
        output.append(segment)
    normalized = "/" + "/".join(output)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return normalized


def canonical_uri(raw_path: str, service: str) -> str:
    """The path as the signer saw it: S3 signs the path as sent; other services sign it normalized and
    URI-encoded once more (the path on the wire is already encoded once)."""
    if not raw_path:
        return "/"
    if service == "s3":
        return raw_path
    return _uri_encode(_remove_dot_segments(raw_path), keep_slash=True)


def canonical_query(pairs: Sequence[tuple[str, str]], *, drop_signature: bool) -> str:
    encoded = sorted((_uri_encode(name, keep_slash=False), _uri_encode(value, keep_slash=False))
                     for name, value in pairs if not (drop_signature and name == "X-Amz-Signature"))
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_header_value(values: Sequence[str]) -> str:
    return ",".join(" ".join(value.split()) for value in values)


def canonical_request(method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
                      header_values: Mapping[str, Sequence[str]], parts: SignedRequestParts, payload_hash: str) -> str:
    names = parts.signed_headers
    lines = "".join(f"{name}:{canonical_header_value(header_values.get(name, ()))}\n" for name in names)
    return "\n".join((method.upper(), canonical_uri(raw_path, parts.scope.service),
                      canonical_query(query_pairs, drop_signature=parts.presigned), lines, ";".join(names),
                      payload_hash))


def string_to_sign(parts: SignedRequestParts, canonical: str) -> str:
    return "\n".join((ALGORITHM, parts.amz_date, parts.scope.text,
                      hashlib.sha256(canonical.encode("utf-8")).hexdigest()))


def signing_key(secret_access_key: str, scope: CredentialScope) -> bytes:
    key = hmac.new(("AWS4" + secret_access_key).encode("utf-8"), scope.date.encode(), hashlib.sha256).digest()
    for part in (scope.region, scope.service, scope.terminator):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def signature(secret_access_key: str, parts: SignedRequestParts, text_to_sign: str) -> str:
    return hmac.new(signing_key(secret_access_key, parts.scope), text_to_sign.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def payload_hash_for(parts: SignedRequestParts, body: bytes | None) -> str:
    """The payload hash the client signed; ``body`` is None when the body is streamed, not buffered."""
    if parts.content_sha256:
        return parts.content_sha256
    if parts.presigned and parts.scope.service == "s3":
        return UNSIGNED_PAYLOAD
    if body is None:
        raise SignatureProblem("malformed", "Missing required header for this request: x-amz-content-sha256")
    return hashlib.sha256(body).hexdigest()


def is_hex_sha256(value: str | None) -> bool:
    return value is not None and _HEX64.fullmatch(value) is not None


def verify_signature(method: str, raw_path: str, query_pairs: Sequence[tuple[str, str]],
                     header_values: Mapping[str, Sequence[str]], parts: SignedRequestParts, secret_access_key: str,
                     body: bytes | None) -> None:
    """Recompute the signature; raises ``SignatureProblem('mismatch')`` when it differs."""
    payload = payload_hash_for(parts, body)
    if body is not None and is_hex_sha256(parts.content_sha256) and hashlib.sha256(body).hexdigest() != payload:
        raise SignatureProblem("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match what"
                                                   " was computed.")
    canonical = canonical_request(method, raw_path, query_pairs, header_values, parts, payload)
    expected = signature(secret_access_key, parts, string_to_sign(parts, canonical))
    if not hmac.compare_digest(expected, parts.signature.lower()):
        raise SignatureProblem("mismatch", "The request signature we calculated does not match the signature you"
                                           " provided. Check your AWS Secret Access Key and signing method.")
