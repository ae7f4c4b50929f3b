"""End to end with moto's server as the upstream: the AWS CLI, boto3 and `accesspath run` through the emulator."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from accesspath.emulator import HttpUpstream, KnownCredentials
from emulator_helpers import SEED000, SEED004, S3_TEMPLATE, running_emulator

moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _direct(moto_url: str, service: str, region: str) -> object:
    return boto3.client(service, endpoint_url=moto_url, region_name=region, aws_access_key_id="direct",
                        aws_secret_access_key="direct")


def _aws_cli(tmp_path: Path, credentials: KnownCredentials, endpoint: str, region: str,
             *words: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {credentials.access_key_id}\naws_secret_access_key ="
        f" {credentials.secret_access_key}\naws_session_token = {credentials.session_token}\n")
    (tmp_path / "config").write_text(f"[default]\nregion = {region}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_CONFIG_FILE=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *words],
                          env=env, capture_output=True, text=True, timeout=60)


DENIED = ("is not authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:ap-northeast-1:123456789012:"
          "cluster/test-dev-cluster because no VPC endpoint policy allows the ecs:DescribeClusters action")


@pytest.mark.parametrize("allowed_action", ["ecs:ListClusters", "ecs:DescribeClusters"])
def test_seed000_with_the_aws_cli_and_boto3(allowed_action: str, moto_url: str, tmp_path: Path) -> None:
    _direct(moto_url, "ecs", "ap-northeast-1").create_cluster(clusterName="test-dev-cluster")  # type: ignore[attr-defined]
    with running_emulator([SEED000], "AdminInstance", HttpUpstream(moto_url), region="ap-northeast-1",
                          parameters={"AllowedAction": allowed_action}) as running:
        listed = _aws_cli(tmp_path, running.credentials, running.url, "ap-northeast-1", "ecs", "list-clusters")
        described = _aws_cli(tmp_path, running.credentials, running.url, "ap-northeast-1", "ecs", "describe-clusters",
                             "--clusters", "test-dev-cluster")
        if allowed_action == "ecs:ListClusters":
            assert listed.returncode == 0, listed.stderr
            assert "cluster/test-dev-cluster" in json.loads(listed.stdout)["clusterArns"][0]
            assert described.returncode != 0
            assert "An error occurred (AccessDeniedException) when calling the DescribeClusters operation: User:" \
                   " arn:aws:sts::123456789012:assumed-role/cm-chadain/" in described.stderr
            assert DENIED in described.stderr
        else:
            assert listed.returncode != 0 and "(AccessDeniedException)" in listed.stderr
            assert "ecs:ListClusters" in listed.stderr
            assert described.returncode == 0, described.stderr
            assert json.loads(described.stdout)["clusters"][0]["clusterName"] == "test-dev-cluster"

        ecs = running.boto3_client("ecs", "ap-northeast-1")
        if allowed_action == "ecs:ListClusters":
            assert ecs.list_clusters()["clusterArns"]
            with pytest.raises(ClientError) as denied:
                ecs.describe_clusters(clusters=["test-dev-cluster"])
            assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
            assert DENIED in denied.value.response["Error"]["Message"]
        else:
            assert ecs.describe_clusters(clusters=["test-dev-cluster"])["clusters"]
            with pytest.raises(ClientError):
                ecs.list_clusters()
        entries = running.log_entries(at_least=4)
        assert sorted(e["call"]["operation"] for e in entries) == ["DescribeClusters"] * 2 + ["ListClusters"] * 2
        assert {e["decision"] for e in entries} == {"allowed", "implicitDeny"}


def test_seed004_put_log_events_with_the_aws_cli(moto_url: str, tmp_path: Path) -> None:
    logs = _direct(moto_url, "logs", "us-east-1")
    for group in ("logs-test-allowed", "logs-test-denied"):
        logs.create_log_group(logGroupName=group)  # type: ignore[attr-defined]
        logs.create_log_stream(logGroupName=group, logStreamName="app")  # type: ignore[attr-defined]
    with running_emulator([SEED004], "LogsInstance", HttpUpstream(moto_url), region="us-east-1") as running:
        results = {group: _aws_cli(tmp_path, running.credentials, running.url, "us-east-1", "logs", "put-log-events",
                                   "--log-group-name", group, "--log-stream-name", "app",
                                   "--log-events", f"timestamp={int(time.time() * 1000)},message=hello")
                   for group in ("logs-test-allowed", "logs-test-denied")}
        assert results["logs-test-allowed"].returncode == 0, results["logs-test-allowed"].stderr
        denied = results["logs-test-denied"]
        assert denied.returncode != 0 and "(AccessDeniedException)" in denied.stderr
        assert "logs:PutLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:logs-test-denied" \
               in denied.stderr
        events = logs.get_log_events(logGroupName="logs-test-allowed", logStreamName="app")["events"]  # type: ignore[attr-defined]
        assert [e["message"] for e in events] == ["hello"]
        assert logs.get_log_events(logGroupName="logs-test-denied", logStreamName="app")["events"] == []  # type: ignore[attr-defined]


def test_a_large_s3_object_goes_both_ways_byte_for_byte(moto_url: str) -> None:
    direct = _direct(moto_url, "s3", "us-east-1")
    for bucket in ("accesspath-emulator-data", "accesspath-emulator-other"):
        direct.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    data = os.urandom(32 * 1024 * 1024)
    with running_emulator([S3_TEMPLATE], "Service", HttpUpstream(moto_url), region="us-east-1") as running:
        s3 = running.boto3_client("s3", "us-east-1", signature_version="s3v4")
        s3.put_object(Bucket="accesspath-emulator-data", Key="big/single", Body=data)
        assert s3.get_object(Bucket="accesspath-emulator-data", Key="big/single")["Body"].read() == data
        s3.upload_fileobj(io.BytesIO(data), "accesspath-emulator-data", "big/multipart")   # multipart upload
        downloaded = io.BytesIO()
        s3.download_fileobj("accesspath-emulator-data", "big/multipart", downloaded)       # ranged GETs
        assert downloaded.getvalue() == data
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "accesspath-emulator-data",
                                                              "Key": "big/single"}, ExpiresIn=60)
        import urllib.request
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == data
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket="accesspath-emulator-other", Key="x", Body=b"x")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert "KeyCount" not in direct.list_objects_v2(Bucket="accesspath-emulator-other") or \
            direct.list_objects_v2(Bucket="accesspath-emulator-other")["KeyCount"] == 0  # type: ignore[attr-defined]
        operations = {e["call"]["operation"] for e in running.log_entries(at_least=6)}
        assert {"PutObject", "GetObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"} <= operations


APP = """
import sys, boto3
session = boto3.Session()
key = session.get_credentials().get_frozen_credentials().access_key
s3 = session.client("s3")
s3.put_object(Bucket="accesspath-emulator-data", Key="from-app", Body=b"hello from the task")
body = s3.get_object(Bucket="accesspath-emulator-data", Key="from-app")["Body"].read()
try:
    s3.put_object(Bucket="accesspath-emulator-other", Key="from-app", Body=b"x")
    denied = "no"
