"""Video tasks in-process under moto: the create/query routes through their handlers, and the
workflow's steps driven by hand in the order the state machine runs them (Submit, Poll until it
stops raising, Finish, Notify), against the fake provider on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ferry.services import quota_service
from ferry.video.callback import SIGNATURE_HEADER, verify_signature
from tests import media_samples as samples
from tests.conftest import AUTHENTICATED, LambdaContext, http_event, load_function
from tests.fake_upstream import MP4, FakeUpstream
from tests.integration.test_events_published import received
from tests.integration.test_uploads import PNG, call

UPSTREAM_KEY = "upstream-test-key"
BOB = {**AUTHENTICATED, "user_id": "bob", "key_id": "key_bob"}


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=UPSTREAM_KEY, timeout_delay=1.5).running() as server:
        yield server


@pytest.fixture
def video(aws: dict[str, str], upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from ferry import services
    from ferry.video import services as video_services

    boto3.client("ssm").put_parameter(Name="/ferry/test/upstream", Value=UPSTREAM_KEY, Type="SecureString")
    boto3.client("secretsmanager").create_secret(Name="ferry/test/kling", SecretString=UPSTREAM_KEY)
    boto3.client("secretsmanager").create_secret(Name="ferry/test/callback-signing", SecretString="s3cr3t-signing")
    sfn = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/ferry-test"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = sfn.create_state_machine(name="ferry-test-video", definition=definition, roleArn=role)
    models = {
        "veo3.1-components": {"provider": "unified", "base_url": upstream.base_url, "secret": "/ferry/test/upstream"},
        "kling-v3": {"provider": "kling", "base_url": upstream.base_url, "secret": "ferry/test/kling"},
        "slow": {"provider": "unified", "base_url": upstream.base_url, "secret": "/ferry/test/upstream",
                 "timeout_seconds": 0.5},
    }  # fmt: skip
    for name, value in {
        "FERRY_VIDEO_MODELS": json.dumps(models),
        "FERRY_VIDEO_STATE_MACHINE_ARN": machine["stateMachineArn"],
        "FERRY_CALLBACK_SECRET_NAME": "ferry/test/callback-signing",
        "FERRY_URL_ALLOWED_NETWORKS": "127.0.0.1/32",
        "FERRY_DELIVERY_BASE_URL": "https://ferry.test",
    }.items():
        monkeypatch.setenv(name, value)
    services.reset()
    video_services.reset()
    yield {"machine": machine["stateMachineArn"], "upstream": upstream}
    video_services.reset()


def create(body: dict[str, Any], authorizer: dict[str, str] = AUTHENTICATED, **headers: str) -> Any:
    event = http_event(
        "POST", "/v1/video/create", body=json.dumps(body), headers={"content-type": "application/json", **headers},
        authorizer=authorizer,
    )  # fmt: skip
    return call("video_create", event)


def query(task_id: str, authorizer: dict[str, str] = AUTHENTICATED) -> Any:
    event = http_event("GET", "/v1/video/query", authorizer=authorizer)
    event["queryStringParameters"] = {"id": task_id}
    event["rawQueryString"] = f"id={task_id}"
    return call("video_query", event)


def run_workflow(task_id: str, *, max_polls: int = 50) -> tuple[dict[str, Any], int]:
    """What VideoStateMachine does, step by step: (the task after Finish, polls made)."""
    provider, finish, notify = (
        load_function(n).lambda_handler for n in ("video_provider", "video_finish", "video_callback")
    )
    ctx = LambdaContext()
    from ferry.video.services import video_steps

    task = video_steps().tasks.get(task_id)
    assert task is not None
    state: dict[str, Any] = {"task_id": task_id, "model": task.model, "deadline": task.deadline}
    try:
        state["submit"] = provider({"step": "submit", "task_id": task_id}, ctx)
    except Exception as exc:  # the Submit state's retries exhausted → Catch → Finish with $.error
        state["error"] = {"Error": type(exc).__name__, "Cause": json.dumps({"errorMessage": str(exc)})}
    polls = 0
    while "error" not in state:
        polls += 1
        try:
            state["result"] = provider(
                {"step": "poll", **{k: state[k] for k in ("task_id", "model", "deadline", "submit")}}, ctx
            )
            break
        except Exception:
            assert polls < max_polls, "still processing"
    settled = finish({"state": state, "attempt": 0}, ctx)
    notify({"task_id": task_id}, ctx)
    return settled, polls


def upload_png(authorizer: dict[str, str]) -> dict[str, Any]:
    """A confirmed image of the authorizer's user, uploaded through the base64 route."""
    event = http_event(
        "POST",
        "/v1/files/uploads/base64",
        authorizer=authorizer,
        body=json.dumps({"data": base64.b64encode(PNG).decode()}),
        headers={"content-type": "application/json"},
    )
    status, file, _ = call("upload_base64", event)
    assert status == 201, file
    return dict(file)


