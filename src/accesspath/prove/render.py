"""Text and SARIF views of proof and diff results (their JSON: cli/json_vocabulary.py, given to the SARIF
views as ``witness_json`` so each witness has one shape everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accesspath import __version__
from accesspath.prove.diff import CallerDiff, DiffResult
from accesspath.prove.properties import PropertyResult
from accesspath.prove.witness import Witness


def property_text(result: PropertyResult, templates: list[str]) -> str:
    spec = result.spec
    head = (f"{spec.title}: {result.status.upper()} ({_count(len(result.callers), 'caller')},"
            f" {_count(result.cases, 'case')}, {result.seconds:.1f} s)")
    lines = [head]
    if result.status == "proved":
        lines.append(f"  no request {_meaning(spec.name)}")
    for number, witness in enumerate(result.witnesses, 1):
        lines.append(f"  witness {number}:")
        lines.extend("    " + line for line in witness_lines(witness, templates, hypothetical=spec.name != "access-not-granted"))
    for reason in result.reasons:
        lines.append(f"  unknown: {reason}")
    return "\n".join(lines)


def _meaning(kind: str) -> str:
    return {
        "access-not-granted": "of these callers for these actions and resources is allowed",
        "no-data-out": "of any caller can reach a resource outside the organization or the accounts given",
        "no-access-from-outside": "of a principal outside the organization or the accounts given is allowed",
        "no-public-access": "of an unknown account's principal or an anonymous caller is allowed",
    }[kind]


def witness_lines(witness: Witness, templates: list[str], *, hypothetical: bool = False) -> list[str]:
    lines = [f"{witness.caller} ({witness.principal}) — {witness.action} on {witness.resource}: {witness.decision}"]
    if witness.actions_alike > 1:
        more = witness.actions_alike - 1
        examples = ", ".join(witness.examples) + (", ..." if more > len(witness.examples) else "")
        lines.append(f"  and {_count(more, 'more action')} the policies treat alike: {examples}")
    lines.append(f"  path: {witness.path}")
    if witness.context:
        lines.append("  context: " + ", ".join(f"{k}={'|'.join(v)}" for k, v in witness.context.items()))
    if witness.resource_owner:
        lines.append(f"  resource owner taken to be {witness.resource_owner}")
    if witness.deciding_statements:
        lines.append("  allowed by: " + "; ".join(witness.deciding_statements))
    lines.extend(f"  {note}" for note in witness.notes)
    if not hypothetical and witness.caller != "anonymous" and not witness.caller.startswith("arn:"):
        lines.append(f"  reproduce: {witness.can_command(templates)}")
    return lines


def diff_text(result: DiffResult, templates: list[str]) -> str:
    lines = [f"diff: {result.status} ({_count(len(result.callers), 'caller')}, {result.seconds:.1f} s)"]
    for caller in result.callers:
        lines.extend(_caller_lines(caller, templates))
    return "\n".join(lines)


def _caller_lines(caller: CallerDiff, templates: list[str]) -> list[str]:
    lines = [f"  {caller.caller}: {caller.status}"]
    for witness in caller.gained:
        lines.append("    new access:")
        lines.extend("      " + line for line in witness_lines(witness, templates))
    for witness in caller.lost:
        lines.append("    removed access:")
        lines.extend("      " + line for line in witness_lines(witness, templates, hypothetical=True))
    for reason in caller.reasons:
        lines.append(f"    unknown: {reason}")
    return lines


def sarif(results: list[dict[str, Any]], rules: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "accesspath", "version": __version__,
                                "rules": [{"id": rule_id, "shortDescription": {"text": text}}
                                          for rule_id, text in rules]}},
            "results": results,
        }],
    }


def property_sarif(results: list[PropertyResult], witness_json: Callable[[Witness], Any]) -> dict[str, Any]:
    findings = []
    for result in results:
        level = "error" if result.status == "fails" else "warning" if result.status == "unknown" else None
        if level is None:
            continue
        if result.witnesses:
            for witness in result.witnesses:
                findings.append({"ruleId": result.spec.name, "level": level, "message": {"text": (
                    f"{result.spec.title}: {witness.caller} — {witness.action} on {witness.resource} is"
                    f" {witness.decision} ({witness.path})")}, "properties": {"witness": witness_json(witness)}})
        else:
            findings.append({"ruleId": result.spec.name, "level": level,
                             "message": {"text": f"{result.spec.title}: unknown — {'; '.join(result.reasons)}"}})
    rules = sorted({(r.spec.name, f"property {r.spec.name}") for r in results})
    return sarif(findings, rules)


def diff_sarif(result: DiffResult, witness_json: Callable[[Witness], Any]) -> dict[str, Any]:
    findings = []
    for caller in result.callers:
        for witness in caller.gained:
            findings.append({"ruleId": "new-access", "level": "error", "message": {"text": (
                f"{caller.caller} gains {witness.action} on {witness.resource} ({witness.path})")},
                "properties": {"witness": witness_json(witness)}})
        if caller.status == "added":
            findings.append({"ruleId": "new-caller", "level": "warning",
                             "message": {"text": f"{caller.caller} is a new caller"}})
        for reason in caller.reasons:
            findings.append({"ruleId": "unknown", "level": "warning", "message": {"text": f"{caller.caller}: {reason}"}})
    return sarif(findings, [("new-access", "a request the after-state allows and the before-state does not"),
                            ("new-caller", "a caller the before-state does not have"),
                            ("unknown", "a question the proof could not settle")])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number:,} {noun}s"
