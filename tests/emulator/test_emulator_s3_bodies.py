"""S3 bodies the emulator verifies or reads before deciding (issue 13, item 3).

* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: every chunk's signature is checked before the chunk goes
  on; AWS's own worked example (Amazon S3 API Reference, "Signature Calculations for the
  Authorization Header: Transferring Payload in Multiple Chunks", sigv4-streaming.html) is the
  oracle, and a tampered chunk never completes a request at moto.
* ``DeleteObjects``: the keys in the XML body are decided one by one as ``s3:DeleteObject`` (and
  ``s3:DeleteObjectVersion`` with a version id) — Amazon S3 API Reference, DeleteObjects,
  "Permissions" — and XML that readers could read differently is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from accesspath.emulator import HttpUpstream
from accesspath.emulator.aws_chunked import ChunkSigning, SignedChunkStream
from accesspath.emulator.protocols import UnknownCall, style_for_signing_name
from accesspath.emulator.s3_bodies import read_delete_objects
from accesspath.emulator.sigv4 import (
    CredentialScope,
    SignatureProblem,
    SignedRequestParts,
    signing_key,
    verify_signature,
)
from emulator_helpers import LAB_TEMPLATE, RunningEmulator, running_emulator, send_raw, sign_fields

# AWS's worked example: 66,560 bytes of 'a' in a 64 KiB chunk, a 1 KiB chunk and the final chunk.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_SCOPE = CredentialScope("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3", "aws4_request")
EXAMPLE_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EXAMPLE_CHUNK_SIGNATURES = ("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
EXAMPLE_SIZES = (65536, 1024, 0)


def _example_signing() -> ChunkSigning:
    return ChunkSigning(signing_key(EXAMPLE_SECRET, EXAMPLE_SCOPE), "20130524T000000Z", EXAMPLE_SCOPE.text,
                        EXAMPLE_SEED)


def _example_body(signatures: tuple[str, ...] = EXAMPLE_CHUNK_SIGNATURES) -> bytes:
    return b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (size, sig.encode(), b"a" * size)
                    for size, sig in zip(EXAMPLE_SIZES, signatures))


def test_the_seed_signature_of_aws_s_example_verifies() -> None:
    parts = SignedRequestParts(EXAMPLE_SCOPE, "20130524T000000Z", (
        "content-encoding", "content-length", "host", "x-amz-content-sha256", "x-amz-date",
        "x-amz-decoded-content-length", "x-amz-storage-class"), EXAMPLE_SEED, False,
        content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    headers = {"content-encoding": ["aws-chunked"], "content-length": ["66824"], "host": ["s3.amazonaws.com"],
               "x-amz-content-sha256": ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD"], "x-amz-date": ["20130524T000000Z"],
               "x-amz-decoded-content-length": ["66560"], "x-amz-storage-class": ["REDUCED_REDUNDANCY"]}
    verify_signature("PUT", "/examplebucket/chunkObject.txt", [], headers, parts, EXAMPLE_SECRET, None)
    assert len(_example_body()) == 66824


def test_aws_s_example_chunk_signatures_are_what_the_emulator_computes() -> None:
    signing = _example_signing()
    previous = EXAMPLE_SEED
    for size, expected in zip(EXAMPLE_SIZES, EXAMPLE_CHUNK_SIGNATURES):
        previous = signing.signature(previous, b"a" * size)
        assert previous == expected


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
def test_a_signed_chunk_stream_is_passed_on_as_sent_whatever_its_pieces(piece: int) -> None:
    body = _example_body()
    pieces = [body[i:i + piece] for i in range(0, len(body), piece)]
    assert b"".join(SignedChunkStream(_example_signing(), 66560).verified(pieces)) == body


@pytest.mark.parametrize("damage", ["tampered-data", "wrong-signature", "reordered", "no-final-chunk",
                                    "short-decoded-length", "trailing-bytes", "bad-header"])
def test_a_damaged_chunk_stream_fails_before_the_damaged_chunk_goes_on(damage: str) -> None:
    body, decoded = _example_body(), 66560
    if damage == "tampered-data":
        body = body[:66000] + b"b" + body[66001:]            # inside the second chunk
    elif damage == "wrong-signature":
        body = _example_body((EXAMPLE_CHUNK_SIGNATURES[0], EXAMPLE_CHUNK_SIGNATURES[0], EXAMPLE_CHUNK_SIGNATURES[2]))
    elif damage == "reordered":
        body = _example_body((EXAMPLE_CHUNK_SIGNATURES[1], EXAMPLE_CHUNK_SIGNATURES[0], EXAMPLE_CHUNK_SIGNATURES[2]))
    elif damage == "no-final-chunk":
        body = body[:body.rindex(b"0;chunk-signature")]
    elif damage == "short-decoded-length":
        decoded = 65536
    elif damage == "trailing-bytes":
        body += b"extra"
    else:
        body = body.replace(b"10000;chunk", b"0x10000;chunk", 1)
    passed: list[bytes] = []
    with pytest.raises(SignatureProblem):
        for chunk in SignedChunkStream(_example_signing(), decoded).verified([body]):
            passed.append(chunk)
    # Nothing after the damage was passed on, and never the final chunk: the upstream cannot complete.
    assert not any(chunk.startswith(b"0;") for chunk in passed)
    if damage in ("tampered-data", "wrong-signature"):
        assert len(passed) == 1


# -- DeleteObjects XML --------------------------------------------------------------------------

S3_STYLE = style_for_signing_name("s3", {})
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_delete_objects_xml_is_read_key_by_key() -> None:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Delete {NS}><Object><Key>a/b.txt</Key></Object>'
            f"<Object><Key> spaced &amp; escaped </Key><VersionId>v1</VersionId></Object>"
            f"<Quiet>true</Quiet></Delete>").encode()
    assert read_delete_objects(body, S3_STYLE) == {
        "Objects": [{"Key": "a/b.txt"}, {"Key": " spaced & escaped ", "VersionId": "v1"}], "Quiet": True}


@pytest.mark.parametrize("body", [
    b'<!DOCTYPE d [<!ENTITY k "secret">]><Delete><Object><Key>&k;</Key></Object></Delete>',
    b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>',
    b'<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>',
    b'<Delete><Object><Key id="1">a</Key></Object></Delete>',
    b'<Delete><Object><Key>a<!-- b --></Key></Object></Delete>',
    b'<Delete>text<Object><Key>a</Key></Object></Delete>',
    b'<Delete><Object><Key>a</Key><Bucket>lab-denied</Bucket></Object></Delete>',
    b'<Delete><Object><Key></Key></Object></Delete>',
    b'<Delete></Delete>',
    b'<Delete><Object><Key>a</Key></Object>',
    b'<Other><Object><Key>a</Key></Object></Other>',
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
])
def test_delete_objects_xml_other_readers_could_read_differently_is_refused(body: bytes) -> None:
    with pytest.raises(UnknownCall) as refused:
        read_delete_objects(body, S3_STYLE)
    assert refused.value.kind in ("ambiguous", "body")


# -- through the emulator to moto ---------------------------------------------------------------

pytest.importorskip("moto.server")
from moto_recorder import MotoRecord, recording_moto_server  # noqa: E402

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoRecord]:
    with recording_moto_server() as record:
        s3 = boto3.client("s3", endpoint_url=record.url, region_name=REGION, aws_access_key_id="direct",
                          aws_secret_access_key="direct")
        for bucket in ("lab-allowed", "lab-denied"):
            s3.create_bucket(Bucket=bucket)
        yield record


@pytest.fixture(scope="module")
def lab(moto: MotoRecord) -> Iterator[RunningEmulator]:
    with running_emulator([LAB_TEMPLATE], "LabRole", HttpUpstream(moto.url), region=REGION) as running:
        yield running


def _direct_s3(moto: MotoRecord) -> object:
    return boto3.client("s3", endpoint_url=moto.url, region_name=REGION, aws_access_key_id="direct",
                        aws_secret_access_key="direct")


def _chunked_put(lab: RunningEmulator, key: str, data: bytes, chunk: int, *, tamper: bool = False
                 ) -> tuple[int | None, bytes]:
    target = f"/lab-allowed/{key}"
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    encoded_length = sum(len(b"%x;chunk-signature=%s\r\n\r\n" % (len(c), b"0" * 64)) + len(c) for c in chunks)
    fields = [("Host", lab.url.removeprefix("http://")), ("X-Amz-Content-SHA256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
              ("Content-Encoding", "aws-chunked"), ("X-Amz-Decoded-Content-Length", str(len(data))),
              ("Content-Length", str(encoded_length))]
    signed = sign_fields("PUT", target, fields, b"", lab.credentials, service="s3", region=REGION)
    authorization = dict(signed)["Authorization"]
    seed = authorization.rsplit("Signature=", 1)[1]
    amz_date = dict(signed)["X-Amz-Date"]
    scope = CredentialScope(lab.credentials.access_key_id, amz_date[:8], REGION, "s3", "aws4_request")
    signing = ChunkSigning(signing_key(lab.credentials.secret_access_key, scope), amz_date, scope.text, seed)
    body, previous = b"", seed
    for index, piece in enumerate(chunks):
        previous = signing.signature(previous, piece)
        sent = (b"X" + piece[1:]) if tamper and index == 1 else piece
        body += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(piece), previous.encode(), sent)
    status, _, answer = send_raw(lab.url, "PUT", target, signed, body, content_length=False)
    return status, answer


def test_a_signed_chunked_upload_reaches_moto_whole(lab: RunningEmulator, moto: MotoRecord) -> None:
    data = bytes(range(256)) * 1000
    status, answer = _chunked_put(lab, "chunked-ok", data, 64 * 1024)
    assert status == 200, answer
    stored = _direct_s3(moto).get_object(Bucket="lab-allowed", Key="chunked-ok")["Body"].read()  # type: ignore[attr-defined]
    assert stored == data and hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


def test_a_tampered_chunk_never_reaches_moto_as_a_request(lab: RunningEmulator, moto: MotoRecord) -> None:
    mark, before = moto.mark(), len(lab.log_entries(at_least=0, timeout=0))
    status, answer = _chunked_put(lab, "chunked-tampered", b"z" * 200_000, 64 * 1024, tamper=True)
    # The answer races the rest of the body: the client may see the connection closed instead.
    assert status is None or (status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer)
    entry = lab.log_entries(at_least=before + 1)[before]
    assert entry["decision"] == "error" and "chunk signature" in entry["error"]
    assert [e for e in moto.since(mark) if e.resource == "lab-allowed/chunked-tampered"] == []
    keys = [o["Key"] for o in _direct_s3(moto).list_objects_v2(Bucket="lab-allowed").get("Contents", [])]  # type: ignore[attr-defined]
    assert "chunked-tampered" not in keys


def test_delete_objects_from_boto3_is_decided_key_by_key(lab: RunningEmulator, moto: MotoRecord) -> None:
    direct = _direct_s3(moto)
    for key in ("del/a", "del/b", "protected/keep"):
        direct.put_object(Bucket="lab-allowed", Key=key, Body=b"x")  # type: ignore[attr-defined]
    s3 = lab.boto3_client("s3", REGION)
    before = len(lab.log_entries(at_least=0, timeout=0))
    deleted = s3.delete_objects(Bucket="lab-allowed", Delete={"Objects": [{"Key": "del/a"}, {"Key": "del/b"}]})
    assert sorted(item["Key"] for item in deleted["Deleted"]) == ["del/a", "del/b"]
    entry = lab.log_entries(at_least=before + 1)[before]
    assert entry["decision"] == "allowed"
    assert [(r["action"], r["resource"]) for r in entry["requests"]] == [
        ("s3:DeleteObject", "arn:aws:s3:::lab-allowed/del/a"), ("s3:DeleteObject", "arn:aws:s3:::lab-allowed/del/b")]
    # A key the policy protects refuses the call: nothing is deleted (S3 would delete the others and
    # report the protected key's AccessDenied in the answer; the emulator refuses the whole call).
    direct.put_object(Bucket="lab-allowed", Key="del/c", Body=b"x")  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as denied:
        s3.delete_objects(Bucket="lab-allowed", Delete={"Objects": [{"Key": "del/c"}, {"Key": "protected/keep"}]})
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:DeleteObject on resource: arn:aws:s3:::lab-allowed/protected/keep" in \
        denied.value.response["Error"]["Message"]
    keys = {o["Key"] for o in direct.list_objects_v2(Bucket="lab-allowed")["Contents"]}  # type: ignore[attr-defined]
    assert {"del/c", "protected/keep"} <= keys and not {"del/a", "del/b"} & keys
    # With a version id, s3:DeleteObjectVersion is decided too.
    before = len(lab.log_entries(at_least=0, timeout=0))
    s3.delete_objects(Bucket="lab-allowed", Delete={"Objects": [{"Key": "del/c", "VersionId": "null"}]})
    entry = lab.log_entries(at_least=before + 1)[before]
    assert [r["action"] for r in entry["requests"]] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]


def test_hostile_delete_xml_gets_s3_s_error_and_reaches_nothing(lab: RunningEmulator, moto: MotoRecord) -> None:
    _direct_s3(moto).put_object(Bucket="lab-allowed", Key="victim", Body=b"x")  # type: ignore[attr-defined]
    mark = moto.mark()
    body = (b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>victim</s3:Key>'
            b"</s3:Object></s3:Delete>")
    fields = [("Host", lab.url.removeprefix("http://")), ("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest()),
              ("Content-Type", "application/xml")]
    signed = sign_fields("POST", "/lab-allowed?delete", fields, body, lab.credentials, service="s3", region=REGION)
    status, _, answer = send_raw(lab.url, "POST", "/lab-allowed?delete", signed, body)
    assert status == 400 and b"<Code>InvalidRequest</Code>" in answer
    assert moto.since(mark) == []
