"""``accesspath prove`` and ``accesspath diff`` on the seeds (docs/prove.md's worked examples).

Seed 000 (ECS endpoint policy, AWS PrivateLink guide "Control access to VPC endpoints using endpoint
policies"): an administrator's DescribeClusters through an endpoint whose policy allows only
ListClusters is proved impossible; swapping the allowed action is a diff with witnesses both ways.
Seed 004 (CloudWatch Logs endpoint policy): with the endpoint's default policy the instance role
(CloudWatchLogsFullAccess) can write to another account's log groups; the seed's policy proves it cannot.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from accesspath.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED_000 = str(ROOT / "examples" / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_004 = str(ROOT / "examples" / "seed004-logs-endpoint-policy" / "template.yaml")
TOKYO = ["--region", "ap-northeast-1"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_seed000_describe_clusters_is_proved_impossible(capsys) -> None:
    code, out, _ = run(["prove", SEED_000, *TOKYO, "--property", "access-not-granted", "--caller", "AdminInstance",
                        "--actions", "ecs:DescribeClusters", "--format", "json"], capsys)
    result = json.loads(out)["properties"][0]
    assert code == 0 and result["status"] == "proved" and result["witnesses"] == []
    assert result["cases"] >= 1


def test_seed000_list_clusters_fails_with_a_witness_can_reproduces(capsys) -> None:
    code, out, _ = run(["prove", SEED_000, *TOKYO, "--property", "access-not-granted", "--caller", "AdminInstance",
                        "--actions", "ecs:*", "--format", "json"], capsys)
    result = json.loads(out)["properties"][0]
    assert code == 1 and result["status"] == "fails"
    witness = result["witnesses"][0]
    assert witness["action"] == "ecs:ListClusters" and witness["decision"] == "allowed"
    assert witness["path"]["kind"] == "interface-endpoint"
    # The witness is a request the ordinary command decides the same way, and its caller, path and
    # deciding statements are the same objects (one JSON vocabulary).
    code, out, _ = run(["can", SEED_000, *TOKYO, "--from", "AdminInstance", "--action", witness["action"],
                        "--resource", witness["resource"], "--format", "json"], capsys)
    can = json.loads(out)
    assert code == 0 and can["results"][0]["decision"] == "allowed"
    assert witness["caller"] == can["caller"] and witness["path"] == can["results"][0]["path"]
    assert witness["matchedStatements"] == can["results"][0]["matchedStatements"]


def _seed004_with_the_default_endpoint_policy(directory: Path) -> str:
    """Seed 004 with its endpoint's PolicyDocument removed: the endpoint's default policy (full access)."""
    text = Path(SEED_004).read_text(encoding="utf-8")
    start, end = text.index("      PolicyDocument:\n"), text.index("\n  LogsRole:")
    changed = directory / "seed004-default-endpoint-policy.yaml"
    changed.write_text(text[:start] + text[end:], encoding="utf-8")
    return str(changed)


def test_seed004_no_data_out_fails_on_the_default_endpoint_policy(tmp_path: Path, capsys) -> None:
    template = _seed004_with_the_default_endpoint_policy(tmp_path)
    code, out, _ = run(["prove", template, *TOKYO, "--property", "no-data-out",
                        "--org", "o-exampleorgid", "--max-witnesses", "1", "--format", "json"], capsys)
    result = json.loads(out)["properties"][0]
    assert code == 1 and result["status"] == "fails"
    witness = result["witnesses"][0]
    owner = witness["resource"].split(":")[4]
    assert witness["caller"]["id"] == "LogsInstance" and witness["action"].startswith("logs:")
    assert owner != "123456789012" and len(owner) == 12
    assert any("default endpoint policy" in s["SourcePolicyId"] for s in witness["matchedStatements"])


def test_seed004_no_data_out_is_proved_on_the_seeds_policy(capsys) -> None:
    code, out, _ = run(["prove", SEED_004, *TOKYO, "--property", "no-data-out", "--org", "o-exampleorgid"], capsys)
    assert code == 0, out
    assert out.startswith("no-data-out: PROVED")


def test_outsiders_cannot_reach_seed004(capsys) -> None:
    code, out, _ = run(["prove", SEED_004, *TOKYO, "--property", "no-public-access", "--format", "sarif"], capsys)
    sarif = json.loads(out)
    assert code == 0 and sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []


def test_a_trust_policy_naming_another_account_fails_no_access_from_outside(tmp_path: Path, capsys) -> None:
    template = tmp_path / "trust.yaml"
    template.write_text("""
Resources:
  Shared:
    Type: AWS::IAM::Role
    Properties:
      RoleName: shared
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::444455556666:root'}
            Action: sts:AssumeRole
""", encoding="utf-8")
    code, out, _ = run(["prove", str(template), "--property", "no-access-from-outside", "--format", "json"], capsys)
    result = json.loads(out)["properties"][0]
    assert code == 1
    assert {w["caller"]["principal"].split(":")[4] for w in result["witnesses"]} == {"444455556666"}
    assert all(w["action"] == "sts:AssumeRole" for w in result["witnesses"])
    # Inside the organization's accounts, the same trust is not access from outside.
    code, out, _ = run(["prove", str(template), "--property", "no-access-from-outside", "--inside-account",
                        "444455556666"], capsys)
    assert code == 0, out


def test_property_file(tmp_path: Path, capsys) -> None:
    properties = tmp_path / "properties.yaml"
    properties.write_text("""
