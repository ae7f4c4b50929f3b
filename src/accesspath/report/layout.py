"""A small layered layout: one column per layer, nodes ordered to keep edges short, fully deterministic.

Column 0 (callers) is ordered by kind and name; every later column by the barycenter (mean row) of
the nodes in earlier columns it is connected to, ties broken by kind and name. Each column is
centred on the tallest one. Edges leave a node's right side and enter the next node's left side at
ports spread over the node's height in the order of the other ends, so parallel edges do not cross
at their ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accesspath.report.model import Edge, Node

NODE_WIDTH = 236
NODE_HEIGHT = 58
COLUMN_GAP = 112
ROW_GAP = 18
MARGIN_X = 20
TOP = 96          # room for the legend and the column headings
BOTTOM = 20
COLUMNS = 4

_KIND_RANK = {"ecs-service": 0, "instance": 1, "subnet": 2, "interface-endpoint": 3, "gateway-endpoint": 4,
              "nat-gateway": 5, "internet-gateway": 6, "no-path": 7, "aws-service": 8, "internet": 9}


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class EdgeRoute:
    start: tuple[float, float]
    end: tuple[float, float]

    def path(self) -> str:
        """A cubic Bézier from the source's right side to the target's left side."""
        (x1, y1), (x2, y2) = self.start, self.end
        bend = max((x2 - x1) / 2, 24)
        return f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: dict[str, Box]
    column_x: tuple[int, ...]
    routes: dict[str, EdgeRoute]


def column_x(column: int) -> int:
    return MARGIN_X + column * (NODE_WIDTH + COLUMN_GAP)


def layered_layout(nodes: Sequence[Node], edges: Sequence[Edge]) -> Layout:
    by_column: dict[int, list[Node]] = {c: [] for c in range(COLUMNS)}
    for node in nodes:
        by_column[int(node.column)].append(node)
    column_of = {n.id: int(n.column) for n in nodes}
    neighbours: dict[str, set[str]] = {n.id: set() for n in nodes}
    for edge in edges:
        if edge.source in neighbours and edge.target in neighbours:
            neighbours[edge.source].add(edge.target)
            neighbours[edge.target].add(edge.source)

    rows: dict[str, int] = {}
    ordered: dict[int, list[Node]] = {}
    for column in range(COLUMNS):
        def key(node: Node, column: int = column) -> tuple[float, int, str, str]:
            earlier = [rows[n] for n in neighbours[node.id] if column_of[n] < column and n in rows]
            centre = sum(earlier) / len(earlier) if earlier else float("inf")
            return centre, _KIND_RANK.get(node.kind, 99), node.label, node.id
        ordered[column] = sorted(by_column[column], key=key)
        for row, node in enumerate(ordered[column]):
            rows[node.id] = row

    pitch = NODE_HEIGHT + ROW_GAP
    tallest = max((len(c) for c in ordered.values()), default=0)
    boxes: dict[str, Box] = {}
    for column, members in ordered.items():
        offset = (tallest - len(members)) * pitch / 2
        for row, node in enumerate(members):
            boxes[node.id] = Box(column_x(column), int(TOP + offset + row * pitch), NODE_WIDTH, NODE_HEIGHT)

    width = column_x(COLUMNS - 1) + NODE_WIDTH + MARGIN_X
    height = TOP + max(tallest, 1) * pitch - ROW_GAP + BOTTOM
    return Layout(width, height, boxes, tuple(column_x(c) for c in range(COLUMNS)), _routes(edges, boxes))


def _routes(edges: Sequence[Edge], boxes: dict[str, Box]) -> dict[str, EdgeRoute]:
    drawn = [e for e in edges if e.source in boxes and e.target in boxes]
    outgoing: dict[str, list[Edge]] = {}
    incoming: dict[str, list[Edge]] = {}
    for edge in drawn:
        outgoing.setdefault(edge.source, []).append(edge)
        incoming.setdefault(edge.target, []).append(edge)
    start_y: dict[str, float] = {}
    end_y: dict[str, float] = {}
    for node, leaving in outgoing.items():
        leaving.sort(key=lambda e: (boxes[e.target].center_y, e.target))
        for index, edge in enumerate(leaving):
            start_y[edge.id] = _port(boxes[node], index, len(leaving))
    for node, arriving in incoming.items():
        arriving.sort(key=lambda e: (boxes[e.source].center_y, e.source))
        for index, edge in enumerate(arriving):
            end_y[edge.id] = _port(boxes[node], index, len(arriving))
    routes = {}
    for edge in drawn:
        source, target = boxes[edge.source], boxes[edge.target]
        routes[edge.id] = EdgeRoute((source.x + source.width, start_y[edge.id]), (target.x - 3, end_y[edge.id]))
    return routes


def _port(box: Box, index: int, count: int) -> float:
    """Ports spread over the middle 70% of the node's side."""
    usable = box.height * 0.7
    return box.y + box.height * 0.15 + usable * (index + 1) / (count + 1)
