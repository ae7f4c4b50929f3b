"""Re-signing forwarded requests for an upstream that checks signatures (create-signed-request.md).

The re-signed request must verify with the upstream credentials — checked with botocore's own
signer as the reference, independently of accesspath's verifier."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from accesspath.emulator.resign import UpstreamCredentials, load_upstream_credentials, resign
from accesspath.emulator.sigv4 import SignatureProblem
from accesspath.emulator.upstream import UpstreamRequest
from accesspath.errors import UsageError

NOW = datetime(2026, 11, 22, 6, 0, 0, tzinfo=timezone.utc)
UPSTREAM = UpstreamCredentials("AKIDUPSTREAM", "upstream-secret", "upstream-token")


def client_request(body: bytes = b"{}") -> UpstreamRequest:
    request = AWSRequest(method="POST", url="http://127.0.0.1:5555/", data=body, headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
        "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials("ASIACLIENT", "client-secret", "client-token"), "ecs", "ap-northeast-1").add_auth(request)
    headers = [(k, v) for k, v in request.headers.items()] + [("Host", "127.0.0.1:5555")]
    return UpstreamRequest("POST", "/", headers, body, len(body))


def expected_signature(forwarded: UpstreamRequest, body: bytes) -> str:
    headers = dict(forwarded.headers)
    reference = AWSRequest(method="POST", url="https://ecs.ap-northeast-1.amazonaws.com/", data=body, headers={
        "X-Amz-Target": headers["X-Amz-Target"], "Content-Type": headers["Content-Type"]})
    reference.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(UPSTREAM.access_key_id, UPSTREAM.secret_access_key, UPSTREAM.session_token),
                       "ecs", "ap-northeast-1")
    reference.headers["X-Amz-Date"] = headers["X-Amz-Date"]
    reference.headers["X-Amz-Security-Token"] = UPSTREAM.session_token
    canonical = signer.canonical_request(reference)
    return signer.signature(signer.string_to_sign(reference, canonical), reference)


def test_resigned_request_verifies_with_the_upstream_credentials() -> None:
    body = b'{"maxResults": 10}'
    forwarded = resign(client_request(body), "ecs.ap-northeast-1.amazonaws.com", UPSTREAM, NOW)
    headers = dict(forwarded.headers)
    assert headers["Host"] == "ecs.ap-northeast-1.amazonaws.com"
    assert headers["X-Amz-Date"] == "20261122T060000Z"
    assert headers["X-Amz-Security-Token"] == "upstream-token"
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDUPSTREAM/20261122/ap-northeast-1/ecs/aws4_request")
    assert "client-token" not in json.dumps(forwarded.headers)
    assert authorization.rsplit("Signature=", 1)[1] == expected_signature(forwarded, body)


def test_presigned_or_unsigned_requests_are_refused() -> None:
    plain = UpstreamRequest("GET", "/b/k?X-Amz-Signature=abc", [("Host", "x")], b"", 0)
    with pytest.raises(SignatureProblem):
        resign(plain, "s3.amazonaws.com", UPSTREAM, NOW)


def test_credentials_file(tmp_path) -> None:
    path = tmp_path / "up.json"
    path.write_text(json.dumps({"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T"}}))
    assert load_upstream_credentials(str(path)) == UpstreamCredentials("A", "S", "T")
    path.write_text("{}")
    with pytest.raises(UsageError, match="AccessKeyId and SecretAccessKey"):
        load_upstream_credentials(str(path))
