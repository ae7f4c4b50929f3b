"""Chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies, verified before each chunk is sent on.

S3's chunked upload (Amazon S3 API Reference, "Signature Calculations for the Authorization Header:
Transferring Payload in Multiple Chunks", sigv4-streaming.html) sends the body as
``hex-size;chunk-signature=SIG\\r\\n DATA \\r\\n`` chunks ending with a zero-size chunk; each
signature is the HMAC, with the request's signing key, of::

    AWS4-HMAC-SHA256-PAYLOAD
    <X-Amz-Date>
    <credential scope>
    <signature of the previous chunk (the request's seed signature for the first)>
    <SHA-256 of the empty string>
    <SHA-256 of DATA>

:class:`SignedChunkStream` reads the encoded body as it arrives and passes each chunk on, as it was
sent, only once its signature is verified; the total of the data must be
``x-amz-decoded-content-length``. Any mismatch raises ``SignatureProblem`` before the bad chunk (or
the end of the body) is passed on, so the upstream never completes such a request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from accesspath.emulator.sigv4 import EMPTY_SHA256, SignatureProblem

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
MAX_CHUNK_DATA = 16 * 1024 * 1024
"""The largest chunk held back for its signature check (SDKs send 64-128 KiB chunks)."""
_HEADER_LINE = re.compile(rb"^([0-9a-fA-F]{1,8});chunk-signature=([0-9a-f]{64})\r\n$")
_MAX_HEADER_LINE = 128


@dataclass(frozen=True)
class ChunkSigning:
    """What the chunk signatures are computed from: the request's signing key, date, scope, seed."""

    signing_key: bytes
    amz_date: str
    scope: str
    seed_signature: str

    def signature(self, previous: str, data: bytes) -> str:
        text = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous, EMPTY_SHA256,
                          hashlib.sha256(data).hexdigest()))
        return hmac.new(self.signing_key, text.encode(), hashlib.sha256).hexdigest()


class SignedChunkStream:
    """The encoded body, passed on chunk by chunk once verified (see the module docstring).

    Push-style, so a blocking reader (:meth:`verified`) and an asyncio one (:meth:`verified_async`)
    share one verifier: :meth:`feed` takes the body's pieces as they arrive and yields each chunk
    (header line, data and CRLF, as sent) once its signature is verified; :meth:`end` yields the
    final zero-size chunk only once the body is seen to end right after it."""

    def __init__(self, signing: ChunkSigning, decoded_length: int) -> None:
        self.signing = signing
        self.decoded_length = decoded_length
        self._buffer = bytearray()
        self._previous = signing.seed_signature
        self._decoded = 0
        self._header: tuple[bytes, int, str] | None = None     # line, size, signature of the chunk being read
        self._final: bytes | None = None                        # the verified final chunk, held back

    def verified(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            yield from self.feed(piece)
        yield from self.end()

    async def verified_async(self, pieces: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for piece in pieces:
            for chunk in self.feed(piece):
                yield chunk
        for chunk in self.end():
            yield chunk

    def feed(self, piece: bytes) -> Iterator[bytes]:
        if not piece:
            return
        if self._final is not None:
            raise SignatureProblem("incomplete-body", "the aws-chunked body does not end after"
                                                      " x-amz-decoded-content-length bytes and its final chunk")
        buffer = self._buffer
        buffer += piece
        while True:
            if self._header is None:
                end = buffer.find(b"\r\n", 0, _MAX_HEADER_LINE)
                if end < 0:
                    if len(buffer) >= _MAX_HEADER_LINE:
                        raise SignatureProblem("incomplete-body", "an aws-chunked chunk header is too long")
                    return
                line = bytes(buffer[:end + 2])
                del buffer[:end + 2]
                match = _HEADER_LINE.fullmatch(line)
                if match is None:
                    raise SignatureProblem("incomplete-body", "malformed chunk header in an aws-chunked body:"
                                                              " expected 'hex-size;chunk-signature=SIGNATURE'")
                size = int(match.group(1), 16)
                if size > MAX_CHUNK_DATA:
                    raise SignatureProblem("too-large", f"an aws-chunked chunk of {size} bytes is larger than"
                                                        f" {MAX_CHUNK_DATA}")
                self._header = (line, size, match.group(2).decode())
            line, size, sent_signature = self._header
            if len(buffer) < size + 2:
                return
            data = bytes(buffer[:size])
            if buffer[size:size + 2] != b"\r\n":
                raise SignatureProblem("incomplete-body", "an aws-chunked chunk is not followed by CRLF")
            expected = self.signing.signature(self._previous, data)
            if not hmac.compare_digest(expected, sent_signature):
                raise SignatureProblem("mismatch", "The request signature we calculated does not match the signature"
                                                   " you provided (chunk signature).")
            self._decoded += size
            if self._decoded > self.decoded_length:
                raise SignatureProblem("incomplete-body", "the aws-chunked body holds more than its"
                                                          " x-amz-decoded-content-length")
            self._previous = expected
            del buffer[:size + 2]
            self._header = None
            if size == 0:
                if self._decoded != self.decoded_length or buffer:
                    raise SignatureProblem("incomplete-body", "the aws-chunked body does not end after"
                                                              " x-amz-decoded-content-length bytes and its final"
                                                              " chunk")
                self._final = line + b"\r\n"
                return
            yield line + data + b"\r\n"

    def end(self) -> Iterator[bytes]:
        """The final chunk, once the body has ended; raises if it ended anywhere else."""
        if self._final is None:
            if self._header is not None:
                raise SignatureProblem("incomplete-body", "the aws-chunked body ends inside a chunk")
            raise SignatureProblem("incomplete-body", "the aws-chunked body ends before its final chunk")
        yield self._final
