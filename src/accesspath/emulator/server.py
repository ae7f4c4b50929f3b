"""The emulator: authenticate (SigV4), identify the call, decide it as the signer's caller, then forward
it upstream or answer AWS's error in the service's own wire format.

Nothing reaches the upstream before the signature is checked and every IAM request of the call is
allowed. Buffered bodies (JSON, query, REST-JSON) are read whole first; S3 bodies are streamed in
chunks both ways, and when S3's ``x-amz-content-sha256`` is a hex hash the last chunk is held back
until the body is seen to match it (on a mismatch the upstream connection is closed, so the
upstream never completes the request).
"""

from __future__ import annotations

import email.errors
import hashlib
import ipaddress
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accesspath.catalog.calls import IamRequest, iam_requests_for_call
from accesspath.catalog.endpoint_services import (
    EndpointServiceTable,
    default_endpoint_services,
)
from accesspath.emulator.aws_chunked import STREAMING_SIGNED, ChunkSigning, SignedChunkStream
from accesspath.emulator.credentials import CredentialStore, KnownCredentials
from accesspath.emulator.decision_log import DecisionLog, log_entry
from accesspath.emulator.forwarding import (
    HOP_BY_HOP,
    forwarded_head,
    with_payload_hash,
)
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
    RequestHead,
    RequestRefused,
    chunk_size,
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
)
from accesspath.emulator.wire_errors import error_response, new_request_id
from accesspath.environment.callers import Caller
from accesspath.environment.decide import CallDecision, Decider
from accesspath.environment.model import Environment
from accesspath.errors import UsageError

MAX_HEADER_BYTES = 32 * 1024
"""Request headers larger than this in total are refused (http.server also caps one line at 64 KiB
and a request at 100 headers)."""
MAX_BUFFERED_BODY = 16 * 1024 * 1024
"""The largest body read whole (JSON, query, REST-JSON); S3 bodies are streamed and have no limit."""
SOCKET_TIMEOUT = 60.0
MAX_CHUNK_LINE = 1024
"""The longest chunk-size or trailer line of a chunked body."""
MAX_TRAILER_LINES = 32
_HEADER_DEFECTS = (email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect,
                   email.errors.MisplacedEnvelopeHeaderDefect, email.errors.InvalidHeaderDefect)


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
    """Everything one emulator needs; the HTTP layer (:class:`EmulatorServer`) only moves bytes."""

    env: Environment
    upstream: UpstreamTransport
    credentials: CredentialStore = field(default_factory=CredentialStore)
    endpoint_services: EndpointServiceTable = field(default_factory=default_endpoint_services)
    decision_log: DecisionLog | None = None
    resource_account: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    endpoint_names: tuple[str, ...] = ()
    """Host names (``name[:port]``) clients may use for the emulator besides its listen address and
    ``localhost``; S3 buckets may be named below them (virtual-hosted style)."""
    _decider: Decider | None = None
    _decide_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def decider(self) -> Decider:
        if self._decider is None:
            self._decider = Decider(self.env, self.endpoint_services, resource_account=self.resource_account)
        return self._decider

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
        # The decider's policy-set cache is a plain dict: decide one request at a time.
        with self._decide_lock:
            decisions = tuple(self.decider.decide(caller, request, region=region) for request in requests)
        refusal = next((d for d in decisions if not d.allowed), None)
        return CallOutcome(decisions, "allowed" if refusal is None else refusal.decision)


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