properties:
  - name: the admin instance cannot describe clusters
    property: access-not-granted
    callers: [AdminInstance]
    actions: [ecs:DescribeClusters]
  - property: no-public-access
""", encoding="utf-8")
    code, out, _ = run(["prove", SEED_000, *TOKYO, "--property", str(properties)], capsys)
    assert code == 0
    assert "the admin instance cannot describe clusters: PROVED" in out and "no-public-access: PROVED" in out


@pytest.mark.parametrize("content,message", [
    ("properties: []\n", "the 'properties' list is empty"),
    ("properties:\n  - property: nope\n", "'property' must be one of"),
    ("properties:\n  - property: no-public-access\n    colour: red\n", "unknown field 'colour'"),
    ("properties: [\n", "is not valid YAML or JSON"),
    ("properties:\n  - property: access-not-granted\n", "needs --actions and/or --resources"),
])
def test_bad_property_files_are_one_line_errors(tmp_path: Path, capsys, content: str, message: str) -> None:
    properties = tmp_path / "p.yaml"
    properties.write_text(content, encoding="utf-8")
    code, out, err = run(["prove", SEED_000, *TOKYO, "--property", str(properties)], capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_unknown_property_is_a_usage_error(capsys) -> None:
    code, _, err = run(["prove", SEED_000, "--property", "no-such-property"], capsys)
    assert code == 2 and "neither a built-in property" in err


def test_diff_of_seed000_endpoint_policy_change(tmp_path: Path, capsys) -> None:
    after = tmp_path / "after.yaml"
    after.write_text(Path(SEED_000).read_text(encoding="utf-8").replace(
        "Default: ecs:ListClusters", "Default: ecs:DescribeClusters"), encoding="utf-8")
    assert after.read_text(encoding="utf-8") != Path(SEED_000).read_text(encoding="utf-8")
    code, out, _ = run(["diff", SEED_000, *TOKYO, "--format", "json", "--", str(after)], capsys)
    result = json.loads(out)
    assert code == 1 and result["status"] == "new access"
    admin = next(c for c in result["callers"] if c["caller"]["id"] == "AdminInstance")
    assert [w["action"] for w in admin["newAccess"]] == ["ecs:DescribeClusters"]
    assert [w["action"] for w in admin["removedAccess"]] == ["ecs:ListClusters"]
    assert "implicitDeny" in admin["newAccess"][0]["notes"][0]
    # The same state twice: nothing new.
    code, out, _ = run(["diff", SEED_000, *TOKYO, "--", SEED_000], capsys)
    assert code == 0 and out.startswith("diff: no new access")


def test_diff_against_a_git_revision(tmp_path: Path, capsys) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    template = repo / "stack.yaml"
    template.write_text(Path(SEED_000).read_text(encoding="utf-8"), encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "stack.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "before"], check=True)
    template.write_text(template.read_text(encoding="utf-8").replace(
        "Default: ecs:ListClusters", "Default: ecs:DescribeClusters"), encoding="utf-8")
    code, out, _ = run(["diff", str(template), *TOKYO, "--base", "HEAD", "--format", "json"], capsys)
    result = json.loads(out)
    assert code == 1
    admin = next(c for c in result["callers"] if c["caller"]["id"] == "AdminInstance")
    assert [w["action"] for w in admin["newAccess"]] == ["ecs:DescribeClusters"]
    code, _, err = run(["diff", str(template), "--base", "no-such-revision"], capsys)
    assert code == 2 and "cannot read 'stack.yaml' at 'no-such-revision'" in err


def test_diff_needs_an_after_state(capsys) -> None:
    code, _, err = run(["diff", SEED_000], capsys)
    assert code == 2 and "give the after-state after '--'" in err


def test_what_was_not_given_makes_only_what_depends_on_it_unknown(tmp_path: Path, capsys) -> None:
    """An import no loaded stack exports (issue 9 item 5): the statement holding it is decided on both
    bounds, so actions it cannot reach are still proved and those it may grant are unknown (exit 3)."""
    template = tmp_path / "app.yaml"
    template.write_text("""
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: app
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: s3:GetObject, Resource: !ImportValue shared-bucket-arn}
              - {Effect: Allow, Action: sqs:SendMessage, Resource: 'arn:aws:sqs:us-east-1:123456789012:jobs'}
""", encoding="utf-8")
    code, out, _ = run(["prove", str(template), "--property", "access-not-granted", "--actions", "sqs:DeleteQueue",
                        "s3:PutObject"], capsys)
    assert code == 0, out
    code, out, _ = run(["prove", str(template), "--property", "access-not-granted", "--actions", "s3:GetObject",
                        "--format", "json"], capsys)
    result = json.loads(out)["properties"][0]
    assert code == 3 and result["status"] == "unknown" and result["witnesses"] == []
    assert any("shared-bucket-arn" in reason for reason in result["reasons"])
    code, out, _ = run(["prove", str(template), "--property", "access-not-granted", "--actions", "sqs:SendMessage",
                        "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["properties"][0]["witnesses"][0]["resource"].endswith(":jobs")
