"""ferry-admin: operator commands that talk to a deployed stack (local or AWS) with your AWS
credentials. The plaintext key is printed once, at creation, and never stored.

  ferry-admin keys create --user alice [--quota-mb 500] [--expires 2026-12-31T00:00:00Z | --expires 30d]
  ferry-admin keys list [--user alice]
  ferry-admin keys revoke --user alice [--key-id key_…]

The table is --table, else $FERRY_TABLE_NAME, else the TableName output of stack --stack
(default ferry-dev). Set AWS_ENDPOINT_URL to talk to the local stack.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

from ferry.clock import rfc3339
from ferry.data.keys import KeyRepository
from ferry.keys import KeyService

_DURATION = re.compile(r"^(\d+)([hd])$")


def _expiry(value: str | None) -> str | None:
    if value is None:
        return None
    match = _DURATION.match(value)
    if match:
        seconds = int(match.group(1)) * (3600 if match.group(2) == "h" else 86400)
        return rfc3339(time.time() + seconds)
    return value


def _table_name(args: argparse.Namespace) -> str:
    if args.table:
        return str(args.table)
    if os.environ.get("FERRY_TABLE_NAME"):
        return os.environ["FERRY_TABLE_NAME"]
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "TableName" not in outputs:
        raise SystemExit(f"stack {args.stack} has no TableName output; pass --table")
    return str(outputs["TableName"])


def _record_json(record: Any) -> dict[str, Any]:
    data = {k: v for k, v in record.__dict__.items() if k != "digest" and v is not None}
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ferry-admin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", help="DynamoDB table name")
    parser.add_argument("--stack", default=os.environ.get("FERRY_STACK_NAME", "ferry-dev"), help="CloudFormation stack")
    groups = parser.add_subparsers(dest="group", required=True)
    keys = groups.add_parser("keys", help="API keys").add_subparsers(dest="command", required=True)
    create = keys.add_parser("create", help="issue a key and print it once")
    create.add_argument("--user", required=True)
    create.add_argument("--quota-mb", type=int, help="override the 24-hour quota (MiB)")
    create.add_argument("--expires", help="RFC 3339 time, or a duration such as 12h or 30d")
    create.add_argument("--json", action="store_true", help="print the key and its record as JSON")
    listing = keys.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--user")
    revoke = keys.add_parser("revoke", help="revoke a user's key, or all of them")
    revoke.add_argument("--user", required=True)
    revoke.add_argument("--key-id")
    args = parser.parse_args(argv)

    service = KeyService(KeyRepository(_table_name(args)))
    try:
        if args.command == "create":
            quota = args.quota_mb * 1024 * 1024 if args.quota_mb else None
            issued = service.issue(args.user, quota_bytes=quota, expires_at=_expiry(args.expires))
            if args.json:
                print(json.dumps({"api_key": issued.api_key, **_record_json(issued.record)}))
            else:
                print(issued.api_key)
                print(f"key_id={issued.record.key_id} user={args.user} (this key is shown only once)", file=sys.stderr)
        elif args.command == "list":
            for record in service.list(args.user):
                print(json.dumps(_record_json(record)))
        elif args.command == "revoke":
            revoked = service.revoke(args.user, args.key_id)
            for record in revoked:
                print(f"revoked {record.key_id} ({record.user_id})")
            if not revoked:
                print("no active key matched", file=sys.stderr)
                return 1
    except ValueError as exc:
        print(f"ferry-admin: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
