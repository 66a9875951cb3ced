"""Every dashboard page in headless Chromium at desktop (1280 × 900) and phone (390 × 844)
widths, against a real `lucid serve` on loopback.

The pages are found, not listed: from `/dashboard`, every same-site link under /dashboard is
followed (GET only, depth 3), so a new page is covered once a link reaches it. Each page must
answer 200, not scroll sideways (`documentElement.scrollWidth` at most the width; a failure names
the element reaching furthest right), and draw every `svg.chart` with a `g.axis` holding tick
labels on both axes (`text.tick`; an interval chart's y axis is its `text.row-label`s).
The width is the device's, not `innerWidth`: on a phone (`is_mobile`) Chromium widens the
layout viewport to the content, so `innerWidth` grows with the overflow it should reveal.

Load time (navigation start to the end of `load`, from the Navigation Timing entry) is written
to the artefact index for each page; the assertion is a loose 3 s per page, since a per-page
300 ms bound is not reliable on a shared 2-core machine (bench/dashboard.py measures that).

Artefacts: a full-page screenshot per page and width, `dashboard/<page>-<width>.png`, and
`dashboard/index.json` + `index.md` (page, width, status, load ms, overflow px) under the
folder named by `LUCID_TEST_ARTEFACTS`, else under the module's pytest temporary folder.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from lucid.bootstrap import open_project
from lucid.scenarios.churn.sample_activity import write_sample_activity
from tests.conftest import run_lucid
from tests.e2e.browser import chromium
from tests.e2e.service_world import served
from tests.e2e.test_dashboard import Stepper, fill, signed_in

pytestmark = pytest.mark.slow

WIDTHS = {
    1280: {"viewport": {"width": 1280, "height": 900}},
    390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
DEPTH = 3
"""Links followed from /dashboard: the nav's pages, their details, the details' links."""
MOST_PAGES = 60
NOT_PAGES = ("/dashboard/login", "/dashboard/logout")
SLOWEST_LOAD_MS = 3000

KNOWN_OVERFLOW: dict[str, str] = {}
"""Pages known to scroll sideways, `"<path glob>@<width>"` → why (e.g.
`"/dashboard/incidents@390": "the proposals column is one word a line"`). Each is a strict
expected failure: the width's test xfails while they overflow, and fails once one no longer
does (remove it then). Every other page is held to the rule."""

OVERFLOW = """(limit) => {
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const named = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + '#' + e.id); break; }
      const classes = (e.getAttribute('class') || '').trim().split(/\\s+/).filter(Boolean);
      if (classes.length) part += '.' + classes.join('.');
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  let worst = null;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    const right = box.right + window.scrollX;
    if (right > limit + 0.5 && !clipped(el) && (!worst || right > worst.right + 0.5)) {
      worst = {selector: named(el), right: Math.round(right), width: Math.round(box.width)};
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          worst: worst};
}"""

CHARTS = """() => Array.from(document.querySelectorAll('svg.chart')).map((svg, index) => {
  const ticks = Array.from(svg.querySelectorAll('g.axis text.tick'));
  const onY = (t) => t.classList.contains('y-tick') || (!t.classList.contains('x-tick')
    && t.getAttribute('text-anchor') === 'end');
  return {
    chart: svg.id || svg.getAttribute('aria-label') || ('chart ' + index),
    axis: svg.querySelectorAll('g.axis').length,
    x: ticks.filter((t) => !onY(t) && t.textContent.trim()).length,
    y: ticks.filter((t) => onY(t) && t.textContent.trim()).length,
    rows: svg.querySelectorAll('text.row-label').length,
  };
})"""

RAW_TIMES = r"""() => {
  const moment = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[.\d]*(?:[+-]\d{2}:\d{2}|Z)?/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = new Set();
  for (let node = walker.nextNode(); node && found.size < 3; node = walker.nextNode()) {
    const hit = node.textContent.match(moment);
    if (hit) found.add(`${hit[0]} (in <${node.parentElement.tagName.toLowerCase()}>: ` +
                       `"${node.textContent.trim().slice(0, 60)}")`);
  }
  return Array.from(found);
}"""
"""Moments written as machine text (seconds, fractions, a zone) in the visible text of a page:
a page writes a moment to the minute (the `when` filter), the exact one in its title."""

LOADED_MS = """() => {
  const [entry] = performance.getEntriesByType('navigation');
  return entry.loadEventEnd - entry.startTime;
}"""


def build(folder: Path) -> str:
    """test_dashboard's world in `folder` (features approved and materialised, churn's
    versions, promotions and rollback, an A/B experiment, upsell's monitoring runs and
    alerts), plus churn's incident carried to its lesson and closed; an admin's token, who is
    offered every form."""
    assert run_lucid("init", str(folder)).code == 0
    (folder / "lucid.yaml").write_text((folder / "lucid.yaml").read_text() + "approvers: [bea]\n")
    write_sample_activity(folder)
    with open_project(folder, environ={}) as lucid:
        lucid.clock = Stepper()
        fill(lucid)
        incidents = lucid.incidents
        opened = [i for i in incidents.list("churn") if i.status.value != "closed"]
        if opened:
            ident = opened[0].id
        else:
            ident = incidents.open(
                "churn", summary="retention fell after v2", level="critical", actor="ana"
            ).id
        incidents.acknowledge(ident, actor="ana")
        incidents.diagnose(
            ident,
            root_cause="concept_drift",
            details="v2 learnt a promotion month that did not come back",
            participants=["data-science", "ana (marketing)"],
            actor="ana",
        )
        incidents.propose(
            ident,
            ["retrain on twelve months", "drop the promotion flag as a feature"],
            actor="ana",
        )
        incidents.link_experiment(ident, "churn-ab", actor="ana")
        incidents.record_lesson(ident, "hold out a full season before promoting", actor="ana")
        incidents.resolve(ident, resolution="rolled back to v1", actor="ana")
        _, secret = lucid.tokens.create(
            person="ada", role="admin", teams=[], actor="admin", rationale="test"
        )
    return str(secret)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The built project's folder and the admin's token."""
    folder = tmp_path_factory.mktemp("dashboard_pages") / "shop"
    return folder, build(folder)


