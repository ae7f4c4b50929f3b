"""Bundled data as JSON members that are decompressed one at a time.

A command that needs one AWS managed policy, or the argument table of one AWS CLI service, should
not decompress and parse thousands: a packed file is a small JSON index followed by each member's
JSON, compressed on its own (zlib), so reading one member costs its own size only.

Layout: the line ``accesspath-packed-json 1``, the index's length in bytes on a line of its own, the
index (``{"header": {...}, "members": {name: [offset, length, summary]}}``, offsets counted from
the end of the index) and the members. Written sorted and at a fixed compression level, so the
same data always gives the same bytes (a refresh that changes nothing changes no file).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

MAGIC = b"accesspath-packed-json 1\n"


class PackedJson:
    """A packed file read from ``data``: its header, and each member decoded on first use."""

    def __init__(self, data: bytes, name: str = "packed data") -> None:
        if not data.startswith(MAGIC):
            raise ValueError(f"{name} is not an accesspath packed JSON file")
        newline = data.index(b"\n", len(MAGIC))
        size = int(data[len(MAGIC):newline])
        start = newline + 1
        index = json.loads(data[start:start + size])
        self.header: dict[str, Any] = index["header"]
        self._members: dict[str, list[Any]] = index["members"]
        self._body = memoryview(data)[start + size:]

    def names(self) -> Iterator[str]:
        return iter(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __len__(self) -> int:
        return len(self._members)

    def summary(self, name: str) -> Any:
        """What the index says of a member (without decompressing it)."""
        return self._members[name][2]

    def member(self, name: str) -> Any:
        offset, length, _ = self._members[name]
        return json.loads(zlib.decompress(self._body[offset:offset + length]))


def pack_json(header: Mapping[str, Any], members: Mapping[str, Any],
              summaries: Mapping[str, Any] | None = None) -> bytes:
    """The bytes of a packed file holding ``members`` (each with its index ``summaries[name]``)."""
    blobs = []
    index: dict[str, list[Any]] = {}
    offset = 0
    for name in sorted(members):
        blob = zlib.compress(json.dumps(members[name], separators=(",", ":"), sort_keys=True).encode(), 9)
        index[name] = [offset, len(blob), (summaries or {}).get(name)]
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps({"header": dict(header), "members": index}, separators=(",", ":"), sort_keys=True).encode()
    return b"".join([MAGIC, str(len(head)).encode(), b"\n", head, *blobs])
