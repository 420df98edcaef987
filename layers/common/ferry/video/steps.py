"""The Lambda steps of the video workflow (template.yaml, VideoStateMachine).

Submit → Poll → Finish → Notify → Done. Poll is ONE Task state: while the provider says
"processing" the step raises `StillProcessing`, and the state's Retry (IntervalSeconds = the poll
interval, BackoffRate 1) runs it again: one state transition per poll, instead of three for a
Wait → Task → Choice loop. Once the task's deadline (an epoch in the execution input) has passed,
the step *returns* a failed outcome instead, so every execution leaves the loop by the deadline.

Outcomes that end a step are returned, never raised: only "try again" is an error. (MiniStack, the
local emulator, reports every Python exception as Runtime.HandlerError, so the workflow can only
rely on "an error means retry", not on error names; see README, Video tasks.)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ferry.data.tasks import COMPLETED, FAILED, TaskRecord
from ferry.errors import FerryError, UpstreamFailed, UpstreamTimeout
from ferry.events import DomainEvent
from ferry.observability import logger
from ferry.video.providers import ProviderRejected, ProviderUnavailable, VideoRequest
from ferry.video.views import task_view

if TYPE_CHECKING:
    from ferry.video.services import VideoSteps

FINISH_ATTEMPTS = 3  # the Finish state's MaxAttempts + 1: the last attempt gives up on transient errors


class StillProcessing(Exception):
    """The provider is still working (or could not be asked just now): poll again after the interval."""


class ResultNotStored(Exception):
    """Copying the provider's video failed transiently; the Finish state retries."""


class CallbackNotDelivered(Exception):
    """The callback receiver did not accept the task; the Notify state retries a few times."""


def _now(steps: VideoSteps) -> int:
    return int(steps.clock.now())


# ---------------------------------------------------------------------------------------- submit
def submit(event: dict[str, Any], steps: VideoSteps) -> dict[str, Any]:
    task = steps.tasks.get(str(event["task_id"]))
    if task is None or task.status != "processing":
        return {"outcome": "failed", "code": "task_gone", "reason": "The task no longer exists or already ended."}
    if task.provider_task_id:  # an earlier attempt submitted and then failed to answer
        return {"outcome": "submitted", "provider_task_id": task.provider_task_id}
    if task.model not in steps.routes:
        return _model_gone(task.model)
    provider = steps.provider(task.model)
    try:
        provider_task_id = provider.submit(VideoRequest.from_dict(task.request_data))
    except ProviderRejected as exc:
        return {"outcome": "failed", "code": "provider_rejected", "reason": exc.message}
    except ProviderUnavailable as exc:
        logger.warning("provider unavailable at submit", extra={"task_id": task.id, "reason": exc.message})
        raise
    steps.tasks.update_processing(task.id, provider_task_id=provider_task_id)
    return {"outcome": "submitted", "provider_task_id": provider_task_id}


# ---------------------------------------------------------------------------------------- poll
def poll(event: dict[str, Any], steps: VideoSteps, *, raise_while_processing: bool = True) -> dict[str, Any]:
    """A terminal outcome, or StillProcessing. With `raise_while_processing` False (the benchmark's
    naive Wait→Task→Choice machine) "processing" is returned instead."""
    submitted = event.get("submit") or {}
    if submitted.get("outcome") != "submitted":
        return {"outcome": "failed", "code": submitted.get("code", "not_submitted"), "reason": submitted.get("reason")}
    deadline = int(event["deadline"])
    if _now(steps) >= deadline:
        return _deadline_passed(steps, event)
    if str(event["model"]) not in steps.routes:
        return _model_gone(str(event["model"]))
    try:
        result = steps.provider(str(event["model"])).poll(str(submitted["provider_task_id"]))
    except ProviderRejected as exc:
        return {"outcome": "failed", "code": "provider_rejected", "reason": exc.message}
    except ProviderUnavailable as exc:  # an outage is not an outcome: keep polling until the deadline
        logger.warning("provider unavailable at poll", extra={"task_id": event.get("task_id"), "reason": exc.message})
        return _processing(raise_while_processing, f"provider unavailable: {exc.message}")
    if result.status == "completed":
        return {"outcome": "completed", "video_url": result.video_url}
    if result.status == "failed":
        return {"outcome": "failed", "code": "provider_failed", "reason": result.reason}
    return _processing(raise_while_processing, "processing")


def _model_gone(model: str) -> dict[str, Any]:
    reason = f"The model {model!r} is no longer configured on this deployment; create the task with another model."
    return {"outcome": "failed", "code": "model_unavailable", "reason": reason}


def _processing(raise_it: bool, why: str) -> dict[str, Any]:
    if raise_it:
        raise StillProcessing(why)
    return {"outcome": "processing"}


def _deadline_passed(steps: VideoSteps, event: dict[str, Any]) -> dict[str, Any]:
    task = steps.tasks.get(str(event["task_id"]))
    seconds = (task.deadline - task.created_at) if task else 0
    budget = f"{round(seconds / 60)} min" if seconds >= 120 else f"{seconds} s"
    return {
        "outcome": "failed",
        "code": "deadline_exceeded",
        "reason": f"The provider did not finish the video within the task's deadline ({budget}). "
        "Create the task again later, or pick a faster model.",
    }


# ---------------------------------------------------------------------------------------- finish
def _error_reason(error: dict[str, Any], stage: str) -> tuple[str, str]:
    cause = str(error.get("Cause") or "")
    try:
        message = str(json.loads(cause).get("errorMessage") or cause)
    except (ValueError, AttributeError):
        message = cause
    message = message[:300]
    if stage == "submit":
        return (
            "provider_unavailable",
            f"The provider could not be reached to submit the task after several attempts ({message}). "
            "Try again later.",
        )
    return "internal_error", f"Ferry could not finish this task ({stage}); create it again. Detail: {message}"


