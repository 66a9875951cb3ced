"""A separate process that appends events and prints each id once `append` has returned.

Usage: python append_worker.py DATABASE_URL COUNT LABEL
"""

from __future__ import annotations

import sys

from lucid.contracts.events import DecisionRecorded, NewEvent, Subject
from lucid.storage.database import Database
from lucid.storage.event_log import SqlEventLog


def main() -> None:
    url, count, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = SqlEventLog(Database(url))
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other workers
    for number in range(count):
        event = log.append(
            NewEvent.of(
                DecisionRecorded(title=f"{label}-{number}", decision="d"),
                actor=label,
                subject=Subject("worker", label),
                rationale="concurrency test",
            )
        )
        print(event.id, flush=True)


if __name__ == "__main__":
    main()
