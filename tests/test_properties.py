"""Property tests: the fast engine against the reference evaluator, and laws any IAM decision obeys.

The reference (tests/reference_evaluator.py) is the plain reading of docs/evaluation.md; the
engine may compile and index, but on every random request it must reach the same decision.
"""

from __future__ import annotations

import copy
import json

from collections import Counter

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accesspath.engine.beyond_policy import PERMISSION_NOT_REQUIRED
from accesspath.simulate import simulate
from policy_strategies import ELEMENTS, OPERATOR_FAMILIES, features, request
from reference_evaluator import evaluate

# Derandomized: the same examples on every run, so CI answers the same as the last local run (a
# disagreement hypothesis finds with another seed is an exactness question to settle, not noise).
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


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
    found = decisions(result)
    # The distribution, shown by `pytest --hypothesis-show-statistics`.
    for decision in found.values():
        event(f"decision: {decision}")
    for feature in sorted(features(req)):
        event(f"uses: {feature}")
    assert found == evaluate(req)


def test_generated_requests_reach_every_decision_and_family():
    # The comparison above is only as good as what it is fed: at least a quarter of the generated
    # decisions must be allowed (an engine that denies everything must not pass), and every
    # policy element and condition operator family must appear. A fixed sample (derandomized).
    counts: Counter[str] = Counter()
    seen: set[str] = set()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(request())
    def collect(req):
        seen.update(features(req))
        counts.update(decisions(simulate(copy.deepcopy(req))).values())

    collect()
    total = sum(counts.values())
    assert counts["allowed"] >= total / 4, counts
    assert counts["explicitDeny"] and counts["implicitDeny"], counts
    assert set(ELEMENTS) | set(OPERATOR_FAMILIES) <= seen, sorted(set(ELEMENTS) | set(OPERATOR_FAMILIES) - seen)


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_explain_does_not_change_the_result(req):
    plain = simulate(copy.deepcopy(req))
    explained = simulate(copy.deepcopy(req), explain=True)
    strip = [{k: v for k, v in r.items() if k != "Explanation"} for r in explained["EvaluationResults"]]
    assert strip == [{k: v for k, v in r.items() if k != "Explanation"} for r in plain["EvaluationResults"]]


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(callers=("user", "session", "role", "federated")))
def test_an_identity_deny_star_always_denies(req):
    deny_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    req["PolicyInputList"] = req.get("PolicyInputList", []) + [deny_all]
    for (action, _), decision in decisions(simulate(req)).items():
        # ... except a call that needs no permission (engine/beyond_policy.py): "you can still
        # perform this operation" (sts:GetCallerIdentity).
        assert decision == ("allowed" if action.lower() in PERMISSION_NOT_REQUIRED else "explicitDeny")


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(callers=("user", "session", "service")))
def test_without_allow_statements_nothing_is_allowed(req):
    # (The account root needs no identity policy, so it is left out here.)
    def drop_allows(doc):
        doc["Statement"] = [s for s in doc["Statement"] if s["Effect"] != "Allow"]
        return doc
    found = decisions(simulate(map_policies(req, drop_allows)))
    assert "allowed" not in [d for (a, _), d in found.items() if a.lower() not in PERMISSION_NOT_REQUIRED]


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
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


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request(), st.randoms(use_true_random=False), st.booleans())
def test_order_and_form_of_policies_do_not_matter(req, rnd, as_text):
    # Statements are a set, policies of one kind are a set, and a policy given as JSON text means
    # the same as the object (docs/simulate.md).
    def reshuffle(doc):
        rnd.shuffle(doc["Statement"])
        return doc
    changed = map_policies(req, reshuffle)
    for field in ("PolicyInputList", "SessionPolicyInputList"):
        if field in changed:
            rnd.shuffle(changed[field])
    if as_text:
        changed = map_policies(changed, lambda doc: doc)  # keeps the form; then turn all to text
        for field in ("PolicyInputList", "PermissionsBoundaryPolicyInputList", "SessionPolicyInputList"):
            changed[field] = [p if isinstance(p, str) else json.dumps(p) for p in changed.get(field, [])]
    assert decisions(simulate(changed)) == decisions(simulate(copy.deepcopy(req)))


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_matched_statements_fit_the_decision(req):
    # docs/simulate.md: "the denying statements for an explicit deny, the allowing statements of
    # every gate for an allow, nothing for an implicit deny (DecidingGate names the gate that had
    # no allow)".
    for r in simulate(req)["EvaluationResults"]:
        effects = {m["Effect"] for m in r["MatchedStatements"]}
        if r["EvalDecision"] == "implicitDeny":
            assert r["MatchedStatements"] == [] and r["DecidingGate"], r
        elif r["EvalDecision"] == "explicitDeny":
            assert effects == {"Deny"} and r["DecidingGate"], r
        else:
            assert effects <= {"Allow"} and r["Message"] is None, r
            # The root user needs no statement, nor does a call that needs no permission.
            if not req["CallerArn"].endswith(":root") and r["EvalActionName"].lower() not in PERMISSION_NOT_REQUIRED:
                assert effects == {"Allow"}, r


