"""The diagram: callers → subnets → endpoints and gateways → AWS services, as inline SVG.

Every text is escaped; every attribute value is quoted and escaped. Colours are given as
presentation attributes (not only CSS) so the drawing stays right wherever the SVG is copied.
"""

from __future__ import annotations

from html import escape

from accesspath.report.layout import COLUMNS, NODE_HEIGHT, Layout, layered_layout
from accesspath.report.model import Column, Edge, Flow, FlowStatus, Node, Report

# Edge colours: green allowed, red denied, amber undetermined, grey dashed unreachable, light grey unused.
EDGE_COLOURS: dict[FlowStatus, str] = {
    FlowStatus.ALLOWED: "#1a7f37",
    FlowStatus.DENIED: "#d1242f",
    FlowStatus.UNDETERMINED: "#bf8700",
    FlowStatus.UNREACHABLE: "#8c959f",
    FlowStatus.UNCHECKED: "#d0d7de",
}
EDGE_WIDTHS: dict[FlowStatus, str] = {
    FlowStatus.ALLOWED: "2.5", FlowStatus.DENIED: "3", FlowStatus.UNDETERMINED: "2.5",
    FlowStatus.UNREACHABLE: "2", FlowStatus.UNCHECKED: "1.5",
}
UNREACHABLE_DASH = "7 5"
# Drawing order: the important edges last, on top.
_EDGE_Z = (FlowStatus.UNCHECKED, FlowStatus.UNREACHABLE, FlowStatus.ALLOWED, FlowStatus.UNDETERMINED,
           FlowStatus.DENIED)

_KIND_ACCENTS = {
    "ecs-service": "#0969da", "instance": "#0969da", "subnet": "#8250df",
    "interface-endpoint": "#0a7b83", "gateway-endpoint": "#0a7b83", "nat-gateway": "#9a6700",
    "internet-gateway": "#9a6700", "no-path": "#8c959f", "aws-service": "#ff9900", "internet": "#57606a",
}
COLUMN_TITLES = {
    Column.CALLERS: "Callers",
    Column.SUBNETS: "Subnets",
    Column.HOPS: "Endpoints & gateways",
    Column.SERVICES: "AWS services",
}
_LEGEND = (
    (FlowStatus.ALLOWED, "allowed"),
    (FlowStatus.DENIED, "denied"),
    (FlowStatus.UNDETERMINED, "undetermined"),
    (FlowStatus.UNREACHABLE, "unreachable (times out)"),
    (FlowStatus.UNCHECKED, "no checked request"),
)
_MAX_TOOLTIP_FLOWS = 12


