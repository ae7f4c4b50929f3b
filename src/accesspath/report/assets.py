"""The page's stylesheet and script, inlined into the HTML: the report loads nothing at view time.

Fonts are the reader's own (system font stacks, no @font-face); the script only highlights the
requests of a clicked edge or node and opens or closes the denial panels.
"""

from __future__ import annotations

STYLE = """
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; --accent: #0969da;
  --allowed: #1a7f37; --denied: #d1242f; --undetermined: #bf8700; --unreachable: #6e7781;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { background: #eef1f4; }
body {
  margin: 0; color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
  Arial, "Noto Sans", "Liberation Sans", sans-serif;
}
main { max-width: 1380px; margin: 0 auto; padding: 18px 20px 40px; }
header.report-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 18px; margin-bottom: 12px; }
h1 { font-size: 21px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14.5px; margin: 0; }
.meta { color: var(--muted); font-size: 13px; }
.meta code { font-family: var(--mono); font-size: 12px; color: var(--fg); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
.chip { border: 1px solid var(--line); background: #fff; border-radius: 999px; padding: 1px 10px; font-size: 12.5px; }
.chip b { font-weight: 600; }
.chip.bad { border-color: #ffcecb; background: #ffebe9; color: #a40e26; }
.chip.good { border-color: #aceebb; background: #dafbe1; color: #116329; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px;
  margin-bottom: 16px; }
.section-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.section-head h2 { margin-bottom: 6px; }
.hint { color: var(--muted); font-size: 12.5px; margin: 0 0 8px; }
.diagram-frame { overflow-x: auto; }
svg.diagram { display: block; max-width: 100%; height: auto; font-family: system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
svg.diagram .legend-text { font-size: 12px; fill: var(--muted); }
svg.diagram .column-title { font-size: 12px; font-weight: 600; fill: var(--muted); letter-spacing: 0.04em;
  text-transform: uppercase; }
svg.diagram .column-rule { stroke: var(--line); stroke-width: 1; }
svg.diagram .node-kind { font-size: 10.5px; fill: var(--muted); }
svg.diagram .node-label { font-size: 13.5px; font-weight: 600; fill: var(--fg); }
svg.diagram .node-detail { font-size: 10.5px; fill: var(--muted); font-family: var(--mono); }
svg.diagram .badge-text { font-size: 10.5px; font-weight: 600; fill: #fff; }
svg.diagram .node { cursor: pointer; outline: none; }
svg.diagram .node:hover .node-box, svg.diagram .node:focus .node-box { stroke: var(--accent); stroke-width: 1.5; }
svg.diagram .node.selected .node-box { stroke: var(--accent); stroke-width: 2.5; }
svg.diagram .edge { outline: none; }
svg.diagram .edge[data-flows]:not([data-flows="0"]) { cursor: pointer; }
svg.diagram .edge:hover .edge-line, svg.diagram .edge:focus .edge-line { stroke-width: 4.5; }
svg.diagram .edge.selected .edge-line { stroke-width: 5; }
svg.diagram .edge-hit { pointer-events: stroke; }
.launch { border-top: 1px solid var(--line); padding-top: 12px; margin-top: 12px; }
.launch:first-of-type { border-top: 0; padding-top: 0; margin-top: 0; }
.launch-head { display: flex; align-items: center; gap: 10px; margin-bottom: 8px; flex-wrap: wrap; }
.pill { display: inline-block; border-radius: 999px; padding: 0 8px; font-size: 12px; font-weight: 600;
  line-height: 19px; white-space: nowrap; color: #fff; background: var(--unreachable); }
.pill.status-allowed, .pill.ready { background: var(--allowed); }
.pill.status-denied, .pill.not-ready { background: var(--denied); }
.pill.status-undetermined { background: var(--undetermined); }
.pill.status-unreachable { background: #fff; color: var(--unreachable); border: 1.5px dashed var(--unreachable);
  line-height: 16px; }
table { border-collapse: collapse; width: 100%; }
table.flows { table-layout: fixed; font-size: 12.5px; }
table.flows > thead > tr > th, table.findings th { text-align: left; font-size: 11.5px; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: 0.03em; border-bottom: 1px solid var(--line); padding: 5px 6px; }
table.flows > tbody > tr > td, table.findings td { border-bottom: 1px solid #eaeef2; padding: 6px 6px; vertical-align: top;
  overflow-wrap: anywhere; }
table.flows tr.flow { scroll-margin-top: 20px; }
table.flows > tbody > tr.flow.status-denied > td:first-child { box-shadow: inset 3px 0 0 var(--denied); }
table.flows > tbody > tr.flow.status-unreachable > td:first-child { box-shadow: inset 3px 0 0 var(--unreachable); }
table.flows > tbody > tr.flow.status-undetermined > td:first-child { box-shadow: inset 3px 0 0 var(--undetermined); }
table.flows > tbody > tr.highlight > td { background: #fff8c5; }
table.flows > tbody > tr.flow.status-denied > td, table.flows > tbody > tr.flow.status-undetermined > td {
  border-bottom: 0; }
table.flows > tbody > tr.flow-detail > td { padding: 0 6px 8px 6px; }
table.flows > tbody > tr.flow-detail.status-denied > td:first-child { box-shadow: inset 3px 0 0 var(--denied); }
table.flows > tbody > tr.flow-detail.status-undetermined > td:first-child { box-shadow: inset 3px 0 0 var(--undetermined); }
col.c-step { width: 9%; } col.c-status { width: 9%; } col.c-principal { width: 15%; } col.c-action { width: 12%; }
col.c-resource { width: 16%; } col.c-path { width: 14%; } col.c-outcome { width: 25%; }
.mono { font-family: var(--mono); font-size: 11.5px; }
.muted { color: var(--muted); }
.outcome p { margin: 0 0 4px; }
.label { font-size: 11px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em;
  margin-right: 4px; }
.stopped { color: #82071e; }
details.denial { margin: 0 0 0 9%; border: 1px solid #ffcecb; border-radius: 6px; background: #fff5f5; }
details.denial > summary { cursor: pointer; padding: 3px 8px; font-weight: 600; color: #a40e26; font-size: 12px; }
details.denial[open] > summary { border-bottom: 1px solid #ffcecb; }
.denial-panel { padding: 6px 8px 8px; }
.aws-message { font-family: var(--mono); font-size: 11.5px; background: #fff; border: 1px solid #ffcecb;
  border-radius: 4px; padding: 5px 7px; margin: 0 0 6px; }
table.statements { font-size: 12px; width: auto; min-width: 70%; }
table.statements th { text-align: left; color: var(--muted); font-weight: 600; padding: 2px 12px 2px 4px; }
.relation { margin: 0 0 2px; font-size: 12.5px; }
table.statements td { padding: 3px 12px 3px 4px; border-top: 1px solid #ffe1de; overflow-wrap: anywhere; }
.notes { margin: 4px 0 0; padding-left: 16px; color: var(--muted); font-size: 12px; }
table.findings { font-size: 13px; table-layout: fixed; }
col.f-sev { width: 8%; } col.f-id { width: 14%; } col.f-subject { width: 15%; } col.f-message { width: 30%; }
col.f-fix { width: 20%; } col.f-position { width: 13%; }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11px; letter-spacing: 0.03em; }
.sev-critical, .sev-high, .sev-error { color: var(--denied); }
.sev-medium, .sev-warning { color: #9a6700; }
.sev-low, .sev-info { color: var(--muted); }
button.toggle { font: inherit; font-size: 12px; border: 1px solid var(--line); background: var(--soft);
  border-radius: 6px; padding: 2px 10px; cursor: pointer; }
button.toggle:hover { background: #eaeef2; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 8px; }
ul.issues { margin: 6px 0 0; padding-left: 18px; font-family: var(--mono); font-size: 11.5px; }
"""

