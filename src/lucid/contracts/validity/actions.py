"""The actions a graded check asks for (`alert:data_team`, `retrain`, `rollback`...)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lucid.contracts.names import PERSON_MAX_LENGTH, check_pattern
from lucid.errors import InvalidInput


class ActionKind(StrEnum):
    """What a graded check asks for."""

    ALERT = "alert"
    RETRAIN = "retrain"
    FREEZE = "freeze"
    ROLLBACK = "rollback"
    INVESTIGATE = "investigate"


_TARGET = re.compile(r"[a-z][a-z0-9_.@-]*")


@dataclass(frozen=True, slots=True, order=True)
class Action:
    """One action: a kind and an optional target (the team alerted, e.g. `data_team`).

    Written `kind` or `kind:target` (`alert:data_team`, `retrain`, `rollback`).
    """

    kind: ActionKind
    target: str | None = None

    def __post_init__(self) -> None:
        if self.target is not None:
            check_pattern(
                self.target,
                "action.target",
                _TARGET,
                f"lower-case letters, digits, '_', '.', '@' or '-' (at most {PERSON_MAX_LENGTH} "
                "characters)",
                PERSON_MAX_LENGTH,
            )
        if self.kind is ActionKind.ALERT and self.target is None:
            raise InvalidInput("action", "alert must name whom it alerts, e.g. alert:data_team")

    @classmethod
    def parse(cls, text: str) -> Action:
        kind_text, _, target = text.strip().partition(":")
        try:
            kind = ActionKind(kind_text)
        except ValueError:
            known = ", ".join(kind.value for kind in ActionKind)
            raise InvalidInput("action", f"{text!r} is not an action (known: {known})") from None
        return cls(kind, target or None)

    def __str__(self) -> str:
        return self.kind.value if self.target is None else f"{self.kind.value}:{self.target}"


SEED_ACTIONS: Mapping[str, tuple[Action, ...]] = {
    "alert_data_team": (Action(ActionKind.ALERT, "data_team"),),
    "alert_business_team": (Action(ActionKind.ALERT, "business_team"),),
    "trigger_retraining_pipeline": (Action(ActionKind.RETRAIN),),
    "freeze_deployment_and_investigate": (
        Action(ActionKind.FREEZE),
        Action(ActionKind.INVESTIGATE),
    ),
    "automatic_rollback": (Action(ActionKind.ROLLBACK),),
}
"""The seed's action names, accepted as aliases in policies."""


def parse_actions(value: str | Sequence[str], field_name: str) -> tuple[Action, ...]:
    """Actions from `alert:data_team`, a seed alias, or a list of either."""
    if not isinstance(value, str | list | tuple):
        raise InvalidInput(field_name, f"must be an action or a list of actions, not {value!r}")
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise InvalidInput(field_name, "must name at least one action")
    actions: list[Action] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(field_name, f"{item!r} must be an action written as text")
        if item in SEED_ACTIONS:
            actions.extend(SEED_ACTIONS[item])
            continue
        try:
            actions.append(Action.parse(item))
        except InvalidInput as error:
            raise InvalidInput(field_name, error.rule) from None
    return tuple(dict.fromkeys(actions))