# ------------------------------------------------------------------------------------------ create
def test_create_starts_an_execution_named_after_the_task(video: dict[str, Any]) -> None:
    status, body, _ = create({"model": "veo3.1-components", "prompt": "a golden retriever", "aspect_ratio": "16:9"})
    assert status == 200, body
    assert body["status"] == "processing" and isinstance(body["status_update_time"], int)
    assert body["id"].startswith("video_") and len(body["id"]) == len("video_") + 32
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=video["machine"])["executions"]
    assert [e["name"] for e in executions] == [body["id"]]
    status, task, _ = query(body["id"])
    assert status == 200 and task["status"] == "processing" and "video_url" not in task


def test_unknown_model_is_a_400_listing_the_models(video: dict[str, Any]) -> None:
    status, body, _ = create({"model": "sora-9", "prompt": "x"})
    assert status == 400 and body["error"]["code"] == "model_not_found"
    assert "kling-v3" in body["error"]["message"] and "veo3.1-components" in body["error"]["message"]


def test_a_deployment_without_models_says_how_to_configure_them(
    video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import services
    from ferry.video import services as video_services

    monkeypatch.setenv("FERRY_VIDEO_MODELS", "{}")  # the template's default
    services.reset()
    video_services.reset()
    status, body, _ = create({"model": "veo3", "prompt": "x"})
    assert status == 400 and body["error"]["code"] == "model_not_found"
    assert "VideoModels parameter" in body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": "x"}, "model"),
        ({"model": "veo3.1-components", "prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"model": "veo3.1-components", "prompt": "x", "size": "big"}, "size"),
        ({"model": "veo3.1-components", "prompt": "x", "images": ["ftp://example.com/a.png"]}, "images[0]"),
        ({"model": "veo3.1-components", "prompt": "x", "images": ["http://example.com/a.png"]}, "images[0]"),
        ({"model": "veo3.1-components", "prompt": "x", "images": ["https://user:pw@example.com/a.png"]}, "images[0]"),
        ({"model": "veo3.1-components", "prompt": "x", "images": ["data:image/png;base64,AAAA"]}, "images[0]"),
        ({"model": "veo3.1-components", "prompt": "hello {{hero}}"}, "hero"),
        ({"model": "kling-v3", "prompt": "no image"}, "image"),
        ({"model": "veo3.1-components", "prompt": "x", "callback_url": "http://10.0.0.1/hook"}, "callback_url"),
        (
            {"model": "veo3.1-components", "prompt": "@a and @b", "images": [
                {"uri": "https://example.com/1.png", "label": "a"}, {"uri": "https://example.com/2.png", "label": "a"}
            ]},
            "twice",
        ),
        (
            {"model": "veo3.1-components", "prompt": "@hero walks", "images": [
                {"uri": "https://example.com/1.png", "label": "villain"}
            ]},
            "hero",
        ),
    ],
)  # fmt: skip
def test_invalid_requests_are_refused_before_anything_is_stored(
    video: dict[str, Any], body: dict[str, Any], fragment: str
) -> None:
    status, answer, _ = create(body)
    assert 400 <= status < 500, answer
    assert fragment in answer["error"]["message"], answer
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=video["machine"])["executions"] == []
    assert quota_service().usage("alice").used_bytes == 0


def test_a_bad_second_image_stores_nothing_of_the_first(video: dict[str, Any]) -> None:
    good = "data:image/png;base64," + base64.b64encode(PNG).decode()
    bad = "data:image/png;base64," + base64.b64encode(PNG[:-40]).decode()
    status, body, _ = create({"model": "veo3.1-components", "prompt": "x", "images": [good, bad]})
    assert status == 422 and "images[1]" in body["error"]["message"]
    assert quota_service().usage("alice").used_bytes == 0


