"""An id given by its first characters: one stored id, several (named), too short, none."""

from __future__ import annotations

import getpass
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Connection, MetaData, String, Table, create_engine, insert

from lucid.errors import InvalidInput
from lucid.settings import default_actor
from lucid.storage.id_prefix import stored_id

IDS = ("0193a1b2-aaaa", "0193a1b2-bbbb", "77f0c3d4-cccc", "ab_d", "ab%d1234")
THINGS = Table("things", MetaData(), Column("id", String, primary_key=True))


@pytest.fixture(scope="module")
def connection() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    THINGS.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(insert(THINGS), [{"id": i} for i in IDS])
        yield conn
    engine.dispose()


def find(connection: Connection, given: str) -> str | None:
    return stored_id(connection, THINGS.c.id, given, "incident_id")


def test_an_exact_id_or_a_unique_prefix_finds_the_stored_id(connection: Connection) -> None:
    assert find(connection, "0193a1b2-aaaa") == "0193a1b2-aaaa"
    assert find(connection, "77f0") == "77f0c3d4-cccc"
    assert find(connection, "0193a1b2-b") == "0193a1b2-bbbb"
    assert find(connection, "ab_d") == "ab_d"  # an exact id, however short


def test_a_prefix_of_no_id_finds_none_and_wildcards_are_plain_characters(
    connection: Connection,
) -> None:
    assert find(connection, "ffff") is None
    assert find(connection, "ab%d") == "ab%d1234"
    assert find(connection, "a%%%") is None  # `%` is no wildcard


def test_a_prefix_of_several_ids_is_refused_naming_them(connection: Connection) -> None:
    with pytest.raises(InvalidInput) as refused:
        find(connection, "0193")
    assert str(refused.value) == (
        "incident_id: '0193' is the start of several ids (0193a1b2-aaaa, 0193a1b2-bbbb); "
        "give more characters"
    )


def test_a_prefix_shorter_than_four_characters_is_refused(connection: Connection) -> None:
    with pytest.raises(InvalidInput, match="incident_id: '77f' is not a stored id and too short"):
        find(connection, "77f")


def test_the_default_actor_is_lucid_actor_else_the_operating_systems_user() -> None:
    assert default_actor({"LUCID_ACTOR": "ana", "USER": "root"}) == "ana"
    assert default_actor({"USER": "bo"}) == "bo"
    assert default_actor({}) == getpass.getuser() != "unknown"
