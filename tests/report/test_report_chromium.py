"""accesspath report in a real browser: headless Chromium renders the page (screenshot) and runs its
script (--dump-dom). Needs Debian's ``chromium`` package; skipped when no chromium binary exists, and
failed instead under CI=true (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from accesspath.cli import main
from accesspath.report.layout import COLUMNS, NODE_WIDTH, TOP, column_x

from .html_tree import parse_html
from .png_pixels import read_png

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = str(EXAMPLES / "seed001-fargate-private-subnet" / "template.yaml")

CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
MISSING = "no chromium binary on PATH: install Debian's chromium package (apt-get install -y chromium)"
# Under CI (CI=true) a missing browser is a failure, never a skip counted as a pass.
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True, scope="module")
def _needs_chromium() -> None:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail(f"CI=true and {MISSING}")
        pytest.skip(MISSING)

WIDTH, HEIGHT = 1400, 1000
GREEN = (0x1A, 0x7F, 0x37)     # allowed edges (report.svg.EDGE_COLOURS)
RED = (0xD1, 0x24, 0x2F)       # denied edges
GREY = (0x8C, 0x95, 0x9F)      # unreachable (dashed) edges


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{HEIGHT}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The seed 001 report with ecr.dkr missing and an organization-only S3 endpoint policy: green, red
    and dashed grey edges on one page."""
    tmp_path = tmp_path_factory.mktemp("chromium")
    page = tmp_path / "report.html"
    assert main(["report", SEED_001, "--param", "EcrDkrEndpoint=false", "--param", "S3EndpointPolicy=organization-only",
                 "-o", str(page)]) == 0
    screenshot = tmp_path / "report.png"
    shot = chromium(tmp_path, f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    return page, screenshot, dom.stdout


def near(colour: tuple[int, int, int], target: tuple[int, int, int], tolerance: int = 24) -> bool:
    return sum((a - b) ** 2 for a, b in zip(colour, target)) <= tolerance ** 2


def edge_gaps(dumped: str) -> list[tuple[int, int, int, int]]:
    """The screen rectangles between the diagram's node columns, where only edges are drawn."""
    svg = parse_html(dumped).find("svg", class_="diagram")
    left, top, width, height = (int(n) for n in svg.attrs["data-rendered-box"].split())
    scale = width / int(svg.attrs["viewbox"].split()[2])  # html.parser lowercases attribute names
    gaps = []
    for column in range(COLUMNS - 1):
        x0 = left + (column_x(column) + NODE_WIDTH + 2) * scale
        x1 = left + (column_x(column + 1) - 2) * scale
        gaps.append((round(x0), round(top + TOP * scale), round(x1), top + height))
    return gaps


def test_the_screenshot_shows_the_diagram_in_colour(rendered: tuple[Path, Path, str]) -> None:
    _, screenshot, dumped = rendered
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000
    image = read_png(screenshot)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    colours = image.colours()
    assert len(colours) > 200, "the page looks blank"
    assert max(colours.values()) < 0.9 * WIDTH * HEIGHT, "one colour covers almost the whole page"

    # Edges only: count the colours between the node columns (no node, badge or legend is there).
    counts = {"green": 0, "red": 0, "grey": 0}
    for x0, y0, x1, y1 in edge_gaps(dumped):
        assert 0 <= x0 < x1 <= WIDTH and y0 < HEIGHT
        for y in range(y0, min(y1, HEIGHT)):
            for x in range(x0, x1):
                pixel = image.pixel(x, y)
                for name, target in (("green", GREEN), ("red", RED), ("grey", GREY)):
                    if near(pixel, target):
                        counts[name] += 1
    # The seed has four green paths, one red (the S3 gateway endpoint) and one dashed grey (ecr.dkr).
    assert counts["green"] > 500, counts
    assert counts["red"] > 300, counts
    assert counts["grey"] > 100, counts


def test_the_script_runs_and_the_dom_holds_the_report(rendered: tuple[Path, Path, str]) -> None:
    _, _, dumped = rendered
    tree = parse_html(dumped)
    html = tree.find("html")
    assert html.attrs.get("data-report-script") == "ran", "the inline script did not run"
    # The script reveals the "expand all denials" button only when the page has denials.
    assert "hidden" not in tree.find("button", id="toggle-denials").attrs
    svg = tree.find("svg", class_="diagram")
    assert svg.find_all("g", class_="edge", data_status="denied")
    assert svg.find_all("g", class_="edge", data_status="unreachable")
    assert tree.find_all("details", class_="denial")