def test_images_resolve_files_data_uris_and_labels(video: dict[str, Any]) -> None:
    file = upload_png(AUTHENTICATED)
    inline = "data:image/png;base64," + base64.b64encode(samples.image("JPEG", (32, 32))).decode()
    status, body, _ = create(
        {
            "model": "veo3.1-components",
            "prompt": "{{hero}} meets @cat at sunset, email me@example.com",
            "images": [
                {"uri": "https://example.com/cat.png", "label": "cat"},
                {"uri": "asset://" + file["id"].replace("file_", "asset_"), "label": "hero", "role": "first_frame"},
                inline,
            ],
        }
    )
    assert status == 200, body
    from ferry.video.services import video_steps

    task = video_steps().tasks.get(body["id"])
    assert task is not None
    request = task.request_data
    assert request["image_urls"][0] == f"https://ferry.test/f/{file['id']}.png"  # first_frame goes first
    assert request["image_urls"][1] == "https://example.com/cat.png"
    assert request["image_urls"][2].startswith("https://ferry.test/f/file_")
    assert request["prompt"] == "image 1 meets image 2 at sunset, email me@example.com"
    assert len(task.input_file_ids) == 1
    assert quota_service().usage("alice").used_bytes == len(PNG) + len(base64.b64decode(inline.split(",")[1]))


def test_another_users_file_is_not_found(video: dict[str, Any]) -> None:
    file = upload_png(BOB)
    status, body, _ = create({"model": "veo3.1-components", "prompt": "x", "images": [file["id"]]})
    assert status == 404 and body["error"]["code"] == "file_not_found" and "images[0]" in body["error"]["message"]


