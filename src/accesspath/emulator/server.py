"""The emulator: authenticate (SigV4), identify the call, decide it as the signer's caller, then forward
it upstream or answer AWS's error in the service's own wire format.

Nothing reaches the upstream before the signature is checked and every IAM request of the call is
allowed. Buffered bodies (JSON, query, REST-JSON) are read whole first; S3 bodies are streamed in
chunks both ways, and when S3's ``x-amz-content-sha256`` is a hex hash the last chunk is held back
until the body is seen to match it (on a mismatch the upstream connection is closed, so the
upstream never completes the request).

The HTTP layer is asyncio: :func:`serve_connection` serves the requests of one connection, given
what its client believes it is talking to (:class:`ConnectionAuthority`); the listener
(``listener.py``) calls it for each accepted connection, and a proxy that terminates the TLS of a
``CONNECT`` tunnel calls it on the decrypted stream. Each worker process holds its own
:class:`Emulator` (the environment is immutable once loaded), so decisions take no lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

from accesspath.catalog.calls import IamRequest, iam_requests_for_call
from accesspath.catalog.endpoint_services import (
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.emulator.aws_chunked import STREAMING_SIGNED, ChunkSigning, SignedChunkStream
from accesspath.emulator.connect_proxy import ProxiedHost, ServeTunnel, TransparentProxy
from accesspath.emulator.credentials import CredentialStore, KnownCredentials
from accesspath.emulator.decision_log import DecisionLog, log_entry
from accesspath.emulator.forwarding import (
    HOP_BY_HOP,
    forwarded_head,
    with_payload_hash,
)
from accesspath.emulator.http11 import ClientGone, HttpConnection, RawHead, UnreadableHead
from accesspath.emulator.protocols import (
    ServiceCall,
    UnknownCall,
    WireStyle,
    identify,
    is_streaming_service,
    models_for_signing_name,
    style_for_signing_name,
)
from accesspath.emulator.request_reader import (
    BodyFraming,
    EndpointNames,
    HostNames,
    RequestHead,
    RequestRefused,
    read_request_head,
)
from accesspath.emulator.s3_bodies import (
    DECIDED_BY_BODY,
    MAX_DECIDED_BODY,
    per_object_calls,
    with_body_params,
)
from accesspath.emulator.sigv4 import (
    EMPTY_SHA256,
    SignatureProblem,
    SignedRequestParts,
    check_time,
    is_hex_sha256,
    parse_query_pairs,
    signed_parts,
    signing_key,
    verify_signature,
)
from accesspath.emulator.upstream import (
    CHUNK_SIZE,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTransport,
    as_async_transport,
)
from accesspath.emulator.wire_errors import error_response, new_request_id
from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision, Decider
from accesspath.environment.model import Environment
from accesspath.errors import UsageError

MAX_HEADER_BYTES = 32 * 1024
"""Request headers larger than this in total are refused in the service's format (a single line over
64 KiB, or a head over 256 KiB, is answered 431: see http11.py)."""
MAX_BUFFERED_BODY = 16 * 1024 * 1024
"""The largest body read whole (JSON, query, REST-JSON); S3 bodies are streamed and have no limit."""


@dataclass(frozen=True)
class CallOutcome:
    """The decisions of every IAM request of one call, and what they add up to."""

    decisions: tuple[CallDecision, ...]
    decision: str                     # allowed, or the first request's that is not

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    @property
    def first_refusal(self) -> CallDecision | None:
        return next((d for d in self.decisions if not d.allowed), None)


@dataclass
class Emulator:
    """Everything one emulator needs; the HTTP layer (:func:`serve_connection`) only moves bytes.

    One per event loop (a worker process, or the thread ``start_emulator`` runs): decisions are made
    on that loop alone, so they take no lock."""

    env: Environment
    upstream: Any
    """An :class:`UpstreamTransport`, or a blocking one (run on threads, see upstream.py)."""
    credentials: CredentialStore = field(default_factory=CredentialStore)
    endpoint_services: EndpointServiceTable = field(default_factory=default_endpoint_services)
    decision_log: DecisionLog | None = None
    resource_account: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    endpoint_names: tuple[str, ...] = ()
    """Host names (``name[:port]``) clients may use for the emulator besides its listen address and
    ``localhost``; S3 buckets may be named below them (virtual-hosted style)."""
    proxy: TransparentProxy | None = None
    """Transparent mode: also an HTTP(S) proxy for clients that call AWS host names (connect_proxy.py)."""
    _decider: Decider | None = None
    _transport: UpstreamTransport | None = None

    @property
    def transport(self) -> UpstreamTransport:
        if self._transport is None:
            self._transport = as_async_transport(self.upstream)
        return self._transport

    @property
    def upstream_authority(self) -> str | None:
        """The ``Host`` the upstream answers to, when the transport names one (``--upstream URL``)."""
        return getattr(self.upstream, "authority", None)

    @property
    def decider(self) -> Decider:
        if self._decider is None:
            self._decider = Decider(self.env, self.endpoint_services, resource_account=self.resource_account)
        return self._decider

    async def close(self) -> None:
        """Close the upstream's idle connections (those of the running event loop)."""
        if self._transport is not None:
            self._transport.close()

    def iam_requests(self, caller: Caller, call: ServiceCall, region: str) -> tuple[IamRequest, ...]:
        extras: dict[str, str] = {}
        task = caller.task_definition
        if task is not None:
            for key, name in (("task_role_arn", task.task_role_name), ("execution_role_arn", task.execution_role_name)):
                role = self.env.role_by_name_or_arn(name) if name else None
                if role is not None:
                    extras[key] = role.arn
        account = caller.principal.account or self.env.account
        if call.service == "s3" and call.operation == "DeleteObjects":
            # Authorized object by object (Amazon S3 API Reference, DeleteObjects, "Permissions").
            requests: list[IamRequest] = []
            for operation, params in per_object_calls(call):
                for request in iam_requests_for_call("s3", operation, params, account=account, region=region):
                    if request not in requests:
                        requests.append(request)
            return tuple(requests)
        return iam_requests_for_call(call.service, call.operation, call.params, account=account, region=region,
                                     extras=extras)

    def decide(self, caller: Caller, call: ServiceCall, region: str) -> CallOutcome:
        """Decide every IAM request of ``call`` from ``caller``; raises UsageError when the call's
        parameters do not name its resources."""
        requests = self.iam_requests(caller, call, region)
        decider = self.decider
        decisions = tuple(decider.decide(caller, request, region=region) for request in requests)
        refusal = next((d for d in decisions if not d.allowed), None)
        return CallOutcome(decisions, "allowed" if refusal is None else refusal.decision)


