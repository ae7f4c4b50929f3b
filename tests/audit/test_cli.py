"""``accesspath audit``: formats, --fail-on exit codes, SARIF against a SARIF 2.1.0 subset schema, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from accesspath.audit.render import report_text
from accesspath.cli import main

from .conftest import EXAMPLES, TEMPLATES, audit_of

SCHEMA = json.loads((Path(__file__).resolve().parent / "sarif-2.1.0-subset.schema.json").read_text())
LOGS_DEFAULT = str(TEMPLATES / "logs-default-endpoint.yaml")       # 1 warning
PERIMETER = str(TEMPLATES / "endpoint-perimeter.yaml")
MIXUP = str(TEMPLATES / "role-mixup.yaml")
SEED_004 = str(EXAMPLES / "seed004-logs-endpoint-policy" / "template.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fail_on, expected", [("error", 0), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_thresholds(capsys, fail_on: str, expected: int) -> None:
    code, _, _ = run(capsys, LOGS_DEFAULT, "--fail-on", fail_on)
    assert code == expected


def test_default_fail_on_is_error(capsys) -> None:
    assert run(capsys, MIXUP, "--param", "Mixed=true")[0] == 1
    assert run(capsys, LOGS_DEFAULT)[0] == 0


def test_clean_template_exits_zero(capsys) -> None:
    code, out, _ = run(capsys, SEED_004, "--region", "ap-northeast-1", "--fail-on", "info")
    assert code == 0 and "no findings (" in out and " rules over " in out


def test_an_environment_with_nothing_to_audit_says_so(capsys, tmp_path: Path) -> None:
    """A parent whose nested stack is not found loads no role, endpoint, task definition or instance: the
    audit says it checked nothing, never "no findings" (issue 9 item 6)."""
    parent = tmp_path / "master.yaml"
    parent.write_text("Resources:\n  App:\n    Type: AWS::CloudFormation::Stack\n"
                      "    Properties: {TemplateURL: 'https://s3.amazonaws.com/bucket/missing/app.yaml'}\n")
    code, out, err = run(capsys, str(parent))
    assert code == 0
    assert "no findings" not in out
    assert ("nothing to check: the inputs define no IAM role, VPC endpoint, ECS task definition or EC2"
            " instance, which the") in out
    assert "--template-url" in err  # the warning says what was not loaded
    code, out, _ = run(capsys, str(parent), "--format", "json")
    document = json.loads(out)
    assert document["nothingToCheck"] is True
    assert document["examined"] == {"roles": 0, "vpcEndpoints": 0, "taskDefinitions": 0, "instances": 0}
    code, out, _ = run(capsys, str(parent), "--format", "sarif")
    notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["level"] == "warning" and notes[0]["message"]["text"].startswith("nothing to check")


def test_json_counts_what_was_examined(capsys) -> None:
    _, out, _ = run(capsys, SEED_004, "--region", "ap-northeast-1", "--format", "json")
    document = json.loads(out)
    assert document["nothingToCheck"] is False
    assert document["examined"]["vpcEndpoints"] >= 1 and document["examined"]["roles"] >= 1


def test_text_is_grouped_by_severity_without_colour_when_not_a_terminal(capsys) -> None:
    _, out, _ = run(capsys, MIXUP, LOGS_DEFAULT, "--param", "Mixed=true")
    assert "\033[" not in out
    assert out.index("error (1)") < out.index("warning (2)")
    assert "logs-default-endpoint.yaml:16:3: [endpoint-default-policy]" in out
    assert out.rstrip().endswith("summary: 1 errors, 2 warnings, 0 info")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_without_no_color(monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.delenv("NO_COLOR", raising=False)
    main(["audit", LOGS_DEFAULT])
    assert "\033[33mwarning (1)\033[0m" in terminal.getvalue()
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    main(["audit", LOGS_DEFAULT])
    assert "\033[" not in terminal.getvalue()


def test_report_text_colours_each_severity() -> None:
    text = report_text(audit_of(TEMPLATES / "role-mixup.yaml", Mixed="true"), colour=True)
    assert "\033[31merror (1)\033[0m" in text


def test_json_output(capsys) -> None:
    code, out, _ = run(capsys, LOGS_DEFAULT, "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["summary"] == {"error": 0, "warning": 1, "info": 0}
    [default] = document["findings"]
    assert default["ruleId"] == "endpoint-default-policy"
    assert default["location"] == {"file": LOGS_DEFAULT, "line": 16, "column": 3}
    assert [e["decision"] for e in default["evidence"]] == ["allowed", "allowed"]
    assert default["docUrl"].startswith("https://docs.aws.amazon.com/")
    assert {r["id"] for r in document["rules"]} >= {"endpoint-exfiltration", "task-role-overbroad"}


@pytest.mark.parametrize("argv", [
    (LOGS_DEFAULT,),
    (MIXUP, "--param", "Mixed=true"),
    (str(EXAMPLES / "seed003-task-role-policies" / "ecs-task-roles.yaml"),
     str(EXAMPLES / "seed003-task-role-policies" / "backend-task-role-policies.yaml"),
     str(EXAMPLES / "seed003-task-role-policies" / "frontend-task-role-policies.yaml")),
])
def test_sarif_is_valid_and_points_at_the_template(capsys, argv: tuple[str, ...]) -> None:
    _, out, _ = run(capsys, *argv, "--format", "sarif", "--fail-on", "never")
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["results"]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith(".yaml")
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
    levels = {r["defaultConfiguration"]["level"] for r in rules}
    assert levels <= {"error", "warning", "note"}


def test_sarif_schema_rejects_a_broken_log() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": []}},
                                                           "results": [{"ruleId": "r", "level": "fatal",
                                                                        "message": {"text": "m"},
                                                                        "locations": [{}]}]}]}, SCHEMA)


def test_rule_selection(capsys) -> None:
    argv = (PERIMETER, "--param", "Loose=true", "--format", "json")
    _, out, _ = run(capsys, *argv, "--rule", "endpoint-exfiltration")
    document = json.loads(out)
    assert [r["id"] for r in document["rules"]] == ["endpoint-exfiltration"]
    assert {f["ruleId"] for f in document["findings"]} == {"endpoint-exfiltration"}
    _, out, _ = run(capsys, *argv, "--skip-rule", "endpoint-exfiltration")
    assert {f["ruleId"] for f in json.loads(out)["findings"]} == {"endpoint-foreign-principals"}


@pytest.mark.parametrize("argv, message", [
    (("--rule", "no-such-rule"), "unknown audit rule 'no-such-rule'"),
    (("--fail-on", "fatal"), "invalid choice"),
    (("--format", "xml"), "invalid choice"),
])
def test_bad_options_exit_2(capsys, argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(SystemExit) as raised:
        code = main(["audit", LOGS_DEFAULT, *argv])
        raise SystemExit(code)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_template_exits_2(capsys, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [unclosed\n")
    code, _, err = run(capsys, str(broken))
    assert code == 2 and "broken.yaml" in err


def test_missing_file_exits_2(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "absent.yaml"))
    assert code == 2 and "absent.yaml" in err