def finish(event: dict[str, Any], steps: VideoSteps) -> dict[str, Any]:
    """Settle the task: store the provider's video and mark it completed, or mark it failed with a
    reason a person can act on. Idempotent: a task that already ended is only reported."""
    state = event.get("state") or event
    attempt = int(event.get("attempt") or 0)
    task = steps.tasks.get(str(state["task_id"]))
    if task is None:
        return {"id": state["task_id"], "status": FAILED}
    if task.status != "processing":
        return task_view(task)
    outcome: dict[str, Any]
    if "error" in state:
        stage = "submit" if "submit" not in state else "poll"
        code, reason = _error_reason(state["error"], stage)
        outcome = {"outcome": "failed", "code": code, "reason": reason}
    elif (state.get("submit") or {}).get("outcome") == "failed":
        outcome = state["submit"]
    else:
        outcome = state.get("result") or {"outcome": "failed", "code": "internal_error", "reason": None}
    if outcome.get("outcome") == "completed":
        try:
            file = steps.store_result(task, str(outcome["video_url"]))
        except (UpstreamFailed, UpstreamTimeout) as exc:
            if attempt + 1 < FINISH_ATTEMPTS:
                raise ResultNotStored(exc.message) from None
            reason = f"The finished video could not be downloaded: {exc.message}"
            return _fail(steps, task, "result_unavailable", reason)
        except FerryError as exc:
            return _fail(steps, task, "result_invalid", f"The provider's result was not a usable video: {exc.message}")
        url = steps.delivery_url(file, task.delivery_base)
        if not steps.tasks.update_processing(
            task.id, status=COMPLETED, status_update_time=_now(steps), video_url=url, result_file_id=file.id
        ):
            steps.discard_result(file)  # something else ended the task meanwhile
        return _settled(steps, task.id)
    code = str(outcome.get("code") or "provider_failed")
    reason = outcome.get("reason") or "The provider reported that the generation failed, without a reason."
    if code == "provider_rejected":
        reason = f"{reason} Fix the request and create the task again."
    return _fail(steps, task, code, str(reason))


def _fail(steps: VideoSteps, task: TaskRecord, code: str, reason: str) -> dict[str, Any]:
    steps.tasks.update_processing(
        task.id, status=FAILED, status_update_time=_now(steps), error_code=code, error=reason[:1000]
    )
    return _settled(steps, task.id)


def _settled(steps: VideoSteps, task_id: str) -> dict[str, Any]:
    task = steps.tasks.get(task_id)
    assert task is not None
    view = task_view(task)
    publish(steps, task, view)
    return view


def publish(steps: VideoSteps, task: TaskRecord, view: dict[str, Any]) -> None:
    """video.completed / video.failed on the Ferry bus (best effort: never fails the task)."""
    if task.status not in (COMPLETED, FAILED):
        return
    detail = {**view, "user_id": task.user_id}
    if task.result_file_id:
        detail["file_id"] = task.result_file_id
    try:
        failed = steps.bus.publish([DomainEvent(task.id, f"video.{task.status}", detail)])
        if failed:
            logger.warning("EventBridge refused the task event", extra={"task_id": task.id})
    except Exception:
        logger.exception("could not publish the task event", extra={"task_id": task.id})


def abandon(event: dict[str, Any], steps: VideoSteps) -> dict[str, Any]:
    """Finish itself failed: mark the task failed (if it is still processing) so nothing hangs."""
    task = steps.tasks.get(str(event["task_id"]))
    if task is None:
        return {"id": event["task_id"], "status": FAILED}
    if task.status != "processing":
        return task_view(task)
    _, reason = _error_reason(event.get("error") or {}, "finish")
    return _fail(steps, task, "internal_error", reason)


# ---------------------------------------------------------------------------------------- guard
GUARD_REASONS = {
    "ABORTED": "The task's workflow was stopped before it finished; create the task again.",
    "TIMED_OUT": "The task's workflow ran past its time limit; create the task again.",
    "FAILED": "Ferry's workflow for this task failed unexpectedly; create the task again.",
}


def guard(event: dict[str, Any], steps: VideoSteps) -> dict[str, Any]:
    """EventBridge "Step Functions Execution Status Change" (FAILED/TIMED_OUT/ABORTED): an execution
    that ended outside the workflow's own failure path leaves no task processing."""
    detail = event.get("detail") or {}
    task_id, status = str(detail.get("name") or ""), str(detail.get("status") or "")
    if not task_id.startswith("video_") or status not in GUARD_REASONS:
        return {"changed": False}
    task = steps.tasks.get(task_id)
    if task is None or task.status != "processing":
        return {"changed": False}
    _fail(steps, task, f"workflow_{status.lower()}", GUARD_REASONS[status])
    return {"changed": True}


# ---------------------------------------------------------------------------------------- notify
def notify(event: dict[str, Any], steps: VideoSteps) -> dict[str, Any]:
    """POST the settled task to its callback_url, signed. Failing here never changes the task."""
    from ferry.video.callback import CallbackFailed, deliver

    task = steps.tasks.get(str(event["task_id"]))
    if task is None or not task.callback_url or task.status == "processing":
        return {"delivered": False}
    try:
        status = deliver(task.callback_url, task_view(task), secret=steps.callback_secret(), policy=steps.policy)
    except CallbackFailed as exc:
        logger.warning("callback not delivered", extra={"task_id": task.id, "reason": str(exc)})
        raise CallbackNotDelivered(str(exc)) from None
    return {"delivered": True, "status": status}
