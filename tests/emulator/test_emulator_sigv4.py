"""SigV4 verification against botocore's own signer: good, tampered, expired, skewed, presigned."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from accesspath.emulator.sigv4 import (
    SignatureProblem, check_time, parse_query_pairs, signed_parts, verify_signature,
)
from emulator_helpers import sign

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
URL = "http://127.0.0.1:4566"


def _verify(method: str, path: str, query: str, headers: dict[str, str], body: bytes | None,
            secret: str = SECRET) -> None:
    lowered: dict[str, list[str]] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), []).append(value)
    first = {k: v[0] for k, v in lowered.items()}
    pairs = parse_query_pairs(query)
    parts = signed_parts(first, pairs)
    verify_signature(method, path, pairs, lowered, parts, secret, body)


def _with_host(headers: dict[str, str]) -> dict[str, str]:
    return {"Host": "127.0.0.1:4566", **headers}


def test_a_botocore_signed_json_request_verifies() -> None:
    body = b'{"clusters": ["test-dev-cluster"]}'
    headers = sign("POST", URL + "/", service="ecs", region="ap-northeast-1", access_key="AKIDEXAMPLE",
                   secret=SECRET, body=body, headers={"X-Amz-Target": "X.DescribeClusters"})
    _verify("POST", "/", "", _with_host(headers), body)


def test_query_strings_and_odd_paths_verify() -> None:
    headers = sign("GET", URL + "/a%20b/./c/?Action=GetCallerIdentity&Version=2011-06-15&z=1&a=%2F", service="sts",
                   region="us-east-1", access_key="AKID", secret=SECRET)
    _verify("GET", "/a%20b/./c/", "Action=GetCallerIdentity&Version=2011-06-15&z=1&a=%2F", _with_host(headers), b"")


@pytest.mark.parametrize("tamper", ["body", "signature", "header", "secret", "query"])
def test_any_tampering_breaks_the_signature(tamper: str) -> None:
    body = b'{"clusters": ["test-dev-cluster"]}'
    headers = _with_host(sign("POST", URL + "/?x=1", service="ecs", region="ap-northeast-1", access_key="AKID",
                              secret=SECRET, body=body, headers={"X-Amz-Target": "X.DescribeClusters"}))
    query, secret = "x=1", SECRET
    if tamper == "body":
        body = b'{"clusters": ["prod"]}'
    elif tamper == "signature":
        headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    elif tamper == "header":
        headers["X-Amz-Target"] = "X.DeleteCluster"
    elif tamper == "secret":
        secret = SECRET + "x"
    else:
        query = "x=2"
    with pytest.raises(SignatureProblem) as problem:
        _verify("POST", "/", query, headers, body, secret)
    assert problem.value.kind == "mismatch"


def test_s3_payload_hash_is_taken_from_the_header_and_checked_against_a_buffered_body() -> None:
    body = b"object bytes"
    headers = _with_host(sign("PUT", URL + "/bucket/key", service="s3", region="us-east-1", access_key="AKID",
                              secret=SECRET, body=body, s3=True))
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    _verify("PUT", "/bucket/key", "", headers, None)        # streamed: the header value is what is signed
    _verify("PUT", "/bucket/key", "", headers, body)
    with pytest.raises(SignatureProblem) as problem:
        _verify("PUT", "/bucket/key", "", headers, b"other bytes")
    assert problem.value.kind == "payload-mismatch"


@pytest.mark.parametrize("value", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
def test_unsigned_and_streaming_payload_values_are_covered_by_the_signature(value: str) -> None:
    headers = _with_host(sign("PUT", URL + "/bucket/key", service="s3", region="us-east-1", access_key="AKID",
                              secret=SECRET, headers={"X-Amz-Content-SHA256": value}, s3=True))
    _verify("PUT", "/bucket/key", "", headers, None)
    headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD" if value != "UNSIGNED-PAYLOAD" else "x"
    with pytest.raises(SignatureProblem):
        _verify("PUT", "/bucket/key", "", headers, None)


def test_presigned_s3_urls_verify_and_expire() -> None:
    request = AWSRequest(method="GET", url=URL + "/bucket/some%20key.txt", headers={})
    S3SigV4QueryAuth(Credentials("AKID", SECRET, "TOKEN"), "s3", "us-east-1", expires=60).add_auth(request)
    path, _, query = request.url.removeprefix(URL).partition("?")
    headers = {"Host": "127.0.0.1:4566"}
    _verify("GET", path, query, headers, None)
    parts = signed_parts({"host": "127.0.0.1:4566"}, parse_query_pairs(query))
    assert parts.presigned and parts.security_token == "TOKEN" and parts.expires == 60
    check_time(parts, datetime.now(timezone.utc))
    with pytest.raises(SignatureProblem) as problem:
        check_time(parts, datetime.now(timezone.utc) + timedelta(seconds=120))
    assert problem.value.kind == "expired-url"
    tampered = query.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    with pytest.raises(SignatureProblem):
        _verify("GET", path, tampered, headers, None)


def test_presigned_requests_of_other_services_sign_the_body_hash() -> None:
    request = AWSRequest(method="GET", url=URL + "/?Action=GetCallerIdentity&Version=2011-06-15", headers={})
    SigV4QueryAuth(Credentials("AKID", SECRET), "sts", "us-east-1", expires=60).add_auth(request)
    path, _, query = request.url.removeprefix(URL).partition("?")
    _verify("GET", path, query, {"Host": "127.0.0.1:4566"}, b"")


def test_clock_skew_over_fifteen_minutes_is_refused() -> None:
    headers = sign("POST", URL + "/", service="ecs", region="us-east-1", access_key="AKID", secret=SECRET)
    parts = signed_parts({k.lower(): v for k, v in headers.items()}, [])
    now = datetime.now(timezone.utc)
    check_time(parts, now + timedelta(minutes=14))
    for delta in (timedelta(minutes=16), timedelta(minutes=-16)):
        with pytest.raises(SignatureProblem) as problem:
            check_time(parts, now + delta)
        assert problem.value.kind == "skewed"


@pytest.mark.parametrize("authorization, kind", [
    ("AWS AKID:signature", "malformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ecs/aws4_request", "malformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/2025/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=ab", "malformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ecs/other, SignedHeaders=host, Signature=ab", "malformed"),
    ("AWS4-HMAC-SHA256 garbage", "malformed"),
])
def test_malformed_authorization_headers_are_named(authorization: str, kind: str) -> None:
    with pytest.raises(SignatureProblem) as problem:
        signed_parts({"authorization": authorization, "x-amz-date": "20250101T000000Z"}, [])
    assert problem.value.kind == kind


def test_no_signature_at_all_is_missing() -> None:
    with pytest.raises(SignatureProblem) as problem:
        signed_parts({}, [])
    assert problem.value.kind == "missing"


def test_credential_scope_date_must_match_the_request_date() -> None:
    with mock.patch("botocore.auth.datetime") as fake:
        fake.datetime.now.return_value = datetime(2025, 1, 1, 23, 59, 59, tzinfo=timezone.utc)
        fake.datetime.utcnow.return_value = datetime(2025, 1, 1, 23, 59, 59)
        headers = sign("POST", URL + "/", service="ecs", region="us-east-1", access_key="AKID", secret=SECRET)
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["x-amz-date"] = "20250102T000001Z"
    parts = signed_parts(lowered, [])
    with pytest.raises(SignatureProblem) as problem:
        check_time(parts, datetime(2025, 1, 2, 0, 0, 1, tzinfo=timezone.utc))
    assert problem.value.kind == "mismatch"
