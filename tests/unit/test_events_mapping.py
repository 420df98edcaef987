from ferry.events import from_stream
from tests.conftest import load_event


def test_insert_of_a_confirmed_file_is_file_confirmed_with_its_url() -> None:
    [event] = from_stream(load_event("event_publisher/file_confirmed.json")["Records"], "https://cdn.example")
    assert event.detail_type == "file.confirmed" and event.record_id == "111"
    assert event.detail["url"] == "https://cdn.example/f/file_e5bbce820b5941409682a9c5e9ba79f1.png"
    assert event.detail["size"] == 2025 and event.detail["user_id"] == "sample-user"


def test_ttl_removal_is_file_deleted_because_expired() -> None:
    [event] = from_stream(load_event("event_publisher/file_expired_by_ttl.json")["Records"])
    assert (event.detail_type, event.detail["reason"]) == ("file.deleted", "expired")
    assert "url" not in event.detail  # no public base configured: only the path
    assert event.detail["path"].startswith("/f/file_")


def test_status_changes_and_other_items() -> None:
    records = load_event("event_publisher/file_confirmed.json")["Records"]
    record = records[0]
    rejected = {**record, "eventName": "MODIFY"}
    rejected["dynamodb"] = {
        **record["dynamodb"],
        "OldImage": {**record["dynamodb"]["NewImage"], "status": {"S": "pending"}},
        "NewImage": {**record["dynamodb"]["NewImage"], "status": {"S": "rejected"}, "reason": {"S": "not a png"}},
    }
    unchanged = {**record, "eventName": "MODIFY"}
    unchanged["dynamodb"] = {**record["dynamodb"], "OldImage": record["dynamodb"]["NewImage"]}
    quota = {**record, "dynamodb": {**record["dynamodb"], "Keys": {"pk": {"S": "QUOTA#u"}, "sk": {"S": "QUOTA"}}}}
    events = from_stream([rejected, unchanged, quota])
    assert [(e.detail_type, e.detail.get("reason")) for e in events] == [("file.rejected", "not a png")]