def test_a_failed_start_refunds_the_images_and_fails_the_task(
    video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry.data.workflows import WorkflowStarter

    def refuse(self: Any, name: str, payload: dict[str, Any]) -> str:
        raise RuntimeError("states unavailable")

    monkeypatch.setattr(WorkflowStarter, "start", refuse)
    inline = "data:image/png;base64," + base64.b64encode(PNG).decode()
    status, body, _ = create({"model": "veo3.1-components", "prompt": "x", "images": [inline]})
    assert status == 503 and body["error"]["code"] == "task_not_started" and body["error"]["request_id"]
    assert quota_service().usage("alice").used_bytes == 0
    items = boto3.client("dynamodb").scan(TableName=video_table())["Items"]
    tasks = [i for i in items if i["pk"]["S"].startswith("TASK#")]
    assert len(tasks) == 1 and tasks[0]["status"]["S"] == "failed"
    assert not [i for i in items if i["pk"]["S"].startswith("FILE#")]


def video_table() -> str:
    from ferry.settings import get_settings

    return get_settings().table_name


def test_idempotency_key_returns_the_first_task(video: dict[str, Any]) -> None:
    body = {"model": "veo3.1-components", "prompt": "once"}
    first = create(body, **{"Idempotency-Key": "k-1"})
    again = create(body, **{"Idempotency-Key": "k-1"})
    assert first[0] == again[0] == 200 and first[1]["id"] == again[1]["id"]
    assert len(boto3.client("stepfunctions").list_executions(stateMachineArn=video["machine"])["executions"]) == 1


def test_query_is_private_and_unknown_ids_are_404(video: dict[str, Any]) -> None:
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x"})
    assert query(body["id"], BOB)[0] == 404
    assert query("video_" + "0" * 32)[0] == 404
    assert query("../etc")[0] == 404


# ------------------------------------------------------------------------------------------ workflow
def test_success_stores_the_video_and_notifies_with_a_signature(video: dict[str, Any]) -> None:
    upstream: FakeUpstream = video["upstream"]
    _, body, _ = create(
        {
            "model": "veo3.1-components",
            "prompt": "dog [fake processing=3]",
            "callback_url": upstream.base_url + "/callback/a",
        }
    )
    settled, polls = run_workflow(body["id"])
    assert polls == 4 and settled["status"] == "completed"
    _, task, _ = query(body["id"])
    assert task["status"] == "completed" and task["video_url"].startswith("https://ferry.test/f/file_")
    file_id = task["video_url"].rsplit("/", 1)[1].split(".")[0]
    s3_objects = boto3.client("s3").list_objects_v2(Bucket="ferry-test-media")["Contents"]
    stored = [o for o in s3_objects if file_id in o["Key"]]
    assert len(stored) == 1 and stored[0]["Key"].startswith("ttl-3d/") and stored[0]["Size"] == len(MP4)
    assert quota_service().usage("alice").used_bytes == 0  # results are not charged
    creates = [r for r in upstream.requests if r.path == "/v1/video/create"]
    assert creates[0].headers["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert creates[0].json()["model"] == "veo3.1-components"
    [callback] = upstream.callbacks
    assert verify_signature("s3cr3t-signing", callback.body.decode(), callback.headers[SIGNATURE_HEADER])
    assert not verify_signature("wrong", callback.body.decode(), callback.headers[SIGNATURE_HEADER])
    assert json.loads(callback.body) == task


def test_kling_native_api(video: dict[str, Any]) -> None:
    upstream: FakeUpstream = video["upstream"]
    _, body, _ = create(
        {"model": "kling-v3", "prompt": "turn [fake processing=1]", "images": ["https://e.com/p.png"], "duration": 5}
    )
    settled, _ = run_workflow(body["id"])
    assert settled["status"] == "completed"
    submitted = next(r for r in upstream.requests if r.path == "/kling/v1/videos/image2video").json()
    assert submitted["model_name"] == "kling-v3" and submitted["image_urls"] == ["https://e.com/p.png"]
    assert submitted["duration"] == "5" and submitted["mode"] == "std"


def test_provider_failure_records_its_reason(video: dict[str, Any]) -> None:
    _, body, _ = create(
        {"model": "veo3.1-components", "prompt": "x [fake processing=1 outcome=failed reason=nsfw_frame]"}
    )
    settled, _ = run_workflow(body["id"])
    assert settled["status"] == "failed"
    assert settled["error"] == {"code": "provider_failed", "message": "nsfw frame"}


def test_a_4xx_at_submit_fails_at_once_with_the_providers_message(video: dict[str, Any]) -> None:
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x [fake reject=1]"})
    settled, polls = run_workflow(body["id"])
    assert polls == 1 and settled["status"] == "failed" and settled["error"]["code"] == "provider_rejected"
    assert "content policy" in settled["error"]["message"]


def test_outages_are_retried_and_polling_survives_them(video: dict[str, Any]) -> None:
    upstream: FakeUpstream = video["upstream"]
    from ferry.video import steps
    from ferry.video.services import video_steps

    prompt = "x [fake submit_errors=2 poll_errors=3 errors=503,malformed,timeout processing=1]"
    _, body, _ = create({"model": "slow", "prompt": prompt})
    event = {"step": "submit", "task_id": body["id"]}
    for _ in range(2):
        with pytest.raises(Exception, match=r"HTTP 503|not a JSON object"):
            steps.submit(event, video_steps())
    settled, polls = run_workflow(body["id"])
    assert settled["status"] == "completed" and polls == 5  # 1 processing + 3 errors + the answer
    assert len([r for r in upstream.requests if r.path == "/v1/video/create"]) == 3


def test_deadline_expiry_fails_the_task(video: dict[str, Any]) -> None:
    from ferry.video import steps
    from ferry.video.services import video_steps

    _, body, _ = create({"model": "veo3.1-components", "prompt": "x [fake processing=-1]"})
    task_steps = video_steps()
    task = task_steps.tasks.get(body["id"])
    assert task is not None
    submitted = steps.submit({"task_id": body["id"]}, task_steps)
    event = {"task_id": body["id"], "model": task.model, "deadline": task.deadline, "submit": submitted}
    with pytest.raises(steps.StillProcessing):
        steps.poll(event, task_steps)
    result = steps.poll({**event, "deadline": task.created_at}, task_steps)
    assert result["code"] == "deadline_exceeded" and "30 min" in result["reason"]
    settled = steps.finish({"state": {**event, "result": result}}, task_steps)
    assert settled["status"] == "failed" and settled["error"]["code"] == "deadline_exceeded"


def test_a_result_that_is_not_a_video_fails_with_a_reason(video: dict[str, Any]) -> None:
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x [fake processing=0 video=html]"})
    settled, _ = run_workflow(body["id"])
    assert settled["status"] == "failed" and settled["error"]["code"] == "result_invalid"


def test_callback_failure_never_changes_the_outcome(video: dict[str, Any]) -> None:
    upstream: FakeUpstream = video["upstream"]
    upstream.callback_failures = 10
    _, body, _ = create(
        {
            "model": "veo3.1-components",
            "prompt": "x [fake processing=0]",
            "callback_url": upstream.base_url + "/callback",
        }
    )
    with pytest.raises(Exception, match="HTTP 503"):
        run_workflow(body["id"])
    assert query(body["id"])[1]["status"] == "completed"


def test_guard_fails_a_task_whose_execution_was_aborted(video: dict[str, Any]) -> None:
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x"})
    guard = load_function("video_guard").lambda_handler
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": body["id"], "status": "ABORTED"},
    }
    assert guard(event, LambdaContext()) == {"changed": True}
    assert guard(event, LambdaContext()) == {"changed": False}
    task = query(body["id"])[1]
    assert task["status"] == "failed" and task["error"]["code"] == "workflow_aborted"


@pytest.mark.parametrize(("status", "code"), [("TIMED_OUT", "workflow_timed_out"), ("FAILED", "workflow_failed")])
def test_guard_covers_every_abnormal_end(video: dict[str, Any], status: str, code: str) -> None:
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x"})
    guard = load_function("video_guard").lambda_handler
    assert guard({"detail": {"name": "not-a-task", "status": status}}, LambdaContext()) == {"changed": False}
    assert guard({"detail": {"name": body["id"], "status": "SUCCEEDED"}}, LambdaContext()) == {"changed": False}
    assert guard({"detail": {"name": body["id"], "status": status}}, LambdaContext()) == {"changed": True}
    assert query(body["id"])[1]["error"]["code"] == code


def test_submit_retries_exhausted_and_abandon_settle_the_task(video: dict[str, Any]) -> None:
    finish = load_function("video_finish").lambda_handler
    _, first, _ = create({"model": "veo3.1-components", "prompt": "x"})
    cause = json.dumps({"errorMessage": "The unified provider answered HTTP 503.", "errorType": "ProviderUnavailable"})
    state = {"task_id": first["id"], "error": {"Error": "ProviderUnavailable", "Cause": cause}}
    settled = finish({"state": state, "attempt": 0}, LambdaContext())
    assert settled["error"]["code"] == "provider_unavailable" and "HTTP 503" in settled["error"]["message"]
    _, second, _ = create({"model": "veo3.1-components", "prompt": "x"})
    abandoned = finish(
        {"abandon": True, "task_id": second["id"], "error": {"Error": "X", "Cause": "boom"}}, LambdaContext()
    )
    assert abandoned["status"] == "failed" and abandoned["error"]["code"] == "internal_error"
    assert finish({"state": state, "attempt": 0}, LambdaContext()) == settled  # settled once, reported after


def test_a_transient_result_download_is_retried_then_fails(
    video: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry.errors import UpstreamTimeout
    from ferry.video import steps
    from ferry.video.services import VideoSteps, video_steps

    def slow(self: Any, task: Any, url: str) -> Any:
        raise UpstreamTimeout("too slow")

    monkeypatch.setattr(VideoSteps, "store_result", slow)
    _, body, _ = create({"model": "veo3.1-components", "prompt": "x"})
    state = {
        "task_id": body["id"],
        "submit": {"outcome": "submitted"},
        "result": {"outcome": "completed", "video_url": "https://x/v.mp4"},
    }
    with pytest.raises(steps.ResultNotStored):
        steps.finish({"state": state, "attempt": 0}, video_steps())
    settled = steps.finish({"state": state, "attempt": 2}, video_steps())
    assert settled["error"]["code"] == "result_unavailable"


@pytest.fixture
def bus_queue(video: dict[str, Any]) -> str:
    """Every event on the Ferry bus, copied to an SQS queue the test can read."""
    bus, events, sqs = "ferry-test", boto3.client("events"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="ferry-video-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="video", EventBusName=bus, EventPattern=json.dumps({"source": ["ferry"]}))
    events.put_targets(Rule="video", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    return str(queue_url)


def test_settled_tasks_publish_video_events(video: dict[str, Any], bus_queue: str) -> None:
    _, ok, _ = create({"model": "veo3.1-components", "prompt": "x [fake processing=0]"})
    _, bad, _ = create({"model": "veo3.1-components", "prompt": "x [fake processing=0 outcome=failed]"})
    run_workflow(ok["id"])
    run_workflow(bad["id"])
    events = {e["detail"]["id"]: e for e in received(bus_queue)}
    completed, failed = events[ok["id"]], events[bad["id"]]
    assert completed["detail-type"] == "video.completed" and completed["source"] == "ferry"
    assert completed["detail"]["user_id"] == "alice" and completed["detail"]["video_url"].endswith(".mp4")
    assert completed["detail"]["file_id"].startswith("file_") and "prompt" not in json.dumps(completed)
    assert failed["detail-type"] == "video.failed" and failed["detail"]["error"]["code"] == "provider_failed"


def test_a_model_removed_from_the_configuration_fails_its_tasks(video: dict[str, Any]) -> None:
    from ferry.video import steps
    from ferry.video.services import video_steps

    _, body, _ = create({"model": "veo3.1-components", "prompt": "x"})
    task_steps = video_steps()
    task_steps.routes = {}
    result = steps.submit({"task_id": body["id"]}, task_steps)
    assert result["code"] == "model_unavailable" and "veo3.1-components" in result["reason"]
    submitted = {"outcome": "submitted", "provider_task_id": "t"}
    event = {"task_id": body["id"], "model": "veo3.1-components", "deadline": 2**40, "submit": submitted}
    assert steps.poll(event, task_steps)["code"] == "model_unavailable"
