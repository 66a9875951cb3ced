"""Subcommands imported when they are resolved, so a command pays only for its own imports.

Click's "lazy loading subcommands" pattern on a Typer group: the root knows each
subcommand's name and where it lives (`module:attribute`, a command function or a
`typer.Typer` group), and imports that module the first time Click asks for the command
(invoking it, its `--help`, or the root's `--help`, which lists every subcommand with its
help text). A loaded subcommand is built by Typer exactly as `app.command(name)(function)`
or `app.add_typer(group, name=name)` would build it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A subcommand by name and place: `target` is `module:attribute`; `group` says the
    attribute is a `typer.Typer` of subcommands rather than a command function."""

    name: str
    target: str
    group: bool = False

    def load(self, parent: TyperGroup, pretty_exceptions_short: bool) -> Any:
        """Import the target and build its Click command with the parent group's settings."""
        module, attribute = self.target.split(":")
        value = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(
            add_completion=False,
            rich_markup_mode=parent.rich_markup_mode,
            pretty_exceptions_short=pretty_exceptions_short,
            suggest_commands=parent.suggest_commands,
        )
        holder.callback()(_no_options)
        if self.group:
            holder.add_typer(value, name=self.name)
        else:
            holder.command(self.name)(value)
        return typer.main.get_group(holder).commands[self.name]


def _no_options() -> None:
    """A callback, so that Typer builds the holder as a group even with one subcommand."""


class LazyCommands(MutableMapping[str, Any]):
    """The group's commands: the built ones, then the lazy ones, in that order; a lazy one is
    built on first access. Its keys never import anything."""

    def __init__(
        self,
        parent: TyperGroup,
        built: Mapping[str, Any],
        lazy: tuple[LazyCommand, ...],
        pretty_exceptions_short: bool,
    ) -> None:
        self._parent = parent
        self._built: dict[str, Any] = dict(built)
        self._lazy = {command.name: command for command in lazy if command.name not in built}
        self._order = [*self._built, *self._lazy]
        self._short = pretty_exceptions_short

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._lazy[name].load(self._parent, self._short)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._order:
            self._order.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._lazy.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._order


class LazyGroup(TyperGroup):
    """A Typer group whose `lazy` subcommands are imported on first use; `--help` lists them
    all in the order of `lazy`, after the ones registered on the Typer app itself.
    `pretty_exceptions_short` is the app's setting of the same name (Typer's default)."""

    lazy: tuple[LazyCommand, ...] = ()
    pretty_exceptions_short: bool = True

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self, self.commands, self.lazy, self.pretty_exceptions_short)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)