@dataclass(frozen=True)
class ConnectionAuthority:
    """What the client of one connection believes it is talking to.

    ``endpoint``: what its requests' ``Host`` may name and which services and regions they may be
    signed for (:class:`request_reader.HostNames`: the emulator's :class:`EndpointNames`, or the AWS
    host a proxy tunnel was opened to); ``tls``: whether the connection is TLS (a proxy that
    terminated a ``CONNECT`` tunnel's TLS says so)."""

    endpoint: HostNames
    tls: bool = False

    @classmethod
    def for_host(cls, host: str, port: int, *, tls: bool) -> ConnectionAuthority:
        """A client that connected to ``host:port`` (a ``CONNECT`` tunnel's authority): its requests name
        that host, with or without the scheme's default port (RFC 9110 §7.2); S3 buckets may be named
        one label below it (virtual-hosted style)."""
        return cls(EndpointNames.for_authority(host, port, tls=tls), tls)

    @classmethod
    def for_proxied(cls, proxied: ProxiedHost) -> ConnectionAuthority:
        """A tunnel (or a plain-HTTP proxy request) to an AWS host: its requests name that host, and are
        signed for its service and region."""
        return cls(proxied, proxied.tls)

    @property
    def proxied(self) -> bool:
        return isinstance(self.endpoint, ProxiedHost)