# Highlights the rows of a clicked edge or node, opens their denial panels, and toggles all panels.
SCRIPT = """
(function () {
  "use strict";
  var root = document.documentElement;
  root.setAttribute("data-report-script", "ran");
  // Where the diagram landed on the page (CSS pixels: left top width height), for checks of a rendering.
  var diagram = document.querySelector("svg.diagram");
  if (diagram) {
    var box = diagram.getBoundingClientRect();
    diagram.setAttribute("data-rendered-box", [box.left + window.scrollX, box.top + window.scrollY, box.width,
      box.height].map(function (n) { return Math.round(n); }).join(" "));
  }
  function clear() {
    document.querySelectorAll(".selected, .highlight").forEach(function (el) {
      el.classList.remove("selected"); el.classList.remove("highlight");
    });
  }
  function show(rows, source) {
    clear();
    source.classList.add("selected");
    rows.forEach(function (row) {
      row.classList.add("highlight");
      var panel = row.querySelector("details.denial");
      if (panel) { panel.open = true; }
    });
    var status = document.getElementById("selection-status");
    if (status) {
      var count = rows.filter(function (row) { return row.classList.contains("flow"); }).length;
      status.textContent = count ? count + " request(s) highlighted below" : "no checked request here";
    }
    if (rows.length) { rows[0].scrollIntoView({ behavior: "smooth", block: "center" }); }
  }
  function rowsFor(attribute, value) {
    return Array.prototype.filter.call(document.querySelectorAll("tr.flow, tr.flow-detail"), function (row) {
      return (row.getAttribute(attribute) || "").split(" ").indexOf(value) >= 0;
    });
  }
  function activate(el, handler) {
    el.addEventListener("click", handler);
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); handler(); }
    });
  }
  document.querySelectorAll("svg.diagram .edge").forEach(function (edge) {
    activate(edge, function () { show(rowsFor("data-edges", edge.getAttribute("data-edge")), edge); });
  });
  document.querySelectorAll("svg.diagram .node").forEach(function (node) {
    activate(node, function () { show(rowsFor("data-nodes", node.getAttribute("data-node")), node); });
  });
  var toggle = document.getElementById("toggle-denials");
  if (toggle && document.querySelector("details.denial")) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var panels = document.querySelectorAll("details.denial");
      var open = Array.prototype.some.call(panels, function (p) { return !p.open; });
      panels.forEach(function (p) { p.open = open; });
      toggle.textContent = open ? "Collapse all denials" : "Expand all denials";
    });
  }
})();
"""
