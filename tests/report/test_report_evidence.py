"""The report shows the policies the engine evaluated for a denial, from the decision's explanation.

A KMS key without KeyPolicy in its template has the default key policy (KMS developer guide, "Default
key policy"), which the engine evaluates; the report names it rather than saying the key has none.
"""

from __future__ import annotations

from pathlib import Path

from accesspath.catalog import IamRequest
from accesspath.engine import principal_from_arn
from accesspath.environment import Decider, load_environment
from accesspath.environment.callers import Caller
from accesspath.environment.model import Role
from accesspath.policy import parse_policy
from accesspath.report.collect import _decision_evidence

TEMPLATE = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: no KeyPolicy given, so the default one applies
"""


def test_a_denial_by_the_default_key_policy_names_it(tmp_path: Path) -> None:
    path = tmp_path / "key.yaml"
    path.write_text(TEMPLATE)
    env = load_environment([str(path)])
    (key_arn,) = [arn for arn, holder in env.resources.items() if holder.kind == "kms-key"]
    identity = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}, policy_id="other-account-kms")
    role = Role("reader", "arn:aws:iam::999999999999:role/reader", None, (identity,))
    caller = Caller("role", "reader", role, principal_from_arn("arn:aws:sts::999999999999:assumed-role/reader/s"),
                    None)
    decider = Decider(env)
    decision = decider.decide(caller, IamRequest("kms:Decrypt", key_arn))
    assert decision.decision == "implicitDeny"
    assert decision.result is not None and decision.result.deciding_gate is not None
    assert decision.result.deciding_gate.value == "kms-key"
    evidence = _decision_evidence(decision, env, decider)
    assert evidence is not None and evidence.note == ""
    assert [(s.policy_id, s.statement) for s in evidence.statements] == [
        (f"default key policy of {key_arn}", "Enable IAM User Permissions")]
    # The statements are those the engine evaluated, not a second derivation of the gate's policies.
    explained = decider.explained(decision)
    assert explained is not None and explained.decision is decision.result.decision
    assert {o.policy.policy_id for o in explained.policies if o.policy.policy_type.value == "kms-key"} == {
        f"default key policy of {key_arn}"}
