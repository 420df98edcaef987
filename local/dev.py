"""`make dev`: MiniStack on 127.0.0.1 with the template built, deployed and wired, a dev API key,
and copy-paste commands; stays in the foreground until Ctrl-C, then stops what it started.

  FERRY_LOCAL_PORT   port of MiniStack (default 4566); a MiniStack already there is reused
  FERRY_LOCAL_STAGE  stage of the local stack (default dev → stack ferry-dev)
  FERRY_LOCAL_PERSIST=0  start from an empty MiniStack and keep nothing (default: the state is
                     saved in .local-stack/state and .local-stack/s3 on Ctrl-C and restored next time)
  FERRY_LOCAL_PARAMETERS  template parameters, e.g. "AuthorizerCacheSeconds=0 UrlAllowedNetworks=127.0.0.1/32"
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from ferry.data.keys import KeyRepository
from ferry.keys import KeyRejected, KeyService
from local import stack

WORKDIR = stack.ROOT / ".local-stack"
KEY_FILE = WORKDIR / "dev-key"
DEV_USER = "dev"


def _log(message: str) -> None:
    print(f"[ferry dev] {message}", flush=True)


def dev_key(deployment: stack.Deployment, key_file: Path = KEY_FILE) -> tuple[str, bool]:
    """The key in `key_file` if the stack still accepts it, else a new one for user `dev` (saved
    there, mode 0600). Returns (key, reused)."""
    keys = KeyService(KeyRepository(deployment.table_name, stack.client(deployment.endpoint, "dynamodb")))
    try:
        saved = key_file.read_text().strip()
        keys.verify(saved)
        return saved, True
    except (OSError, ValueError, KeyRejected):
        pass
    api_key, _ = stack.create_key(deployment.table_name, DEV_USER, env=deployment.env())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(api_key + "\n")
    return api_key, False


def _summary(deployment: stack.Deployment, api_key: str, reused: bool) -> str:
    base, q = deployment.base_url, shlex.quote
    auth = q(f"Authorization: Bearer {api_key}")
    shown = {"AWS_ENDPOINT_URL": deployment.endpoint, **stack.CREDENTIALS, "AWS_DEFAULT_REGION": stack.REGION}
    env = " ".join(f"{k}={v}" for k, v in shown.items())
    return f"""
Ferry is running locally (stack {deployment.stack_name}, API {deployment.api_id}).

  Base URL  {base}
            {deployment.host_url}   (same API; for clients that resolve *.localhost: curl, browsers)
  File URLs {stack.delivery_base_url(deployment)}/f/<name>
  API key   {api_key}   (user {DEV_USER}; {"reused from" if reused else "saved to"} {KEY_FILE.relative_to(stack.ROOT)})
  Table     {deployment.table_name}
  Bucket    {deployment.bucket_name}

Try:
  curl -s {base}/v1/health
  curl -s -H {auth} {base}/v1/quota
  curl -s -H {q("Authorization: Bearer fy_not-a-real-key")} {base}/v1/quota     # the 401 error envelope

More keys (the key is printed once):
  {env} \\
    .venv/bin/ferry-admin --table {deployment.table_name} keys create --user alice --quota-mb 500

AWS CLI against the local stack:
  {env} aws dynamodb scan --table-name {deployment.table_name}
  {env} aws cloudformation describe-stacks --stack-name {deployment.stack_name}

Logs: {WORKDIR.relative_to(stack.ROOT)}/ministack.log, {WORKDIR.relative_to(stack.ROOT)}/sam.log
Ctrl-C stops MiniStack and the Lambda workers it started.
"""


def _stop(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    port = int(os.environ.get("FERRY_LOCAL_PORT", "4566"))
    stage = os.environ.get("FERRY_LOCAL_STAGE", "dev")
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (e.g. by `cmd &`)
        signal.signal(sig, _stop)
    started = time.monotonic()
    ministack: stack.MiniStack | None = None
    try:
        persist = os.environ.get("FERRY_LOCAL_PERSIST", "1") != "0"
        parameters = dict(p.split("=", 1) for p in os.environ.get("FERRY_LOCAL_PARAMETERS", "").split() if "=" in p)
        ministack, deployment = stack.up(port, WORKDIR, stage=stage, parameters=parameters, persist=persist, log=_log)
        stack.wait_until_healthy(deployment.base_url)
        api_key, reused = dev_key(deployment)
        _log(f"ready in {time.monotonic() - started:.1f} s")
        print(_summary(deployment, api_key, reused), flush=True)
        if not ministack.started_here:
            _log(f"MiniStack on port {port} was already running: it keeps running after Ctrl-C")
        signal.pause()
    except KeyboardInterrupt:
        print()
        _log("stopping")
    except stack.LocalStackError as exc:
        _log(str(exc))
        return 1
    finally:
        if ministack is not None:
            ministack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
