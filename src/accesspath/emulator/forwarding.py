"""What the upstream gets for an allowed call: the request that was decided, and nothing it did not see.

The head is the one :mod:`request_reader` read (every ambiguity already refused), with the framing
re-serialised (``Content-Length`` or chunked, written by the transport) and hop-by-hop fields
removed. S3 virtual-hosted requests go upstream in path style, addressed to the upstream itself, so
no server has to read a bucket from ``Host`` again; JSON bodies go as re-serialised by
:func:`protocols.json_for_forwarding`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from accesspath.emulator.protocols import ServiceCall
from accesspath.emulator.request_reader import RequestHead

# Hop-by-hop fields (RFC 9110 §7.6.1), Expect (answered by the emulator) and the framing, which the
# transport writes for the body it sends (RFC 9112 §6).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "expect"})
_NOT_FORWARDED = HOP_BY_HOP | {"content-length"}


def forwarded_head(head: RequestHead, call: ServiceCall, upstream_authority: str | None) -> tuple[str, list[tuple[str, str]]]:
    """The request-target and fields sent upstream for ``call``."""
    fields = [(name, value) for name, value in head.fields if name.lower() not in _NOT_FORWARDED]
    if call.service != "s3":
        return head.target, fields
    target = head.target
    if call.forward_path is not None:
        target = call.forward_path + (f"?{head.raw_query}" if head.raw_query else "")
    # S3 reads a bucket from Host: name the upstream (or the endpoint without the bucket's label).
    if upstream_authority:
        authority = upstream_authority
    elif head.virtual_host_label is not None:
        authority = head.authority.partition(".")[2]
    else:
        authority = head.authority
    return target, [(name, authority if name.lower() == "host" else value) for name, value in fields]


def with_payload_hash(fields: Sequence[tuple[str, str]], body: bytes) -> list[tuple[str, str]]:
    """``fields`` with ``x-amz-content-sha256`` (when sent) naming the hash of the body actually sent."""
    digest = hashlib.sha256(body).hexdigest()
    return [(name, digest if name.lower() == "x-amz-content-sha256" else value) for name, value in fields]