@settings(max_examples=75, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_each_action_and_resource_is_decided_on_its_own(req):
    # A request with several actions and resources is a batch of independent questions.
    together = decisions(simulate(copy.deepcopy(req)))
    for (action, resource), decision in together.items():
        alone = dict(copy.deepcopy(req), ActionNames=[action], ResourceArns=[resource])
        assert decisions(simulate(alone)) == {(action, resource): decision}


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


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    # (Calls that need no permission ask no policy: engine/beyond_policy.py.)
    req["ActionNames"] = [a for a in req["ActionNames"] if a.lower() not in PERMISSION_NOT_REQUIRED] or ["s3:GetObject"]
    result = simulate(req)
    assert errors(result), "the broken statement is reported"
    assert "allowed" not in decisions(result).values()


# ---- minimal examples of disagreements the comparison found (fixed in c489387); kept as regressions

def _deny_with_conditions(condition, entries):
    return {"CallerArn": "arn:aws:iam::111122223333:user/alice", "ActionNames": ["s3:GetObject"],
            "ResourceArns": ["arn:aws:s3:::b/k"], "ContextEntries": entries,
            "PolicyInputList": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}]}]}


def test_a_false_condition_outweighs_one_that_cannot_be_evaluated():
    # reference_policies_multi-value-conditions.md: "All conditions must resolve to true to invoke
    # the desired Allow or Deny effect." aws:username is 'alice', so the Deny can never apply,
    # whatever aws:CurrentTime was meant to be.
    req = _deny_with_conditions({"StringEquals": {"aws:username": "nobody"},
                                 "DateEquals": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
                                [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["soon"],
                                  "ContextKeyType": "string"}])
    assert evaluate(req)["s3:GetObject", "arn:aws:s3:::b/k"] == "allowed"
    assert decisions(simulate(req))["s3:GetObject", "arn:aws:s3:::b/k"] == "allowed"


def test_an_empty_string_is_a_context_value():
    # reference_policies_elements_condition_operators.md, String condition operators: the
    # home-directory example lists "" among the s3:prefix values (listing the bucket's top level).
    req = {"CallerArn": "arn:aws:iam::111122223333:user/alice", "ActionNames": ["s3:ListBucket"],
           "ResourceArns": ["arn:aws:s3:::BUCKET-NAME"],
           "ContextEntries": [{"ContextKeyName": "s3:prefix", "ContextKeyValues": [""], "ContextKeyType": "string"}],
           "PolicyInputList": [{"Version": "2012-10-17", "Statement": [
               {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::BUCKET-NAME",
                "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}}]}]}
    assert evaluate(req)["s3:ListBucket", "arn:aws:s3:::BUCKET-NAME"] == "allowed"
    assert decisions(simulate(req))["s3:ListBucket", "arn:aws:s3:::BUCKET-NAME"] == "allowed"


def test_a_multivalued_key_has_no_value_even_with_a_default():
    # docs/evaluation.md, "Policy variables": "${key, 'default'} uses the default when the key is
    # missing. A variable whose key is missing (and has no default), or is multivalued, has no
    # value"; reference_policies_variables.md: "You can't use a multivalued condition key as a
    # variable." aws:TagKeys is present (a stringList), so the default does not apply.
    req = {"CallerArn": "arn:aws:iam::111122223333:user/alice", "ActionNames": ["s3:GetObject"],
           "ResourceArns": ["arn:aws:s3:::b/k"],
           "ContextEntries": [{"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["a", "b"],
                               "ContextKeyType": "stringList"}],
           "PolicyInputList": [{"Version": "2012-10-17", "Statement": [
               {"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:username": "${aws:TagKeys, 'alice'}"}}}]}]}
    assert evaluate(req)["s3:GetObject", "arn:aws:s3:::b/k"] == "implicitDeny"
    assert decisions(simulate(req))["s3:GetObject", "arn:aws:s3:::b/k"] == "implicitDeny"


def test_assume_role_needs_the_trust_policy_whatever_else_is_asked():
    # docs/simulate.md: ResourcePolicyType defaults to "role-trust" for sts:AssumeRole* actions;
    # docs/evaluation.md: "Role trust policies ... must themselves allow, even within one account."
    # The trust policy trusts only bob, so alice cannot assume the role, alone or in a batch.
    req = {"CallerArn": "arn:aws:iam::111122223333:user/alice", "ResourceArns": ["arn:aws:iam::111122223333:role/r"],
           "ActionNames": ["sts:AssumeRole", "s3:GetObject"],
           "PolicyInputList": [{"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
           "ResourcePolicy": {"Version": "2012-10-17", "Statement": [
               {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"},
                "Action": "sts:AssumeRole", "Resource": "*"}]}}
    pair = ("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
    assert evaluate(req)[pair] == "implicitDeny"
    assert decisions(simulate(dict(req, ActionNames=["sts:AssumeRole"])))[pair] == "implicitDeny"
    assert decisions(simulate(req))[pair] == "implicitDeny"
