"""The deployed stack as the end-to-end tests see it (built by the `stack` fixture in conftest.py)."""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from local import stack as local_stack

NEEDS_ADMIN = (
    "issuing/revoking keys needs admin access to the stack's table: set FERRY_E2E_TABLE "
    "(with AWS credentials for its account) to run this against a remote stack"
)


@dataclass
class E2EStack:
    base_url: str
    api_key: str
    stage: str | None
    local: bool
    table_name: str | None = None
    admin_env: Mapping[str, str] | None = field(default=None, repr=False)
    deployment: local_stack.Deployment | None = None  # the local stack's AWS side (None when remote)
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    @property
    def can_admin(self) -> bool:
        return self.table_name is not None and self.admin_env is not None

    def aws(self, service: str) -> Any:
        """A boto3 client of the local stack's emulated AWS (tests that need it are local-only)."""
        if self.deployment is None:
            pytest.skip("reaching the stack's AWS resources directly is only done against the local stack")
        return local_stack.client(self.deployment.endpoint, service)

    def require_admin(self) -> None:
        if not self.can_admin:
            pytest.skip(NEEDS_ADMIN)

    def create_key(self, *, quota_mb: int | None = None, expires: str | None = None) -> tuple[str, str, str]:
        """A new key for a new user (so its quota is untouched): (api_key, user, key_id)."""
        self.require_admin()
        assert self.table_name and self.admin_env
        user = f"e2e-{secrets.token_hex(6)}"
        api_key, key_id = local_stack.create_key(
            self.table_name, user, env=self.admin_env, quota_mb=quota_mb, expires=expires
        )
        return api_key, user, key_id

    def revoke(self, user: str, key_id: str) -> None:
        assert self.table_name and self.admin_env
        local_stack.admin(self.table_name, "keys", "revoke", "--user", user, "--key-id", key_id, env=self.admin_env)

    def get(self, path: str, *, key: str | None = None, headers: Mapping[str, str] | None = None) -> requests.Response:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        return self.http.get(self.base_url + path, headers=sent, timeout=30, allow_redirects=False)


@contextmanager
def file_server(files: Mapping[str, bytes], content_type: str) -> Iterator[str]:
    """A plain HTTP origin on 127.0.0.1 (standing in for the documents' example.com) serving `files`
    by path; a test may change the mapping while it runs. Yields the origin, http://127.0.0.1:<port>."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
