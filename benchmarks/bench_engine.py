"""Engine benchmark: decisions per second on unseen requests, compile cost, one-shot simulate, cold start.

Run:  python benchmarks/bench_engine.py            (about 40 s)
      python benchmarks/bench_engine.py --quick    (about 6 s, smaller counts)
      python benchmarks/bench_engine.py --peer /tmp/peer   (adds iam-simulate side by side)

The workload is what an ECS task's requests meet: an identity policy of 49 statements (two thirds
with conditions, a resource pattern with a policy variable in each), a permissions boundary, a VPC
endpoint policy and a resource policy. Actions are real ones of eight services and resources are
ARNs of the types those actions take, so the peer below accepts the same requests.

Every timed request is DISTINCT: its resource ARN has never been asked before, and its context
(source endpoint, TLS, source IP, tags) is drawn afresh, so no decision can come from a cache.
- ``decisions_distinct``: one long-running process; the policies are compiled once and have seen
  other requests for the same actions (the per-action index is warm), then N new requests are
  decided with the decision cache as configured by default and with it off.
- ``decisions_3000_cold``: 3,000 distinct requests against freshly parsed policies, so indexes start
  empty: what one ``simulate`` or ``audit`` run meets.
- ``compile``: parsing and validating the 49-statement policy from JSON text, and compiling it.
- ``simulate_one_shot``: ``accesspath.simulate`` on a simulate-custom-policy request per decision
  (policies parsed from text every time), and, with ``--peer DIR`` (a folder where
  ``npm install @cloud-copilot/iam-simulate`` was run, outside this repository), the peer's
  ``runSimulation`` on the same requests with the policies ``JSON.parse``d every time.

The 49-statement policy is 14 KB, over the 10,240 characters AWS stores for a customer policy, so it
is parsed as an AWS managed policy (``attachment="aws-managed"``), which no customer quota binds:
an over-quota policy is invalid and would make every request an implicit deny (fail closed).
Results print as JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from accesspath import AuthorizationRequest, PolicySet, PolicyType, RequestContext, authorize, parse_policy
from accesspath.engine import ContextValue, principal_from_arn
from accesspath.simulate import simulate

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "ap-northeast-1"
SERVICES = ["s3", "sqs", "dynamodb", "logs", "ecs", "kms", "secretsmanager", "ssm"]
VERBS = ["Get", "Put", "List", "Describe", "Delete", "Create"]

# Real actions of each service that take the resource type of ARNS[service] (the service
# authorization reference), so a simulator that checks actions and ARNs accepts every request.
ACTIONS = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "GetObjectTagging", "PutObjectTagging", "GetObjectAcl",
           "DeleteObjectTagging", "GetObjectVersion", "PutObjectAcl", "GetObjectAttributes"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility",
            "PurgeQueue", "GetQueueUrl", "ListQueueTags", "DeleteQueue", "CreateQueue"],
    "dynamodb": ["GetItem", "PutItem", "Query", "DeleteItem", "UpdateItem", "DescribeTable", "Scan",
                 "BatchGetItem", "ListTagsOfResource", "DeleteTable"],
    "logs": ["PutLogEvents", "GetLogEvents", "CreateLogStream", "DeleteLogStream"],
    "ecs": ["DescribeTasks", "StopTask", "ListTagsForResource", "TagResource"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey", "GetKeyPolicy", "ListResourceTags",
            "CreateGrant", "GetPublicKey"],
    "secretsmanager": ["GetSecretValue", "DescribeSecret", "PutSecretValue", "DeleteSecret", "GetResourcePolicy",
                       "ListSecretVersionIds"],
    "ssm": ["GetParameter", "GetParameters", "PutParameter", "DeleteParameter", "GetParameterHistory",
            "ListTagsForResource"],
}
ARNS = {
    "s3": "arn:aws:s3:::{name}/{key}",
    "sqs": "arn:aws:sqs:{region}:{account}:{name}",
    "dynamodb": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "logs": "arn:aws:logs:{region}:{account}:log-group:{name}:log-stream:{key}",
    "ecs": "arn:aws:ecs:{region}:{account}:task/{name}/{key}",
    "kms": "arn:aws:kms:{region}:{account}:key/{name}",
    "secretsmanager": "arn:aws:secretsmanager:{region}:{account}:secret:{name}",
    "ssm": "arn:aws:ssm:{region}:{account}:parameter/{name}/{key}",
}


def _arn(service: str, name: str, key: str = "*", account: str = ACCOUNT) -> str:
    return ARNS[service].format(region=REGION, account=account, name=name, key=key)


def identity_policy() -> dict:
    statements = []
    for i in range(48):
        service = SERVICES[i % len(SERVICES)]
        verb = VERBS[i % len(VERBS)]
        statement = {
            "Sid": f"S{i}",
            "Effect": "Deny" if i % 16 == 15 else "Allow",
            "Action": [f"{service}:{verb}*", f"{service}:Tag{verb}?"] + [
                f"{service}:{a}" for a in ACTIONS[service][i % 3::5]],
            "Resource": [_arn(service, f"thing{i}*"), _arn(service, "app-${aws:PrincipalTag/team}-*")],
        }
        if i % 3 == 0:
            statement["Condition"] = {"StringEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d", "vpce-9z8y7x"]},
                                      "Bool": {"aws:SecureTransport": "true"}}
        elif i % 3 == 1:
            statement["Condition"] = {"IpAddressIfExists": {"aws:VpcSourceIp": ["10.0.0.0/16", "10.1.0.0/16"]},
                                      "StringLike": {"aws:PrincipalTag/team": ["blue", "red*"]}}
        statements.append(statement)
    statements.append({"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app:*"})
    return {"Version": "2012-10-17", "Statement": statements}


BOUNDARY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": [f"{s}:*" for s in SERVICES if s != "ecs"], "Resource": "*"}]}
ENDPOINT = {"Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}},
    {"Effect": "Deny", "Principal": "*", "Action": ["s3:DeleteObject", "sqs:PurgeQueue"], "Resource": "*"}]}
RESOURCE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-task"},
     "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "s3:GetObject"], "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}

CALLERS = [f"arn:aws:sts::{ACCOUNT}:assumed-role/app-task/0123456789abcdef",
           f"arn:aws:sts::{ACCOUNT}:assumed-role/worker-task/fedcba9876543210",
           f"arn:aws:iam::{ACCOUNT}:user/deployer",
           f"arn:aws:iam::{ACCOUNT}:role/batch-runner"]


def request_specs(count: int, seed: int) -> list[dict]:
    """``count`` distinct requests: (caller, action, resource, context values), as plain data."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        team = rng.choice(("blue", "red", "green", None))
        if rng.random() < 0.6:
            # Aimed at one statement: its service, an action it names, its resources.
            k = rng.randrange(48)
            service = SERVICES[k % len(SERVICES)]
            named = [a for a in ACTIONS[service] if a.startswith(VERBS[k % len(VERBS)])] + ACTIONS[service][k % 3::5]
            action = f"{service}:{rng.choice(named)}"
            name = f"thing{k}-{seed}-{i}" if rng.random() < 0.5 else f"app-{team or 'blue'}-{seed}-{i}"
        else:
            service = rng.choice(SERVICES)
            action = f"{service}:{rng.choice(ACTIONS[service])}"
            name = f"app-{rng.choice(('blue', 'red', 'green'))}-{seed}-{i}"
        context: dict[str, str] = {
            "aws:SourceVpce": rng.choice(("vpce-0a1b2c3d", "vpce-9z8y7x", "vpce-0ffffff")),
            "aws:SecureTransport": "true" if rng.random() < 0.9 else "false",
            "aws:VpcSourceIp": f"10.{rng.randrange(3)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        }
        if team is not None:
            context["aws:PrincipalTag/team"] = team
        out.append({"caller": rng.choice(CALLERS), "action": action,
                    "resource": _arn(service, name, f"item-{i}"), "context": context})
    return out


def to_requests(specs: list[dict]) -> list[AuthorizationRequest]:
    callers = {arn: principal_from_arn(arn) for arn in CALLERS}
    return [AuthorizationRequest(callers[s["caller"]], s["action"], s["resource"],
                                 RequestContext.of({k: ContextValue((v,)) for k, v in s["context"].items()}))
            for s in specs]


def parsed_policies() -> dict:
    return {
        "identity": [parse_policy(json.dumps(identity_policy()), policy_id="identity", attachment="aws-managed")],
        "permissions_boundary": [parse_policy(json.dumps(BOUNDARY), policy_type=PolicyType.PERMISSIONS_BOUNDARY)],
        "vpc_endpoint": [parse_policy(json.dumps(ENDPOINT), policy_type=PolicyType.VPC_ENDPOINT)],
        "resource": [parse_policy(json.dumps(RESOURCE), policy_type=PolicyType.RESOURCE)],
    }


def _timed(requests: list[AuthorizationRequest], policies: PolicySet, outcomes: dict[str, int]) -> float:
    gc.collect()
    start = time.perf_counter()
    for request in requests:
        decision = authorize(request, policies).decision.value
        outcomes[decision] = outcomes.get(decision, 0) + 1
    return time.perf_counter() - start


def bench_distinct(total: int, chunk: int = 10_000) -> dict:
    """A long-running process: policies compiled once, then ``total`` requests none of which was
    seen before, with the default decision cache and with it off (interleaved chunk by chunk)."""
    parsed = parsed_policies()
    cached = PolicySet.of(**parsed)
    uncached = replace(PolicySet.of(**parsed), decision_cache_size=0)
    for request in to_requests(request_specs(2_000, seed=1)):  # the indexes have seen these actions
        authorize(request, cached)
        authorize(request, uncached)
    seconds = {"cache_on": 0.0, "cache_off": 0.0}
    outcomes: dict[str, int] = {}
    done = 0
    seed = 100
    while done < total:
        requests = to_requests(request_specs(min(chunk, total - done), seed=seed))
        seed += 1
        # Same requests to both sets, in alternating order, so load on the machine hits both alike.
        order = (("cache_on", cached), ("cache_off", uncached)) if seed % 2 else (
            ("cache_off", uncached), ("cache_on", cached))
        for label, policies in order:
            seconds[label] += _timed(requests, policies, outcomes if label == "cache_on" else {})
        done += len(requests)
    return {"decisions": total, "outcomes": outcomes,
            **{f"decisions_per_second_{label}": round(total / s) for label, s in seconds.items()}}


def bench_cold(count: int, rounds: int) -> dict:
    """``count`` distinct requests against freshly parsed (so never indexed) policies, per round."""
    rates = []
    for r in range(rounds):
        policies = PolicySet.of(**parsed_policies())
        requests = to_requests(request_specs(count, seed=10_000 + r))
        elapsed = _timed(requests, policies, {})
        rates.append(count / elapsed)
    return {"requests": count, "rounds": rounds, "decisions_per_second_median": round(statistics.median(rates))}


def bench_explain(total: int) -> dict:
    policies = PolicySet.of(**parsed_policies())
    requests = to_requests(request_specs(total, seed=7))
    start = time.perf_counter()
    for request in requests:
        authorize(request, policies, explain=True)
    elapsed = time.perf_counter() - start
    return {"decisions": total, "decisions_per_second": round(total / elapsed)}


def bench_compile(rounds: int) -> dict:
    from accesspath.engine.evaluate import CompiledPolicy
    text = json.dumps(identity_policy(), indent=2)
    parse_policy(text, attachment="aws-managed")
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        parse_policy(text, attachment="aws-managed")
        samples.append(time.perf_counter() - start)
    policy = parse_policy(text, attachment="aws-managed")
    compile_samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        CompiledPolicy(policy)
        compile_samples.append(time.perf_counter() - start)
    return {"statements": len(policy.statements), "bytes": len(text), "valid": policy.is_valid,
            "parse_milliseconds_median": round(statistics.median(samples) * 1000, 3),
            "compile_milliseconds_median": round(statistics.median(compile_samples) * 1000, 3)}


# -- one-shot simulate, side by side with the peer ---------------------------------------------

def simulate_requests(count: int) -> list[dict]:
    """Per request, the simulate-custom-policy input accesspath reads (policies as JSON text)."""
    # The 49 statements as three inline policies, each within AWS's 10,240-character quota.
    statements = identity_policy()["Statement"]
    identity = [json.dumps({"Version": "2012-10-17", "Statement": statements[i::3]}) for i in range(3)]
    texts = {"identity": identity, "boundary": json.dumps(BOUNDARY),
             "endpoint": json.dumps(ENDPOINT), "resource": json.dumps(RESOURCE)}
    out = []
    for spec in request_specs(count, seed=500):
        # The peer does not derive aws:PrincipalAccount from the caller (the endpoint policy needs
        # it), so both are given it in the context.
        spec["context"]["aws:PrincipalAccount"] = ACCOUNT
        out.append({"spec": spec, "texts": texts})
    return out


def _accesspath_simulate_input(item: dict) -> dict:
    spec, texts = item["spec"], item["texts"]
    return {
        "PolicyInputList": texts["identity"],
        "PermissionsBoundaryPolicyInputList": [texts["boundary"]],
        "VpcEndpointPolicy": texts["endpoint"],
        "ResourcePolicy": texts["resource"],
        "CallerArn": spec["caller"],
        "ActionNames": [spec["action"]],
        "ResourceArns": [spec["resource"]],
        "ContextEntries": [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
                           for k, v in spec["context"].items()],
    }


def bench_simulate(count: int) -> dict:
    items = simulate_requests(count)
    inputs = [_accesspath_simulate_input(item) for item in items]
    decisions: list[str] = []
    simulate(inputs[0])
    gc.collect()
    start = time.perf_counter()
    for request in inputs:
        decisions.append(simulate(request)["EvaluationResults"][0]["EvalDecision"])
    elapsed = time.perf_counter() - start
    return {"requests": count, "per_second": round(count / elapsed),
            "milliseconds_per_request": round(elapsed / count * 1000, 3), "decisions": _count(decisions)}


def _count(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


# The peer's driver: our own few lines, run by node with the peer's folder as the module root.
PEER_DRIVER = r"""
const { createRequire } = require('module');
const path = require('path');
const peerRequire = createRequire(path.join(process.argv[2], 'node_modules', 'x.js'));
const { runSimulation } = peerRequire('@cloud-copilot/iam-simulate');
const items = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
function simulation(item) {
  const s = item.spec, t = item.texts;
  // Policies parsed from text for every request, as accesspath parses them.
  return {
    identityPolicies: t.identity.map((text, i) => ({ name: 'identity' + i, policy: JSON.parse(text) })),
    permissionBoundaryPolicies: [{ name: 'boundary', policy: JSON.parse(t.boundary) }],
    vpcEndpointPolicies: [{ name: 'endpoint', policy: JSON.parse(t.endpoint) }],
    resourcePolicy: JSON.parse(t.resource),
    serviceControlPolicies: [], resourceControlPolicies: [],
    request: { principal: s.caller, action: s.action, contextVariables: s.context,
               resource: { resource: s.resource, accountId: s.resource.split(':')[4] || '123456789012' } },
  };
}
(async () => {
  await runSimulation(simulation(items[0]), {});
  const decisions = {};
  const start = process.hrtime.bigint();
  for (const item of items) {
    const r = await runSimulation(simulation(item), {});
    const d = r.resultType === 'error' ? 'error' : r.overallResult;
    decisions[d] = (decisions[d] || 0) + 1;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ requests: items.length, per_second: Math.round(items.length / seconds),
    milliseconds_per_request: Math.round(seconds / items.length * 1e6) / 1e3, decisions }));
})();
"""


def bench_peer(count: int, peer: Path) -> dict:
    node = shutil.which("node")
    if node is None or not (peer / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return {"skipped": f"no node or no @cloud-copilot/iam-simulate under {peer}"
                           f" (mkdir -p {peer} && cd {peer} && npm install @cloud-copilot/iam-simulate)"}
    with tempfile.TemporaryDirectory() as folder:
        driver, data = Path(folder) / "driver.js", Path(folder) / "requests.json"
        driver.write_text(PEER_DRIVER)
        data.write_text(json.dumps(simulate_requests(count)))
        done = subprocess.run([node, str(driver), str(peer), str(data)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:] or ["no output"]}
    result: dict = json.loads(done.stdout)
    return result


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--peer", type=Path, default=None,
                        help="folder where @cloud-copilot/iam-simulate is installed (npm), to compare simulate")
    parser.add_argument("--only", choices=("distinct", "cold", "explain", "compile", "simulate", "start"),
                        action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    parts = set(args.only or ("distinct", "cold", "explain", "compile", "simulate", "start"))
    report: dict = {"python": sys.version.split()[0]}
    if "distinct" in parts:
        report["decisions_distinct"] = bench_distinct(200_000 // scale)
    if "cold" in parts:
        report["decisions_3000_cold"] = bench_cold(3_000, max(3, 10 // scale))
    if "explain" in parts:
        report["decisions_with_explain"] = bench_explain(20_000 // scale)
    if "compile" in parts:
        report["compile"] = bench_compile(max(20, 200 // scale))
    if "simulate" in parts:
        count = 3_000 // scale
        ours = bench_simulate(count)
        report["simulate_one_shot"] = {"accesspath": ours}
        if args.peer is not None:
            peer = bench_peer(count, args.peer)
            report["simulate_one_shot"]["iam-simulate"] = peer
            if "per_second" in peer:
                report["simulate_one_shot"]["ratio"] = round(ours["per_second"] / peer["per_second"], 2)
    if "start" in parts:
        report["cli_cold_start"] = bench_cold_start(max(3, 10 // scale))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