@pytest.fixture(scope="module")
def server(project: tuple[Path, str]) -> Iterator[str]:
    with served(project[0], workers=2) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def cookies(browser: Any, server: str, project: tuple[Path, str]) -> list[Any]:
    """The signed-in admin's session cookies."""
    page = signed_in(browser, server, project[1])
    jar = page.context.cookies()
    page.context.close()
    return list(jar)


@pytest.fixture(scope="module")
def pages(browser: Any, server: str, cookies: list[Any]) -> list[str]:
    """The dashboard's pages as found by following links from /dashboard: one URL per path
    (the first link reaching it), in the order found."""
    context = browser.new_context()
    context.add_cookies(cookies)
    page = context.new_page()
    found = {"/dashboard": f"{server}/dashboard"}
    frontier = ["/dashboard"]
    for _ in range(DEPTH):
        reached: list[str] = []
        for path in frontier:
            page.goto(found[path])
            for href in page.eval_on_selector_all("a[href]", "all => all.map(a => a.href)"):
                link = urlsplit(href)
                if (
                    f"{link.scheme}://{link.netloc}" == server
                    and (link.path == "/dashboard" or link.path.startswith("/dashboard/"))
                    and link.path not in NOT_PAGES
                    and link.path not in found
                    and len(found) < MOST_PAGES
                ):
                    query = f"?{link.query}" if link.query else ""
                    found[link.path] = f"{server}{link.path}{query}"
                    reached.append(link.path)
        frontier = reached
    context.close()
    return list(found.values())


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("LUCID_TEST_ARTEFACTS")
    folder = (Path(root) if root else tmp_path_factory.mktemp("artefacts")) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def index() -> list[dict[str, Any]]:
    """The rows of the artefact index, filled by each width's test."""
    return []


def slug(url: str) -> str:
    path = urlsplit(url).path.removeprefix("/dashboard").strip("/")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path) or "overview"


def write_index(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "index.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "| page | width | status | load ms | overflow px | widest offender | screenshot |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['page']} | {row['width']} | {row['status']} | {row['load_ms']:.0f} "
            f"| {row['overflow_px']} | {row['offender'] or ''} | {row['screenshot']} |"
        )
    for width in sorted({row["width"] for row in rows}, reverse=True):
        times = sorted(row["load_ms"] for row in rows if row["width"] == width)
        p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
        lines.append(
            f"\nAt {width} px: {len(times)} pages, load p95 {p95:.0f} ms, "
            f"slowest {times[-1]:.0f} ms."
        )
    (folder / "index.md").write_text("\n".join(lines) + "\n")


def known_overflow(path: str, width: int) -> str | None:
    for key, why in KNOWN_OVERFLOW.items():
        pattern, _, at = key.rpartition("@")
        if int(at) == width and fnmatch.fnmatchcase(path, pattern):
            return why
    return None


