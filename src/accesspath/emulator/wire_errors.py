"""Errors in each service's own wire format, so SDKs and the AWS CLI parse them as AWS's.

* JSON services: status 400, ``{"__type": CODE, "message": ...}``, ``x-amzn-RequestId``;
* query services (STS): ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``;
* S3: ``<Error><Code/><Message/><RequestId/></Error>``, ``x-amz-request-id``;
* REST-JSON: ``x-amzn-ErrorType`` and a JSON body; other REST-XML services: an ``ErrorResponse``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from accesspath.emulator.protocols import WireStyle

# (JSON code, query code, S3 code, status for query/S3/REST) for each kind of problem.
_CODES: dict[str, tuple[str, str, str, int]] = {
    "access-denied": ("AccessDeniedException", "AccessDenied", "AccessDenied", 403),
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken", "AccessDenied", 403),
    "malformed": ("IncompleteSignatureException", "IncompleteSignature", "AuthorizationHeaderMalformed", 400),
    "unknown-key": ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId", 403),
    "bad-token": ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidToken", 403),
    "mismatch": ("InvalidSignatureException", "SignatureDoesNotMatch", "SignatureDoesNotMatch", 403),
    "skewed": ("InvalidSignatureException", "SignatureDoesNotMatch", "RequestTimeTooSkewed", 403),
    "expired-url": ("InvalidSignatureException", "SignatureDoesNotMatch", "AccessDenied", 403),
    "expired-credentials": ("ExpiredTokenException", "ExpiredToken", "ExpiredToken", 400),
    "payload-mismatch": ("InvalidSignatureException", "SignatureDoesNotMatch", "XAmzContentSHA256Mismatch", 400),
    "unknown-operation": ("UnknownOperationException", "InvalidAction", "NotImplemented", 400),
    "unknown-service": ("UnknownOperationException", "InvalidAction", "NotImplemented", 400),
    "bad-body": ("SerializationException", "MalformedInput", "MalformedXML", 400),
    "validation": ("ValidationException", "ValidationError", "InvalidRequest", 400),
    "too-large": ("RequestEntityTooLargeException", "RequestEntityTooLarge", "EntityTooLarge", 413),
    "headers-too-large": ("ValidationException", "ValidationError", "RequestHeaderSectionTooLarge", 400),
    "unreachable": ("RequestTimeoutException", "RequestTimeout", "RequestTimeout", 504),
    "upstream-failed": ("ServiceUnavailableException", "ServiceUnavailable", "ServiceUnavailable", 503),
    "internal": ("InternalFailure", "InternalFailure", "InternalError", 500),
    "incomplete-body": ("SerializationException", "IncompleteBody", "IncompleteBody", 400),
    # A request another parser could read differently (request_reader.py, protocols.py).
    "ambiguous": ("ValidationException", "InvalidQueryParameter", "InvalidRequest", 400),
    "expectation-failed": ("ValidationException", "InvalidRequest", "InvalidRequest", 417),
    "not-implemented": ("ValidationException", "InvalidRequest", "NotImplemented", 501),
}


@dataclass(frozen=True)
class WireError:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    code: str


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_response(style: WireStyle, kind: str, message: str, *, request_id: str | None = None,
                   head: bool = False) -> WireError:
    """The response AWS gives for ``kind`` (a key of the table above) in the service's format."""
    json_code, query_code, s3_code, rest_status = _CODES[kind]
    request_id = request_id or new_request_id()
    if style.kind == "json":
        status = rest_status if rest_status >= 500 or kind == "too-large" else 400
        body = json.dumps({"__type": json_code, "message": message}).encode()
        headers: tuple[tuple[str, str], ...] = (
            ("Content-Type", f"application/x-amz-json-{style.json_version}"), ("x-amzn-RequestId", request_id))
        return WireError(status, headers, body, json_code)
    if style.kind == "rest-json":
        body = json.dumps({"__type": json_code, "message": message}).encode()
        headers = (("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                   ("x-amzn-ErrorType", json_code))
        return WireError(rest_status, headers, body, json_code)
    if style.kind == "s3":
        text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{s3_code}</Code><Message>{escape(message)}'
                f"</Message><RequestId>{request_id}</RequestId></Error>")
        headers = (("Content-Type", "application/xml"), ("x-amz-request-id", request_id))
        return WireError(rest_status, headers, b"" if head else text.encode(), s3_code)
    namespace = f' xmlns="{escape(style.xml_namespace)}"' if style.xml_namespace else ""
    fault = "Receiver" if rest_status >= 500 else "Sender"
    text = (f"<ErrorResponse{namespace}><Error><Type>{fault}</Type><Code>{query_code}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    headers = (("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id))
    return WireError(rest_status, headers, text.encode(), query_code)
