"""Engine benchmark: decisions per second, policy compile cost, CLI cold start.

Run:  python benchmarks/bench_engine.py            (about 20 s)
      python benchmarks/bench_engine.py --quick    (about 3 s, smaller counts)

The workload is what an ECS task's request meets: an identity policy of 48 statements (most with
conditions), a permissions boundary, a VPC endpoint policy and a resource policy, compiled once;
requests cycle over 64 action x resource pairs and two callers. "decisions_uncached" turns the
per-policy-set decision cache off, so every request walks the policies; "decisions_cached" is the
default configuration, where repeated requests are answered from the cache. Results print as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from accesspath import AuthorizationRequest, PolicySet, PolicyType, RequestContext, authorize, parse_policy
from accesspath.engine import ContextValue, principal_from_arn

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
SERVICES = ["s3", "sqs", "dynamodb", "logs", "ecs", "kms", "secretsmanager", "ssm"]
VERBS = ["Get", "Put", "List", "Describe", "Delete", "Create"]


def identity_policy() -> dict:
    statements = []
    for i in range(48):
        service = SERVICES[i % len(SERVICES)]
        verb = VERBS[i % len(VERBS)]
        statement = {
            "Sid": f"S{i}",
            "Effect": "Deny" if i % 16 == 15 else "Allow",
            "Action": [f"{service}:{verb}*", f"{service}:Tag{verb}?"],
            "Resource": [f"arn:aws:{service}:{REGION}:{ACCOUNT}:thing{i}/*",
                         f"arn:aws:{service}:*:{ACCOUNT}:app-${{aws:PrincipalTag/team}}-*"],
        }
        if i % 3 == 0:
            statement["Condition"] = {"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d", "vpce-9z8y7x"]},
                                      "Bool": {"aws:SecureTransport": "true"}}
        elif i % 3 == 1:
            statement["Condition"] = {"IpAddressIfExists": {"aws:VpcSourceIp": ["10.0.0.0/16", "10.1.0.0/16"]},
                                      "ForAllValues:StringLike": {"aws:TagKeys": ["team", "env-*"]}}
        statements.append(statement)
    statements.append({"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app:*"})
    return {"Version": "2012-10-17", "Statement": statements}


BOUNDARY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": [f"{s}:*" for s in SERVICES], "Resource": "*"}]}
ENDPOINT = {"Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}]}
RESOURCE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-task"},
     "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def workload() -> list[AuthorizationRequest]:
    callers = [principal_from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/app-task/0123456789abcdef"),
               principal_from_arn(f"arn:aws:iam::{ACCOUNT}:user/deployer")]
    context = RequestContext.of({
        "aws:SourceVpce": "vpce-0a1b2c3d", "aws:SecureTransport": "true", "aws:VpcSourceIp": "10.0.3.7",
        "aws:PrincipalTag/team": "blue", "aws:TagKeys": ContextValue(("team", "env-prod"), multivalued=True),
    })
    requests = []
    for i in range(64):
        service = SERVICES[i % len(SERVICES)]
        verb = VERBS[(i // 2) % len(VERBS)]
        resource = (f"arn:aws:{service}:{REGION}:{ACCOUNT}:thing{i % 48}/item" if i % 2 == 0
                    else f"arn:aws:{service}:{REGION}:{ACCOUNT}:app-blue-{i}")
        requests.append(AuthorizationRequest(callers[i % 2], f"{service}:{verb}Object", resource, context))
    return requests


def policy_set() -> PolicySet:
    return PolicySet.of(
        identity=[parse_policy(json.dumps(identity_policy()), policy_id="identity")],
        permissions_boundary=[parse_policy(json.dumps(BOUNDARY), policy_type=PolicyType.PERMISSIONS_BOUNDARY)],
        vpc_endpoint=[parse_policy(json.dumps(ENDPOINT), policy_type=PolicyType.VPC_ENDPOINT)],
        resource=[parse_policy(json.dumps(RESOURCE), policy_type=PolicyType.RESOURCE)],
    )


def bench_decisions(total: int, *, cached: bool) -> dict:
    policies = policy_set()
    if not cached:
        policies = replace(policies, decision_cache_size=0)
    requests = workload()
    for request in requests:  # warm the per-policy indexes, as a long-running process would
        authorize(request, policies)
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    n = len(requests)
    for i in range(total):
        result = authorize(requests[i % n], policies)
        outcomes[result.decision.value] = outcomes.get(result.decision.value, 0) + 1
    elapsed = time.perf_counter() - start
    return {"decisions": total, "seconds": round(elapsed, 3), "decisions_per_second": round(total / elapsed),
            "outcomes": outcomes}


def bench_explain(total: int) -> dict:
    policies = policy_set()
    requests = workload()
    start = time.perf_counter()
    for i in range(total):
        authorize(requests[i % len(requests)], policies, explain=True)
    elapsed = time.perf_counter() - start
    return {"decisions": total, "decisions_per_second": round(total / elapsed)}


def bench_compile(rounds: int) -> dict:
    text = json.dumps(identity_policy(), indent=2)
    start = time.perf_counter()
    for _ in range(rounds):
        parse_policy(text)
    elapsed = time.perf_counter() - start
    return {"statements": 49, "bytes": len(text), "milliseconds_per_policy": round(elapsed / rounds * 1000, 3)}


def bench_cold_start(rounds: int) -> dict:
    example = Path(__file__).resolve().parent.parent / "examples" / "simulate" / "seed000-ecs-endpoint.json"
    timings = {}
    for label, argv in (("help", ["--help"]), ("simulate", ["simulate", str(example)])):
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "accesspath", *argv], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            samples.append(time.perf_counter() - start)
        timings[label] = {"median_seconds": round(statistics.median(samples), 3)}
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    report = {
        "python": sys.version.split()[0],
        "decisions_uncached": bench_decisions(300_000 // scale, cached=False),
        "decisions_cached": bench_decisions(300_000 // scale, cached=True),
        "decisions_with_explain": bench_explain(20_000 // scale),
        "compile": bench_compile(200 // scale),
        "cli_cold_start": bench_cold_start(max(3, 10 // scale)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
