"""Fuzzing the emulator's request reader (issue 17, "What to build" 1 and 6).

* The reader alone (``request_reader``, ``protocols.identify``) on arbitrary heads, targets and
  bodies: a value or a refusal (``RequestRefused`` / ``UnknownCall``), never another exception.
* The property the emulator exists for: valid, signed requests mutated the ways parsers disagree
  (repeated fields, framing, Host, media types, an Action where another parser looks for one,
  paths) go through the emulator to moto's server, and moto never executes an operation, or touches
  a resource, that the decision log did not allow for that request. Every answer the emulator gives
  itself is a wire-format error, never an internal error, and never a hang.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from collections.abc import Callable, Iterator

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accesspath.emulator import HttpUpstream
from accesspath.emulator.protocols import UnknownCall, identify
from accesspath.emulator.request_reader import (
    EndpointNames,
    RequestHead,
    RequestRefused,
    chunk_size,
    read_request_head,
)
from emulator_helpers import LAB_TEMPLATE, RunningEmulator, running_emulator, send_raw, sign_fields

ENDPOINT = EndpointNames.for_listen_address("127.0.0.1", 4566)
FIELD_NAMES = st.sampled_from(["Host", "host", "Content-Length", "Transfer-Encoding", "X-Amz-Target", "Content-Type",
                               "Action", "Expect", "Accept", "X-Amz-Date", "Bad Name", "", "X\x00"])
FIELD_VALUES = st.one_of(st.sampled_from(["127.0.0.1:4566", "b.localhost:4566", "lab-denied.example", "chunked",
                                          "5", "+5", "1_0", "gzip, chunked", "100-continue", "[::1]:4566", "[",
                                          "application/x-amz-json-1.1", "a\r\n b", "x\x00y"]),
                         st.text(max_size=30))
TARGETS = st.one_of(st.sampled_from(["/", "/?Action=ListUsers", "/b/k?acl", "/b/../k", "/b//k", "/%zz", "/%ff",
                                     "/?a=1&a=2", "/?x=a+b", "http://evil/", "*", "/b/k#f", "/\u00e9"]),
                    st.text(max_size=40).map(lambda text: "/" + text))


@settings(max_examples=300, deadline=timedelta(seconds=5))   # a time bound per input, generous for shared CI
@given(method=st.sampled_from(["GET", "POST", "PUT", "G T", ""]), target=TARGETS,
       version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
       fields=st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=6))
def test_the_reader_returns_one_reading_or_refuses(method: str, target: str, version: str,
                                                   fields: list[tuple[str, str]]) -> None:
    try:
        head = read_request_head(method, target, version, fields, ENDPOINT)
    except RequestRefused as refused:
        assert refused.message and "\n" not in refused.message
        return
    _check_one_reading(head)


def _check_one_reading(head: RequestHead) -> None:
    names = [name.lower() for name, _ in head.fields]
    assert names.count("host") == 1 and names.count("content-length") <= 1
    assert not ("content-length" in names and "transfer-encoding" in names)
    assert head.target.startswith("/")
    query_names = [name for name, _ in head.query_pairs]
    assert len(query_names) == len(set(query_names))
    assert head.virtual_host_label is None or head.authority.lower().startswith(head.virtual_host_label + ".")


@settings(max_examples=200, deadline=timedelta(seconds=5))
@given(st.binary(max_size=30))
def test_chunk_size_lines_are_hex_and_crlf_or_refused(line: bytes) -> None:
    try:
        size = chunk_size(line)
    except RequestRefused:
        return
    assert line.endswith(b"\r\n") and size == int(line.split(b";")[0].strip(b"\r\n"), 16)


@settings(max_examples=300, deadline=timedelta(seconds=5))   # a time bound per input, generous for shared CI
@given(service=st.sampled_from(["ecs", "iam", "sts", "s3", "logs", "lambda"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       path=st.sampled_from(["/", "/lab-allowed", "/lab-allowed/k", "/2015-03-31/functions/f/invocations", "/x%2Fy"]),
       query=st.lists(st.tuples(st.sampled_from(["Action", "Version", "acl", "uploads", "X-Amz-Date", "UserName"]),
                                st.sampled_from(["ListUsers", "CreateUser", "", "2010-05-08", "x"])), max_size=3),
       content_type=st.sampled_from(["", "application/x-amz-json-1.1", "application/x-www-form-urlencoded",
                                     "APPLICATION/X-WWW-FORM-URLENCODED; charset=latin-1", "multipart/form-data",
                                     "text/plain"]),
       target=st.sampled_from(["", "AmazonEC2ContainerServiceV20141113.ListClusters", "Logs_20140328.PutLogEvents"]),
       body=st.one_of(st.binary(max_size=60), st.sampled_from([b"{}", b'{"a":1,"a":2}', b"Action=ListUsers",
                                                               b"Action=ListUsers&Action=CreateUser", b"%zz=1",
                                                               b'{"x": "&Action=DeleteCluster&"}', b"[" * 3000])),
       label=st.sampled_from([None, "lab-allowed", "Bad%2F"]))
def test_identify_returns_a_call_or_refuses(service: str, method: str, path: str, query: list[tuple[str, str]],
                                            content_type: str, target: str, body: bytes, label: str | None) -> None:
    headers = {"host": "127.0.0.1:4566", "content-type": content_type, "x-amz-target": target}
    try:
        call = identify(service, method, path, query, headers, None if service == "s3" else body,
                        virtual_host_label=label)
    except UnknownCall as unknown:
        assert unknown.message and unknown.kind in ("service", "operation", "body", "ambiguous")
        return
    if call.forward_body is not None:
        assert b"&" not in call.forward_body and b"=" not in call.forward_body
        assert json.loads(call.forward_body) == dict(call.params)


# -- through the emulator to moto ---------------------------------------------------------------

pytest.importorskip("moto.server")
from moto_recorder import Executed, MotoRecord, recording_moto_server  # noqa: E402

REGION = "us-east-1"
ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoRecord]:
    with recording_moto_server() as record:
        boto3.client("ecs", endpoint_url=record.url, region_name=REGION, aws_access_key_id="direct",
                     aws_secret_access_key="direct").create_cluster(clusterName="victim")
        s3 = boto3.client("s3", endpoint_url=record.url, region_name=REGION, aws_access_key_id="direct",
                          aws_secret_access_key="direct")
        for bucket in ("lab-allowed", "lab-denied"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="lab-denied", Key="secret", Body=b"secret")
        yield record


@pytest.fixture(scope="module")
def lab(moto: MotoRecord) -> Iterator[RunningEmulator]:
    with running_emulator([LAB_TEMPLATE], "LabRole", HttpUpstream(moto.url), region=REGION) as running:
        yield running


class Draft:
    """A request being built: method, target, fields (repeats allowed), body, signing service."""

    def __init__(self, service: str, method: str, target: str, fields: list[tuple[str, str]], body: bytes) -> None:
        self.service, self.method, self.target, self.fields, self.body = service, method, target, fields, body
        self.content_length = True


def _bases(authority: str) -> dict[str, Callable[[], Draft]]:
    def s3_put() -> Draft:
        body = b"hello"
        return Draft("s3", "PUT", "/lab-allowed/k", [("Host", authority),
                                                    ("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest())], body)

    def s3_get() -> Draft:
        return Draft("s3", "GET", "/lab-allowed/k", [("Host", authority),
                                                    ("X-Amz-Content-SHA256", hashlib.sha256(b"").hexdigest())], b"")

    def s3_delete() -> Draft:
        body = b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>k</Key></Object></Delete>'
        return Draft("s3", "POST", "/lab-allowed?delete", [("Host", authority), ("Content-Type", "application/xml"),
                                                          ("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest())],
                     body)

    return {
        "s3-delete": s3_delete,
        "ecs-list": lambda: Draft("ecs", "POST", "/", [("Host", authority), ("X-Amz-Target", f"{ECS_TARGET}.ListClusters"),
                                                       ("Content-Type", "application/x-amz-json-1.1")], b"{}"),
        "iam-list": lambda: Draft("iam", "POST", "/", [("Host", authority),
                                                       ("Content-Type", "application/x-www-form-urlencoded")],
                                  b"Action=ListUsers&Version=2010-05-08"),
        "s3-put": s3_put,
        "s3-get": s3_get,
    }


def _mutations(authority: str) -> st.SearchStrategy[Callable[[Draft], None]]:
    port = authority.rsplit(":", 1)[1]
    field_additions = st.sampled_from([
        ("X-Amz-Target", f"{ECS_TARGET}.DeleteCluster"), ("Action", "CreateUser"),
        ("Content-Type", "multipart/form-data; boundary=x"), ("Content-Type", "Application/X-WWW-Form-URLEncoded"),
        ("Content-Length", "0"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked"),
        ("Host", "lab-denied.example"), ("Host", f"lab-denied.localhost:{port}"), ("Host", authority),
        ("X-Amz-Copy-Source", "lab-denied/secret"), ("X-Amz-Copy-Source", "//lab-allowed/lab-denied/secret"),
        ("X-Amz-Copy-Source", "lab-allowed/k?x=1#/lab-denied/secret"), ("Expect", "100-continue"), ("Expect", "nothing"),
    ])

    def add_field(field: tuple[str, str]) -> Callable[[Draft], None]:
        return lambda draft: draft.fields.append(field)

    def replace_field(field: tuple[str, str]) -> Callable[[Draft], None]:
        def apply(draft: Draft) -> None:
            draft.fields = [(n, v) for n, v in draft.fields if n.lower() != field[0].lower()] + [field]
        return apply

    def add_query(text: str) -> Callable[[Draft], None]:
        return lambda draft: setattr(draft, "target", draft.target + ("&" if "?" in draft.target else "?") + text)

    def set_target(target: str) -> Callable[[Draft], None]:
        return lambda draft: setattr(draft, "target", target)

    def set_body(body: bytes) -> Callable[[Draft], None]:
        def apply(draft: Draft) -> None:
            draft.body = body
            draft.fields = [(n, hashlib.sha256(body).hexdigest() if n.lower() == "x-amz-content-sha256" else v)
                            for n, v in draft.fields]
        return apply

    def append_body(extra: bytes) -> Callable[[Draft], None]:
        return lambda draft: set_body(draft.body + extra)(draft)

    def unframed(draft: Draft) -> None:
        draft.content_length = False

    def upper_names(draft: Draft) -> None:
        draft.fields = [(n.upper(), v) for n, v in draft.fields]

    def method(name: str) -> Callable[[Draft], None]:
        return lambda draft: setattr(draft, "method", name)

    return st.one_of(
        field_additions.map(add_field), field_additions.map(replace_field),
        st.sampled_from(["Action=DeleteCluster&cluster=victim", "Action=CreateUser&UserName=evil", "cluster=victim",
                         "Action=ListUsers", "acl", "uploads", "list-type=2", "x=a+b", "Version=2010-05-08",
                         "UserName=evil", "%zz=1"]).map(add_query),
        st.sampled_from(["/lab-denied/secret", "/lab-allowed/../lab-denied/secret", "/lab-allowed//k", "/lab-denied",
                         "/lab-allowed%2Fx/k", "/Lab-Denied/secret", "http://lab-denied.example/secret",
                         "/?Action=CreateUser&UserName=evil"]).map(set_target),
        st.sampled_from([b"&Action=CreateUser&UserName=evil", b'{"cluster": "victim"}', b"\r\n0\r\n\r\n",
                         b"<Object><Key>../lab-denied/secret</Key></Object>"]).map(append_body),
        st.sampled_from([b'{"cluster":"victim","cluster":"x"}', b'{"x":"&Action=DeleteCluster&cluster=victim&"}',
                         b"Action=CreateUser&UserName=evil&Version=2010-05-08", b"",
                         b'--x\r\nContent-Disposition: form-data; name="Action"\r\n\r\nCreateUser\r\n--x--\r\n',
                         b'<Delete><Object><Key>protected/x</Key></Object><Object><Key>k</Key></Object></Delete>',
                         b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>k'
                         b'</s3:Key></s3:Object></s3:Delete>',
                         b'<Delete><Object><Key>k</Key><Key>protected/x</Key></Object></Delete>']
                        ).map(set_body),
        st.sampled_from([unframed, upper_names, method("GET"), method("DELETE"), method("PUT")]),
    )


def _justified(executed: Executed, entry: dict[str, object] | None) -> bool:
    """Whether the decision log's entry for the request allowed what moto executed."""
    if entry is None or entry.get("decision") != "allowed":
        return False
    call = entry["call"]
    assert isinstance(call, dict)
    resources = {str(request["resource"]) for request in entry["requests"]}  # type: ignore[attr-defined]
    if executed.service == "s3":
        # moto names each handler after an operation; the resource is what must match: the object, or
        # for a handler of the bucket, the bucket of a decided object.
        decided = {resource.removeprefix("arn:aws:s3:::") for resource in resources}
        return executed.resource is None or executed.resource in decided or (
            "/" not in executed.resource and any(d.partition("/")[0] == executed.resource for d in decided))
    return (call["service"], call["operation"]) == (executed.service, executed.operation)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_moto_never_executes_what_the_decision_log_did_not_allow(lab: RunningEmulator, moto: MotoRecord,
                                                                 data: st.DataObject) -> None:
    authority = lab.url.removeprefix("http://")
    draft = _bases(authority)[data.draw(st.sampled_from(sorted(_bases(authority))), label="base")]()
    for mutation in data.draw(st.lists(_mutations(authority), min_size=1, max_size=3), label="mutations"):
        mutation(draft)
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    signed = sign_fields(draft.method, draft.target, draft.fields, draft.body, lab.credentials,
                         service=draft.service, region=REGION)
    status, headers, body = send_raw(lab.url, draft.method, draft.target, signed, draft.body,
                                     content_length=draft.content_length, timeout=20)
    entries = lab.log_entries(at_least=before + 1, timeout=15)[before:]   # every request read is logged
    assert len(entries) <= 1, entries
    entry = entries[0] if entries else None
    for executed in moto.since(mark):
        assert _justified(executed, entry), (executed, entry, draft.__dict__)
    if entry is None or entry["decision"] != "allowed":
        # Answered by the emulator itself: a wire-format error (or nothing, for a client gone mid-body).
        assert entry is None or entry["status"] != 500, entry
        if status is not None:
            assert 400 <= status < 600 and status != 500, (status, body)
            if body:
                assert b"<Code>" in body or "__type" in json.loads(body), body
