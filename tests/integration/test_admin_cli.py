"""ferry-admin against the table (moto), as an operator runs it."""

from __future__ import annotations

import json

import pytest

from ferry.admin import main
from ferry.data.keys import KeyRepository
from ferry.keys import KeyRejected, KeyService


@pytest.fixture
def keys(aws: dict[str, str]) -> KeyService:
    return KeyService(KeyRepository(aws["FERRY_TABLE_NAME"]))


def test_create_prints_the_key_once_and_it_verifies(
    aws: dict[str, str], keys: KeyService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--user", "alice", "--quota-mb", "500", "--expires", "30d"]) == 0
    out = capsys.readouterr()
    api_key = out.out.strip()
    assert api_key.startswith("fy_") and len(api_key) == 46
    assert "shown only once" in out.err and api_key not in out.err
    principal = keys.verify(api_key)
    assert (principal.user_id, principal.quota_bytes) == ("alice", 500 * 1024 * 1024)


def test_list_shows_records_but_never_keys_or_digests(
    aws: dict[str, str], keys: KeyService, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = keys.issue("alice")
    assert main(["keys", "list", "--user", "alice"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["key_id"] for r in rows] == [issued.record.key_id]
    assert "digest" not in rows[0] and issued.api_key not in json.dumps(rows)


def test_revoke_takes_effect(aws: dict[str, str], keys: KeyService, capsys: pytest.CaptureFixture[str]) -> None:
    issued = keys.issue("alice")
    assert main(["keys", "revoke", "--user", "alice", "--key-id", issued.record.key_id]) == 0
    with pytest.raises(KeyRejected):
        keys.verify(issued.api_key)
    assert main(["keys", "revoke", "--user", "alice"]) == 1  # nothing active left
    assert "no active key" in capsys.readouterr().err


def test_bad_input_is_reported_without_a_traceback(aws: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--user", "not a user"]) == 2
    assert "ferry-admin:" in capsys.readouterr().err


def test_table_is_found_from_the_stack_outputs(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    monkeypatch.delenv("FERRY_TABLE_NAME")
    boto3.client("cloudformation").create_stack(
        StackName="ferry-dev",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"TableName": {"Value": aws["FERRY_TABLE_NAME"]}},
            }
        ),
    )
    assert main(["--stack", "ferry-dev", "keys", "create", "--user", "bob"]) == 0
    assert capsys.readouterr().out.startswith("fy_")
