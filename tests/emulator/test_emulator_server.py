"""The emulator's HTTP layer with a recording upstream: what is refused never reaches the upstream."""

from __future__ import annotations

import hashlib
import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from accesspath.emulator import ContainerCredentialsServer, RunningServer, check_listen_address
from accesspath.errors import UsageError
from emulator_helpers import (
    SEED000, S3_TEMPLATE, RecordingUpstream, RunningEmulator, ecs_headers, raw_request, running_emulator, sign,
)

LIST = b"{}"


@pytest.fixture
def upstream() -> RecordingUpstream:
    return RecordingUpstream()


@pytest.fixture
def ecs_emulator(upstream: RecordingUpstream) -> Iterator[RunningEmulator]:
    with running_emulator([SEED000], "AdminInstance", upstream, region="ap-northeast-1") as running:
        yield running


@pytest.fixture
def s3_emulator(upstream: RecordingUpstream) -> Iterator[RunningEmulator]:
    with running_emulator([S3_TEMPLATE], "Service", upstream, region="us-east-1") as running:
        yield running


def _still_up(running: RunningEmulator) -> None:
    status, _, _ = raw_request(running.url, "POST", "/", ecs_headers(running.url, "ListClusters", LIST,
                                                                    running.credentials), LIST)
    assert status == 200


def test_an_allowed_call_is_forwarded_with_its_original_headers(ecs_emulator: RunningEmulator,
                                                                upstream: RecordingUpstream) -> None:
    headers = ecs_headers(ecs_emulator.url, "ListClusters", LIST, ecs_emulator.credentials)
    status, response_headers, body = raw_request(ecs_emulator.url, "POST", "/", headers, LIST)
    assert (status, body) == (200, b'{"clusterArns": []}')
    [(request, data)] = upstream.received
    assert data == LIST and dict(request.headers)["Authorization"] == headers["Authorization"]
    [entry] = ecs_emulator.log_entries()
    assert entry["decision"] == "allowed" and entry["call"] == {"service": "ecs", "operation": "ListClusters"}
    assert entry["requests"][0]["path"]["kind"] == "interface-endpoint"


def test_a_replayed_request_is_just_a_request(ecs_emulator: RunningEmulator, upstream: RecordingUpstream) -> None:
    headers = ecs_headers(ecs_emulator.url, "ListClusters", LIST, ecs_emulator.credentials)
    for _ in range(2):
        assert raw_request(ecs_emulator.url, "POST", "/", headers, LIST)[0] == 200
    assert len(upstream.received) == 2


def test_a_denied_call_gets_aws_s_json_error_and_never_reaches_the_upstream(
        ecs_emulator: RunningEmulator, upstream: RecordingUpstream) -> None:
    body = b'{"clusters": ["test-dev-cluster"]}'
    status, headers, data = raw_request(ecs_emulator.url, "POST", "/",
                                        ecs_headers(ecs_emulator.url, "DescribeClusters", body, ecs_emulator.credentials),
                                        body)
    assert status == 400 and headers["x-amzn-requestid"]
    error = json.loads(data)
    assert error["__type"] == "AccessDeniedException"
    assert error["message"].endswith("is not authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:"
                                     "ap-northeast-1:123456789012:cluster/test-dev-cluster because no VPC endpoint"
                                     " policy allows the ecs:DescribeClusters action")
    assert upstream.received == []
    [entry] = ecs_emulator.log_entries()
    assert (entry["decision"], entry["status"], entry["requests"][0]["gate"]) == ("implicitDeny", 400, "vpc-endpoint")


def test_an_unreachable_call_answers_a_request_timeout(ecs_emulator: RunningEmulator,
                                                      upstream: RecordingUpstream) -> None:
    # Seed 000's subnets have no logs endpoint and no route to the internet.
    body = b'{"logGroupName": "g", "logStreamName": "s", "logEvents": []}'
    headers = sign("POST", ecs_emulator.url + "/", service="logs", region="ap-northeast-1",
                   credentials=ecs_emulator.credentials, body=body,
                   headers={"X-Amz-Target": "Logs_20140328.PutLogEvents", "Content-Type": "application/x-amz-json-1.1"})
    status, _, data = raw_request(ecs_emulator.url, "POST", "/", headers, body)
    assert status == 504 and json.loads(data)["__type"] == "RequestTimeoutException"
    assert "cannot reach AWS" in json.loads(data)["message"]
    assert upstream.received == []
    assert ecs_emulator.log_entries()[0]["decision"] == "unreachable"