def test_the_crawl_reaches_every_page_of_the_nav(pages: list[str]) -> None:
    paths = {urlsplit(url).path for url in pages}
    nav = ("features", "models", "monitoring", "incidents", "experiments", "events")
    assert {"/dashboard", *(f"/dashboard/{name}" for name in nav)} <= paths, sorted(paths)
    assert {"/dashboard/models/churn", "/dashboard/monitoring/upsell"} <= paths, sorted(paths)


def test_the_root_redirects_to_the_dashboard(server: str) -> None:
    answer = httpx.get(f"{server}/", follow_redirects=False)
    assert answer.status_code == 307, answer.status_code
    assert answer.headers["location"] in ("/dashboard", f"{server}/dashboard")


def measure(page: Any, url: str, width: int, artefacts: Path) -> dict[str, Any]:
    """Load `url`; its row of the artefact index, with the charts' axes under "axes"."""
    answer = page.goto(url, wait_until="load")
    page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    loaded = float(page.evaluate(LOADED_MS))
    fit = page.evaluate(OVERFLOW, width)
    axes = page.evaluate(CHARTS)
    raw_times = page.evaluate(RAW_TIMES)
    shot = f"{slug(url)}-{width}.png"
    page.screenshot(path=str(artefacts / shot), full_page=True)
    overflow = max(0, fit["scrollWidth"] - width)
    worst = fit["worst"]
    return {
        "page": urlsplit(url).path,
        "url": url,
        "width": width,
        "status": answer.status if answer is not None else 0,
        "load_ms": round(loaded, 1),
        "overflow_px": overflow,
        "offender": (
            f"{worst['selector']} ({worst['width']} px wide, right edge at {worst['right']})"
            if worst and overflow
            else None
        ),
        "raw_times": raw_times,
        "charts": len(axes),
        "axes": axes,
        "screenshot": shot,
    }


def faults(row: dict[str, Any]) -> list[str]:
    """What breaks the rules on one page at one width, the overflow aside."""
    where = f"{row['page']} @{row['width']}"
    found = [f"{where}: answered {row['status']}"] if row["status"] != 200 else []
    for chart in row["axes"]:
        if not chart["axis"] or not chart["x"] or not (chart["y"] or chart["rows"]):
            found.append(
                f"{where}: chart {chart['chart']!r} has {chart['axis']} g.axis, "
                f"{chart['x']} x tick labels and {chart['y']} y tick labels "
                f"({chart['rows']} row labels)"
            )
    if row["raw_times"]:
        found.append(f"{where}: shows machine timestamps {', '.join(row['raw_times'])}")
    if row["load_ms"] >= SLOWEST_LOAD_MS:
        found.append(f"{where}: loaded in {row['load_ms']:.0f} ms")
    return found


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
def test_every_page_fits_its_width_and_draws_its_axes(
    width: int,
    browser: Any,
    cookies: list[Any],
    pages: list[str],
    artefacts: Path,
    index: list[dict[str, Any]],
) -> None:
    context = browser.new_context(**WIDTHS[width])
    context.add_cookies(cookies)
    page = context.new_page()
    problems: list[str] = []
    expected: dict[str, str] = {}
    for url in pages:
        row = measure(page, url, width, artefacts)
        index[:] = [r for r in index if (r["page"], r["width"]) != (row["page"], width)]
        index.append({key: value for key, value in row.items() if key != "axes"})
        problems += faults(row)
        path, why = row["page"], known_overflow(row["page"], width)
        if row["overflow_px"] and why is not None:
            expected[path] = why
        elif row["overflow_px"]:
            problems.append(
                f"{path} @{width}: scrolls sideways by {row['overflow_px']} px; "
                f"widest: {row['offender']}"
            )
        elif why is not None:
            problems.append(f"{path} @{width}: fits now, remove it from KNOWN_OVERFLOW ({why})")
    context.close()
    paths = [urlsplit(url).path for url in pages]
    for key in KNOWN_OVERFLOW:
        pattern, _, at = key.rpartition("@")
        if int(at) == width and not any(fnmatch.fnmatchcase(p, pattern) for p in paths):
            problems.append(f"KNOWN_OVERFLOW names {key!r}, which matches no page found")
    index.sort(key=lambda row: (row["page"], -row["width"]))
    write_index(artefacts, index)
    assert not problems, "\n".join(problems)
    if expected:
        pytest.xfail("; ".join(f"{path} @{width}: {why}" for path, why in expected.items()))
