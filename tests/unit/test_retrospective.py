"""The retrospective's two renderings from the same gathered period."""

from __future__ import annotations

from lucid.contracts.incidents import (
    Incident,
    IncidentFigures,
    IncidentStatus,
    RepeatedOf,
    RootCause,
)
from lucid.memory.retrospective import Retrospective, html, markdown

AT = "2026-11-03T02:00:00.000000Z"


def period() -> Retrospective:
    incident = Incident(
        "i2",
        "churn",
        IncidentStatus.CLOSED,
        "critical",
        AT,
        AT,
        root_cause=RootCause.DATA_DRIFT,
        diagnosis="tenure | plan <moved>",
        proposals=("retrain", "new features"),
        lesson="watch tenure",
        resolution="retrained",
        repeated_of=RepeatedOf("i1", "the first lesson"),
    )
    return Retrospective(
        "2026-11-01T00:00:00.000000Z",
        "2026-11-30T00:00:00.000000Z",
        [
            {
                "id": 1,
                "model": "churn",
                "version": 3,
                "deployed_at": AT,
                "deployed_by": "ana",
                "rationale": "A/B won",
                "hypotheses": ["retention rises"],
                "checkpoints": [{"days": 30, "due_at": AT, "outcome": "held"}],
            }
        ],
        [incident],
        [],
        {"failures_documented_pct": 100.0, "repeated_errors": 1, "detection_delay_days": None},
        [(AT, IncidentFigures()), (AT, IncidentFigures(failures_documented_pct=50.0))],
    )


def test_markdown_holds_every_section_and_escapes_table_cells() -> None:
    text = markdown(period())
    assert text.startswith("# Lucid retrospective 2026-11-01 → 2026-11-30")
    assert "| churn@3 | 2026-11-03 02:00 | ana | retention rises | 30 d: held |" in text
    assert "data_drift: tenure \\| plan <moved>" in text  # a pipe cannot break the table
    assert "repeats i1 (lesson: the first lesson)" in text
    assert "## Experiments\n\nNothing in this period." in text
    assert "| detection_delay_days | – |" in text
    assert "| 2026-11-03 02:00 | – | – | – | 50 | – |" in text


def test_html_escapes_what_people_wrote() -> None:
    page = html(period())
    assert page.startswith("<!doctype html>")
    assert "tenure | plan &lt;moved&gt;" in page and "<moved>" not in page
    assert page.count("<table>") == 4  # experiments: nothing in this period
