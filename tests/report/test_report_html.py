"""accesspath report: the page's content, read back with html.parser (seed 001: the ECS guide's Fargate
task in a private subnet; seed 000: an endpoint policy that allows one action)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.environment.decide import Decider
from accesspath.environment.load import load_environment
from accesspath.report import ReportFinding, build_report, render_html

from .html_tree import Element, parse_html

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_000 = str(EXAMPLES / "seed000-ecs-endpoint-policy" / "template.yaml")
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")


def report(tmp_path: Path, *argv: str) -> tuple[int, str]:
    out = tmp_path / "report.html"
    code = main(["report", *argv, "-o", str(out)])
    return code, out.read_text(encoding="utf-8") if out.exists() else ""


def page(tmp_path: Path, *argv: str) -> Element:
    code, html = report(tmp_path, *argv)
    assert code == 0
    return parse_html(html)


def svg_nodes(tree: Element) -> dict[str, Element]:
    svg = tree.find("svg", class_="diagram")
    return {g.attrs["data-node"]: g for g in svg.find_all("g", class_="node")}


def svg_edges(tree: Element) -> list[Element]:
    return tree.find("svg", class_="diagram").find_all("g", class_="edge")


def step_rows(tree: Element) -> dict[str, Element]:
    launch = tree.find("section", id="launch-checks")
    return {row.find("td", class_="step").text: row for row in launch.find_all("tr", class_="flow")}


def test_the_diagram_has_a_node_for_every_service_subnet_and_endpoint(tmp_path: Path) -> None:
    env = load_environment([SEED_001])
    tree = page(tmp_path, SEED_001)
    nodes = svg_nodes(tree)
    by_aws_id = {(g.attrs["data-kind"], g.attrs["data-id"]) for g in nodes.values()}
    for service in env.services.values():
        assert ("ecs-service", service.name) in by_aws_id
    for subnet in env.subnets:
        assert ("subnet", subnet) in by_aws_id
    for endpoint in env.endpoints.values():
        kind = "interface-endpoint" if endpoint.endpoint_type == "Interface" else "gateway-endpoint"
        assert (kind, endpoint.id) in by_aws_id
        assert f"svc:{endpoint.short_service}" in nodes
    assert len(env.endpoints) == 5
    # Every launch step over the network is allowed: every edge that carries one is green.
    carrying = [g for g in svg_edges(tree) if g.attrs["data-flows"] != "0"]
    assert carrying and {g.attrs["data-status"] for g in carrying} == {"allowed"}
    assert tree.find("span", class_="ready").text == "ready"


def test_the_legend_names_every_edge_colour(tmp_path: Path) -> None:
    legend = page(tmp_path, SEED_001).find("g", class_="legend")
    statuses = {item.attrs["data-status"] for item in legend.find_all("g", class_="legend-item")}
    assert statuses == {"allowed", "denied", "undetermined", "unreachable", "unchecked"}
    dashed = legend.find("g", data_status="unreachable").find("line")
    assert dashed.attrs.get("stroke-dasharray")


def test_without_the_ecr_dkr_endpoint_its_edge_is_dashed_and_the_pull_fails(tmp_path: Path) -> None:
    tree = page(tmp_path, SEED_001, "--param", "EcrDkrEndpoint=false")
    into_ecr_dkr = [g for g in svg_edges(tree) if g.attrs["data-to"] == "svc:ecr.dkr"]
    assert into_ecr_dkr
    for edge in into_ecr_dkr:
        assert edge.attrs["data-status"] == "unreachable"
        line = edge.find("path", class_="edge-line")
        assert line.attrs["stroke-dasharray"] and line.attrs["stroke"] == "#8c959f"
    # The hop before it is the "no path" node of the VPC, reached from the task's subnet, also dashed.
    no_path = into_ecr_dkr[0].attrs["data-from"]
    assert svg_nodes(tree)[no_path].attrs["data-kind"] == "no-path"
    assert all(g.attrs["data-status"] == "unreachable" for g in svg_edges(tree) if g.attrs["data-to"] == no_path)

    rows = step_rows(tree)
    manifest = rows["image manifest"]
    assert manifest.attrs["data-status"] == "unreachable"
    assert "CannotPullContainerError" in manifest.find("p", class_="stopped").text
    assert "ecr.dkr" in manifest.find("p", class_="fix").text
    assert manifest.find("td", class_="action").text == "ecr:BatchGetImage"
    assert rows["registry auth"].attrs["data-status"] == "allowed"
    assert tree.find("span", class_="not-ready").text == "not ready"
    service = next(g for g in svg_nodes(tree).values() if g.attrs["data-kind"] == "ecs-service")
    assert service.find("g", class_="node-badge").attrs["data-status"] == "unreachable"
    assert service.find("g", class_="node-badge").text == "not ready"
    # The row knows its edges, so a click on the dashed edge finds it.
    assert into_ecr_dkr[0].attrs["data-edge"] in manifest.attrs["data-edges"].split()


def test_a_denial_shows_its_statement_in_a_collapsible_panel(tmp_path: Path) -> None:
    tree = page(tmp_path, SEED_001, "--param", "S3EndpointPolicy=organization-only")
    row = step_rows(tree)["layer download (S3)"]
    assert row.attrs["data-status"] == "denied"
    detail = tree.find("tr", class_="flow-detail", data_for=row.attrs["id"])
    panel = detail.find("details", class_="denial")
    assert "open" not in panel.attrs
    assert "VPC endpoint policy" in panel.find("summary").text
    assert ("is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"
            " because no VPC endpoint policy allows the s3:GetObject action") in panel.find("p", class_="aws-message").text
    statement = panel.find("tr", class_="statement")
    assert statement.attrs["data-policy"] == "S3Gateway.PolicyDocument"
    assert statement.attrs["data-statement"] == "Statement[0]"
    location = statement.find("td", class_="location").text
    assert re.fullmatch(r".*seed001-fargate-private-subnet/template\.yaml:\d+:\d+", location)
    line = int(location.split(":")[-2])
    assert "Effect: Allow" in Path(SEED_001).read_text().splitlines()[line - 1]
    # The S3 gateway edge is red.
    s3 = [g for g in svg_edges(tree) if g.attrs["data-to"].startswith("vpce:") and g.attrs["data-status"] == "denied"]
    assert len(s3) == 1 and s3[0].find("path", class_="edge-line").attrs["stroke"] == "#d1242f"


def test_an_explicit_deny_names_the_deny_statement(tmp_path: Path) -> None:
    text = Path(SEED_001).read_text()
    deny = ("        - PolicyName: no-log-streams\n"
            "          PolicyDocument:\n"
            "            Version: '2012-10-17'\n"
            "            Statement:\n"
            "              - Sid: NoLogStreams\n"
            "                Effect: Deny\n"
            "                Action: logs:CreateLogStream\n"
            "                Resource: '*'\n")
    anchor = "      Policies:\n        - PolicyName: read-db-secret\n"
    assert anchor in text
    template = tmp_path / "deny.yaml"
    template.write_text(text.replace(anchor, "      Policies:\n" + deny + anchor[len("      Policies:\n"):]))
    tree = page(tmp_path, str(template))
    row = step_rows(tree)["awslogs create stream"]
    assert row.attrs["data-status"] == "denied"
    panel = tree.find("tr", data_for=row.attrs["id"]).find("details", class_="denial")
    assert panel.attrs["data-decision"] == "explicitDeny"
    statement = panel.find("tr", class_="statement")
    assert statement.attrs["data-statement"] == "NoLogStreams"
    assert "with an explicit deny in an identity-based policy" in panel.find("p", class_="aws-message").text
    assert re.search(r"deny\.yaml:\d+:\d+$", statement.find("td", class_="location").text)


def test_an_instance_behind_a_narrow_endpoint_policy(tmp_path: Path) -> None:
    tree = page(tmp_path, SEED_000, "--region", "ap-northeast-1", "--param", "AllowedAction=ecs:DescribeClusters")
    instance = next(g for g in svg_nodes(tree).values() if g.attrs["data-kind"] == "instance")
    assert instance.find("text", class_="node-label").text == "AdminInstance"
    assert instance.attrs["data-id"].startswith("i-")
    rows = {r.find("td", class_="step").text: r for r in tree.find("section", id="instances").find_all("tr", class_="flow")}
    ecs = rows["via ecs"]
    assert ecs.find("td", class_="action").text == "ecs:ListClusters"
    assert ecs.attrs["data-status"] == "denied"
    panel = tree.find("tr", data_for=ecs.attrs["id"]).find("details", class_="denial")
    assert panel.find("tr", class_="statement").attrs["data-policy"] == "EcsEndpoint.PolicyDocument"
    red = [g for g in svg_edges(tree) if g.attrs["data-status"] == "denied"]
    assert {g.attrs["data-to"] for g in red} >= {"svc:ecs"}


def test_the_page_loads_nothing_from_the_network(tmp_path: Path) -> None:
    code, html = report(tmp_path, SEED_001, "--param", "S3EndpointPolicy=organization-only")
    tree = parse_html(html)
    for element in tree.iter():
        for name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset"):
            value = element.attrs.get(name, "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (element.tag, name, value)
    assert not tree.find_all("link") and not tree.find_all("iframe") and not tree.find_all("img")
    assert all("src" not in script.attrs for script in tree.find_all("script"))
    for style in tree.find_all("style"):
        assert "@import" not in style.text and "url(" not in style.text and "@font-face" not in style.text


def test_user_strings_are_escaped(tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    text = Path(SEED_001).read_text()
    template = tmp_path / "hostile.yaml"
    text = text.replace("ServiceName: web", f"ServiceName: '{hostile}'")
    text = text.replace("LogGroupName: /ecs/web", "LogGroupName: '/ecs/<script>alert(2)</script>'")
    template.write_text(text)
    code, html = report(tmp_path, str(template))
    assert code == 0
    tree = parse_html(html)
    assert not tree.find_all("img")
    assert len(tree.find_all("script")) == 1            # the report's own script only
    assert "onerror" not in {name for element in tree.iter() for name in element.attrs}
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    service = next(g for g in svg_nodes(tree).values() if g.attrs["data-kind"] == "ecs-service")
    assert service.attrs["data-id"] == hostile         # escaped on the way out, intact when parsed back


def test_the_output_is_deterministic(tmp_path: Path) -> None:
    first = report(tmp_path, SEED_001, "--param", "EcrDkrEndpoint=false")[1]
    second = report(tmp_path, SEED_001, "--param", "EcrDkrEndpoint=false")[1]
    assert first == second


def test_exit_status_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Written, exit 0, even though the task cannot start.
    code, html = report(tmp_path, SEED_001, "--param", "EcrApiEndpoint=false")
    assert code == 0 and html.startswith("<!DOCTYPE html>")
    capsys.readouterr()
    assert main(["report", SEED_001, "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert main(["report", SEED_001, "--param", "EcrApiEndpoint=maybe", "-o", str(tmp_path / "x.html")]) == 2
    assert main(["report", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.html")]) == 2
    assert main(["report", SEED_001, "-o", str(tmp_path / "no-such-dir" / "x.html")]) == 2
    assert main(["report", SEED_001, "-o", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["report", SEED_001])          # -o is required
    assert exit_info.value.code == 2


def test_audit_findings_plug_in(tmp_path: Path) -> None:
    env = load_environment([SEED_001])
    findings = [ReportFinding("endpoint-open", "warning", "the <policy> allows everything", "narrow it",
                              "template.yaml:3:5", "endpoint vpce-1"),
                ReportFinding("role-trust", "error", "ECS may assume the role", "add aws:SourceAccount",
                              "template.yaml:9:1")]
    built = build_report(env, Decider(env), sources=[SEED_001], findings=findings)
    tree = parse_html(render_html(built))
    rows = tree.find("section", id="findings").find_all("tr", class_="finding")
    assert [r.attrs["data-id"] for r in rows] == ["role-trust", "endpoint-open"]   # most severe first
    assert "the <policy> allows everything" in rows[1].text


def test_the_audit_findings_of_the_environment_are_shown(tmp_path: Path) -> None:
    tree = page(tmp_path, SEED_001)
    section = tree.find("section", id="findings")
    try:
        from accesspath.audit import run_audit
    except ImportError:
        assert section.find_all("p", class_="audit-unavailable")
        return
    expected = run_audit(load_environment([SEED_001])).findings
    rows = section.find_all("tr", class_="finding")
    assert len(rows) == len(expected)
    assert {r.attrs["data-id"] for r in rows} == {f.finding.rule_id for f in expected}
    for row in rows:
        assert re.search(r"template\.yaml:\d+:\d+", row.text) or row.find_all("td")[-1].text == "-"
