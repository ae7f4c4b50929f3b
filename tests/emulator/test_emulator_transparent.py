"""Transparent mode end to end: clients that call AWS by name — the AWS CLI v1's sqs commands with a real
queue URL, boto3 with no endpoint settings, curl — reach moto through ``accesspath run``'s proxy when the
task may make the call, and get AWS's own wire-format denial when not, with nothing reaching moto.

moto sits behind a recorder that keeps every request the emulator forwards (the "upstream" of the
emulator is the recorder); the template is tests/emulator/transparent.yaml (a Fargate task whose role
may send to the queue "orders" only, reaching SQS through an interface endpoint; with Internet=true its
subnet also routes to a NAT gateway). No test reaches the internet: AWS host names are answered by the
emulator itself, and the only tunnel to a host outside AWS goes to a server on 127.0.0.1.

The denial texts are AWS's: "User: ARN is not authorized to perform: ACTION on resource: ARN because no
identity-based policy allows the ACTION action" (IAM User Guide, "Troubleshoot access denied error
messages", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html), in SQS's
JSON protocol as ``AccessDeniedException`` (Amazon SQS API Reference, "Common Errors").
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

moto_server = pytest.importorskip("moto.server")

TEMPLATE = str(Path(__file__).with_name("transparent.yaml"))
REGION = "eu-west-1"
ACCOUNT = "123456789012"
ORDERS = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders"
AUDIT = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/audit"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/transparent-task-role/"
DENIED = (f"is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:{REGION}:{ACCOUNT}:audit because"
          " no identity-based policy allows the sqs:SendMessage action")


@dataclass
class UpstreamRecord:
    """Every request that reached the upstream (moto), as (method, path, operation, body)."""

    url: str = ""
    requests: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def operations(self) -> list[str]:
        with self.lock:
            return [operation for _, _, operation, _ in self.requests]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


@pytest.fixture(scope="module")
def upstream() -> Iterator[UpstreamRecord]:
    """moto's server, behind a recorder that forwards each request and keeps it."""
    moto = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_host, moto_port = moto.get_host_and_port()
    record = UpstreamRecord()

    class Recorder(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = b""
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = self.headers.get("X-Amz-Target", "") or f"{self.command} {self.path}"
            with record.lock:
                record.requests.append((self.command, self.path, operation, body))
            connection = http.client.HTTPConnection(moto_host, moto_port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body,
                                   headers={k: v for k, v in self.headers.items()
                                            if k.lower() not in ("content-length", "transfer-encoding")})
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                connection.close()

        do_GET = do_PUT = do_DELETE = do_HEAD = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    sqs = boto3.client("sqs", endpoint_url=f"http://{moto_host}:{moto_port}", region_name=REGION,
                       aws_access_key_id="direct", aws_secret_access_key="direct")
    for name in ("orders", "audit"):
        sqs.create_queue(QueueName=name)
    record.moto_sqs = sqs  # type: ignore[attr-defined]
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
        moto.stop()


def _drain(upstream: UpstreamRecord, queue: str) -> list[str]:
    """The bodies of the messages in a moto queue (read directly, not through the emulator)."""
    sqs = upstream.moto_sqs  # type: ignore[attr-defined]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [message["Body"] for message in messages]


def _run(upstream: UpstreamRecord, tmp_path: Path, program: list[str], *, internet: bool = False,
         options: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess[str], list[dict[str, object]]]:
    log = tmp_path / "decisions.jsonl"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HTTPS_PROXY"] = "http://127.0.0.1:9"          # the operator's own proxy: replaced, never used
    env["NO_PROXY"] = ".amazonaws.com"                 # would let AWS calls bypass the emulator: replaced
    done = subprocess.run([sys.executable, "-m", "accesspath", "run", TEMPLATE, "--region", REGION,
                           "--param", f"Internet={str(internet).lower()}", "--from", "OrdersService",
                           "--upstream", upstream.url, "--log", str(log), *options, "--", *program],
                          env=env, capture_output=True, text=True, timeout=120)
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, entries


AWS_CLI_SCRIPT = f"""
set -u
python="$1"
"$python" -m awscli sqs send-message --queue-url {ORDERS} --message-body from-the-cli --output json
echo "allowed-status=$?"
"$python" -m awscli sqs send-message --queue-url {AUDIT} --message-body from-the-cli --output json
echo "denied-status=$?"
"""


def test_the_aws_cli_v1_sqs_with_a_real_queue_url_goes_through_the_proxy(upstream: UpstreamRecord,
                                                                         tmp_path: Path) -> None:
    # AWS_ENDPOINT_URL is set too, but the CLI v1 sends sqs calls to the queue URL's host unless
    # --endpoint-url is on its command line: only the proxy sees them.
    upstream.clear()
    done, entries = _run(upstream, tmp_path, ["sh", "-c", AWS_CLI_SCRIPT, "sh", sys.executable])
    assert done.returncode == 0, done.stderr
    assert "allowed-status=0" in done.stdout, done.stderr
    assert json.loads(done.stdout.split("allowed-status")[0])["MessageId"]
    assert "denied-status=254" in done.stdout or "denied-status=255" in done.stdout
    assert "An error occurred (AccessDeniedException) when calling the SendMessage operation: User: " + ROLE_SESSION in done.stderr
    assert DENIED in done.stderr
    # moto got the allowed call and nothing of the denied one
    assert upstream.operations() == ["AmazonSQS.SendMessage"]
    assert b"orders" in upstream.requests[0][3] and b"audit" not in upstream.requests[0][3]
    assert _drain(upstream, "orders") == ["from-the-cli"] and _drain(upstream, "audit") == []
    assert [(e["call"], e["decision"]) for e in entries] == [
        ({"service": "sqs", "operation": "SendMessage"}, "allowed"),
        ({"service": "sqs", "operation": "SendMessage"}, "implicitDeny")]


BOTO3_APP = """
import json, os, sys
import boto3
from botocore.config import Config

assert "AWS_ENDPOINT_URL" not in os.environ
results = {}
sqs = boto3.client("sqs", config=Config(retries={"max_attempts": 1}))
sqs.send_message(QueueUrl=sys.argv[1], MessageBody="from-boto3")
results["orders"] = "sent"
try:
    sqs.send_message(QueueUrl=sys.argv[2], MessageBody="from-boto3")
    results["audit"] = "sent"
except sqs.exceptions.ClientError as error:
    results["audit"] = [error.response["Error"]["Code"], error.response["Error"]["Message"]]
# A client signing for another region than the host's: the host and the credential scope disagree.
other = boto3.client("sqs", region_name="us-east-1", endpoint_url="https://sqs.eu-west-1.amazonaws.com",
                     config=Config(retries={"max_attempts": 1}))
try:
    other.send_message(QueueUrl=sys.argv[1], MessageBody="two-meanings")
    results["scope"] = "sent"
except other.exceptions.ClientError as error:
    results["scope"] = [error.response["Error"]["Code"], error.response["Error"]["Message"]]
# A plain-HTTP proxy request (absolute form) to an AWS host: decided the same way.
plain = boto3.client("sqs", endpoint_url="http://sqs.eu-west-1.amazonaws.com", config=Config(retries={"max_attempts": 1}))
plain.send_message(QueueUrl=sys.argv[1], MessageBody="over-plain-http")
results["plain"] = "sent"
results["ca"] = [os.environ["AWS_CA_BUNDLE"], oct(os.stat(os.path.dirname(os.environ["AWS_CA_BUNDLE"])).st_mode & 0o777)]
print(json.dumps(results))
"""


def test_boto3_with_no_endpoint_settings(upstream: UpstreamRecord, tmp_path: Path) -> None:
    upstream.clear()
    app = tmp_path / "app.py"
    app.write_text(BOTO3_APP)
    done, entries = _run(upstream, tmp_path, [sys.executable, str(app), ORDERS, AUDIT],
                         options=("--no-endpoint-url",))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["orders"] == "sent"
    code, message = results["audit"]
    assert code == "AccessDeniedException" and message.startswith("User: " + ROLE_SESSION) and DENIED in message
    code, message = results["scope"]
    assert code == "InvalidSignatureException"
    assert message.startswith("Credential should be scoped to a valid region, not 'us-east-1'.")
    # the CA's private directory existed (0700) while the program ran, and is gone now
    bundle, mode = results["ca"]
    assert mode == "0o700" and not os.path.exists(bundle) and not os.path.exists(os.path.dirname(bundle))
    assert results["plain"] == "sent"
    assert upstream.operations() == ["AmazonSQS.SendMessage", "AmazonSQS.SendMessage"]
    assert _drain(upstream, "orders") == ["from-boto3", "over-plain-http"] and _drain(upstream, "audit") == []
    assert [e["decision"] for e in entries] == ["allowed", "implicitDeny", "error", "allowed"]


CURL_APP = """
import json, os, subprocess, sys, urllib.request

# The task role's credentials from the container credentials endpoint, as an SDK would get them.
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                                 headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
    credentials = json.load(answer)
results = {}
for queue_url in sys.argv[2:4]:
    body = json.dumps({"QueueUrl": queue_url, "MessageBody": "from-curl"})
    done = subprocess.run([sys.argv[1], "-sS", "-w", "\\\\n%{http_code}", "--aws-sigv4", "aws:amz:eu-west-1:sqs",
                           "--user", credentials["AccessKeyId"] + ":" + credentials["SecretAccessKey"],
                           "-H", "X-Amz-Security-Token: " + credentials["Token"],
                           "-H", "X-Amz-Target: AmazonSQS.SendMessage",
                           "-H", "Content-Type: application/x-amz-json-1.0",
                           "--data-binary", body, "https://sqs.eu-west-1.amazonaws.com/"],
                          capture_output=True, text=True)
    results[queue_url.rsplit("/", 1)[1]] = [done.returncode, done.stdout, done.stderr]
outside = subprocess.run([sys.argv[1], "-sS", "-i", "https://example.com/"], capture_output=True, text=True)
results["outside"] = [outside.returncode, outside.stdout, outside.stderr]
print(json.dumps(results))
"""


def _curl() -> str:
    """curl's path; without curl the test fails in CI (.ci/run installs Debian's curl) and is skipped elsewhere."""
    found = shutil.which("curl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("curl is not installed (.ci/run installs Debian's curl)")
        pytest.skip("curl is not installed (.ci/run installs Debian's curl)")
    return found


def test_curl_through_the_proxy(upstream: UpstreamRecord, tmp_path: Path) -> None:
    curl = _curl()
    upstream.clear()
    app = tmp_path / "curl_app.py"
    app.write_text(CURL_APP)
    done, entries = _run(upstream, tmp_path, [sys.executable, str(app), curl, ORDERS, AUDIT])
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    status, out, err = results["orders"]
    assert status == 0 and out.endswith("\n200"), (out, err)
    assert json.loads(out.rsplit("\n", 1)[0])["MessageId"]
    status, out, err = results["audit"]
    body, code = out.rsplit("\n", 1)
    assert code == "400" and json.loads(body)["__type"] == "AccessDeniedException", body
    assert DENIED in json.loads(body)["message"]
    # A host that is not AWS, from a subnet with no NAT or internet gateway: refused, with the reason.
    status, out, err = results["outside"]
    assert status != 0 and "HTTP/1.1 504" in out
    assert "example.com:443 is not an AWS endpoint and OrdersService cannot reach the internet" in out
    assert "no default route to a NAT or internet gateway" in out
    assert upstream.operations() == ["AmazonSQS.SendMessage"]
    assert _drain(upstream, "orders") == ["from-curl"] and _drain(upstream, "audit") == []
    assert [(e["decision"], e.get("connection")) for e in entries] == [
        ("allowed", None), ("implicitDeny", None), ("unreachable", "example.com:443")]


OUTSIDE_APP = """
import json, subprocess, sys
# NO_PROXY names 127.0.0.1 (the emulator's own address); --noproxy '' sends this one through the proxy.
done = subprocess.run([sys.argv[1], "-sS", "--noproxy", "", "-p", sys.argv[2]], capture_output=True, text=True)
print(json.dumps([done.returncode, done.stdout, done.stderr]))
"""


def test_a_host_outside_aws_is_tunnelled_when_the_subnet_routes_to_a_nat_gateway(upstream: UpstreamRecord,
                                                                                  tmp_path: Path) -> None:
    curl = _curl()
    class Page(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            body = b"outside page\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    app = tmp_path / "outside.py"
    app.write_text(OUTSIDE_APP)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/page"
        with_nat, _ = _run(upstream, tmp_path, [sys.executable, str(app), curl, url],
                           internet=True)
        without, _ = _run(upstream, tmp_path, [sys.executable, str(app), curl, url])
    finally:
        server.shutdown()
        server.server_close()
    assert json.loads(with_nat.stdout) == [0, "outside page\n", ""], with_nat.stderr
    status, _, err = json.loads(without.stdout)
    assert status != 0 and "CONNECT" in err and "504" in err


def test_serve_proxy_prints_how_to_use_it_and_removes_its_ca_when_stopped(upstream: UpstreamRecord,
                                                                          tmp_path: Path) -> None:
    from botocore.config import Config
    from botocore.exceptions import ClientError

    upstream.clear()
    process = subprocess.Popen([sys.executable, "-m", "accesspath", "serve", TEMPLATE, "--region", REGION,
                                "--from", "OrdersService", "--upstream", upstream.url, "--proxy"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        proxy = ready["proxy"]
        assert proxy["url"] == ready["endpoint"] and Path(proxy["caBundle"]).is_file()
        creds = ready["credentials"]
        sqs = boto3.client("sqs", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                           verify=proxy["caBundle"],
                           config=Config(proxies={"https": proxy["url"]}, retries={"max_attempts": 1}))
        assert sqs.send_message(QueueUrl=ORDERS, MessageBody="from-serve")["MessageId"]
        with pytest.raises(ClientError, match="AccessDeniedException"):
            sqs.send_message(QueueUrl=AUDIT, MessageBody="from-serve")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    err = process.stderr.read()  # type: ignore[union-attr]
    assert f"export HTTPS_PROXY={proxy['url']}" in err and f"export AWS_CA_BUNDLE={proxy['caBundle']}" in err
    assert not Path(proxy["caBundle"]).exists()
    assert upstream.operations() == ["AmazonSQS.SendMessage"]
    assert _drain(upstream, "orders") == ["from-serve"]
    assert urlsplit(proxy["url"]).hostname == "127.0.0.1"


def test_run_replaces_the_operators_proxy_and_ca_settings() -> None:
    from accesspath.cli.run_cmd import child_environment, proxy_environment

    operator = {"HTTPS_PROXY": "http://corporate:3128", "no_proxy": ".amazonaws.com", "ALL_PROXY": "socks5://x:1",
                "all_proxy": "socks5://x:1", "SSL_CERT_FILE": "/etc/corporate.pem", "AWS_CA_BUNDLE": "/x.pem",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "PATH": "/usr/bin"}
    proxy = proxy_environment("http://127.0.0.1:4566", bundle_file="/tmp/ca/bundle.pem", ca_file="/tmp/ca/ca.pem")
    env = child_environment(operator, endpoint=None, credentials_uri="http://127.0.0.1:8/c", token="t",
                            region=REGION, proxy=proxy)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        assert env[name] == "http://127.0.0.1:4566"
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1"
    assert "ALL_PROXY" not in env and "all_proxy" not in env and "AWS_ENDPOINT_URL" not in env
    for name in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        assert env[name] == "/tmp/ca/bundle.pem"
    assert env["NODE_EXTRA_CA_CERTS"] == "/tmp/ca/ca.pem" and env["PATH"] == "/usr/bin"
    with_endpoint = child_environment(operator, endpoint="http://127.0.0.1:4566", credentials_uri="http://127.0.0.1:8/c",
                                      token="t", region=REGION, proxy=proxy)
    assert with_endpoint["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"


S3_APP = """
import json, sys
import boto3
from botocore.config import Config

s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
results = {"endpoint": s3.meta.endpoint_url}
s3.put_object(Bucket="accesspath-emulator-data", Key="k", Body=b"via the proxy")
results["get"] = s3.get_object(Bucket="accesspath-emulator-data", Key="k")["Body"].read().decode()
try:
    s3.put_object(Bucket="accesspath-emulator-other", Key="k", Body=b"x")
    results["other"] = "written"
except s3.exceptions.ClientError as error:
    results["other"] = error.response["Error"]["Code"]
print(json.dumps(results))
"""


def test_s3_virtual_hosted_through_the_proxy(upstream: UpstreamRecord, tmp_path: Path) -> None:
    # tests/emulator/s3-gateway.yaml: the task role may use s3:* on accesspath-emulator-data only; boto3 in
    # us-east-1 names the bucket in the host (accesspath-emulator-data.s3.amazonaws.com, virtual-hosted).
    s3 = boto3.client("s3", endpoint_url=upstream.url, region_name="us-east-1", aws_access_key_id="direct",
                      aws_secret_access_key="direct")
    for bucket in ("accesspath-emulator-data", "accesspath-emulator-other"):
        s3.create_bucket(Bucket=bucket)
    upstream.clear()
    app = tmp_path / "s3_app.py"
    app.write_text(S3_APP)
    log = tmp_path / "s3.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-m", "accesspath", "run", str(Path(__file__).with_name("s3-gateway.yaml")),
                           "--region", "us-east-1", "--from", "Service", "--upstream", upstream.url, "--log", str(log),
                           "--no-endpoint-url", "--", sys.executable, str(app)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results == {"endpoint": "https://s3.amazonaws.com", "get": "via the proxy", "other": "AccessDenied"}
    # moto got the two calls on the data bucket, in path style, and nothing for the other bucket
    assert [(method, path) for method, path, _, _ in upstream.requests] == [
        ("PUT", "/accesspath-emulator-data/k"), ("GET", "/accesspath-emulator-data/k")]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["call"]["operation"], e["decision"]) for e in entries] == [
        ("PutObject", "allowed"), ("GetObject", "allowed"), ("PutObject", "implicitDeny")]


# -- one request, one meaning inside a tunnel (the emulator in this process, a recording upstream) ----------

def _through_tunnel(running: Any, connect_to: str, raw_request: bytes) -> tuple[int, dict[str, str], bytes]:
    """CONNECT ``connect_to`` through the emulator, end TLS with the run's CA, send ``raw_request``."""
    import socket
    import ssl

    host, _, port = running.url.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"CONNECT {connect_to} HTTP/1.1\r\nHost: {connect_to}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(running.emulator.proxy.authority.ca_file))
        with context.wrap_socket(sock, server_hostname=connect_to.rpartition(":")[0]) as tls:
            tls.sendall(raw_request)
            response = http.client.HTTPResponse(tls, method="POST")  # type: ignore[arg-type]
            response.begin()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


@pytest.fixture(scope="module")
def tunnelled() -> Iterator[Any]:
    from emulator_helpers import RecordingUpstream, running_emulator

    from accesspath.emulator.aws_hosts import aws_dns_suffixes
    from accesspath.emulator.connect_proxy import TransparentProxy
    from accesspath.emulator.run_authority import RunAuthority

    with RunAuthority(aws_dns_suffixes()) as authority, \
            running_emulator([TEMPLATE], "OrdersService", RecordingUpstream(), region=REGION) as running:
        running.emulator.proxy = TransparentProxy(authority, running.emulator.env, None)
        yield running


def _sqs_request(running: Any, host: str, *, region: str = REGION, service: str = "sqs") -> bytes:
    from emulator_helpers import sign_fields

    body = json.dumps({"QueueUrl": ORDERS, "MessageBody": "x"}).encode()
    fields = sign_fields("POST", "/", [("Host", host), ("X-Amz-Target", "AmazonSQS.SendMessage"),
                                       ("Content-Type", "application/x-amz-json-1.0")],
                         body, running.credentials, service=service, region=region)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields)
    return (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def test_a_tunnel_serves_only_its_own_host(tunnelled: Any) -> None:
    upstream = tunnelled.emulator.upstream
    sqs_host = f"sqs.{REGION}.amazonaws.com"
    status, _, body = _through_tunnel(tunnelled, f"{sqs_host}:443", _sqs_request(tunnelled, sqs_host))
    assert status == 200 and len(upstream.received) == 1
    # Host names another endpoint than the tunnel's (SigV4 signs it, so the client means it): refused.
    other = "sqs.us-east-1.amazonaws.com"
    status, _, body = _through_tunnel(tunnelled, f"{sqs_host}:443", _sqs_request(tunnelled, other, region="us-east-1"))
    assert status == 400 and "is not the host this connection was opened to" in json.loads(body)["message"]
    # The credential scope names another region, or another service, than the host.
    status, _, body = _through_tunnel(tunnelled, f"{sqs_host}:443", _sqs_request(tunnelled, sqs_host,
                                                                                  region="us-east-1"))
    assert status == 400 and json.loads(body)["__type"] == "InvalidSignatureException"
    assert json.loads(body)["message"].startswith("Credential should be scoped to a valid region, not 'us-east-1'.")
    status, _, body = _through_tunnel(tunnelled, f"{sqs_host}:443", _sqs_request(tunnelled, sqs_host, service="ecs"))
    assert status == 400 and "Credential should be scoped to correct service: 'sqs'." in json.loads(body)["message"]
    assert len(upstream.received) == 1
