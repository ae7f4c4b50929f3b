"""Emulator overhead: N concurrent clients x M calls through the emulator vs directly to the upstream.

    python benchmarks/bench_emulator.py [--clients 200] [--calls 50] [--upstream stub|moto]

The upstream is a canned-response stub (default: an asyncio server answering ListClusters at once,
so the figures show what the emulator adds rather than moto's own queue) or moto's server. Besides
the concurrent run, one client makes 500 calls in a row, which shows the added latency without
queueing. The upstream and the emulator (``accesspath serve`` on seed 000) run as separate processes on 127.0.0.1; the
clients are threads of this process, each replaying one request it signed (SigV4 accepts replays
within 15 minutes), so client-side signing does not count. Prints JSON: throughput and latency
percentiles of both runs, the added latency (via - direct at p50 and p99) and the error count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED000 = str(ROOT / "examples/seed000-ecs-endpoint-policy/template.yaml")
BODY = b"{}"


# A canned ECS upstream: answers every request at once with ListClusters' response (keep-alive).
STUB = """
import asyncio
BODY = b'{"clusterArns": ["arn:aws:ecs:ap-northeast-1:123456789012:cluster/test-dev-cluster"]}'
HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/x-amz-json-1.1\\r\\nx-amzn-RequestId: stub\\r\\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\\r\\n\\r\\n")
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(HEAD + BODY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _signed_headers(port: int, key: str, secret: str, token: str | None) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=BODY, headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
        "Content-Type": "application/x-amz-json-1.1", "Host": f"127.0.0.1:{port}"})
    SigV4Auth(Credentials(key, secret, token), "ecs", "ap-northeast-1").add_auth(request)
    return dict(request.headers.items())


def _run(port: int, headers: dict[str, str], clients: int, calls: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        start_gate.wait()
        for _ in range(calls):
            began = time.perf_counter()
            try:
                connection.request("POST", "/", BODY, headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if not ok:
                    with lock:
                        statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - began)
            if not ok:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {"calls": len(ordered), "errors": errors[0], "seconds": round(elapsed, 3),
            "callsPerSecond": round(len(ordered) / elapsed, 1),
            "p50Ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99Ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
            "meanMs": round(statistics.fmean(ordered) * 1000, 2), "errorStatuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--upstream", choices=("stub", "moto"), default="stub")
    args = parser.parse_args()
    python = sys.executable
    moto_port = _free_port()
    moto = subprocess.Popen([python, "-c", STUB.replace("PORT", str(moto_port))] if args.upstream == "stub" else
                            [python, "-c", f"""
import time, boto3
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port={moto_port}, verbose=False)
server.start()
boto3.client("ecs", endpoint_url="http://127.0.0.1:{moto_port}", region_name="ap-northeast-1",
             aws_access_key_id="a", aws_secret_access_key="b").create_cluster(clusterName="test-dev-cluster")
print("ready", flush=True)
time.sleep(3600)
"""], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    serve = None
    try:
        assert moto.stdout is not None and moto.stdout.readline().strip() == "ready"
        serve = subprocess.Popen([python, "-m", "accesspath", "serve", SEED000, "--region", "ap-northeast-1",
                                  "--from", "AdminInstance", "--upstream", f"http://127.0.0.1:{moto_port}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert serve.stdout is not None
        ready = json.loads(serve.stdout.readline())
        emulator_port = int(ready["endpoint"].rsplit(":", 1)[1])
        creds = ready["credentials"]
        via_headers = _signed_headers(emulator_port, creds["AccessKeyId"], creds["SecretAccessKey"],
                                      creds["SessionToken"])
        direct_headers = _signed_headers(moto_port, "direct", "direct", None)
        _run(moto_port, direct_headers, 10, 10)      # warm up both
        _run(emulator_port, via_headers, 10, 10)
        direct = _run(moto_port, direct_headers, args.clients, args.calls)
        via = _run(emulator_port, via_headers, args.clients, args.calls)
        direct_one = _run(moto_port, direct_headers, 1, 500)
        via_one = _run(emulator_port, via_headers, 1, 500)
        errors = direct["errors"] + via["errors"] + direct_one["errors"] + via_one["errors"]
        print(json.dumps({
            "upstream": args.upstream, "clients": args.clients, "callsPerClient": args.calls,
            "call": "ecs ListClusters (allowed, seed 000)", "cpus": os.cpu_count(),
            "concurrent": {"direct": direct, "viaEmulator": via,
                           "addedLatencyMs": {"p50": round(via["p50Ms"] - direct["p50Ms"], 2),
                                              "p99": round(via["p99Ms"] - direct["p99Ms"], 2)}},
            "sequential": {"direct": direct_one, "viaEmulator": via_one,
                           "addedLatencyMs": {"p50": round(via_one["p50Ms"] - direct_one["p50Ms"], 2),
                                              "p99": round(via_one["p99Ms"] - direct_one["p99Ms"], 2)}},
            "errors": errors,
        }, indent=2))
        return 0 if errors == 0 else 1
    finally:
        for process in (serve, moto):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