async def serve_connection(emulator: Emulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           authority: ConnectionAuthority) -> None:
    """Serve the HTTP/1.1 requests of one connection, one after another, until either side closes it.

    The seam for anything that accepts connections itself: the listener calls it for each accepted
    socket; a proxy calls it on the stream left once it has terminated the TLS of a ``CONNECT``
    tunnel (``writer.start_tls``), with the tunnel's authority. Returns when the connection is done,
    having closed it; never raises for what a client sends."""
    connection = HttpConnection(reader, writer)
    try:
        while not connection.close_after:
            try:
                head = await connection.read_head()
            except UnreadableHead as error:
                await _answer_unreadable(connection, error)
                break
            if head is None:
                break
            exchange_authority = authority
            if emulator.proxy is not None and not authority.proxied:
                if head.method == "CONNECT":
                    await emulator.proxy.handle_connect(head.target, reader, writer, _tunnel_server(emulator))
                    break
                if head.target[:7].lower() == "http://":
                    routed = await emulator.proxy.route_absolute(head.method, head.target, head.version,
                                                                 head.fields, reader, writer)
                    if routed is None:
                        break
                    proxied, origin = routed
                    head = replace(head, target=origin)
                    exchange_authority = ConnectionAuthority.for_proxied(proxied)
            await _Exchange(emulator, connection, exchange_authority, head).run()
            if not head.keep_alive:
                break
    except (ConnectionError, TimeoutError):
        pass
    finally:
        transport = writer.transport
        if not transport.is_closing():
            transport.close()


