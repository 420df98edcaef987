"""Video tasks on the deployed stack (MiniStack runs the real state machine and the real Lambdas;
its Wait and Retry intervals are scaled to 1 %), against the fake provider on 127.0.0.1: success on
both provider APIs, provider failure, a 4xx at submit, an upstream outage with recovery, deadline
expiry, an aborted execution, a signed callback, and the seed's Python polling loop run verbatim."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench.transitions import count, history
from ferry.video.callback import SIGNATURE_HEADER, verify_signature
from local import stack as local_stack
from tests import media_samples as samples
from tests.e2e.harness import E2EStack
from tests.fake_upstream import MP4, FakeUpstream

pytestmark = pytest.mark.e2e

SEED_NAME = "001_a5c1d098861cc7a3.txt"
SEED = next(
    (p / "shared" / "seeds" / SEED_NAME for p in Path(__file__).resolve().parents if (p / "shared" / "seeds").is_dir()),
    Path("shared/seeds") / SEED_NAME,
)


class Video:
    def __init__(self, stack: E2EStack, provider: FakeUpstream):
        if not stack.local or not stack.admin_env:
            pytest.skip("video e2e needs the local stack (its models point at the fake provider on 127.0.0.1)")
        self.stack, self.provider = stack, provider
        self.endpoint = stack.admin_env["AWS_ENDPOINT_URL"]
        self.key = stack.create_key()[0]
        outputs = local_stack.describe(self.endpoint, f"ferry-{stack.stage}", str(stack.stage)).outputs
        self.machine = outputs["VideoStateMachineArn"]
        self.sfn = local_stack.client(self.endpoint, "stepfunctions")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def create(self, body: dict[str, Any], key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return self.stack.http.post(self.stack.base_url + "/v1/video/create", json=body, headers=headers, timeout=60)

    def query(self, task_id: str, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return self.stack.http.get(f"{self.stack.base_url}/v1/video/query?id={task_id}", headers=headers, timeout=30)

    def settle(self, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        response = self.create(body)
        assert response.status_code == 200, response.text
        task_id = response.json()["id"]
        deadline = time.monotonic() + timeout
        while True:
            task = self.query(task_id).json()
            if task["status"] != "processing":
                return dict(task)
            assert time.monotonic() < deadline, f"{task_id} still processing after {timeout} s"
            time.sleep(0.5)

    def execution(self, task_id: str) -> str:
        return self.machine.replace(":stateMachine:", ":execution:") + ":" + task_id

    def finished(self, task_id: str, timeout: float = 60) -> dict[str, Any]:
        """The execution's description once it stopped (the callback runs after the task settles)."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=self.execution(task_id))
            if described["status"] != "RUNNING":
                return dict(described)
            assert time.monotonic() < deadline, "execution still running"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def video(stack: E2EStack, fake_provider: FakeUpstream) -> Video:
    return Video(stack, fake_provider)


def test_success_copies_the_video_and_costs_one_transition_per_poll(video: Video) -> None:
    task = video.settle({"model": "veo3.1-components", "prompt": "a dog [fake processing=3]", "aspect_ratio": "16:9"})
    assert task["status"] == "completed", task
    response = video.stack.http.get(task["video_url"], timeout=30)
    assert response.status_code == 200 and response.content == MP4
    assert response.headers["Content-Type"] == "video/mp4"
    assert video.finished(task["id"])["status"] == "SUCCEEDED"
    figures = count(history(video.sfn, video.execution(task["id"])))
    assert figures["polls"] == 4
    # Submit, Finish, Notify, Done, and exactly one transition per poll.
    assert figures["transitions"] == 4 + figures["polls"], figures


def test_kling_with_a_file_reference(video: Video) -> None:
    png = samples.image("PNG", (32, 24))
    uploaded = video.stack.http.post(
        video.stack.base_url + "/v1/files/uploads/base64",
        json={"data": base64.b64encode(png).decode()},
        headers=video.headers,
        timeout=30,
    ).json()
    asset = "asset://" + uploaded["id"].replace("file_", "asset_")
    marker = f"kling-{time.time_ns()}"
    task = video.settle({"model": "kling-v3", "prompt": f"{marker} @me waves [fake processing=1]", "duration": 5,
                         "images": [{"uri": asset, "label": "me", "role": "first_frame"}]})  # fmt: skip
    assert task["status"] == "completed", task
    sent = next(r.json() for r in video.provider.requests if r.path.startswith("/kling") and marker in r.body.decode())
    assert sent["image_urls"] == [uploaded["url"]] and sent["prompt"].startswith(f"{marker} image 1 waves")
    assert sent["duration"] == "5" and sent["model_name"] == "kling-v3"


