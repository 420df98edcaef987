from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ferry import aws
from ferry.events import SOURCE, DomainEvent

_BATCH = 10  # PutEvents takes at most 10 entries


class EventBus:
    def __init__(self, bus_name: str, events_client: Any | None = None):
        self._bus = bus_name
        self._events = events_client

    @property
    def _client(self) -> Any:
        return self._events or aws.client("events")

    def publish(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        """Publish; returns the events EventBridge did not accept (to be retried)."""
        failed: list[DomainEvent] = []
        for start in range(0, len(events), _BATCH):
            batch = events[start : start + _BATCH]
            response = self._client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": event.detail_type,
                        "Detail": json.dumps(event.detail),
                        "EventBusName": self._bus,
                        "Resources": [],
                    }
                    for event in batch
                ]
            )
            failed += [event for event, entry in zip(batch, response["Entries"], strict=True) if "ErrorCode" in entry]
        return failed
