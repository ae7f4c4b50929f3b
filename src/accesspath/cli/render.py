"""Human-readable views over authorization results and their explanation events."""

from __future__ import annotations

from accesspath.engine.authorize import AuthorizationResult, GateStatus
from accesspath.engine.evaluate import StatementMatch


def _where(match: StatementMatch) -> str:
    statement = match.statement
    position = statement.start
    where = f" at {position}" if position else ""
    if position and not position.source and match.policy.source:
        where = f" at {match.policy.source}:{position.line}:{position.column}"
    return f"{match.policy.policy_type.label} {match.policy.policy_id}, {statement.label}{where}"


def render_results_text(results: list[AuthorizationResult], *, explain: bool = False,
                        undetermined: list[str | None] | None = None) -> str:
    lines: list[str] = []
    for index, result in enumerate(results):
        request = result.request
        reason = undetermined[index] if undetermined else None
        if reason:
            lines.extend([f"{request.action} on {request.resource}: undetermined", f"  {reason}", ""])
            continue
        lines.append(f"{request.action} on {request.resource}: {result.decision.value}"
                     + (f" ({result.deciding_gate.value})" if result.deciding_gate else ""))
        if result.message:
            lines.append(f"  {result.message}")
        label = "denied by" if result.decision.value == "explicitDeny" else "allowed by"
        for match in result.deciding_statements:
            lines.append(f"  {label}: {_where(match)}")
        for key in result.missing_context_keys:
            lines.append(f"  missing context key: {key}")
        for error in result.errors:
            lines.append(f"  error: {error}")
        if explain:
            lines.extend(_explanation_lines(result))
        lines.append("")
    return "\n".join(lines)


def _explanation_lines(result: AuthorizationResult) -> list[str]:
    lines = ["  gates:"]
    for gate in result.gates:
        if gate.status is GateStatus.NOT_APPLICABLE:
            continue
        note = f" — {gate.note}" if gate.note else ""
        lines.append(f"    {gate.gate.value}: {gate.status.value}{note}")
    lines.append("  policies:")
    for outcome in result.policies:
        policy = outcome.policy
        validity = "" if policy.is_valid else " [has errors: never allows]"
        lines.append(f"    {policy.policy_type.label} {policy.policy_id}{validity}")
        for trace in outcome.statements or ():
            statement = trace.statement
            verdict = "applies" if trace.applies else "does not apply"
            lines.append(f"      {statement.label} ({statement.effect.value}) {verdict}")
            parts = [f"action {'matched' if trace.action_matched else 'did not match'}"]
            if trace.resource_matched is not None:
                parts.append(f"resource {'matched' if trace.resource_matched else 'did not match'}")
            if trace.principal is not None:
                parts.append(f"principal: {trace.principal}")
            lines.append(f"        {', '.join(parts)}")
            for condition in trace.conditions:
                request_values = ("(missing)" if condition.request_values is None
                                  else ", ".join(condition.request_values))
                lines.append(f"        {condition.clause.operator} {condition.clause.key}:"
                             f" policy [{', '.join(condition.policy_values)}] vs request [{request_values}]"
                             f" -> {condition.outcome.value}")
            if trace.note:
                lines.append(f"        note: {trace.note}")
    return lines
