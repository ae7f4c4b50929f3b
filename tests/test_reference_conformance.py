"""The reference evaluator over the conformance cases it covers.

tests/reference_evaluator.py is compared with the engine on generated requests
(tests/test_properties.py); here it must also reach every documented decision of the conformance
suite (tests/conformance/cases), so that it cannot drift into agreeing with the engine on a
mistake both share. It reads valid policies only (a policy with errors is the engine's to report),
and no ``Call``; every other case is run, and too few covered cases fail the test.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from accesspath.policy import PolicyType, parse_policy
from reference_evaluator import NotCovered, evaluate

CASES_DIR = Path(__file__).resolve().parent / "conformance" / "cases"
CASES = [case for path in sorted(CASES_DIR.glob("*.json"))
         for case in json.loads(path.read_text(encoding="utf-8"))["cases"]]

_SLOTS = {"PolicyInputList": PolicyType.IDENTITY, "PermissionsBoundaryPolicyInputList": PolicyType.PERMISSIONS_BOUNDARY,
          "SessionPolicyInputList": PolicyType.SESSION, "VpcEndpointPolicy": PolicyType.VPC_ENDPOINT,
          "ServiceControlPolicies": PolicyType.SCP, "ResourceControlPolicies": PolicyType.RCP}


def _policies(request):
    for field, kind in _SLOTS.items():
        value = request.get(field)
        if value is None:
            continue
        if field in ("ServiceControlPolicies", "ResourceControlPolicies"):
            yield from ((p, kind) for level in value for p in level)
        elif isinstance(value, list):
            yield from ((p, kind) for p in value)
        else:
            yield value, kind
    if "ResourcePolicy" in request:
        kind = {"role-trust": PolicyType.ROLE_TRUST, "kms-key": PolicyType.KMS_KEY}.get(
            request.get("ResourcePolicyType", ""), PolicyType.RESOURCE)
        yield request["ResourcePolicy"], kind


def _valid(request) -> bool:
    # (The kind only changes which elements are required; a policy the engine finds invalid under
    # the kind the request implies is left to the engine.)
    return all(parse_policy(doc, policy_type=kind).is_valid or (
        kind is PolicyType.RESOURCE and parse_policy(doc, policy_type=PolicyType.ROLE_TRUST).is_valid)
        for doc, kind in _policies(request))


def _covered():
    covered, reasons = [], {}
    for case in CASES:
        request = case["request"]
        if "Call" in request:
            reasons[case["id"]] = "a Call"
        elif any(e["decision"] == "denied" for e in case["expect"]) or not _valid(request):
            reasons[case["id"]] = "a policy with errors"
        else:
            try:
                evaluate(copy.deepcopy(request))
            except NotCovered as error:
                reasons[case["id"]] = str(error)
                continue
            covered.append(case)
    return covered, reasons


COVERED, NOT_COVERED = _covered()


def test_the_reference_covers_most_cases():
    # Fails if a change to the reference or the cases quietly drops the comparison.
    assert len(COVERED) >= 0.85 * len(CASES), (len(COVERED), len(CASES), NOT_COVERED)


@pytest.mark.parametrize("case", COVERED, ids=[c["id"] for c in COVERED])
def test_reference_reaches_the_documented_decision(case):
    decisions = evaluate(copy.deepcopy(case["request"]))
    lowered = {(a.lower(), r): d for (a, r), d in decisions.items()}
    for expectation in case["expect"]:
        found = lowered[expectation["action"].lower(), expectation["resource"]]
        assert found == expectation["decision"], (case["id"], case["doc"], expectation, found)
