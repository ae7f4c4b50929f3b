"""The one reading of a request's head that every later step uses, and the refusals that keep it one.

An authorizing proxy is only as safe as the gap between the request it decides and the request the
upstream executes. Whatever another HTTP parser could read differently is refused here, before the
signature or the call is looked at, with the reason in the message:

* framing (RFC 9112 §6.1, §6.3): two ``Content-Length`` fields, a ``Content-Length`` that is not
  plain digits, ``Content-Length`` together with ``Transfer-Encoding``, any transfer coding but a
  lone ``chunked``, ``Transfer-Encoding`` in an HTTP/1.0 request;
* fields (RFC 9110 §5.5, RFC 9112 §5.1-5.2): names that are not tokens, whitespace before the colon
  and obsolete line folding (the stdlib parser reports these as defects), control characters in
  values, any field sent twice (SigV4 joins repeated values with commas, other servers take the first
  or the last), a field named ``Action`` (some servers read it as the query protocol's action);
* the target (RFC 9112 §3.2): only origin form (``/path?query``); malformed percent-escapes, text that
  is not UTF-8 once decoded, dot segments and empty segments (RFC 3986 §5.2.4 removes them, S3 keeps
  them), a ``+`` in the query (a space to form decoders, a plus sign to RFC 3986) and any query
  parameter named twice;
* ``Host`` (RFC 9112 §3.2): exactly one, naming this endpoint (:class:`EndpointNames`); a name below
  one of the endpoint's names is S3's virtual-hosted style, kept as ``virtual_host_label``.

Nothing here depends on the HTTP server: it takes the method, request-target, version and fields as
received, so any server can use it (see ``server.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote_to_bytes

MAX_CONTENT_LENGTH_DIGITS = 18
"""A longer ``Content-Length`` is refused before it is turned into a number (no body is that large)."""

# Fields whose repeated values are a list by definition (RFC 9110 §5.3) and that no decision reads.
_LIST_FIELDS = frozenset({"accept", "accept-encoding", "accept-language", "cache-control", "via"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FIELD_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TARGET_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\uffff#]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DIGITS = re.compile(r"^[0-9]+$")
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9.\-_]*[a-z0-9])?$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_CHUNK_SIZE_LINE = re.compile(rb"^([0-9A-Fa-f]{1,16})(;[^\r\n]*)?\r\n$")


class RequestRefused(Exception):
    """A request the emulator will not read, because another parser could read it differently.

    ``kind`` is a key of the wire-error table; ``close`` says the connection cannot carry another
    request (the body's end is not known)."""

    def __init__(self, message: str, *, kind: str = "ambiguous", close: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.close = close


class HostNames(Protocol):
    """What a connection's requests may name in ``Host``: :class:`EndpointNames` for the emulator's own
    endpoint, or the one AWS host a proxy tunnel was opened to."""

    def classify(self, host: str) -> str | None:
        """The S3 virtual-hosted label ``host`` names (None: the endpoint itself); raises RequestRefused
        for a ``Host`` that does not name it."""
        ...

    def scope_problem(self, signing_name: str, region: str) -> str | None:
        """Why requests here cannot be signed for this service and region (None: they can)."""
        ...

    def call_problem(self, service: str) -> str | None:
        """Why this endpoint does not serve ``service``'s calls (None: it does)."""
        ...


@dataclass(frozen=True)
class EndpointNames:
    """The authorities (``host:port``, lower case) a client may name in ``Host`` to reach the emulator.

    A ``Host`` one label below one of them (``bucket.localhost:4566``) is S3's virtual-hosted style;
    IP literals have no labels below them. ``any_ip_port``: with a wildcard listen address, any IP
    literal with that port names the endpoint (the server cannot know every address it is reached by).
    ``default_port``: the port a ``Host`` without one means (80; 443 on a TLS connection, RFC 9110 §4.2).
    """

    authorities: frozenset[str]
    any_ip_port: int | None = None
    default_port: int = 80

    @classmethod
    def for_listen_address(cls, host: str, port: int, extra: Iterable[str] = ()) -> EndpointNames:
        names = {f"localhost:{port}"}
        wildcard: int | None = None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            names.add(f"{host.lower()}:{port}")
        else:
            if address.is_unspecified:
                wildcard = port
            names.add(f"[{address.compressed}]:{port}" if address.version == 6 else f"{address.compressed}:{port}")
            if address.is_loopback:
                names.update({f"127.0.0.1:{port}", f"[::1]:{port}"})
        for name in extra:
            names.add(_with_port(name.lower(), port))
        return cls(frozenset(names), wildcard)

    @classmethod
    def for_authority(cls, host: str, port: int, *, tls: bool) -> EndpointNames:
        """The names of a server reached as ``host:port`` (a proxy tunnel's authority, say)."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            name = host.lower()
        else:
            name = f"[{address.compressed}]" if address.version == 6 else address.compressed
        return cls(frozenset({f"{name}:{port}"}), None, 443 if tls else 80)

    def classify(self, host: str) -> str | None:
        """The virtual-hosted label of ``host`` (None: the endpoint itself); raises RequestRefused."""
        authority = _with_port(host.lower(), self.default_port)
        if authority in self.authorities or self._any_ip(authority):
            return None
        label, dot, rest = authority.partition(".")
        if dot and rest in self.authorities and not _is_ip_authority(rest) and label:
            return label
        named = ", ".join(sorted(self.authorities))
        raise RequestRefused(f"the Host '{_shown(host)}' does not name this endpoint ({named}, or <bucket>. before"
                             " a name for S3's virtual-hosted style): another server would read it as another"
                             " endpoint or bucket")

    def scope_problem(self, signing_name: str, region: str) -> str | None:
        return None             # the emulator's endpoint answers every service in every region

    def call_problem(self, service: str) -> str | None:
        return None

    def _any_ip(self, authority: str) -> bool:
        if self.any_ip_port is None:
            return False
        return _is_ip_authority(authority) and authority.rsplit(":", 1)[1] == str(self.any_ip_port)


def _with_port(authority: str, default_port: int) -> str:
    if authority.startswith("["):
        return authority if "]:" in authority else f"{authority}:{default_port}"
    return authority if ":" in authority else f"{authority}:{default_port}"


def _is_ip_authority(authority: str) -> bool:
    return _is_ip(authority.rsplit(":", 1)[0].strip("[]"))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _shown(text: str, limit: int = 80) -> str:
    """User-supplied text fit for a one-line message."""
    printable = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:limit])
    return printable + ("…" if len(text) > limit else "")


@dataclass(frozen=True)
class BodyFraming:
    """How the body ends: after ``content_length`` bytes, or (None) at the last chunk."""

    content_length: int | None

    @property
    def chunked(self) -> bool:
        return self.content_length is None

    @property
    def empty(self) -> bool:
        return self.content_length == 0


@dataclass(frozen=True)
class RequestHead:
    """A request's head as every later step reads it: fields once each, the target decoded once."""

    method: str
    target: str                                   # as received: what is forwarded
    raw_path: str
    raw_query: str
    query_pairs: tuple[tuple[str, str], ...]      # decoded, in order, each name once
    fields: tuple[tuple[str, str], ...]           # as received, in order
    framing: BodyFraming
    authority: str                                # the Host value
    virtual_host_label: str | None
    version: str = "HTTP/1.1"
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # lower-case name → values

    def header(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return ", ".join(found) if found else default

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case name → value (list fields joined with ", ")."""
        return {name: ", ".join(found) for name, found in self.values.items()}

    @property
    def expects_continue(self) -> bool:
        return self.header("expect").lower() == "100-continue" and self.version != "HTTP/1.0"


def read_request_head(method: str, target: str, version: str, fields: Sequence[tuple[str, str]],
                      endpoint: HostNames, *, parser_defects: Sequence[str] = ()) -> RequestHead:
    """Validate a request head and read it once; raises :class:`RequestRefused` for anything ambiguous.

    ``parser_defects``: what the HTTP parser noticed (malformed lines it skipped or folded)."""
    if parser_defects:
        raise RequestRefused(f"malformed header section ({parser_defects[0]}): a field name followed by"
                             " whitespace, a line without a colon or a folded line (RFC 9112 §5.1-5.2)", close=True)
    if not _TOKEN.fullmatch(method):
        raise RequestRefused(f"invalid method '{_shown(method)}'", close=True)
    values = _field_values(fields)
    framing = _framing(values, version)
    raw_path, query_pairs, raw_query = _read_target(target)
    hosts = values.get("host", ())
    if len(hosts) != 1 or not hosts[0]:
        raise RequestRefused("a request names exactly one Host (RFC 9112 §3.2)", close=True)
    label = endpoint.classify(_authority(hosts[0]))
    expect = values.get("expect")
    if expect is not None and expect[0].lower() != "100-continue":
        raise RequestRefused(f"Expect '{_shown(expect[0])}' is not supported (only 100-continue)",
                             kind="expectation-failed", close=not framing.empty)
    return RequestHead(method, target, raw_path, raw_query, query_pairs, tuple(fields), framing, hosts[0], label,
                       version, values)


def _field_values(fields: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    values: dict[str, list[str]] = {}
    for name, value in fields:
        if not _TOKEN.fullmatch(name):
            raise RequestRefused(f"invalid header field name '{_shown(name)}'", close=True)
        if _FIELD_VALUE_FORBIDDEN.search(value):
            raise RequestRefused(f"the value of header '{_shown(name)}' holds a control character or a folded line"
                                 " (RFC 9110 §5.5, RFC 9112 §5.2)", close=True)
        lowered = name.lower()
        found = values.setdefault(lowered, [])
        if found and lowered not in _LIST_FIELDS:
            raise RequestRefused(f"header '{_shown(name)}' is sent more than once: servers disagree on which value"
                                 " counts (the first, the last, or both joined)", close=True)
        found.append(value.strip(" \t"))
    if "action" in values:
        raise RequestRefused("a header named 'Action' is not part of any AWS protocol, and some servers read it as"
                             " the query protocol's Action", close=True)
    return {name: tuple(found) for name, found in values.items()}


def _framing(values: Mapping[str, tuple[str, ...]], version: str) -> BodyFraming:
    """RFC 9112 §6.3: how the body ends, refusing every framing two parsers could read differently."""
    transfer_encoding = values.get("transfer-encoding")
    content_length = values.get("content-length")
    if transfer_encoding is not None:
        if content_length is not None:
            raise RequestRefused("Content-Length and Transfer-Encoding together frame the body two ways (RFC 9112"
                                 " §6.3: a request-smuggling attempt)", close=True)
        if version == "HTTP/1.0":
            raise RequestRefused("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)", close=True)
        if transfer_encoding[0].lower() != "chunked":
            raise RequestRefused(f"Transfer-Encoding '{_shown(transfer_encoding[0])}' is not supported: only"
                                 " 'chunked' (RFC 9112 §6.3)", kind="not-implemented", close=True)
        return BodyFraming(None)
    if content_length is None:
        return BodyFraming(0)
    text = content_length[0]
    if not _DIGITS.fullmatch(text) or len(text) > MAX_CONTENT_LENGTH_DIGITS:
        raise RequestRefused(f"invalid Content-Length '{_shown(text, 40)}': digits only (RFC 9112 §6.3)",
                             kind="validation", close=True)
    return BodyFraming(int(text))


def _read_target(target: str) -> tuple[str, tuple[tuple[str, str], ...], str]:
    if not target.startswith("/"):
        raise RequestRefused(f"the request target '{_shown(target)}' is not a path (only origin form, RFC 9112"
                             " §3.2.1: an absolute URL names its own host)", close=True)
    if _TARGET_FORBIDDEN.search(target):
        raise RequestRefused("the request target holds a space, a control or non-ASCII character or a '#'",
                             close=True)
    raw_path, _, raw_query = target.partition("?")
    if _BAD_PERCENT.search(target):
        raise RequestRefused(f"malformed percent-escape in '{_shown(target)}'")
    path = _decoded(raw_path, "path")
    segments = path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments) or any(not s for s in segments[:-1]):
        raise RequestRefused(f"the path '{_shown(path)}' has an empty, '.' or '..' segment: some servers remove them"
                             " (RFC 3986 §5.2.4), S3 does not")
    if "+" in raw_query:
        raise RequestRefused("a '+' in the query string is a space to form decoders and a plus sign to RFC 3986:"
                             " encode it as %2B (SigV4 does) or a space as %20")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = _decoded(name, "query")
        if name in seen:
            raise RequestRefused(f"query parameter '{_shown(name)}' is given more than once: servers disagree on"
                                 " which value counts")
        seen.add(name)
        pairs.append((name, _decoded(value, "query")))
    return raw_path, tuple(pairs), raw_query


def _decoded(text: str, where: str) -> str:
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused(f"the {where} is not UTF-8 once percent-decoded") from None


def _authority(host: str) -> str:
    """The Host value, checked to be host[:port] (RFC 9110 §7.2)."""
    lowered = host.lower()
    if lowered.startswith("["):
        address, bracket, port = lowered[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and _PORT.fullmatch(port[1:]))) or not _is_ip(address):
            raise RequestRefused(f"malformed Host '{_shown(host)}'")
        return lowered
    name, colon, port = lowered.partition(":")
    if not _HOST_NAME.fullmatch(name) or (colon and not _PORT.fullmatch(port)):
        raise RequestRefused(f"malformed Host '{_shown(host)}'")
    return lowered


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (RFC 9112 §7.1: hex digits, optional extensions, CRLF); raises
    RequestRefused for anything else (``int(x, 16)`` would also take ``0x10``, ``+1``, ``1_0``)."""
    match = _CHUNK_SIZE_LINE.fullmatch(line)
    if match is None:
        raise RequestRefused("malformed chunk-size line in a chunked body (RFC 9112 §7.1)", kind="incomplete-body",
                             close=True)
    return int(match.group(1), 16)


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case (media types are case-insensitive, RFC 9110 §8.3.1) and parameters."""
    main, *rest = content_type.split(";")
    parameters: dict[str, str] = {}
    for item in rest:
        name, _, value = item.strip().partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), parameters
