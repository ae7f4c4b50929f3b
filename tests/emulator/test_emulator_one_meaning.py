"""One request, one meaning (issue 17, observations 1, 2, 3, 6 and 8): each request a security review
sent to make the emulator decide one call while moto ran another, sent again through the emulator
to moto's server. Each is refused (or decided as what moto runs), and moto never executes what the
decision log did not allow.

The requests are validly signed (``sign_fields`` signs every field, repeats included): the
refusals below are for the ambiguity, not for a bad signature.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from accesspath.cli.run_cmd import child_environment
from accesspath.emulator import HttpUpstream
from emulator_helpers import LAB_TEMPLATE, RunningEmulator, running_emulator, send_raw, sign_fields

pytest.importorskip("moto.server")
from moto_recorder import MotoRecord, recording_moto_server  # noqa: E402

REGION = "us-east-1"
ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoRecord]:
    with recording_moto_server() as record:
        direct = {service: boto3.client(service, endpoint_url=record.url, region_name=REGION,
                                        aws_access_key_id="direct", aws_secret_access_key="direct")
                  for service in ("ecs", "s3")}
        direct["ecs"].create_cluster(clusterName="victim")
        for bucket in ("lab-allowed", "lab-denied"):
            direct["s3"].create_bucket(Bucket=bucket)
        yield record


@pytest.fixture(scope="module")
def lab(moto: MotoRecord) -> Iterator[RunningEmulator]:
    with running_emulator([LAB_TEMPLATE], "LabRole", HttpUpstream(moto.url), region=REGION) as running:
        yield running


def _authority(running: RunningEmulator) -> str:
    return running.url.removeprefix("http://")


def _send(running: RunningEmulator, method: str, target: str, fields: list[tuple[str, str]], body: bytes = b"", *,
          service: str, **options: bool) -> tuple[int | None, dict[str, str], bytes]:
    if not any(name.lower() == "host" for name, _ in fields):
        fields = [("Host", _authority(running)), *fields]
    signed = sign_fields(method, target, fields, body, running.credentials, service=service, region=REGION)
    logged = len(running.log_entries(at_least=0, timeout=0))
    answer = send_raw(running.url, method, target, signed, body, **options)
    running.log_entries(at_least=logged + 1)     # written once the answer is sent: wait, so tests stay apart
    return answer


def _last_entry(running: RunningEmulator, count_before: int) -> dict[str, object]:
    entries = running.log_entries(at_least=count_before + 1)
    assert len(entries) == count_before + 1, entries[count_before:]
    return entries[-1]


def _executed(moto: MotoRecord, mark: int, service: str) -> list[tuple[str, str | None]]:
    return [(e.operation, e.resource) for e in moto.since(mark) if e.service == service]


def _clusters(moto: MotoRecord) -> list[str]:
    ecs = boto3.client("ecs", endpoint_url=moto.url, region_name=REGION, aws_access_key_id="direct",
                       aws_secret_access_key="direct")
    return [arn.rsplit("/", 1)[1] for arn in ecs.list_clusters()["clusterArns"]]


# -- observation 1: ECS (JSON protocol) ---------------------------------------------------------

def _ecs_fields(*extra: tuple[str, str], target: str = "ListClusters") -> list[tuple[str, str]]:
    return [("X-Amz-Target", f"{ECS_TARGET}.{target}"), ("Content-Type", "application/x-amz-json-1.1"), *extra]


@pytest.mark.parametrize("case", ["action-in-query", "two-targets", "form-body"])
def test_observation_1_an_ecs_call_moto_would_read_as_delete_cluster_is_refused(
        case: str, lab: RunningEmulator, moto: MotoRecord) -> None:
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    if case == "action-in-query":
        status, _, data = _send(lab, "POST", "/?Action=DeleteCluster&cluster=victim", _ecs_fields(), b"{}",
                                service="ecs")
    elif case == "two-targets":
        status, _, data = _send(lab, "POST", "/", _ecs_fields(("X-Amz-Target", f"{ECS_TARGET}.DeleteCluster")),
                                b'{"cluster": "victim"}', service="ecs")
    else:
        fields = [("X-Amz-Target", f"{ECS_TARGET}.ListClusters"),
                  ("Content-Type", "application/x-www-form-urlencoded")]
        status, _, data = _send(lab, "POST", "/", fields, b"Action=DeleteCluster&cluster=victim", service="ecs")
    assert status == 400
    assert json.loads(data)["__type"] == "ValidationException"
    entry = _last_entry(lab, before)
    assert entry["decision"] == "error" and entry["status"] == 400
    assert _executed(moto, mark, "ecs") == []
    assert "victim" in _clusters(moto)


def test_observation_1_a_json_body_is_forwarded_as_decided_so_no_form_reader_finds_an_action(
        lab: RunningEmulator, moto: MotoRecord) -> None:
    # moto, finding no query string, reads a JSON body as a form too: a string holding
    # '&Action=DeleteCluster&' would be an Action there. The emulator forwards the decided JSON
    # (only ListClusters' members, '&' and '=' escaped), which moto reads as ListClusters.
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    body = b'{"cluster": "victim", "nextToken": "&Action=DeleteCluster&cluster=victim&"}'
    status, _, _ = _send(lab, "POST", "/", _ecs_fields(), body, service="ecs")
    entry = _last_entry(lab, before)
    assert (entry["call"], entry["decision"]) == ({"service": "ecs", "operation": "ListClusters"}, "allowed")
    assert {operation for operation, _ in _executed(moto, mark, "ecs")} == {"ListClusters"}
    assert status is not None and "victim" in _clusters(moto)


# -- observation 2: IAM (query protocol) --------------------------------------------------------

FORM = "application/x-www-form-urlencoded; charset=utf-8"
CREATE = b"Action=CreateUser&UserName=evil&Version=2010-05-08"


@pytest.mark.parametrize("case", ["two-actions", "upper-case-form-and-url-action", "multipart-and-url-action",
                                  "multipart"])
def test_observation_2_a_query_call_moto_would_read_as_create_user_is_refused(
        case: str, lab: RunningEmulator, moto: MotoRecord) -> None:
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    target, fields, body = "/", [("Content-Type", FORM)], b""
    if case == "two-actions":
        body = CREATE + b"&Action=ListUsers"
    elif case == "upper-case-form-and-url-action":
        target, fields, body = ("/?Action=ListUsers&Version=2010-05-08",
                                [("Content-Type", "APPLICATION/X-WWW-FORM-URLENCODED")], CREATE)
    else:
        boundary = "b0undary"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                 for name, value in (("Action", "CreateUser"), ("UserName", "evil"), ("Version", "2010-05-08"))]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        fields = [("Content-Type", f"multipart/form-data; boundary={boundary}")]
        if case == "multipart-and-url-action":
            target = "/?Action=ListUsers&Version=2010-05-08"
    status, _, data = _send(lab, "POST", target, fields, body, service="iam")
    assert status == 400 and b"<Code>InvalidQueryParameter</Code>" in data
    assert _last_entry(lab, before)["decision"] == "error"
    assert _executed(moto, mark, "iam") == []


def test_observation_2_an_upper_case_form_type_is_read_as_a_form(lab: RunningEmulator, moto: MotoRecord) -> None:
    # Media types are case-insensitive (RFC 9110 §8.3.1): the body is the form, CreateUser is decided.
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    status, _, data = _send(lab, "POST", "/", [("Content-Type", "Application/X-WWW-Form-URLEncoded")], CREATE,
                            service="iam")
    assert status == 403 and b"<Code>AccessDenied</Code>" in data and b"iam:CreateUser" in data
    entry = _last_entry(lab, before)
    assert (entry["call"]["operation"], entry["decision"]) == ("CreateUser", "implicitDeny")
    assert _executed(moto, mark, "iam") == []
    status, _, data = _send(lab, "POST", "/", [("Content-Type", "Application/X-WWW-Form-URLEncoded")],
                            b"Action=ListUsers&Version=2010-05-08", service="iam")
    assert status == 200 and b"ListUsersResult" in data
    assert _executed(moto, mark, "iam") == [("ListUsers", None)]


# -- observation 3: S3 Host ---------------------------------------------------------------------

def _s3_fields(body: bytes, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    import hashlib

    return [("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest()), *extra]


def _keys(moto: MotoRecord, bucket: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=moto.url, region_name=REGION, aws_access_key_id="direct",
                      aws_secret_access_key="direct")
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_observation_3_a_host_that_does_not_name_the_endpoint_is_refused(lab: RunningEmulator,
                                                                         moto: MotoRecord) -> None:
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    body = b"secret overwrite"
    status, _, data = _send(lab, "PUT", "/lab-allowed/k1", [("Host", "lab-denied.example"), *_s3_fields(body)], body,
                            service="s3")
    assert status == 400 and b"<Code>InvalidRequest</Code>" in data and b"does not name this endpoint" in data
    assert _last_entry(lab, before)["decision"] == "error"
    assert _executed(moto, mark, "s3") == [] and "k1" not in _keys(moto, "lab-denied")


def test_observation_3_virtual_hosted_names_below_the_endpoint_name_the_bucket(lab: RunningEmulator,
                                                                               moto: MotoRecord) -> None:
    port = _authority(lab).rsplit(":", 1)[1]
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    body = b"data"
    # The bucket is the Host's: lab-denied, whatever the path says.
    status, _, data = _send(lab, "PUT", "/lab-allowed/k1", [("Host", f"lab-denied.localhost:{port}"),
                                                            *_s3_fields(body)], body, service="s3")
    assert status == 403 and b"<Code>AccessDenied</Code>" in data
    entry = _last_entry(lab, before)
    assert entry["requests"][0]["resource"] == "arn:aws:s3:::lab-denied/lab-allowed/k1"
    assert _executed(moto, mark, "s3") == []
    # Allowed: forwarded in path style, so moto writes where the decision said.
    status, _, _ = _send(lab, "PUT", "/vh-key", [("Host", f"lab-allowed.localhost:{port}"), *_s3_fields(body)], body,
                         service="s3")
    assert status == 200
    assert _executed(moto, mark, "s3") == [("PutObject", "lab-allowed/vh-key")]
    assert "vh-key" in _keys(moto, "lab-allowed") and "vh-key" not in _keys(moto, "lab-denied")


# -- observation 8: request framing ---------------------------------------------------------------

@pytest.mark.parametrize("framing", ["two-lengths", "length-and-chunked", "length-not-digits", "gzip-chunked"])
def test_observation_8_ambiguous_framing_is_refused_and_the_connection_closed(
        framing: str, lab: RunningEmulator, moto: MotoRecord) -> None:
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    body = b"{}"
    smuggled = (b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + ECS_TARGET.encode()
                + b".DeleteCluster\r\nContent-Length: 22\r\n\r\n{\"cluster\": \"victim\"}")
    extra = {"two-lengths": [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + len(smuggled)))],
             "length-and-chunked": [("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")],
             "length-not-digits": [("Content-Length", "+2")],
             "gzip-chunked": [("Transfer-Encoding", "gzip, chunked")]}[framing]
    status, headers, data = _send(lab, "POST", "/", _ecs_fields(*extra), body + smuggled, service="ecs",
                                  content_length=False)
    assert status in (400, 501) and json.loads(data)["__type"] == "ValidationException"
    assert headers.get("connection") == "close"
    assert _last_entry(lab, before)["decision"] == "error"
    assert _executed(moto, mark, "ecs") == [] and "victim" in _clusters(moto)


# -- observation 6: `accesspath run` clears endpoint settings ------------------------------------

def test_observation_6_run_clears_every_endpoint_variable_it_does_not_set() -> None:
    operator = {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_ECS": "http://127.0.0.1:1",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_USE_FIPS_ENDPOINT": "true",
                "AWS_S3_ENDPOINT": "http://127.0.0.1:1", "aws_endpoint_url_sqs": "http://127.0.0.1:1",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "PATH": "/usr/bin", "AWS_MAX_ATTEMPTS": "2"}
    env = child_environment(operator, endpoint="http://127.0.0.1:9", credentials_uri="http://127.0.0.1:8/c",
                            token="t", region=REGION)
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert not [name for name in env if "ENDPOINT" in name.upper() and name != "AWS_ENDPOINT_URL"]
    assert env["PATH"] == "/usr/bin" and env["AWS_MAX_ATTEMPTS"] == "2"


APP = """
import boto3, os
s3 = boto3.client("s3")
s3.put_object(Bucket="lab-allowed", Key="from-run", Body=b"through the emulator")
try:
    s3.put_object(Bucket="lab-denied", Key="from-run", Body=b"x")
    print("not-denied")
