"""The video part of the end-to-end setup: the models the local stack is deployed with (all served
by the fake provider on 127.0.0.1) and the upstream keys they name, created in the stack's SSM and
Secrets Manager after the deploy (keys never go into the template)."""

from __future__ import annotations

import json
from typing import Any

from local import stack as local_stack
from tests.fake_upstream import FakeUpstream

UPSTREAM_KEY = "e2e-upstream-key"


def video_models(upstream: FakeUpstream, stage: str = "e2e") -> dict[str, Any]:
    ssm, secret = f"/ferry/{stage}/upstream-key", f"ferry/{stage}/kling-key"
    base = upstream.base_url
    return {
        "veo3.1-components": {"provider": "unified", "base_url": base, "secret": ssm},
        "kling-v3": {"provider": "kling", "base_url": base, "secret": secret},
        "e2e-flaky": {"provider": "unified", "base_url": base, "secret": ssm, "timeout_seconds": 1},
        "e2e-deadline": {"provider": "unified", "base_url": base, "secret": ssm, "deadline_seconds": 8},
    }


def video_models_parameter(upstream: FakeUpstream, stage: str = "e2e") -> str:
    """VideoModels as `sam deploy --parameter-overrides` needs a JSON value: double-quoted, inner
    quotes escaped (the SAM CLI splits an unquoted value at its first quote)."""
    text = json.dumps(video_models(upstream, stage), separators=(",", ":"))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def provision_upstream_keys(endpoint: str, stage: str) -> None:
    ssm = local_stack.client(endpoint, "ssm")
    ssm.put_parameter(Name=f"/ferry/{stage}/upstream-key", Value=UPSTREAM_KEY, Type="SecureString", Overwrite=True)
    secrets = local_stack.client(endpoint, "secretsmanager")
    name = f"ferry/{stage}/kling-key"
    try:
        secrets.create_secret(Name=name, SecretString=UPSTREAM_KEY)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=UPSTREAM_KEY)