def e(text: object) -> str:
    """Escape text for HTML/SVG content and attribute values."""
    return escape(str(text), quote=True)


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def render_diagram(report: Report) -> str:
    layout = layered_layout(report.nodes, report.edges)
    flows = {f.index: f for f in report.flows}
    nodes = {n.id: n for n in report.nodes}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {layout.width} {layout.height}"'
        f' width="{layout.width}" height="{layout.height}" role="img" aria-labelledby="diagram-title">',
        '<title id="diagram-title">callers, subnets, endpoints and gateways, AWS services; edges coloured by'
        ' the decisions of the requests over them</title>',
        _markers(),
        _legend(),
        _column_titles(layout),
    ]
    parts.append('<g class="edges">')
    for status in _EDGE_Z:
        for edge in report.edges:
            if edge.status is status and edge.id in layout.routes:
                parts.append(_edge(edge, layout, nodes, flows))
    parts.append("</g>")
    parts.append('<g class="nodes">')
    for node in report.nodes:
        parts.append(_node(node, layout))
    parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _markers() -> str:
    markers = []
    for status, colour in EDGE_COLOURS.items():
        markers.append(
            f'<marker id="arrow-{status.value}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
            f' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    return "<defs>" + "".join(markers) + "</defs>"


def _legend() -> str:
    items = ['<g class="legend" transform="translate(20,10)">']
    x = 0
    for status, label in _LEGEND:
        dash = f' stroke-dasharray="{UNREACHABLE_DASH}"' if status is FlowStatus.UNREACHABLE else ""
        items.append(
            f'<g class="legend-item" data-status="{status.value}" transform="translate({x},0)">'
            f'<line x1="0" y1="11" x2="34" y2="11" stroke="{EDGE_COLOURS[status]}"'
            f' stroke-width="{EDGE_WIDTHS[status]}"{dash}/>'
            f'<text x="42" y="15" class="legend-text">{e(label)}</text></g>')
        x += 60 + 7 * len(label)
    items.append("</g>")
    return "".join(items)


def _column_titles(layout: Layout) -> str:
    titles = []
    for column in range(COLUMNS):
        x = layout.column_x[column]
        titles.append(f'<text class="column-title" x="{x}" y="70">{e(COLUMN_TITLES[Column(column)])}</text>'
                      f'<line x1="{x}" y1="78" x2="{x + 236}" y2="78" class="column-rule"/>')
    return '<g class="columns">' + "".join(titles) + "</g>"


def _edge(edge: Edge, layout: Layout, nodes: dict[str, Node], flows: dict[int, Flow]) -> str:
    route = layout.routes[edge.id]
    colour = EDGE_COLOURS[edge.status]
    dash = f' stroke-dasharray="{UNREACHABLE_DASH}"' if edge.status is FlowStatus.UNREACHABLE else ""
    source, target = nodes[edge.source], nodes[edge.target]
    lines = [f"{source.label} → {target.label}: {edge.status.label}"]
    carried = [flows[i] for i in edge.flows if i in flows]
    for flow in carried[:_MAX_TOOLTIP_FLOWS]:
        caller = nodes[flow.caller].label if flow.caller in nodes else flow.caller
        request = flow.action or flow.step
        lines.append(f"{flow.status.label}: {caller} · {flow.step} · {request}")
    if len(carried) > _MAX_TOOLTIP_FLOWS:
        lines.append(f"… and {len(carried) - _MAX_TOOLTIP_FLOWS} more")
    interactive = ' tabindex="0"' if carried else ""
    d = route.path()
    return (
        f'<g class="edge status-{edge.status.value}" data-edge="{e(edge.id)}" data-from="{e(edge.source)}"'
        f' data-to="{e(edge.target)}" data-status="{edge.status.value}" data-flows="{len(carried)}"{interactive}>'
        f"<title>{e(chr(10).join(lines))}</title>"
        f'<path class="edge-hit" d="{d}" fill="none" stroke="transparent" stroke-width="12"/>'
        f'<path class="edge-line" d="{d}" fill="none" stroke="{colour}" stroke-width="{EDGE_WIDTHS[edge.status]}"'
        f'{dash} stroke-linecap="round" marker-end="url(#arrow-{edge.status.value})"/></g>')


def _node(node: Node, layout: Layout) -> str:
    box = layout.boxes[node.id]
    accent = _KIND_ACCENTS.get(node.kind, "#57606a")
    x, y, w, h = box.x, box.y, box.width, box.height
    parts = [
        f'<g class="node kind-{e(node.kind)}" data-node="{e(node.id)}" data-id="{e(node.aws_id)}"'
        f' data-kind="{e(node.kind)}" tabindex="0">',
        f"<title>{e(node.tooltip)}</title>",
        f'<rect class="node-box" x="{x}" y="{y}" width="{w}" height="{h}" rx="7" fill="#ffffff" stroke="#d0d7de"/>',
        f'<rect class="node-accent" x="{x}" y="{y}" width="6" height="{h}" rx="3" fill="{accent}"/>',
        f'<text class="node-kind" x="{x + 16}" y="{y + 17}">{e(short(node.kind_label, 36))}</text>',
        f'<text class="node-label" x="{x + 16}" y="{y + 35}">{e(short(node.label, 27))}</text>',
        f'<text class="node-detail" x="{x + 16}" y="{y + NODE_HEIGHT - 9}">{e(short(node.detail, 33))}</text>',
    ]
    if node.status is not None and node.column is Column.CALLERS:
        ready = node.kind == "ecs-service" and node.status is FlowStatus.ALLOWED
        text = ("ready" if ready else "not ready") if node.kind == "ecs-service" else node.status.label
        colour = {FlowStatus.UNCHECKED: "#57606a", FlowStatus.UNREACHABLE: "#6e7781"}.get(
            node.status, EDGE_COLOURS[node.status])
        width = 10 + 6.4 * len(text)
        parts.append(
            f'<g class="node-badge" data-status="{node.status.value}">'
            f'<rect x="{x + w - width - 8:.1f}" y="{y + 7}" width="{width:.1f}" height="16" rx="8" fill="{colour}"/>'
            f'<text x="{x + w - width / 2 - 8:.1f}" y="{y + 19}" text-anchor="middle" class="badge-text">'
            f"{e(text)}</text></g>")
    parts.append("</g>")
    return "".join(parts)