except s3.exceptions.ClientError as error:
    print(error.response["Error"]["Code"])
"""


def test_observation_6_a_service_endpoint_in_the_operator_s_shell_does_not_bypass_the_emulator(
        moto: MotoRecord, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    log = tmp_path / "decisions.jsonl"
    # Were the variables passed on, boto3 would go to moto directly or (ignoring configured endpoints)
    # to AWS: the proxy that does not exist keeps such a failure offline.
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": moto.url, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
           "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
    done = subprocess.run([sys.executable, "-m", "accesspath", "run", LAB_TEMPLATE, "--from", "LabRole", "--region",
                           REGION, "--upstream", moto.url, "--log", str(log), "--", sys.executable, str(app)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["AccessDenied"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["call"]["operation"], e["decision"]) for e in entries] == [("PutObject", "allowed"),
                                                                        ("PutObject", "implicitDeny")]
    assert "from-run" not in _keys(moto, "lab-denied")


def test_an_upstream_that_is_not_a_url_is_a_one_line_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "accesspath", "serve", LAB_TEMPLATE, "--from", "LabRole",
                           "--upstream", "http://["], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["accesspath: error: --upstream 'http://[' is not a URL: Invalid IPv6"
                                                " URL"]


# -- S3 copy sources --------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["//lab-allowed/lab-denied/secret", "lab-allowed/x#/../lab-denied/secret",
                                    "lab-allowed/lab-denied/secret?x=1"])
def test_a_copy_source_another_reader_takes_apart_differently_is_refused(
        source: str, lab: RunningEmulator, moto: MotoRecord) -> None:
    # Read as a URL (moto does), '//lab-allowed/lab-denied/secret' is host lab-allowed and path
    # /lab-denied/secret: the copy would be decided as a read of lab-allowed and copy lab-denied's object.
    boto3.client("s3", endpoint_url=moto.url, region_name=REGION, aws_access_key_id="direct",
                 aws_secret_access_key="direct").put_object(Bucket="lab-denied", Key="secret", Body=b"secret")
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    status, _, data = _send(lab, "PUT", "/lab-allowed/stolen", [*_s3_fields(b""), ("X-Amz-Copy-Source", source)],
                            service="s3")
    assert status == 400 and b"<Code>InvalidRequest</Code>" in data and b"x-amz-copy-source" in data
    assert _last_entry(lab, before)["decision"] == "error"
    assert _executed(moto, mark, "s3") == [] and "stolen" not in _keys(moto, "lab-allowed")


def test_an_empty_body_that_does_not_match_its_signed_hash_is_refused_before_it_is_sent(
        lab: RunningEmulator, moto: MotoRecord) -> None:
    # Found by the property test: with nothing to hold back, the upstream ran the request as soon as
    # it had the head, while the emulator refused it for the hash.
    before, mark = len(lab.log_entries(at_least=0, timeout=0)), moto.mark()
    status, _, data = _send(lab, "GET", "/lab-allowed/k", _s3_fields(b"a body that is not sent"), service="s3")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in data
    assert _last_entry(lab, before)["decision"] == "error"
    assert _executed(moto, mark, "s3") == []