class _ClientGone(Exception):
    """The client closed the connection before sending its whole body."""


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024   # socketserver's default of 5 drops bursts of new clients

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, EmulatorHandler)
        host, port = self.server_address[:2]
        self.endpoint_names = EndpointNames.for_listen_address(str(host), int(port), emulator.endpoint_names)


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # responses are written as headers, then body: see upstream.py
    server_version = "accesspath-emulator"
    timeout = SOCKET_TIMEOUT
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # the decision log is the log
        return

    def handle_expect_100(self) -> bool:
        # Answered only once the request is allowed: a refused upload is never sent.
        return True

    def _expects_continue(self) -> bool:
        return self.headers.get("Expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1"

    # Every method goes through one handler.
    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        emulator = self.server.emulator
        request_id = new_request_id()
        self._body_consumed = False
        self._framing: BodyFraming | None = None
        fields = list(self.headers.items())
        first = {name.lower(): value for name, value in reversed(fields)}
        query_guess = parse_query_pairs(self.path.partition("?")[2])
        style = _style_guess(first, query_guess)
        if any(name == "AWSAccessKeyId" for name, _ in query_guess) or first.get("authorization", "").startswith("AWS "):
            # Signature Version 2 (a presigned URL from boto3's default S3 signer, or an "AWS key:sig"
            # header) is S3's: answer in S3's XML even though it is refused.
            style = style_for_signing_name("s3", first)
        caller: Caller | None = None
        call: ServiceCall | None = None
        outcome: CallOutcome | None = None
        try:
            if sum(len(name) + len(value) + 4 for name, value in fields) > MAX_HEADER_BYTES:
                self.close_connection = True
                raise _Reject("headers-too-large", f"Your request header section exceeds the maximum allowed size"
                                                   f" ({MAX_HEADER_BYTES} bytes).", style)
            head = self._read_head(fields, style)
            self._framing = head.framing
            headers = head.headers
            parts = self._signed_parts(headers, head.query_pairs, style)
            signing_name = parts.scope.service
            style = style_for_signing_name(signing_name, headers)
            if not models_for_signing_name(signing_name):
                raise _Reject("unknown-service", f"unknown service '{signing_name[:60]}' in the credential scope",
                              style)
            known = self._authenticate(parts, style, emulator)
            caller = known.caller
            streaming = is_streaming_service(signing_name)
            body = None if streaming else self._read_buffered_body(head, style)
            try:
                verify_signature(self.command, head.raw_path, head.query_pairs, head.values, parts,
                                 known.secret_access_key, body)
            except SignatureProblem as problem:
                raise _Reject(problem.kind, problem.message, style) from None
            try:
                call = identify(signing_name, self.command, head.raw_path, head.query_pairs, headers, body,
                                virtual_host_label=head.virtual_host_label)
            except UnknownCall as unknown:
                kind = {"body": "bad-body", "service": "unknown-service", "ambiguous": "ambiguous"}.get(
                    unknown.kind, "unknown-operation")
                raise _Reject(kind, unknown.message, unknown.style) from None
            style = call.style
            self._check_streaming_variant(parts, style)
            if body is None and call.service == "s3" and call.operation in DECIDED_BY_BODY:
                body = self._read_decided_body(head, parts, style)
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
            status = self._forward(emulator, head, call, parts, body, style, known.secret_access_key)
            self._log(emulator, caller, call, outcome, "allowed", status, None, request_id)
        except _Reject as reject:
            status = self._send_error(reject.style, reject.kind, reject.message, request_id)
            # Refused after an allowed decision (a body that fails its signature on the way): an error.
            decided = outcome is not None and not outcome.allowed
            decision = outcome.decision if decided and outcome is not None else "error"
            self._log(emulator, caller, call, outcome, decision, status, None if decided else reject.message,
                      request_id)
        except _ClientGone:
            self.close_connection = True
            self._log(emulator, caller, call, outcome, outcome.decision if outcome else "error", 499,
                      "the client closed the connection mid-request", request_id)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self._log(emulator, caller, call, outcome, outcome.decision if outcome else "error", 499,
                      "the client closed the connection mid-response", request_id)
        except Exception as error:  # noqa: BLE001 - a bug must cost one request, never the server
            self.close_connection = True
            status = self._send_error(style, "internal", "We encountered an internal error. Please try again.",
                                      request_id)
            self._log(emulator, caller, call, outcome, "error", status, f"{type(error).__name__}: {error}", request_id)

    def _check_streaming_variant(self, parts: SignedRequestParts, style: WireStyle) -> None:
        """Signed streaming bodies are accepted only where every signature in them is verified."""
        sha = parts.content_sha256 or ""
        if sha.startswith("STREAMING-") and sha not in (STREAMING_SIGNED, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
            raise _Reject("not-implemented", f"x-amz-content-sha256 '{sha[:60]}' is not supported: the emulator"
                                             f" verifies {STREAMING_SIGNED} chunk signatures, not trailer or"
                                             " SigV4a signatures", style)

    def _read_decided_body(self, head: RequestHead, parts: SignedRequestParts, style: WireStyle) -> bytes:
        """An S3 body the decision reads (DeleteObjects), whole and checked against its signed hash."""
        if head.framing.content_length is not None and head.framing.content_length > MAX_DECIDED_BODY:
            self.close_connection = True
            raise _Reject("too-large", f"a body of {head.framing.content_length} bytes is larger than"
                                       f" {MAX_DECIDED_BODY} for this operation", style)
        if (parts.content_sha256 or "").startswith("STREAMING-"):
            raise _Reject("not-implemented", "this operation's body is read to decide it: send it whole, not"
                                             " aws-chunked", style)
        if head.expects_continue:
            self._send_continue()
        data = bytearray()
        for chunk in self._body_chunks(head.framing.content_length, style):
            data += chunk
            if len(data) > MAX_DECIDED_BODY:
                self.close_connection = True
                raise _Reject("too-large", f"the body is larger than {MAX_DECIDED_BODY} bytes", style)
        self._body_consumed = True
        if is_hex_sha256(parts.content_sha256) and hashlib.sha256(data).hexdigest() != parts.content_sha256:
            raise _Reject("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match what was"
                                              " computed.", style)
        return bytes(data)

    def _read_head(self, fields: list[tuple[str, str]], style: WireStyle) -> RequestHead:
        # Only the defects of the header lines themselves (the parser also judges MIME bodies it never saw).
        defects = [type(defect).__name__ for defect in self.headers.defects if isinstance(defect, _HEADER_DEFECTS)]
        if self.headers.get_payload():
            defects.append("a line that is not a header field")
        try:
            return read_request_head(self.command, self.path, self.request_version, fields,
                                     self.server.endpoint_names, parser_defects=defects)
        except RequestRefused as refused:
            if refused.close:
                self.close_connection = True
            raise _Reject(refused.kind, refused.message, style) from None

    # -- authentication -------------------------------------------------------------------------------

    def _signed_parts(self, headers: Mapping[str, str], query_pairs: Sequence[tuple[str, str]],
                      style: WireStyle) -> SignedRequestParts:
        try:
            return signed_parts(headers, query_pairs)
        except SignatureProblem as problem:
            raise _Reject(problem.kind, problem.message, style) from None

    def _authenticate(self, parts: SignedRequestParts, style: WireStyle, emulator: Emulator) -> KnownCredentials:
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

    def _read_buffered_body(self, head: RequestHead, style: WireStyle) -> bytes:
        length = head.framing.content_length
        if length is not None and length > MAX_BUFFERED_BODY:
            self.close_connection = True
            raise _Reject("too-large", f"the request body of {length} bytes is larger than {MAX_BUFFERED_BODY}", style)
        if head.expects_continue:
            self._send_continue()
        data = bytearray()
        for chunk in self._body_chunks(length, style):
            data += chunk
            if len(data) > MAX_BUFFERED_BODY:
                self.close_connection = True
                raise _Reject("too-large", f"the request body is larger than {MAX_BUFFERED_BODY} bytes", style)
        self._body_consumed = True
        return bytes(data)

    def _send_continue(self) -> None:
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _body_chunks(self, length: int | None, style: WireStyle) -> Iterator[bytes]:
        if length is None:
            yield from self._chunked_body(style)
            return
        remaining = length
        while remaining > 0:
            try:
                chunk = self.rfile.read1(min(CHUNK_SIZE, remaining))  # type: ignore[attr-defined]
            except (TimeoutError, ConnectionResetError):
                chunk = b""
            if not chunk:
                self.close_connection = True
                raise _ClientGone()
            remaining -= len(chunk)
            yield chunk

    def _chunked_body(self, style: WireStyle) -> Iterator[bytes]:
        """RFC 9112 §7.1, strictly: CRLF line ends, hex sizes, bounded trailers (which are dropped)."""
        while True:
            line = self._line(MAX_CHUNK_LINE)
            try:
                size = chunk_size(line)
            except RequestRefused as refused:
                self.close_connection = True
                raise _Reject(refused.kind, refused.message, style) from None
            if size == 0:
                for _ in range(MAX_TRAILER_LINES):
                    if self._line(MAX_CHUNK_LINE) == b"\r\n":
                        return
                self.close_connection = True
                raise _Reject("incomplete-body", f"more than {MAX_TRAILER_LINES} trailer lines", style)
            yield from self._body_chunks(size, style)
            if self._line(2) != b"\r\n":
                self.close_connection = True
                raise _Reject("incomplete-body", "a chunk is not followed by CRLF (RFC 9112 §7.1)", style)

    def _line(self, limit: int) -> bytes:
        try:
            line = self.rfile.readline(limit + 1)
        except (TimeoutError, ConnectionResetError):
            line = b""
        if not line.endswith(b"\n"):
            self.close_connection = True
            raise _ClientGone()
        return line

    def _checked_stream(self, length: int | None, expected_sha256: str | None, style: WireStyle) -> Iterator[bytes]:
        """The client's body, chunk by chunk; with a hex hash, the last chunk waits for the hash check."""
        if expected_sha256 is None:
            yield from self._body_chunks(length, style)
            return
        digest = hashlib.sha256()
        held: bytes | None = None
        for chunk in self._body_chunks(length, style):
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
                       style: WireStyle) -> Iterator[bytes]:
        decoded = head.header("x-amz-decoded-content-length")
        if not decoded.isdigit() or len(decoded) > 18:
            raise _Reject("validation", "an aws-chunked body needs x-amz-decoded-content-length (digits)", style)
        signing = ChunkSigning(signing_key(secret_access_key, parts.scope), parts.amz_date, parts.scope.text,
                               parts.signature.lower())
        return SignedChunkStream(signing, int(decoded)).verified(self._body_chunks(head.framing.content_length,
                                                                                   style))

    # -- forwarding ------------------------------------------------------------------------------------

    def _forward(self, emulator: Emulator, head: RequestHead, call: ServiceCall, parts: SignedRequestParts,
                 body: bytes | None, style: WireStyle, secret_access_key: str) -> int:
        target, forwarded = forwarded_head(head, call, getattr(emulator.upstream, "authority", None))
        if body is not None:
            sent = call.forward_body if call.forward_body is not None else body
            if sent is not body:
                forwarded = with_payload_hash(forwarded, sent)
            request = UpstreamRequest(self.command, target, forwarded, sent, len(sent))
        else:
            length = head.framing.content_length
            if head.expects_continue:
                self._send_continue()
            expected = parts.content_sha256 if is_hex_sha256(parts.content_sha256) else None
            if length == 0 and expected not in (None, EMPTY_SHA256):
                # Nothing to hold back: an empty body is complete upstream as soon as the head is sent.
                raise _Reject("payload-mismatch", "The provided 'x-amz-content-sha256' header does not match what"
                                                  " was computed.", style)
            if parts.content_sha256 == STREAMING_SIGNED:
                stream = self._signed_chunks(head, parts, secret_access_key, style)
                request = UpstreamRequest(self.command, target, forwarded, stream, length)
            elif length == 0 and expected is None:
                request = UpstreamRequest(self.command, target, forwarded, b"", 0)
            else:
                request = UpstreamRequest(self.command, target, forwarded,
                                          self._checked_stream(length, expected, style), length)
        try:
            response = emulator.upstream.send(request)
        except SignatureProblem as problem:
            self.close_connection = True
            raise _Reject(problem.kind, problem.message, style) from None
        except (_ClientGone, _Reject):
            raise
        except Exception as error:  # noqa: BLE001 - connection refused, protocol errors, header values http.client refuses
            if body is None:
                self.close_connection = True
            raise _Reject("upstream-failed", f"the upstream did not answer: {type(error).__name__}: {error}",
                          style) from None
        self._body_consumed = True
        return self._relay(response)

    def _relay(self, response: UpstreamResponse) -> int:
        completed = False
        try:
            self.send_response_only(response.status, response.reason)
            length: str | None = None
            for name, value in response.header_items():
                lowered = name.lower()
                if lowered in HOP_BY_HOP:
                    continue
                if lowered == "content-length":
                    length = value
                self.send_header(name, value)
            bodiless = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
            chunked = length is None and not bodiless
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not bodiless:
                while True:
                    chunk = response.read_chunk(CHUNK_SIZE)
                    if not chunk:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            completed = True
            return response.status
        finally:
            if not completed:
                self.close_connection = True
            response.close()

    # -- answers -------------------------------------------------------------------------------------

    def _send_error(self, style: WireStyle, kind: str, message: str, request_id: str) -> int:
        error = error_response(style, kind, message, request_id=request_id, head=self.command == "HEAD")
        try:
            self.send_response_only(error.status)
            for name, value in error.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(error.body)))
            if self.close_connection or self._body_unread():
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(error.body)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return error.status

    def _body_unread(self) -> bool:
        # A refused request whose body was never read: the connection cannot carry another request.
        if getattr(self, "_body_consumed", False):
            return False
        framing: BodyFraming | None = getattr(self, "_framing", None)
        if framing is None:
            return "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        return not framing.empty

    def _log(self, emulator: Emulator, caller: Caller | None, call: ServiceCall | None, outcome: CallOutcome | None,
             decision: str, status: int, error: str | None, request_id: str) -> None:
        if emulator.decision_log is None:
            return
        emulator.decision_log.record(log_entry(
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


def start_emulator(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    return RunningServer(EmulatorServer((host, port), emulator))

