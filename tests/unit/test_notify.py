"""The append signal wakes waiters, never loses a wake-up, and forgets waiters that went away."""

from __future__ import annotations

import asyncio
import threading

from app.notify import AppendSignal


def test_a_notify_from_another_thread_wakes_the_waiter():
    signal = AppendSignal()

    async def main():
        seen = signal.generation
        waiting = asyncio.create_task(signal.wait(seen, timeout=30))
        await asyncio.sleep(0)
        threading.Thread(target=signal.notify).start()
        return await waiting, seen

    after, before = asyncio.run(main())
    assert after == before + 1


def test_an_append_between_read_and_wait_is_not_missed():
    signal = AppendSignal()
    seen = signal.generation
    signal.notify()
    assert asyncio.run(signal.wait(seen, timeout=30)) == seen + 1


def test_a_cancelled_waiter_is_forgotten_and_a_closed_loop_does_not_break_notify():
    signal = AppendSignal()

    async def abandon():
        task = asyncio.create_task(signal.wait(signal.generation, timeout=30))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(abandon())
    assert signal._waiters == []

    async def leave_waiting():
        asyncio.create_task(signal.wait(signal.generation, timeout=30))
        await asyncio.sleep(0)

    asyncio.run(leave_waiting())  # the loop closes with the waiter still registered
    signal.notify()
    assert signal._waiters == []
