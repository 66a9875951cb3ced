"""The Redis online store's reads on an event loop (`RedisPipe`), against the real Redis at
127.0.0.1:6379: database selection, a connection the server dropped, refusals, timeouts."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator

import pytest
import redis

from lucid.errors import StorageUnavailable
from lucid.storage.online_store import RedisOnlineStore
from lucid.storage.redis_pipe import NAME, RedisPipe, RedisPipeError
from tests.conftest import REDIS_URL, _redis_unavailable


@pytest.fixture
def server() -> Iterator[redis.Redis]:
    """A plain client of the test Redis; unpauses clients afterwards, whatever happened."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        _redis_unavailable(str(error))
    yield client
    client.execute_command("CLIENT", "UNPAUSE")
    client.close()


def _store(url: str = REDIS_URL, **options: float) -> RedisOnlineStore:
    return RedisOnlineStore(url, f"test_{uuid.uuid4().hex[:12]}", **options)


def test_reads_use_the_database_the_url_names(server: redis.Redis) -> None:
    on_3 = _store(REDIS_URL.rsplit("/", 1)[0] + "/3")
    namespace = on_3._prefix  # the same keys on database 0 must not be seen
    on_3.write("f@1.0.0", [("a", 1.5, 10.0, 9.0)])
    on_0 = _store()
    on_0._prefix = namespace

    async def read() -> tuple[object, object]:
        try:
            return (
                await on_3.read_async(["a"], ["f@1.0.0"]),
                await on_0.read_async(["a"], ["f@1.0.0"]),
            )
        finally:
            on_3.close()
            on_0.close()

    assert asyncio.run(read()) == ({("a", "f@1.0.0"): (1.5, 10.0, 9.0)}, {})
    on_3.clear()
    on_3.close()  # the blocking client's connection clear() opened


def test_a_connection_the_server_dropped_is_opened_again(server: redis.Redis) -> None:
    store = _store()
    store.write("f@1.0.0", [("a", 2.0, 10.0, 9.0)])

    async def read_kill_read() -> object:
        try:
            await store.read_async(["a"], ["f@1.0.0"])
            listed = server.client_list()
            ours = [client["id"] for client in listed if client["name"] == NAME]
            assert ours, "the reading connection carries its name"
            for client_id in ours:
                server.execute_command("CLIENT", "KILL", "ID", client_id)
            await asyncio.sleep(0.05)  # the loop sees the connection closed
            return await store.read_async(["a"], ["f@1.0.0"])
        finally:
            store.close()

    assert asyncio.run(read_kill_read()) == {("a", "f@1.0.0"): (2.0, 10.0, 9.0)}
    store.clear()
    store.close()  # the blocking client's connection clear() opened


def test_a_read_without_reply_in_time_is_refused_with_a_sentence(server: redis.Redis) -> None:
    store = _store(timeout_s=0.2)
    store.write("f@1.0.0", [("a", 3.0, 10.0, None)])

    async def paused_then_resumed() -> object:
        try:
            await store.read_async(["a"], ["f@1.0.0"])  # connected before the pause
            server.execute_command("CLIENT", "PAUSE", 1500, "ALL")
            with pytest.raises(StorageUnavailable) as refused:
                await store.read_async(["a"], ["f@1.0.0"])
            assert refused.value.sentence == (
                f"Cannot read the online store at {REDIS_URL}: no reply within 0.2 s"
            )
            server.execute_command("CLIENT", "UNPAUSE")
            # The timed-out connection was closed (a late reply would answer the wrong read);
            # the next read opens another.
            return await store.read_async(["a"], ["f@1.0.0"])
        finally:
            store.close()

    assert asyncio.run(paused_then_resumed()) == {("a", "f@1.0.0"): (3.0, 10.0, None)}
    store.clear()
    store.close()  # the blocking client's connection clear() opened


def test_a_batch_ending_early_leaves_no_reply_unretrieved(server: redis.Redis) -> None:
    """A timed-out batch or a refused command among others: the replies nobody awaits any
    more are dropped, not left for asyncio to log as "exception was never retrieved"."""
    logged: list[str] = []

    async def batches_ending_early() -> tuple[str, str]:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: logged.append(context["message"])
        )
        pipe = await RedisPipe.open(REDIS_URL, 2.0)

        async def refusal(commands: list[tuple[str, ...]], timeout: float) -> str:
            try:  # not pytest.raises: its traceback would keep the call's futures alive
                await pipe.call(commands, timeout)
            except RedisPipeError as error:
                return str(error)
            return "answered"

        try:
            refused = await refusal([("NOSUCHCOMMAND",), ("NOSUCHCOMMAND",), ("PING",)], 2.0)
            server.execute_command("CLIENT", "PAUSE", 1500, "ALL")
            late = await refusal([("PING",), ("PING",), ("PING",)], 0.2)
        finally:
            pipe.close()
        gc.collect()  # a future dropped with an unretrieved exception logs it when collected
        await asyncio.sleep(0)
        return refused, late

    refused, late = asyncio.run(batches_ending_early())
    assert "unknown command" in refused
    assert late == "no reply within 0.2 s"
    assert logged == []


def test_refusals_name_what_went_wrong() -> None:
    async def attempts() -> list[str]:
        said = []
        for url in ("redis://127.0.0.1:1/0", "redis://:wrong@127.0.0.1:6379/0"):
            with pytest.raises(RedisPipeError) as refused:
                await RedisPipe.open(url, 2.0)
            said.append(str(refused.value))
        pipe = await RedisPipe.open(REDIS_URL, 2.0)
        try:
            with pytest.raises(RedisPipeError) as refused:
                await pipe.call([("NOSUCHCOMMAND",)], 2.0)
            said.append(str(refused.value))
            # A refused command leaves the connection usable.
            said.append(repr(await pipe.call([("PING",)], 2.0)))
        finally:
            pipe.close()
        return said

    refused_port, wrong_password, unknown, after = asyncio.run(attempts())
    assert "refused" in refused_port.lower() or "connect" in refused_port.lower()
    assert "AUTH" in wrong_password or "password" in wrong_password
    assert "unknown command" in unknown
    assert after == "[b'PONG']"


def test_an_unreachable_store_is_refused_when_opened() -> None:
    with pytest.raises(StorageUnavailable) as refused:
        RedisOnlineStore("redis://:secret@127.0.0.1:1/0", "x", timeout_s=1.0)
    assert refused.value.sentence.startswith(
        "Cannot reach the online store at redis://:***@127.0.0.1:1/0: "
    )
