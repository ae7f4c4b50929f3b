"""The report as one self-contained HTML page: inline CSS, inline script, inline SVG, nothing fetched.

``render_html`` is a pure function of the :class:`Report`: the same environment gives the same
bytes. Every string that comes from the user's templates is escaped with :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence

from accesspath import __version__
from accesspath.report.assets import SCRIPT, STYLE
from accesspath.report.audit_findings import SEVERITY_ORDER, severity_rank
from accesspath.report.model import (
    Edge,
    Flow,
    FlowStatus,
    InstanceRequests,
    Report,
    ServiceLaunch,
)
from accesspath.report.svg import e, render_diagram

_FLOW_COLUMNS = (("c-step", "Step"), ("c-status", "Status"), ("c-principal", "Principal"), ("c-action", "Action"),
                 ("c-resource", "Resource"), ("c-path", "Path"), ("c-outcome", "Stopped reason · fix"))


def render_html(report: Report) -> str:
    edges_of = _edges_by_hop(report.edges)
    body = [
        _header(report),
        _diagram_section(report),
        _launch_section(report, edges_of),
    ]
    if report.instances:
        body.append(_instance_section(report.instances, edges_of))
    body.append(_findings_section(report))
    if report.issues:
        body.append(_issues_section(report.issues))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        *body,
        f"<footer>accesspath {e(__version__)} · every decision made offline by the accesspath engine;"
        " this page loads nothing from the network</footer>",
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ])


def _edges_by_hop(edges: Sequence[Edge]) -> dict[tuple[str, str], str]:
    return {(edge.source, edge.target): edge.id for edge in edges}


def _header(report: Report) -> str:
    flows = report.flows
    ready = sum(1 for launch in report.launches if launch.ready)
    not_ready = len(report.launches) - ready
    denied = sum(1 for f in flows if f.status is FlowStatus.DENIED)
    unreachable = sum(1 for f in flows if f.status is FlowStatus.UNREACHABLE)
    chips = [
        f'<span class="chip"><b>{len(report.launches)}</b> ECS service{"" if len(report.launches) == 1 else "s"}</span>',
        f'<span class="chip good"><b>{ready}</b> ready</span>' if ready else "",
        f'<span class="chip bad"><b>{not_ready}</b> not ready</span>' if not_ready else "",
        f'<span class="chip{" bad" if denied else ""}"><b>{denied}</b> denied</span>',
        f'<span class="chip"><b>{unreachable}</b> unreachable</span>',
        (f'<span class="chip"><b>{len(report.findings)}</b> audit finding{"" if len(report.findings) == 1 else "s"}</span>'
         if report.findings is not None else '<span class="chip">audit not available</span>'),
    ]
    sources = ", ".join(f"<code>{e(s)}</code>" for s in report.sources)
    return (
        '<header class="report-header">'
        f"<h1>accesspath report</h1>"
        f'<div class="meta">{sources} · account <code>{e(report.account)}</code> · region'
        f" <code>{e(report.region)}</code></div>"
        f'<div class="chips">{"".join(c for c in chips if c)}</div>'
        "</header>")


def _diagram_section(report: Report) -> str:
    if not report.nodes:
        drawing = '<p class="muted">The environment has no callers, subnets or endpoints to draw.</p>'
    else:
        drawing = f'<div class="diagram-frame">{render_diagram(report)}</div>'
    return (
        '<section class="card" id="diagram">'
        '<div class="section-head"><h2>Network paths and decisions</h2>'
        '<span class="hint" id="selection-status" aria-live="polite"></span></div>'
        '<p class="hint">Each edge carries the launch-check and representative requests that travel over it,'
        " coloured by the worst decision among them. Hover an edge or a node for its requests; click it to"
        " highlight them in the tables below.</p>"
        f"{drawing}</section>")


def _launch_section(report: Report, edges_of: dict[tuple[str, str], str]) -> str:
    parts = ['<section class="card" id="launch-checks">',
             '<div class="section-head"><h2>Launch checks</h2>'
             '<button type="button" class="toggle" id="toggle-denials" hidden>Expand all denials</button></div>']
    if not report.launches:
        parts.append('<p class="muted">The environment has no ECS services.</p>')
    for launch in report.launches:
        parts.append(_launch(launch, edges_of))
    parts.append("</section>")
    return "".join(parts)


def _launch(launch: ServiceLaunch, edges_of: dict[tuple[str, str], str]) -> str:
    state = ('<span class="pill ready">ready</span>' if launch.ready
             else '<span class="pill not-ready">not ready</span>')
    parts = [f'<article class="launch" id="launch-{e(launch.name)}" data-node="{e(launch.node)}">',
             f'<div class="launch-head"><h3>service {e(launch.service_name or launch.name)}</h3>{state}'
             f'<span class="meta">{e(launch.launch_type)} · logical id <code>{e(launch.name)}</code> ·'
             f' {len(launch.flows)} steps</span></div>']
    if launch.error:
        parts.append(f'<p class="stopped">the launch check could not run: {e(launch.error)}</p>')
    if launch.flows:
        parts.append(_flow_table(launch.flows, edges_of))
    parts.append(_notes(launch.notes))
    parts.append("</article>")
    return "".join(parts)


def _instance_section(instances: Sequence[InstanceRequests], edges_of: dict[tuple[str, str], str]) -> str:
    parts = ['<section class="card" id="instances"><h2>Representative requests from EC2 instances</h2>',
             '<p class="hint">One request per endpoint service in the instance\'s VPC (per declared resource where'
             " the service has one), as the instance profile's role.</p>"]
    for instance in instances:
        parts.append(f'<article class="launch" id="instance-{e(instance.name)}" data-node="{e(instance.node)}">'
                     f'<div class="launch-head"><h3>instance {e(instance.name)}</h3>'
                     f'<span class="meta mono">{e(instance.principal)}</span></div>')
        if instance.flows:
            parts.append(_flow_table(instance.flows, edges_of))
        parts.append(_notes(instance.notes))
        parts.append("</article>")
    parts.append("</section>")
    return "".join(parts)


def _flow_table(flows: Sequence[Flow], edges_of: dict[tuple[str, str], str]) -> str:
    cols = "".join(f'<col class="{cls}">' for cls, _ in _FLOW_COLUMNS)
    head = "".join(f"<th>{e(title)}</th>" for _, title in _FLOW_COLUMNS)
    rows = "".join(_flow_row(flow, edges_of) for flow in flows)
    return f'<table class="flows"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _flow_row(flow: Flow, edges_of: dict[tuple[str, str], str]) -> str:
    edge_ids = [edges_of[hop] for hop in zip(flow.hops, flow.hops[1:]) if hop in edges_of]
    status = flow.status.value
    links = f' data-edges="{e(" ".join(edge_ids))}" data-nodes="{e(" ".join(flow.hops))}"'
    # The statement behind a denial gets a full-width row of its own under the request's row.
    denial = (f'<tr class="flow-detail status-{status}" data-for="{e(flow.anchor)}"{links}>'
              f'<td colspan="{len(_FLOW_COLUMNS)}">{_denial(flow)}</td></tr>') if flow.denial is not None else ""
    return (
        f'<tr class="flow status-{status}" id="{e(flow.anchor)}" data-status="{status}"{links}>'
        f'<td class="step">{e(flow.step)}</td>'
        f'<td><span class="pill status-{status}">{e(flow.status.label)}</span></td>'
        f'<td class="mono principal">{e(flow.principal)}</td>'
        f'<td class="mono action">{e(flow.action or "-")}</td>'
        f'<td class="mono resource">{e(flow.resource or "-")}</td>'
        f'<td class="path">{e(flow.path)}</td>'
        f'<td class="outcome">{_outcome(flow)}</td>'
        f"</tr>{denial}")


def _outcome(flow: Flow) -> str:
    parts = []
    if flow.stopped_reason:
        parts.append(f'<p class="stopped"><span class="label">stopped reason</span>{e(flow.stopped_reason)}</p>')
    if flow.fix:
        parts.append(f'<p class="fix"><span class="label">fix</span>{e(flow.fix)}</p>')
    if not parts and not flow.notes:
        parts.append('<span class="muted">-</span>')
    parts.append(_notes(flow.notes))
    return "".join(parts)


def _denial(flow: Flow) -> str:
    denial = flow.denial
    assert denial is not None
    summary = f"why {flow.status.label}: {denial.decision} · {denial.gate}"
    parts = [f'<details class="denial" data-decision="{e(denial.decision)}">',
             f"<summary>{e(summary)}</summary>",
             '<div class="denial-panel">',
             f'<p class="aws-message">{e(denial.message or "(no message)")}</p>']
    if denial.statements:
        parts.append(f'<p class="relation">{e(denial.relation)}:</p>')
        parts.append('<table class="statements"><thead><tr><th>policy</th><th>statement</th><th>effect</th>'
                     "<th>file:line:col</th></tr></thead><tbody>")
        for ref in denial.statements:
            parts.append(
                f'<tr class="statement" data-policy="{e(ref.policy_id)}" data-statement="{e(ref.statement)}">'
                f'<td><span class="mono">{e(ref.policy_id)}</span><br><span class="muted">{e(ref.policy_kind)}</span></td>'
                f'<td class="mono">{e(ref.statement)}</td><td>{e(ref.effect)}</td>'
                f'<td class="mono location">{e(ref.location or "-")}</td></tr>')
        parts.append("</tbody></table>")
    if denial.note:
        parts.append(f'<p class="muted">{e(denial.note)}</p>')
    parts.append("</div></details>")
    return "".join(parts)


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{e(note)}</li>" for note in notes) + "</ul>"


def _findings_section(report: Report) -> str:
    parts = ['<section class="card" id="findings"><h2>Audit findings</h2>']
    if report.findings is None:
        parts.append(f'<p class="muted audit-unavailable">{e(report.audit_note)}</p>')
    elif not report.findings:
        parts.append('<p class="muted">The audit found nothing.</p>')
    else:
        cols = "".join(f'<col class="f-{name}">' for name in ("sev", "id", "subject", "message", "fix", "position"))
        head = "".join(f"<th>{title}</th>" for title in ("severity", "id", "subject", "message", "fix", "position"))
        parts.append(f'<table class="findings"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>')
        for finding in report.findings:
            severity = finding.severity.lower()
            css = severity if severity_rank(severity) < len(SEVERITY_ORDER) else "info"
            parts.append(
                f'<tr class="finding" data-id="{e(finding.id)}" data-severity="{e(severity)}">'
                f'<td><span class="sev sev-{e(css)}">{e(finding.severity)}</span></td>'
                f'<td class="mono">{e(finding.id)}</td><td>{e(finding.subject or "-")}</td>'
                f"<td>{e(finding.message)}</td><td>{e(finding.fix)}</td>"
                f'<td class="mono">{e(finding.position or "-")}</td></tr>')
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _issues_section(issues: Sequence[str]) -> str:
    items = "".join(f"<li>{e(issue)}</li>" for issue in issues)
    return ('<section class="card" id="environment"><details><summary><b>Loading notes</b>'
            f' <span class="muted">({len(issues)}: what the templates hold that accesspath did not model or'
            f" resolve)</span></summary><ul class=\"issues\">{items}</ul></details></section>")
