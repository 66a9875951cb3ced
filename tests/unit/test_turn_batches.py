"""`TurnBatches`: what the requests of one event-loop turn ask is answered by one call."""

from __future__ import annotations

import asyncio

import pytest

from lucid.service.turn_batches import TurnBatches


def test_asks_of_one_turn_share_one_call_and_keys_are_kept_apart() -> None:
    calls: list[tuple[str, list[int]]] = []

    async def answer(key: str, items: list[int]) -> list[str]:
        calls.append((key, items))
        return [f"{key}{item}" for item in items]

    async def main() -> list[str]:
        batches: TurnBatches[str, int, str] = TurnBatches(answer)
        asks = [batches.ask("a", n) for n in range(5)] + [batches.ask("b", 9)]
        return list(await asyncio.gather(*asks))

    assert asyncio.run(main()) == ["a0", "a1", "a2", "a3", "a4", "b9"]
    assert calls == [("a", [0, 1, 2, 3, 4]), ("b", [9])]


def test_asks_arriving_during_a_call_form_the_next_batch() -> None:
    calls: list[list[int]] = []
    release = asyncio.Event()

    async def answer(key: str, items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            await release.wait()  # a store's round trip
        return [item * 10 for item in items]

    async def main() -> list[int]:
        batches: TurnBatches[str, int, int] = TurnBatches(answer)
        first = asyncio.ensure_future(batches.ask("k", 1))
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the first call is now waiting
        later = [asyncio.ensure_future(batches.ask("k", n)) for n in (2, 3)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        release.set()
        return list(await asyncio.gather(first, *later))

    assert asyncio.run(main()) == [10, 20, 30]
    assert calls == [[1], [2, 3]]


def test_a_failed_call_answers_each_ask_with_its_error() -> None:
    async def answer(key: str, items: list[int]) -> list[int]:
        raise ValueError("the store is down")

    async def main() -> list[BaseException | int]:
        batches: TurnBatches[str, int, int] = TurnBatches(answer)
        return await asyncio.gather(
            *(batches.ask("k", n) for n in range(3)), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert [str(error) for error in answers] == ["the store is down"] * 3


def test_a_call_with_too_few_answers_fails_every_ask() -> None:
    async def answer(key: str, items: list[int]) -> list[int]:
        return items[:1]

    async def main() -> list[BaseException | int]:
        batches: TurnBatches[str, int, int] = TurnBatches(answer)
        return await asyncio.gather(
            *(batches.ask("k", n) for n in range(3)), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert all(isinstance(error, RuntimeError) for error in answers)
    assert str(answers[0]) == "1 answers to a batch of 3"


def test_a_cancelled_ask_leaves_the_others_answered() -> None:
    async def answer(key: str, items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        return items

    async def main() -> tuple[bool, int]:
        batches: TurnBatches[str, int, int] = TurnBatches(answer)
        leaving = asyncio.ensure_future(batches.ask("k", 1))
        staying = asyncio.ensure_future(batches.ask("k", 2))
        await asyncio.sleep(0.001)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return leaving.cancelled(), await staying

    assert asyncio.run(main()) == (True, 2)


def _turns_until_answered(batches: TurnBatches[str, int, int]) -> int:
    """How many turns of the loop a lone ask waits for its answer."""

    async def main() -> int:
        turns = 0
        asked = asyncio.ensure_future(batches.ask("k", 1))
        while not asked.done():
            await asyncio.sleep(0)
            turns += 1
        assert asked.result() == 10
        return turns

    return asyncio.run(main())


def test_an_answer_that_does_not_wait_is_given_in_the_turn_that_asks_for_it() -> None:
    calls: list[list[int]] = []

    def at_once(key: str, items: list[int]) -> list[int]:
        calls.append(items)
        return [item * 10 for item in items]

    async def awaited(key: str, items: list[int]) -> list[int]:
        return at_once(key, items)

    direct = _turns_until_answered(TurnBatches(at_once))
    through_a_task = _turns_until_answered(TurnBatches(awaited))
    assert direct < through_a_task
    assert calls == [[1], [1]]


def test_an_answer_that_does_not_wait_shares_one_call_and_fails_every_ask() -> None:
    calls: list[list[int]] = []

    def answer(key: str, items: list[int]) -> list[int]:
        calls.append(items)
        if key == "down":
            raise ValueError("the model cannot run")
        return [item + 1 for item in items]

    async def main() -> tuple[list[int], list[BaseException | int]]:
        batches: TurnBatches[str, int, int] = TurnBatches(answer)
        good = await asyncio.gather(*(batches.ask("up", n) for n in range(4)))
        bad = await asyncio.gather(
            *(batches.ask("down", n) for n in range(2)), return_exceptions=True
        )
        return list(good), bad

    good, bad = asyncio.run(main())
    assert good == [1, 2, 3, 4]
    assert [str(error) for error in bad] == ["the model cannot run"] * 2
    assert calls == [[0, 1, 2, 3], [0, 1]]