except s3.exceptions.ClientError as error:
    denied = error.response["Error"]["Code"]
print(key[:4], body.decode(), denied)
sys.exit(7)
"""


def test_accesspath_run_gives_the_app_the_task_role(moto_url: str, tmp_path: Path) -> None:
    direct = _direct(moto_url, "s3", "us-east-1")
    for bucket in ("accesspath-emulator-data", "accesspath-emulator-other"):
        direct.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    app = tmp_path / "app.py"
    app.write_text(APP)
    log = tmp_path / "decisions.jsonl"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIASHOULDNOTBEUSED", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_PROFILE": "nope"}
    done = subprocess.run([sys.executable, "-m", "accesspath", "run", S3_TEMPLATE, "--from", "Service", "--upstream",
                           moto_url, "--log", str(log), "--", sys.executable, str(app)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 7, done.stderr
    assert done.stdout.split() == ["ASIA", "hello", "from", "the", "task", "AccessDenied"]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {e["principal"] for e in entries} == {
        "arn:aws:sts::123456789012:assumed-role/emulator-app-task-role/a172cedcae47474b615c54d510a5d84a"}
    assert [e["decision"] for e in entries] == ["allowed", "allowed", "implicitDeny"]


def test_accesspath_serve_prints_its_endpoint_and_stops_on_sigint(moto_url: str, tmp_path: Path) -> None:
    _direct(moto_url, "ecs", "ap-northeast-1").create_cluster(clusterName="test-dev-cluster")  # type: ignore[attr-defined]
    process = subprocess.Popen([sys.executable, "-m", "accesspath", "serve", SEED000, "--region", "ap-northeast-1",
                                "--from", "AdminInstance", "--upstream", moto_url, "--log", str(tmp_path / "log")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        creds = ready["credentials"]
        assert creds["AccessKeyId"].startswith("ASIA") and ready["endpoint"].startswith("http://127.0.0.1:")
        ecs = boto3.client("ecs", endpoint_url=ready["endpoint"], region_name="ap-northeast-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
        assert ecs.list_clusters()["clusterArns"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    entry = json.loads((tmp_path / "log").read_text().splitlines()[0])
    assert entry["caller"] == {"kind": "instance", "id": "AdminInstance"} and entry["status"] == 200


def test_serve_refuses_a_remote_listen_address(moto_url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "accesspath", "serve", SEED000, "--from", "AdminInstance",
                           "--upstream", moto_url, "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--allow-remote" in done.stderr
