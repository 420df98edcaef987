"""End-to-end fixture: a deployed Ferry stack driven over real HTTP.

By default the session starts MiniStack on a free 127.0.0.1 port, builds and deploys the template
onto it (local/stack.py, the same code as `make dev`), issues keys with ferry-admin, and stops
MiniStack at the end. To run the same tests against a stack on AWS instead:

  FERRY_E2E_BASE_URL=https://<api>.execute-api.<region>.amazonaws.com
  FERRY_E2E_API_KEY=fy_…          a key of a user whose quota is untouched by other traffic
  FERRY_E2E_TABLE=<TableName>     optional: lets the tests issue and revoke keys with ferry-admin
                                  (needs AWS credentials for the stack's account in the environment)
  FERRY_E2E_STAGE=<stage>         optional: the stage /v1/health must report
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local import stack as local_stack
from tests.e2e.harness import E2EStack
from tests.e2e.video import UPSTREAM_KEY, provision_upstream_keys, video_models_parameter
from tests.fake_upstream import FakeUpstream

E2E_WORKDIR = local_stack.ROOT / ".local-stack" / "e2e"
PRESIGN_WINDOW_SECONDS = 15


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeUpstream]:
    """The video provider the local stack's models point at (tests/fake_upstream.py), on 127.0.0.1."""
    with FakeUpstream(api_key=UPSTREAM_KEY).running() as upstream:
        yield upstream


@pytest.fixture(scope="session")
def stack(fake_provider: FakeUpstream) -> Iterator[E2EStack]:
    base_url, api_key = os.environ.get("FERRY_E2E_BASE_URL"), os.environ.get("FERRY_E2E_API_KEY")
    if base_url and api_key:
        table = os.environ.get("FERRY_E2E_TABLE") or None
        yield E2EStack(
            base_url=base_url.rstrip("/"),
            api_key=api_key,
            stage=os.environ.get("FERRY_E2E_STAGE") or None,
            local=False,
            table_name=table,
            admin_env=dict(os.environ) if table else None,
        )
        return
    try:
        ministack, deployment = local_stack.up(
            local_stack.free_port(),
            E2E_WORKDIR,
            stage="e2e",
            # The remote URLs of the URL-upload tests are servers on 127.0.0.1 (DESIGN §8).
            parameters={
                "UrlAllowedNetworks": "127.0.0.1/32",
                "VideoModels": video_models_parameter(fake_provider),
                # Short presign windows let the abandoned-upload test see its window close (the
                # sweeper is then invoked directly instead of waiting for its 5-minute schedule).
                "PresignWindowSeconds": str(PRESIGN_WINDOW_SECONDS),
                "PendingGraceSeconds": "0",
            },
            reuse=False,
        )
    except local_stack.LocalStackError as exc:
        pytest.fail(f"could not bring up the local stack: {exc}", pytrace=False)
    try:
        local_stack.wait_until_healthy(deployment.base_url)
        provision_upstream_keys(deployment.endpoint, deployment.stage)
        env = deployment.env()
        main_key, _ = local_stack.create_key(deployment.table_name, "e2e", env=env)
        yield E2EStack(
            base_url=deployment.base_url,
            api_key=main_key,
            stage=deployment.stage,
            local=True,
            table_name=deployment.table_name,
            admin_env=env,
            deployment=deployment,
        )
    finally:
        ministack.stop()
