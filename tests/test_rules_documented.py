"""docs/rules.md lists every validate and audit rule with its severity (the docs stay true to the code)."""

from __future__ import annotations

from pathlib import Path

from accesspath.audit import rule_catalog
from accesspath.lint import RULES

DOC = (Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text()


def test_every_rule_is_documented_with_its_severity() -> None:
    rows = {line.split("|")[1].strip(" `"): line.split("|")[2].strip() for line in DOC.splitlines()
            if line.startswith("| `")}
    expected = {rule.id: rule.severity.value for rule in RULES}
    expected.update({info.id: info.severity.value for info in rule_catalog()})
    assert rows == expected
