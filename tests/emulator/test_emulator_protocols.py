"""Service, operation and parameters for each wire protocol; errors every SDK parses as AWS's."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.parsers import create_parser

from accesspath.emulator.protocols import UnknownCall, identify, style_for_signing_name
from accesspath.emulator.wire_errors import error_response

JSON = {"content-type": "application/x-amz-json-1.1", "host": "127.0.0.1:4566"}


def test_json_protocol_ecs() -> None:
    call = identify("ecs", "POST", "/", [], {**JSON, "x-amz-target": "AmazonEC2ContainerServiceV20141113.DescribeClusters"},
                    b'{"clusters": ["test-dev-cluster"], "unknownField": 1}')
    assert (call.service, call.operation, dict(call.params)) == ("ecs", "DescribeClusters", {"clusters": ["test-dev-cluster"]})
    assert call.style.kind == "json" and call.style.json_version == "1.1"


def test_json_1_0_sqs_and_logs() -> None:
    call = identify("sqs", "POST", "/", [], {"x-amz-target": "AmazonSQS.SendMessage",
                                            "content-type": "application/x-amz-json-1.0"},
                    b'{"QueueUrl": "http://q/123456789012/jobs", "MessageBody": "x"}')
    assert (call.operation, call.style.json_version) == ("SendMessage", "1.0")
    call = identify("logs", "POST", "/", [], {**JSON, "x-amz-target": "Logs_20140328.PutLogEvents"},
                    b'{"logGroupName": "g", "logStreamName": "s", "logEvents": []}')
    assert call.params["logGroupName"] == "g"


def test_query_protocol_sts_from_body_and_query_string() -> None:
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    call = identify("sts", "POST", "/", [], headers,
                    b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s"
                    b"&Tags.member.1.Key=team&Tags.member.1.Value=blue")
    assert call.operation == "AssumeRole" and call.params["RoleArn"] == "arn:aws:iam::1:role/r"
    assert call.params["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert call.style.kind == "query" and call.style.xml_namespace == "https://sts.amazonaws.com/doc/2011-06-15/"
    call = identify("sts", "GET", "/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")], {}, b"")
    assert call.operation == "GetCallerIdentity"


@pytest.mark.parametrize("method, path, query, headers, operation, params", [
    ("GET", "/", [], {}, "ListBuckets", {}),
    ("GET", "/bucket", [], {}, "ListObjects", {"Bucket": "bucket"}),
    ("GET", "/bucket", [("list-type", "2")], {}, "ListObjectsV2", {"Bucket": "bucket"}),
    ("HEAD", "/bucket", [], {}, "HeadBucket", {"Bucket": "bucket"}),
    ("PUT", "/bucket/a/b%20c.txt", [], {}, "PutObject", {"Bucket": "bucket", "Key": "a/b c.txt"}),
    ("PUT", "/bucket/k", [("partNumber", "2"), ("uploadId", "u")], {}, "UploadPart",
     {"Bucket": "bucket", "Key": "k", "PartNumber": "2", "UploadId": "u"}),
    ("PUT", "/bucket/k", [], {"x-amz-copy-source": "src/k"}, "CopyObject", {"Bucket": "bucket", "Key": "k"}),
    ("POST", "/bucket/k", [("uploads", "")], {}, "CreateMultipartUpload", {"Bucket": "bucket", "Key": "k"}),
    ("GET", "/bucket", [("acl", "")], {}, "GetBucketAcl", {"Bucket": "bucket"}),
    ("GET", "/bucket/k", [], {}, "GetObject", {"Bucket": "bucket", "Key": "k"}),
])
def test_rest_xml_s3_path_style(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
                                operation: str, params: dict[str, str]) -> None:
    call = identify("s3", method, path, query, {"host": "127.0.0.1:4566", **headers}, None)
    assert call.operation == operation
    assert {k: v for k, v in call.params.items() if k in params} == params
    assert call.style.kind == "s3"


def test_rest_xml_s3_virtual_hosted_style_is_read_and_forwarded_as_path_style() -> None:
    call = identify("s3", "GET", "/dir/key.txt", [], {"host": "my-bucket.localhost:4566"}, None,
                    virtual_host_label="my-bucket")
    assert (call.operation, call.params["Bucket"], call.params["Key"]) == ("GetObject", "my-bucket", "dir/key.txt")
    assert call.forward_path == "/my-bucket/dir/key.txt"
    call = identify("s3", "GET", "/", [("list-type", "2")], {"host": "my-bucket.localhost:4566"}, None,
                    virtual_host_label="my-bucket")
    assert (call.operation, call.params["Bucket"], call.forward_path) == ("ListObjectsV2", "my-bucket", "/my-bucket")


def test_rest_json_lambda() -> None:
    call = identify("lambda", "POST", "/2015-03-31/functions/my-fn/invocations", [], {"host": "h"}, b'{"a": 1}')
    assert (call.service, call.operation, call.params["FunctionName"]) == ("lambda", "Invoke", "my-fn")
    assert call.style.kind == "rest-json"


@pytest.mark.parametrize("service, headers, body, kind", [
    ("ecs", {**JSON, "x-amz-target": "AmazonEC2ContainerServiceV20141113.NoSuchThing"}, b"{}", "operation"),
    ("ecs", {**JSON, "x-amz-target": "Logs_20140328.PutLogEvents"}, b"{}", "operation"),
    ("ecs", JSON, b"{}", "operation"),
    ("ecs", {**JSON, "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters"}, b"\xff\xfe garbage", "body"),
    ("ecs", {**JSON, "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters"}, b"[1, 2]", "body"),
    ("ecs", {**JSON, "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters"}, b'{"a": NaN}', "body"),
    ("sts", {"content-type": "application/x-www-form-urlencoded"}, b"Action=Nope&Version=1", "operation"),
    ("nosuchservice", {}, b"", "service"),
])
def test_unknown_operations_services_and_garbage(service: str, headers: dict[str, str], body: bytes,
                                                 kind: str) -> None:
    with pytest.raises(UnknownCall) as unknown:
        identify(service, "POST", "/", [], headers, body)
    assert unknown.value.kind == kind


def test_no_s3_route_matches_a_delete_of_the_service_root() -> None:
    with pytest.raises(UnknownCall):
        identify("s3", "DELETE", "/", [], {"host": "127.0.0.1"}, None)


def _parse_error(service: str, status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    parser = create_parser(model.metadata["protocol"])
    operation = model.operation_model(model.operation_names[0])
    parsed = parser.parse({"status_code": status, "headers": dict(headers), "body": body}, operation.output_shape)
    return parsed["Error"]


@pytest.mark.parametrize("service, kind, code, status", [
    ("ecs", "access-denied", "AccessDeniedException", 400),
    ("ecs", "mismatch", "InvalidSignatureException", 400),
    ("ecs", "unknown-key", "UnrecognizedClientException", 400),
    ("ecs", "expired-credentials", "ExpiredTokenException", 400),
    ("sqs", "access-denied", "AccessDeniedException", 400),
    ("sts", "access-denied", "AccessDenied", 403),
    ("sts", "mismatch", "SignatureDoesNotMatch", 403),
    ("sts", "unknown-key", "InvalidClientTokenId", 403),
    ("sts", "expired-credentials", "ExpiredToken", 400),
    ("s3", "access-denied", "AccessDenied", 403),
    ("s3", "mismatch", "SignatureDoesNotMatch", 403),
    ("s3", "unknown-key", "InvalidAccessKeyId", 403),
    ("s3", "expired-credentials", "ExpiredToken", 400),
    ("lambda", "access-denied", "AccessDeniedException", 403),
])
def test_botocore_reads_each_error_as_the_service_s(service: str, kind: str, code: str, status: int) -> None:
    style = style_for_signing_name(service, {})
    error = error_response(style, kind, "User: arn:aws:sts::1:assumed-role/r/s is not authorized", request_id="rid")
    assert error.status == status
    parsed = _parse_error(service, error.status, error.headers, error.body)
    assert parsed["Code"] == code
    assert parsed["Message"] == "User: arn:aws:sts::1:assumed-role/r/s is not authorized"


def test_the_json_access_denied_body_is_aws_s() -> None:
    error = error_response(style_for_signing_name("ecs", {}), "access-denied", "msg", request_id="r-1")
    assert json.loads(error.body) == {"__type": "AccessDeniedException", "message": "msg"}
    assert ("x-amzn-RequestId", "r-1") in error.headers
    s3 = error_response(style_for_signing_name("s3", {}), "access-denied", "msg", request_id="r-2")
    assert b"<Error><Code>AccessDenied</Code><Message>msg</Message><RequestId>r-2</RequestId></Error>" in s3.body