@pytest.mark.parametrize("case", ["no-signature", "malformed", "tampered", "unknown-key", "wrong-token",
                                  "expired-credentials", "skewed", "unknown-service", "unknown-operation",
                                  "garbage-body", "oversized-headers", "bad-content-length"])
def test_bad_requests_get_the_right_error_and_reach_nothing(case: str, ecs_emulator: RunningEmulator,
                                                            upstream: RecordingUpstream) -> None:
    url, creds = ecs_emulator.url, ecs_emulator.credentials
    body = LIST
    headers = ecs_headers(url, "ListClusters", body, creds)
    expected = {"no-signature": "MissingAuthenticationTokenException", "malformed": "IncompleteSignatureException",
                "tampered": "InvalidSignatureException", "unknown-key": "UnrecognizedClientException",
                "wrong-token": "UnrecognizedClientException", "expired-credentials": "ExpiredTokenException",
                "skewed": "InvalidSignatureException", "unknown-service": "UnknownOperationException",
                "unknown-operation": "UnknownOperationException", "garbage-body": "SerializationException",
                "oversized-headers": "ValidationException", "bad-content-length": "ValidationException"}[case]
    if case == "no-signature":
        del headers["Authorization"]
    elif case == "malformed":
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=nonsense"
    elif case == "tampered":
        headers["Authorization"] = headers["Authorization"][:-6] + "abcdef"
    elif case == "unknown-key":
        headers = sign("POST", url + "/", service="ecs", region="ap-northeast-1", access_key="ASIANOTKNOWN",
                       secret="x", body=body, headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
    elif case == "wrong-token":
        headers = sign("POST", url + "/", service="ecs", region="ap-northeast-1", access_key=creds.access_key_id,
                       secret=creds.secret_access_key, token="forged", body=body,
                       headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
    elif case == "expired-credentials":
        expired = replace(creds, access_key_id="ASIAEXPIREDEXAMPLE", expiration=datetime.now(timezone.utc)
                          - timedelta(minutes=1))
        ecs_emulator.emulator.credentials.add(expired)
        headers = ecs_headers(url, "ListClusters", body, expired)
    elif case == "skewed":
        headers["X-Amz-Date"] = "20200101T000000Z"
    elif case == "unknown-service":
        headers = sign("POST", url + "/", service="nosuchservice", region="ap-northeast-1", credentials=creds, body=body)
    elif case == "unknown-operation":
        headers = ecs_headers(url, "LaunchRockets", body, creds)
    elif case == "garbage-body":
        body = b"\x00\x01garbage{"
        headers = ecs_headers(url, "ListClusters", body, creds)
    elif case == "oversized-headers":
        headers.update({f"X-Padding-{i}": "p" * 4000 for i in range(12)})
    elif case == "bad-content-length":
        headers["Content-Length"] = "-5"
    status, _, data = raw_request(url, "POST", "/", headers, body)
    assert status in (400, 403), data
    assert json.loads(data)["__type"] == expected
    assert upstream.received == [] and upstream.started == 0
    _still_up(ecs_emulator)


def test_headers_over_http_server_s_line_limit_are_refused_and_the_server_stays_up(
        ecs_emulator: RunningEmulator, upstream: RecordingUpstream) -> None:
    host, port = ecs_emulator.server.address
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 431")
    assert upstream.started == 0
    _still_up(ecs_emulator)


def test_a_client_that_disconnects_mid_body_reaches_nothing(s3_emulator: RunningEmulator,
                                                            upstream: RecordingUpstream) -> None:
    body = b"x" * 200_000
    headers = sign("PUT", s3_emulator.url + "/accesspath-emulator-data/part", service="s3", region="us-east-1",
                   credentials=s3_emulator.credentials, body=body, s3=True)
    headers["Content-Length"] = str(len(body))
    host, port = s3_emulator.server.address
    with socket.create_connection((host, port), timeout=5) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"PUT /accesspath-emulator-data/part HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode()
                     + body[:50_000])
        time.sleep(0.2)
    deadline = time.time() + 5
    while time.time() < deadline and not s3_emulator.log_entries():
        time.sleep(0.05)
    assert upstream.received == []                  # the upstream never got a whole body
    assert s3_emulator.log_entries()[-1]["status"] == 499
    _still_up_s3(s3_emulator, upstream)


def _still_up_s3(running: RunningEmulator, upstream: RecordingUpstream) -> None:
    headers = sign("GET", running.url + "/accesspath-emulator-data/k", service="s3", region="us-east-1",
                   credentials=running.credentials, s3=True)
    before = len(upstream.received)
    assert raw_request(running.url, "GET", "/accesspath-emulator-data/k", headers)[0] == 200
    assert len(upstream.received) == before + 1


def test_an_s3_body_that_does_not_match_its_hash_is_never_completed_upstream(
        s3_emulator: RunningEmulator, upstream: RecordingUpstream) -> None:
    body = b"y" * 300_000
    headers = sign("PUT", s3_emulator.url + "/accesspath-emulator-data/obj", service="s3", region="us-east-1",
                   credentials=s3_emulator.credentials, body=body, s3=True)
    forged = b"z" * len(body)
    status, _, data = raw_request(s3_emulator.url, "PUT", "/accesspath-emulator-data/obj", headers, forged)
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in data
    assert upstream.received == []
    assert hashlib.sha256(forged).hexdigest() != headers["X-Amz-Content-SHA256"]
    _still_up_s3(s3_emulator, upstream)


def test_s3_denials_and_auth_errors_use_s3_s_error_format(s3_emulator: RunningEmulator,
                                                         upstream: RecordingUpstream) -> None:
    path = "/accesspath-emulator-other/k"
    headers = sign("GET", s3_emulator.url + path, service="s3", region="us-east-1",
                   credentials=s3_emulator.credentials, s3=True)
    status, response_headers, data = raw_request(s3_emulator.url, "GET", path, headers)
    assert status == 403 and data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>')
    assert response_headers["x-amz-request-id"].encode() in data
    headers["Authorization"] = headers["Authorization"].replace("Signature=", "Signature=0")
    status, _, data = raw_request(s3_emulator.url, "GET", path, headers)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in data
    assert upstream.received == []


def test_listen_addresses_must_be_loopback_unless_allowed() -> None:
    check_listen_address("127.0.0.1", allow_remote=False)
    check_listen_address("::1", allow_remote=False)
    with pytest.raises(UsageError):
        check_listen_address("0.0.0.0", allow_remote=False)
    check_listen_address("0.0.0.0", allow_remote=True)


def test_the_container_credentials_endpoint_checks_its_token(ecs_emulator: RunningEmulator) -> None:
    server = ContainerCredentialsServer(("127.0.0.1", 0), ecs_emulator.credentials, token="right-token")
    with RunningServer(server):
        def get(path: str, token: str | None) -> tuple[int, dict[str, str]]:
            request = urllib.request.Request(f"http://127.0.0.1:{server.server_address[1]}{path}")
            if token is not None:
                request.add_header("Authorization", token)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        assert get(server.path_prefix, None)[0] == 401
        assert get(server.path_prefix, "wrong-token")[0] == 403
        assert get("/v2/credentials/other", "right-token")[0] == 404
        status, body = get(server.path_prefix, "right-token")
        assert status == 200 and body["AccessKeyId"].startswith("ASIA") and body["Token"]
        assert body["Expiration"].endswith("Z") and body["RoleArn"].endswith(":role/cm-chadain")

        from botocore.credentials import ContainerProvider
        provider = ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.full_uri,
                                              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "right-token"})
        frozen = provider.load().get_frozen_credentials()
        assert frozen.access_key == ecs_emulator.credentials.access_key_id


def test_signature_version_2_requests_to_s3_are_refused_in_s3_s_format(s3_emulator: RunningEmulator,
                                                                        upstream: RecordingUpstream) -> None:
    # boto3's default S3 presigner (and old clients) use SigV2; the emulator verifies SigV4 only,
    # but the refusal must still be the XML an S3 client can read.
    path = "/accesspath-emulator-data/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=abc%3D&Expires=4102444800"
    status, _, data = raw_request(s3_emulator.url, "GET", path, {})
    assert status in (400, 403) and data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')
    status, _, data = raw_request(s3_emulator.url, "GET", "/accesspath-emulator-data/k",
                                  {"Authorization": "AWS AKIDEXAMPLE:abc="})
    assert status in (400, 403) and b"<Error><Code>" in data and b"__type" not in data
    assert upstream.received == []