def test_provider_failure_is_recorded_with_its_reason(video: Video) -> None:
    task = video.settle({"model": "veo3.1-components", "prompt": "x [fake processing=1 outcome=failed reason=nsfw]"})
    assert task["status"] == "failed" and task["error"] == {"code": "provider_failed", "message": "nsfw"}
    assert "video_url" not in task


def test_a_4xx_at_submit_fails_at_once(video: Video) -> None:
    task = video.settle({"model": "veo3.1-components", "prompt": "x [fake reject=1]"})
    assert task["status"] == "failed" and task["error"]["code"] == "provider_rejected"
    assert "content policy" in task["error"]["message"]
    figures = count(history(video.sfn, video.execution(task["id"])))
    assert figures["retries"] == 0


def test_upstream_outage_with_recovery(video: Video) -> None:
    prompt = f"x{time.time_ns()} [fake submit_errors=2 poll_errors=3 errors=503,timeout,malformed processing=1]"
    task = video.settle({"model": "e2e-flaky", "prompt": prompt})
    assert task["status"] == "completed", task
    events = history(video.sfn, video.execution(task["id"]))
    submits = [e for e in events if e["type"] == "TaskFailed"]
    assert len(submits) >= 2 + 3  # two failed submits, three failed polls (outage), one still processing


def test_deadline_expiry(video: Video) -> None:
    task = video.settle({"model": "e2e-deadline", "prompt": "x [fake processing=-1]"})
    assert task["status"] == "failed" and task["error"]["code"] == "deadline_exceeded", task
    assert "8 s" in task["error"]["message"]
    assert video.finished(task["id"])["status"] == "SUCCEEDED"


def test_an_aborted_execution_fails_its_task(video: Video) -> None:
    response = video.create({"model": "veo3.1-components", "prompt": "x [fake processing=-1]"})
    task_id = response.json()["id"]
    time.sleep(1)
    video.sfn.stop_execution(executionArn=video.execution(task_id), error="e2e", cause="stopped by the test")
    deadline = time.monotonic() + 30
    while (task := video.query(task_id).json())["status"] == "processing":
        assert time.monotonic() < deadline, "the guard rule did not settle the task"
        time.sleep(0.5)
    assert task["status"] == "failed" and task["error"]["code"] == "workflow_aborted"


def test_callback_is_signed_and_retried(video: Video) -> None:
    provider = video.provider
    path = f"/callback/{time.time_ns()}"
    provider.callback_failures = 1
    task = video.settle(
        {"model": "veo3.1-components", "prompt": "x [fake processing=0]", "callback_url": provider.base_url + path}
    )
    assert task["status"] == "completed"
    video.finished(task["id"])
    received = [c for c in provider.callbacks if c.path == path]
    assert len(received) == 2  # refused once (503), delivered on the retry
    secrets = local_stack.client(video.endpoint, "secretsmanager")
    secret = secrets.get_secret_value(SecretId=f"ferry/{video.stack.stage}/callback-signing")["SecretString"]
    body = received[-1].body.decode()
    assert verify_signature(secret, body, received[-1].headers[SIGNATURE_HEADER])
    assert not verify_signature(secret + "x", body, received[-1].headers[SIGNATURE_HEADER])
    assert video.query(task["id"]).json() == json.loads(body)


def test_validation_and_privacy(video: Video) -> None:
    unknown = video.create({"model": "sora-9", "prompt": "x"})
    assert unknown.status_code == 400 and "veo3.1-components" in unknown.json()["error"]["message"]
    created = video.create({"model": "veo3.1-components", "prompt": "x"}).json()
    other_key = video.stack.create_key()[0]
    assert video.query(created["id"], key=other_key).status_code == 404
    assert video.query("video_" + "0" * 32).status_code == 404


def seed_loop() -> str:
    """The seed's complete Python example, from `import requests` to the end of its loop."""
    lines = SEED.read_text().splitlines()
    start = lines.index("import requests")
    end = next(i for i in range(start, len(lines)) if "time.sleep(10)" in lines[i])
    return "\n".join(lines[start : end + 1]) + "\n"


def test_seed_python_polling_loop_runs_verbatim(video: Video, tmp_path: Path) -> None:
    code = seed_loop()
    assert code.count('API_KEY = "YOUR_API_KEY"') == 1 and code.count('BASE_URL = "https://crazyrouter.com"') == 1
    code = code.replace('API_KEY = "YOUR_API_KEY"', f'API_KEY = "{video.key}"')  # the only two changes
    code = code.replace('BASE_URL = "https://crazyrouter.com"', f'BASE_URL = "{video.stack.base_url}"')
    script = tmp_path / "seed_loop.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("任务已创建: video_")
    assert "状态: processing" in lines and "状态: completed" in lines
    url = lines[-1].removeprefix("视频地址: ")
    assert lines[-1].startswith("视频地址: ") and video.stack.http.get(url, timeout=30).content == MP4