def _tunnel_server(emulator: Emulator) -> ServeTunnel:
    """Serves the requests inside a CONNECT tunnel, all addressed to the tunnel's AWS host."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, proxied: ProxiedHost) -> None:
        await serve_connection(emulator, reader, writer, ConnectionAuthority.for_proxied(proxied))
    return serve


async def _answer_unreadable(connection: HttpConnection, error: UnreadableHead) -> None:
    # RFC 6585 §5 (431); the head was not read, so neither its service nor its format is known.
    body = str(error).encode()
    connection.write_head(error.status, None, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                                      ("Connection", "close")], body)
    try:
        await connection.drain()
    except (ConnectionError, TimeoutError):
        pass


def _style_guess(first: Mapping[str, str], query_pairs: Sequence[tuple[str, str]]) -> WireStyle:
    """The error format for a request refused before it is read: the service its credential scope
    names, when it can be found (a request refused later is answered in its service's format)."""
    try:
        service = signed_parts(first, query_pairs).scope.service
    except SignatureProblem:
        service = None
    return style_for_signing_name(service, first)


class _Reject(Exception):
    def __init__(self, kind: str, message: str, style: WireStyle) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.style = style


class _Exchange:
    """One request and its answer on a connection."""

    def __init__(self, emulator: Emulator, connection: HttpConnection, authority: ConnectionAuthority,
                 raw: RawHead) -> None:
        self.emulator = emulator
        self.connection = connection
        self.authority = authority
        self.raw = raw
        self.method = raw.method
        self.body_consumed = False
        self.framing: BodyFraming | None = None

    async def run(self) -> None:
        emulator = self.emulator
        raw = self.raw
        request_id = new_request_id()
        first = raw.first()
        query_guess = parse_query_pairs(raw.target.partition("?")[2])
        style = _style_guess(first, query_guess)
        if any(name == "AWSAccessKeyId" for name, _ in query_guess) or first.get("authorization", "").startswith("AWS "):
            # Signature Version 2 (a presigned URL from boto3's default S3 signer, or an "AWS key:sig"
            # header) is S3's: answer in S3's XML even though it is refused.
            style = style_for_signing_name("s3", first)
        caller: Caller | None = None
        call: ServiceCall | None = None
        outcome: CallOutcome | None = None
        try:
            if sum(len(name) + len(value) + 4 for name, value in raw.fields) > MAX_HEADER_BYTES:
                self.connection.close_after = True
                raise _Reject("headers-too-large", f"Your request header section exceeds the maximum allowed size"
                                                   f" ({MAX_HEADER_BYTES} bytes).", style)
            head = self._read_head(style)
            self.framing = head.framing
            headers = head.headers
            parts = self._signed_parts(headers, head.query_pairs, style)
            signing_name = parts.scope.service
            style = style_for_signing_name(signing_name, headers)
            if not models_for_signing_name(signing_name):
                raise _Reject("unknown-service", f"unknown service '{signing_name[:60]}' in the credential scope",
                              style)
            disagreement = self.authority.endpoint.scope_problem(signing_name, parts.scope.region)
            if disagreement is not None:
                # AWS's codes: S3's AuthorizationHeaderMalformed, elsewhere a signature that does not match.
                raise _Reject("malformed" if style.kind == "s3" else "mismatch", disagreement, style)
            known = self._authenticate(parts, style)
            caller = known.caller
            streaming = is_streaming_service(signing_name)
            body = None if streaming else await self._read_buffered_body(head, style)
            try:
                verify_signature(self.method, head.raw_path, head.query_pairs, head.values, parts,
                                 known.secret_access_key, body)
            except SignatureProblem as problem:
                raise _Reject(problem.kind, problem.message, style) from None
            try:
                call = identify(signing_name, self.method, head.raw_path, head.query_pairs, headers, body,
                                virtual_host_label=head.virtual_host_label)
            except UnknownCall as unknown:
                kind = {"body": "bad-body", "service": "unknown-service", "ambiguous": "ambiguous"}.get(
                    unknown.kind, "unknown-operation")
                raise _Reject(kind, unknown.message, unknown.style) from None
            style = call.style
            disagreement = self.authority.endpoint.call_problem(call.service)
            if disagreement is not None:
                raise _Reject("ambiguous", disagreement, style)
            self._check_streaming_variant(parts, style)
            if body is None and call.service == "s3" and call.operation in DECIDED_BY_BODY:
                body = await self._read_decided_body(head, parts, style)
                try:
                    call = with_body_params(call, body)
                except UnknownCall as unknown:
                    kind = "bad-body" if unknown.kind == "body" else "ambiguous"
                    raise _Reject(kind, unknown.message, unknown.style) from None
            try:
                outcome = emulator.decide(caller, call, parts.scope.region)
            except (UsageError, LookupError) as error:
                raise _Reject("validation", str(error), style) from None
            refusal = outcome.first_refusal
            if refusal is not None:
                kind = "unreachable" if refusal.decision == "unreachable" else "access-denied"
                message = refusal.message or f"not authorized to perform: {refusal.request.action}"
                raise _Reject(kind, message, style)
            status = await self._forward(head, call, parts, body, style, known.secret_access_key)
            self._log(caller, call, outcome, "allowed", status, None, request_id)
        except _Reject as reject:
            status = await self._send_error(reject.style, reject.kind, reject.message, request_id)
            # Refused after an allowed decision (a body that fails its signature on the way): an error.
            decided = outcome is not None and not outcome.allowed
            decision = outcome.decision if decided and outcome is not None else "error"
            self._log(caller, call, outcome, decision, status, None if decided else reject.message, request_id)
        except ClientGone:
            self.connection.close_after = True
            self._log(caller, call, outcome, outcome.decision if outcome else "error", 499,
                      "the client closed the connection mid-request", request_id)
        except (TimeoutError, ConnectionError):
            self.connection.close_after = True
            self._log(caller, call, outcome, outcome.decision if outcome else "error", 499,
                      "the client closed the connection mid-response", request_id)
        except Exception as error:  # noqa: BLE001 - a bug must cost one request, never the server
            self.connection.close_after = True
            status = await self._send_error(style, "internal", "We encountered an internal error. Please try again.",
                                            request_id)
            self._log(caller, call, outcome, "error", status, f"{type(error).__name__}: {error}", request_id)

    def _check_streaming_variant(self, parts: SignedRequestParts, style: WireStyle) -> None:
        """Signed streaming bodies are accepted only where every signature in them is verified."""
        sha = parts.content_sha256 or ""
        if sha.startswith("STREAMING-") and sha not in (STREAMING_SIGNED, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
            raise _Reject("not-implemented", f"x-amz-content-sha256 '{sha[:60]}' is not supported: the emulator"
                                             f" verifies {STREAMING_SIGNED} chunk signatures, not trailer or"
                                             " SigV4a signatures", style)

    def _read_head(self, style: WireStyle) -> RequestHead:
        raw = self.raw
        try:
            head = read_request_head(raw.method, raw.target, raw.version, raw.fields, self.authority.endpoint)
        except RequestRefused as refused:
            if refused.close:
                self.connection.close_after = True
            raise _Reject(refused.kind, refused.message, style) from None
        if raw.problem is not None:
            # llhttp refused what the request reader alone would have let through: refuse it too.
            self.connection.close_after = True
            raise _Reject("ambiguous", f"malformed request head ({raw.problem}): a field name followed by whitespace,"
                                       " a line without a colon, a folded line or a character HTTP/1.1 does not"
                                       " allow there (RFC 9112 §3, §5)", style)
        return head

    # -- authentication -------------------------------------------------------------------------------

    def _signed_parts(self, headers: Mapping[str, str], query_pairs: Sequence[tuple[str, str]],
                      style: WireStyle) -> SignedRequestParts:
        try:
            return signed_parts(headers, query_pairs)
        except SignatureProblem as problem:
            raise _Reject(problem.kind, problem.message, style) from None

    def _authenticate(self, parts: SignedRequestParts, style: WireStyle) -> KnownCredentials:
        emulator = self.emulator
        known = emulator.credentials.get(parts.scope.access_key_id)
        if known is None:
            message = ("The AWS Access Key Id you provided does not exist in our records." if style.kind == "s3"
                       else "The security token included in the request is invalid.")
            raise _Reject("unknown-key", message, style)
        now = emulator.clock()
        try:
            check_time(parts, now)
        except SignatureProblem as problem:
            raise _Reject(problem.kind, problem.message, style) from None
        if known.expired(now):
            message = ("The provided token has expired." if style.kind == "s3"
                       else "The security token included in the request is expired")
            raise _Reject("expired-credentials", message, style)
        if (known.session_token or None) != (parts.security_token or None):
            message = ("The provided token is malformed or otherwise invalid." if style.kind == "s3"
                       else "The security token included in the request is invalid.")
            raise _Reject("bad-token", message, style)
        return known

    # -- bodies ------------------------------------------------------------------------------------------

    async def _read_whole(self, head: RequestHead, limit: int, style: WireStyle) -> bytes:
        if head.expects_continue:
            self.connection.send_continue()
        data = bytearray()
        try:
            async for chunk in self.connection.body_chunks(head.framing.content_length):
                data += chunk
                if len(data) > limit:
                    self.connection.close_after = True
                    raise _Reject("too-large", f"the request body is larger than {limit} bytes", style)
        except RequestRefused as refused:
            raise _Reject(refused.kind, refused.message, style) from None
        self.body_consumed = True
        return bytes(data)

    async def _read_buffered_body(self, head: RequestHead, style: WireStyle) -> bytes:
        length = head.framing.content_length
        if length is not None and length > MAX_BUFFERED_BODY:
            self.connection.close_after = True
            raise _Reject("too-large", f"the request body of {length} bytes is larger than {MAX_BUFFERED_BODY}", style)
        if length == 0:
            self.body_consumed = True
            return b""
        return await self._read_whole(head, MAX_BUFFERED_BODY, style)

    async def _read_decided_body(self, head: RequestHead, parts: SignedRequestParts, style: WireStyle) -> bytes:
        """An S3 body the decision reads (DeleteObjects), whole and checked against its signed hash."""
        if head.framing.content_length is not None and head.framing.content_length > MAX_DECIDED_BODY:
            self.connection.close_after = True
            raise _Reject("too-large", f"a body of {head.framing.content_length} bytes is larger than"
                                       f" {MAX_DECIDED_BODY} for this operation", style)
        if (parts.content_sha256 or "").startswith("STREAMING-"):
            raise _Reject("not-implemented", "this operation's body is read to decide it: send it whole, not"
                                             " aws-chunked", style)
        data = await self._read_whole(head, MAX_DECIDED_BODY, style)
        if is_hex_sha256(parts.content_sha256) and hashlib.sha256(data).hexdigest() != parts.content_sha256:
            raise _Reject("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match what was"
                                              " computed.", style)
        return data

    async def _streamed_body(self, length: int | None, style: WireStyle) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.connection.body_chunks(length):
                yield chunk
        except RequestRefused as refused:
            raise _Reject(refused.kind, refused.message, style) from None

    async def _checked_stream(self, length: int | None, expected_sha256: str | None,
                              style: WireStyle) -> AsyncIterator[bytes]:
        """The client's body, chunk by chunk; with a hex hash, the last chunk waits for the hash check."""
        if expected_sha256 is None:
            async for chunk in self._streamed_body(length, style):
                yield chunk
            return
        digest = hashlib.sha256()
        held: bytes | None = None
        async for chunk in self._streamed_body(length, style):
            digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
        if digest.hexdigest() != expected_sha256:
            raise SignatureProblem("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match"
                                                       " what was computed.")
        if held is not None:
            yield held

    def _signed_chunks(self, head: RequestHead, parts: SignedRequestParts, secret_access_key: str,
                       style: WireStyle) -> AsyncIterator[bytes]:
        decoded = head.header("x-amz-decoded-content-length")
        if not decoded.isdigit() or len(decoded) > 18:
            raise _Reject("validation", "an aws-chunked body needs x-amz-decoded-content-length (digits)", style)
        signing = ChunkSigning(signing_key(secret_access_key, parts.scope), parts.amz_date, parts.scope.text,
                               parts.signature.lower())
        return SignedChunkStream(signing, int(decoded)).verified_async(
            self._streamed_body(head.framing.content_length, style))

    # -- forwarding ------------------------------------------------------------------------------------

    async def _forward(self, head: RequestHead, call: ServiceCall, parts: SignedRequestParts, body: bytes | None,
                       style: WireStyle, secret_access_key: str) -> int:
        emulator = self.emulator
        target, forwarded = forwarded_head(head, call, emulator.upstream_authority)
        if body is not None:
            sent = call.forward_body if call.forward_body is not None else body
            if sent is not body:
                forwarded = with_payload_hash(forwarded, sent)
            request = UpstreamRequest(self.method, target, forwarded, sent, len(sent))
        else:
            length = head.framing.content_length
            if head.expects_continue:
                self.connection.send_continue()
            expected = parts.content_sha256 if is_hex_sha256(parts.content_sha256) else None
            if length == 0 and expected not in (None, EMPTY_SHA256):
                # Nothing to hold back: an empty body is complete upstream as soon as the head is sent.
                raise _Reject("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match what"
                                                  " was computed.", style)
            if parts.content_sha256 == STREAMING_SIGNED:
                stream = self._signed_chunks(head, parts, secret_access_key, style)
                request = UpstreamRequest(self.method, target, forwarded, stream, length)
            elif length == 0 and expected is None:
                request = UpstreamRequest(self.method, target, forwarded, b"", 0)
            else:
                request = UpstreamRequest(self.method, target, forwarded,
                                          self._checked_stream(length, expected, style), length)
        try:
            response = await emulator.transport.send(request)
        except SignatureProblem as problem:
            self.connection.close_after = True
            raise _Reject(problem.kind, problem.message, style) from None
        except (ClientGone, _Reject):
            raise
        except Exception as error:  # noqa: BLE001 - connection refused, protocol errors, header values refused
            if body is None:
                self.connection.close_after = True
            raise _Reject("upstream-failed", f"the upstream did not answer: {type(error).__name__}: {error}",
                          style) from None
        self.body_consumed = True
        return await self._relay(response)

    async def _relay(self, response: UpstreamResponse) -> int:
        connection = self.connection
        completed = False
        try:
            fields: list[tuple[str, str]] = []
            length: str | None = None
            for name, value in response.header_items():
                lowered = name.lower()
                if lowered in HOP_BY_HOP:
                    continue
                if lowered == "content-length":
                    length = value
                fields.append((name, value))
            bodiless = self.method == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
            chunked = length is None and not bodiless
            if chunked:
                fields.append(("Transfer-Encoding", "chunked"))
            if not self.raw.keep_alive:
                fields.append(("Connection", "close"))
            first = b"" if bodiless else await response.read_chunk(CHUNK_SIZE)
            if first and chunked:
                first = b"%x\r\n%s\r\n" % (len(first), first)
            connection.write_head(response.status, response.reason, fields, first)
            if first:
                while True:
                    chunk = await response.read_chunk(CHUNK_SIZE)
                    if not chunk:
                        break
                    await connection.drain()
                    connection.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                connection.write(b"0\r\n\r\n")
            await connection.drain()
            completed = True
            return response.status
        finally:
            if not completed:
                connection.close_after = True
            response.close()

    # -- answers -------------------------------------------------------------------------------------

    async def _send_error(self, style: WireStyle, kind: str, message: str, request_id: str) -> int:
        error = error_response(style, kind, message, request_id=request_id, head=self.method == "HEAD")
        fields = [*error.headers, ("Content-Length", str(len(error.body)))]
        if self.connection.close_after or self._body_unread() or not self.raw.keep_alive:
            fields.append(("Connection", "close"))
            self.connection.close_after = True
        try:
            self.connection.write_head(error.status, None, fields, error.body)
            await self.connection.drain()
        except (TimeoutError, ConnectionError):
            self.connection.close_after = True
        return error.status

    def _body_unread(self) -> bool:
        # A refused request whose body was never read: the connection cannot carry another request.
        if self.body_consumed:
            return False
        if self.framing is None:
            return any(name.lower() in ("content-length", "transfer-encoding") for name, _ in self.raw.fields)
        return not self.framing.empty

    def _log(self, caller: Caller | None, call: ServiceCall | None, outcome: CallOutcome | None,
             decision: str, status: int, error: str | None, request_id: str) -> None:
        decision_log = self.emulator.decision_log
        if decision_log is None:
            return
        decision_log.record(log_entry(
            caller=caller, service=call.service if call else None, operation=call.operation if call else None,
            decisions=outcome.decisions if outcome else (), decision=decision, status=status, error=error,
            request_id=request_id))


def check_listen_address(host: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback listen address unless ``--allow-remote`` says so."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"--listen '{host}' must be an IP address (127.0.0.1 by default)") from None
    if not address.is_loopback and not allow_remote:
        raise UsageError(f"--listen '{host}' is not a loopback address: the emulator accepts any request its"
                         " credentials sign; give --allow-remote to listen there anyway")


class RunningServer:
    """A server on its own thread; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"accesspath-{type(server).__name__}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
