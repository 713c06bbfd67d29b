"""A process that dies at a chosen point of the outbox checkpoint (run by the tests).

    python -m tests.integration.outbox_crash after-commit|after-publish PRODUCER TOPIC IDS...

after-commit: commits the outbox messages, then dies before any relay runs.
after-publish: relays them, and dies once Kafka acknowledged but before the
delete was committed.
"""

from __future__ import annotations

import asyncio
import os
import sys

import orjson

from shared.db import make_engine, make_session_factory, unit_of_work
from shared.kafka import EventProducer, OutgoingRecord
from shared.metrics import new_registry
from shared.outbox import OutboxRelay, add_to_outbox


class DiesAfterPublish(EventProducer):
    async def send_all(self, records: list[OutgoingRecord]) -> None:  # type: ignore[override]
        await super().send_all(records)
        os._exit(9)


async def main(point: str, producer: str, topic: str, ids: list[str]) -> None:
    engine = make_engine(os.environ["DATABASE_URL"])
    if point == "after-commit":
        async with unit_of_work(make_session_factory(engine)) as session:
            for event_id in ids:
                add_to_outbox(
                    session,
                    producer=producer,
                    topic=topic,
                    key=event_id,
                    payload=orjson.dumps({"event_id": event_id}),
                    headers={"event_id": event_id},
                )
        os._exit(9)
    kafka = DiesAfterPublish(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    relay = OutboxRelay(producer_name=producer, engine=engine, kafka=kafka, registry=new_registry())
    await relay.relay_once()
    raise SystemExit("the relay should have died")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
