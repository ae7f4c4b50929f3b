"""The command line: exit codes, output formats and errors in the user's terms."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accesspath.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED_000 = ROOT / "examples" / "simulate" / "seed000-ecs-endpoint.json"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_simulate_seed_000_json(capsys) -> None:
    code, out, err = run(["simulate", str(SEED_000)], capsys)
    assert code == 0 and err == ""
    results = {r["EvalActionName"]: r for r in json.loads(out)["EvaluationResults"]}
    assert results["ecs:ListClusters"]["EvalDecision"] == "allowed"
    describe = results["ecs:DescribeClusters"]
    assert describe["EvalDecision"] == "implicitDeny" and describe["DecidingGate"] == "vpc-endpoint"
    assert describe["Message"].endswith("because no VPC endpoint policy allows the ecs:DescribeClusters action")
    allowing = results["ecs:ListClusters"]["MatchedStatements"]
    assert {(m["SourcePolicyType"], m["StartPosition"]["Line"]) for m in allowing} == {("vpc-endpoint", 13),
                                                                                        ("identity", 7)}


def test_simulate_text_and_explain(capsys) -> None:
    code, out, _ = run(["simulate", str(SEED_000), "--format", "text", "--explain"], capsys)
    assert code == 0
    assert "ecs:DescribeClusters on arn:aws:ecs:ap-northeast-1:123456789012:cluster/test-dev-cluster: implicitDeny" in out
    assert "vpc-endpoint: no-allow" in out and "action did not match" in out
    code, out, _ = run(["simulate", str(SEED_000), "--explain"], capsys)
    explanation = json.loads(out)["EvaluationResults"][1]["Explanation"]
    assert explanation["Gates"][0] == {"Gate": "vpc-endpoint", "Status": "no-allow", "Note": "", "Statements": []}


def test_fail_on_deny_sets_exit_status(capsys) -> None:
    code, _, _ = run(["simulate", str(SEED_000), "--fail-on-deny"], capsys)
    assert code == 1


def test_simulate_reads_standard_input(capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SEED_000.read_text()))
    code, out, _ = run(["simulate", "-"], capsys)
    assert code == 0 and len(json.loads(out)["EvaluationResults"]) == 2


@pytest.mark.parametrize("content, expected", [
    ('{"ActionNames": ["s3:GetObject"], "PolicyInputList": [}', "bad.json:1:55: the input is not valid JSON"),
    ('{"ActionNames": "s3:GetObject"}', "bad.json:1:17: ActionNames must be a list of strings"),
    ('{"ActionNames": ["s3:GetObject"], "Polcy": []}', "bad.json:1:44: unknown field 'Polcy'"),
    ('{"ActionNames": ["GetObject"]}', "bad.json:1:18: action 'GetObject' must look like 'service:Action'"),
    ('{"ActionNames": ["s3:GetObject"], "CallerArn": "bob"}', "bad.json:1:48: 'bob' is not a caller"),
    ('{"ActionNames": ["s3:GetObject"], "ContextEntries": [{"ContextKeyName": "s3:max-keys",'
     ' "ContextKeyValues": ["x"], "ContextKeyType": "numeric"}]}', "context key 's3:max-keys': 'x' is not a number"),
    ('{"ActionNames": ["s3:GetObject"], "ContextEntries": [{"ContextKeyName": "k",'
     ' "ContextKeyValues": ["x"], "ContextKeyType": "text"}]}', "unknown ContextKeyType 'text'"),
])
def test_bad_input_is_a_clear_error_with_exit_status_2(tmp_path, capsys, content, expected) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run(["simulate", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("accesspath: error: ") and expected in err.replace(str(tmp_path) + "/", "")
    assert "Traceback" not in err


def test_missing_file_and_no_command(capsys) -> None:
    code, _, err = run(["simulate", "/nonexistent/x.json"], capsys)
    assert code == 2 and "no such file '/nonexistent/x.json'" in err
    code, _, err = run([], capsys)
    assert code == 2 and "usage: accesspath" in err


def test_policy_errors_are_results_not_crashes(tmp_path, capsys) -> None:
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"ActionNames": ["s3:GetObject"],
                                "PolicyInputList": ['{"Statement": {"Effect": "Allow", "Action": "*"}}']}))
    code, out, _ = run(["simulate", str(path)], capsys)
    result = json.loads(out)["EvaluationResults"][0]
    assert code == 0 and result["EvalDecision"] == "implicitDeny"
    assert any("neither Resource nor NotResource" in e for e in result["Errors"])


def test_module_entry_point_runs() -> None:
    completed = subprocess.run([sys.executable, "-m", "accesspath", "simulate", str(SEED_000), "--format", "text"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0 and "implicitDeny (vpc-endpoint)" in completed.stdout
