"""Property tests: the fast engine against the reference evaluator, and laws any IAM decision obeys.

The reference (tests/reference_evaluator.py) is the plain reading of docs/evaluation.md; the
engine may compile and index, but on every random request it must reach the same decision.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_strategies import request
from reference_evaluator import evaluate

simulate_module = pytest.importorskip("accesspath.simulate")
simulate = simulate_module.simulate

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decisions(result):
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in result["EvaluationResults"]}


def errors(result):
    return [e for r in result["EvaluationResults"] for e in r.get("Errors") or []]


def statements_of(doc):
    """(document as dict, was it JSON text) — the statements of a policy as a list."""
    was_text = isinstance(doc, str)
    doc = json.loads(doc) if was_text else copy.deepcopy(doc)
    if isinstance(doc["Statement"], dict):
        doc["Statement"] = [doc["Statement"]]
    return doc, was_text


def map_policies(req, change):
    """A copy of the request with change(policy_dict) applied to every policy in it; a policy
    left without statements is dropped (an empty Statement list is itself an error)."""
    req = copy.deepcopy(req)

    def apply(docs):
        out = []
        for doc in docs:
            doc, was_text = statements_of(doc)
            doc = change(doc)
            if doc["Statement"]:
                out.append(json.dumps(doc) if was_text else doc)
        return out
    for field in ("PolicyInputList", "PermissionsBoundaryPolicyInputList", "SessionPolicyInputList"):
        if field in req:
            req[field] = apply(req[field])
    for field in ("ResourcePolicy", "VpcEndpointPolicy"):
        if field in req:
            kept = apply([req.pop(field)])
            if kept:
                req[field] = kept[0]
    for field in ("ServiceControlPolicies", "ResourceControlPolicies"):
        if field in req:
            req[field] = [apply(level) for level in req[field]]
    return req


@SETTINGS
@given(request())
def test_engine_agrees_with_reference(req):
    result = simulate(copy.deepcopy(req))
    # The generators make only valid policies; the only errors are conditions that could not be
    # evaluated at run time (a string where a number was expected, say).
    assert [e for e in errors(result) if ": error: " in e] == []
    assert decisions(result) == {key: value for key, value in evaluate(req).items()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_explain_does_not_change_the_result(req):
    plain = simulate(copy.deepcopy(req))
    explained = simulate(copy.deepcopy(req), explain=True)
    strip = [{k: v for k, v in r.items() if k != "Explanation"} for r in explained["EvaluationResults"]]
    assert strip == [{k: v for k, v in r.items() if k != "Explanation"} for r in plain["EvaluationResults"]]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(callers=("user", "session", "role", "federated")))
def test_an_identity_deny_star_always_denies(req):
    deny_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    req["PolicyInputList"] = req.get("PolicyInputList", []) + [deny_all]
    assert set(decisions(simulate(req)).values()) == {"explicitDeny"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(callers=("user", "session", "service")))
def test_without_allow_statements_nothing_is_allowed(req):
    # (The account root needs no identity policy, so it is left out here.)
    def drop_allows(doc):
        doc["Statement"] = [s for s in doc["Statement"] if s["Effect"] != "Allow"]
        return doc
    assert "allowed" not in decisions(simulate(map_policies(req, drop_allows))).values()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_removing_deny_statements_never_takes_an_allow_away(req):
    def drop_denies(doc):
        doc["Statement"] = [s for s in doc["Statement"] if s["Effect"] != "Deny"]
        return doc
    before = decisions(simulate(copy.deepcopy(req)))
    after = decisions(simulate(map_policies(req, drop_denies)))
    assert "explicitDeny" not in after.values()
    for key, decision in before.items():
        if decision == "allowed":
            assert after[key] == "allowed", key


BROKEN_STATEMENTS = [
    {"Effect": "Permit", "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Resource": "*"},
    {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"aws:username": "x"}}},
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}},
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NullIfExists": {"aws:username": "true"}}},
    {"Effect": "Allow", "Action": 7, "Resource": "*"},
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Bogus": 1},
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(callers=("user", "session")), st.sampled_from(BROKEN_STATEMENTS),
       st.sampled_from(["PolicyInputList", "ResourcePolicy", "VpcEndpointPolicy"]), st.booleans())
def test_a_policy_with_errors_never_allows(req, broken, slot, as_text):
    # Everything is allowed except for the broken policy: it alone must keep the request from
    # being allowed ("an error never turns into an allow", docs/evaluation.md "Fail closed").
    allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    broken = dict(broken)
    if slot != "PolicyInputList":
        broken["Principal"] = "*"
        allow_all = dict(allow_all, Principal="*")
    doc = {"Version": "2012-10-17", "Statement": [allow_all, broken]}
    doc = json.dumps(doc) if as_text else doc
    if slot == "PolicyInputList":
        req["PolicyInputList"] = req.get("PolicyInputList", []) + [doc]
    else:
        req[slot] = doc
        if slot == "ResourcePolicy":
            req["ResourcePolicyType"] = "resource"
    result = simulate(req)
    assert errors(result), "the broken statement is reported"
    assert "allowed" not in decisions(result).values()
