"""The pure rules behind the HTTP defences: who may log what is served, and which text may be
stored."""

from __future__ import annotations

import pytest

from lucid.contracts.access import Principal, Role
from lucid.errors import Forbidden
from lucid.http.text_fields import refusal


def holder(role: Role) -> Principal:
    return Principal("t1", "checkout" if role is Role.SERVICE else "vic", role)


@pytest.mark.parametrize("role", [Role.SERVICE, Role.SCIENTIST, Role.APPROVER, Role.ADMIN])
def test_services_and_scientists_upwards_log_what_is_served(role: Role) -> None:
    holder(role).require_logging(action="logging outcomes")


def test_a_viewer_may_not_log_and_a_service_takes_no_governance_step() -> None:
    with pytest.raises(Forbidden, match=r"^vic is a viewer; logging outcomes needs the scien"):
        holder(Role.VIEWER).require_logging(action="logging outcomes")
    service = holder(Role.SERVICE)
    service.require(Role.VIEWER, action="reading")
    for needed in (Role.SCIENTIST, Role.APPROVER, Role.ADMIN):
        with pytest.raises(Forbidden, match=f"checkout is a service; .* the {needed.value} role"):
            service.require(needed, action="promoting churn@2")
    assert Role.parse("service") is Role.SERVICE and Role.SERVICE.rank == Role.VIEWER.rank


@pytest.mark.parametrize(
    ("text", "prose", "found"),
    [
        ("c\x00", False, "U+0000 (a control character), found at character 2"),
        ("a\tb", False, "U+0009 (a control character), found at character 2"),
        ("x\x7f", True, "U+007F (a control character)"),
        ("next\x85line", True, "U+0085 (a control character)"),
        ("\ud800", True, "U+D800 (an unpaired surrogate)"),
    ],
)
def test_control_characters_and_unpaired_surrogates_are_refused(
    text: str, prose: bool, found: str
) -> None:
    reason = refusal(text, prose=prose)
    assert reason is not None and reason.startswith(f"must not contain {found}")


@pytest.mark.parametrize("text", ["churn", "Zoë's 🎯 model"])
def test_ordinary_text_passes_and_prose_keeps_its_line_breaks(text: str) -> None:
    assert refusal(text) is None
    assert refusal(f"{text}\r\n\twith a tab", prose=True) is None
