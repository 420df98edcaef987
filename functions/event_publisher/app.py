"""Table stream → EventBridge: file.confirmed / file.rejected / file.deleted, off the request path."""

from typing import Any

from ferry.data.event_bus import EventBus
from ferry.events import from_stream
from ferry.observability import logger
from ferry.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    events = from_stream(event.get("Records", []), settings.delivery_base_url)
    failed = EventBus(settings.event_bus_name).publish(events)
    if failed:
        logger.warning("EventBridge refused entries; they will be retried", extra={"failed": len(failed)})
    return {"batchItemFailures": [{"itemIdentifier": e.record_id} for e in failed]}
