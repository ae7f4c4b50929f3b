"""The request reader's refusals, one by one, with the rule each rests on (RFC 9112, RFC 9110)."""

from __future__ import annotations

import pytest

from accesspath.cli.serve_cmd import check_endpoint_name
from accesspath.emulator.request_reader import EndpointNames, RequestRefused, chunk_size, read_request_head
from accesspath.errors import UsageError

NAMES = EndpointNames.for_listen_address("127.0.0.1", 4566, ["emulator.test"])
HOST = ("Host", "127.0.0.1:4566")


def _read(fields: list[tuple[str, str]], target: str = "/", version: str = "HTTP/1.1", method: str = "POST"):  # type: ignore[no-untyped-def]
    return read_request_head(method, target, version, fields, NAMES)


@pytest.mark.parametrize("fields, rule", [
    ([HOST, ("Content-Length", "2"), ("Content-Length", "40")], "more than once"),           # RFC 9112 §6.3 (5)
    ([HOST, ("Content-Length", "2"), ("Content-Length", "2")], "more than once"),
    ([HOST, ("Content-Length", "2"), ("Transfer-Encoding", "chunked")], "RFC 9112 §6.3"),    # §6.3 (3)
    ([HOST, ("Transfer-Encoding", "gzip, chunked")], "only 'chunked'"),
    ([HOST, ("Content-Length", "+2")], "digits only"),
    ([HOST, ("Content-Length", "1_0")], "digits only"),
    ([HOST, ("Content-Length", "9" * 40)], "digits only"),
    ([HOST, HOST], "more than once"),                                                         # RFC 9112 §3.2
    ([], "exactly one Host"),
    ([("Host", "lab-denied.example")], "does not name this endpoint"),
    ([("Host", "127.0.0.1:4567")], "does not name this endpoint"),
    ([("Host", "bucket.127.0.0.1:4566")], "does not name this endpoint"),                   # no labels below an IP
    ([("Host", "a.b.localhost:4566")], "does not name this endpoint"),                      # one label only
    ([("Host", "evil.com/x")], "malformed Host"),
    ([HOST, ("X-Amz-Target", "A.ListClusters"), ("x-amz-target", "A.DeleteCluster")], "more than once"),
    ([HOST, ("Action", "DeleteCluster")], "named 'Action'"),
    ([HOST, ("X-Folded", "a\r\n b")], "folded line"),                                          # RFC 9112 §5.2
    ([HOST, ("X-Nul", "a\x00b")], "control character"),                                        # RFC 9110 §5.5
    ([HOST, ("Bad Name", "x")], "invalid header field name"),                                  # RFC 9112 §5.1
    ([HOST, ("Expect", "something-else")], "only 100-continue"),                               # RFC 9110 §10.1.1
])
def test_ambiguous_fields_and_framing_are_refused(fields: list[tuple[str, str]], rule: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        _read(fields)
    assert rule in refused.value.message


def test_transfer_encoding_in_http_1_0_is_refused() -> None:
    with pytest.raises(RequestRefused, match="HTTP/1.0"):
        _read([HOST, ("Transfer-Encoding", "chunked")], version="HTTP/1.0")


@pytest.mark.parametrize("target, rule", [
    ("http://lab-denied.example/k", "not a path"),                    # RFC 9112 §3.2.2: absolute form
    ("*", "not a path"),
    ("/b/../k", "'..' segment"), ("/b/./k", "'..' segment"), ("/b//k", "'..' segment"), ("/b/%2E%2E/k", "'..' segment"),
    ("/%zz", "percent-escape"), ("/%ff", "not UTF-8"),
    ("/k?prefix=a+b", "'+'"),
    ("/k?list-type=2&list-type=1", "more than once"),
    ("/k#frag", "'#'"), ("/k\u00e9", "non-ASCII"),
])
def test_targets_other_parsers_read_differently_are_refused(target: str, rule: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        _read([HOST], target=target)
    assert rule in refused.value.message


def test_a_plain_request_is_read_once() -> None:
    head = _read([HOST, ("Content-Length", "2"), ("Accept", "a"), ("Accept", "b")], target="/b/k%20x?acl&x=%2B")
    assert (head.raw_path, head.query_pairs, head.framing.content_length) == ("/b/k%20x", (("acl", ""), ("x", "+")), 2)
    assert head.header("accept") == "a, b" and head.virtual_host_label is None


@pytest.mark.parametrize("host, label", [("127.0.0.1:4566", None), ("localhost:4566", None), ("[::1]:4566", None),
                                         ("LOCALHOST:4566", None), ("emulator.test:4566", None),
                                         ("my-bucket.localhost:4566", "my-bucket"),
                                         ("my-bucket.emulator.test:4566", "my-bucket")])
def test_the_endpoint_s_names_and_the_buckets_below_them(host: str, label: str | None) -> None:
    assert _read([("Host", host)]).virtual_host_label == label


def test_a_wildcard_listen_address_answers_any_ip_with_its_port() -> None:
    names = EndpointNames.for_listen_address("0.0.0.0", 4566)
    assert names.classify("10.1.2.3:4566") is None
    with pytest.raises(RequestRefused):
        names.classify("10.1.2.3:80")


@pytest.mark.parametrize("line, size", [(b"10\r\n", 16), (b"a;ext=1\r\n", 10), (b"0\r\n", 0)])
def test_chunk_sizes_are_hex_digits(line: bytes, size: int) -> None:
    assert chunk_size(line) == size


@pytest.mark.parametrize("line", [b"0x10\r\n", b"+1\r\n", b"1_0\r\n", b" 1\r\n", b"1\n", b"\r\n", b"1" * 20 + b"\r\n"])
def test_chunk_sizes_lenient_parsers_accept_are_refused(line: bytes) -> None:
    with pytest.raises(RequestRefused):
        chunk_size(line)


def test_endpoint_names_on_the_command_line_are_host_names() -> None:
    assert check_endpoint_name("Emulator.Test:4566") == "emulator.test:4566"
    for bad in ("http://x", "a b", "x:port", ""):
        with pytest.raises(UsageError):
            check_endpoint_name(bad)
