"""Provider adapters behind one interface: submit a request, poll a provider task.

- `UnifiedProvider`: an upstream's unified video API (Crazyrouter's shape):
  POST {base}/v1/video/create → {id, status}; GET {base}/v1/video/query?id= → {status, video_url?}.
- `KlingProvider`: Kling's native API: POST {base}/kling/v1/videos/image2video
  {model_name, prompt, image_urls, duration, mode} → {code, message, data: {task_id, task_status}};
  GET {base}/kling/v1/videos/image2video/{task_id} → data.task_status submitted|processing|succeed|failed,
  data.task_status_msg, data.task_result.videos[0].url.

Errors are classified for the workflow: `ProviderRejected` (a 4xx, or a documented refusal: the
request itself is wrong, retrying cannot help; the provider's message is kept for the person) and
`ProviderUnavailable` (5xx, timeouts, connection failures, malformed answers: retry later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from ferry.video.config import ModelRoute

if TYPE_CHECKING:
    import requests

CONNECT_TIMEOUT = 5.0
USER_AGENT = "Ferry/0.1 (+video-tasks)"
MAX_MESSAGE = 500

# Statuses providers report, mapped onto the three of the unified API.
_PROCESSING = {"processing", "queued", "pending", "submitted", "running", "in_progress", "created", "starting"}
_COMPLETED = {"completed", "succeed", "succeeded", "success", "done", "finished"}
_FAILED = {"failed", "fail", "failure", "error", "cancelled", "canceled", "expired", "rejected"}


class ProviderError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message[:MAX_MESSAGE]


class ProviderRejected(ProviderError):
    """The provider refused the request (4xx): do not retry."""


class ProviderUnavailable(ProviderError):
    """The provider could not answer usefully now (5xx, timeout, malformed): retry later."""


@dataclass(frozen=True)
class PollResult:
    status: Literal["processing", "completed", "failed"]
    video_url: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VideoRequest:
    """What every provider gets, already validated and resolved (image URLs are fetchable)."""

    model: str
    prompt: str
    image_urls: list[str]
    aspect_ratio: str | None = None
    size: str | None = None
    duration: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoRequest:
        return cls(
            model=str(data["model"]),
            prompt=str(data["prompt"]),
            image_urls=[str(u) for u in data.get("image_urls") or []],
            aspect_ratio=data.get("aspect_ratio"),
            size=data.get("size"),
            duration=int(data["duration"]) if data.get("duration") is not None else None,
        )


class Provider(Protocol):
    name: str

    def submit(self, request: VideoRequest) -> str: ...

    def poll(self, provider_task_id: str) -> PollResult: ...


def map_status(value: Any) -> Literal["processing", "completed", "failed"] | None:
    status = str(value or "").strip().lower()
    if status in _PROCESSING:
        return "processing"
    if status in _COMPLETED:
        return "completed"
    if status in _FAILED:
        return "failed"
    return None


def _message_of(body: Any) -> str | None:
    """The human message in a provider's error body, whatever its shape."""
    if isinstance(body, dict):
        for key in ("error", "message", "msg", "detail", "fail_reason", "task_status_msg"):
            value = body.get(key)
            if isinstance(value, dict):
                nested = _message_of(value)
                if nested:
                    return nested
            elif isinstance(value, str) and value.strip():
                return value.strip()
    return None


class _HttpProvider:
    name = "provider"

    def __init__(self, route: ModelRoute, api_key: str | None, session: requests.Session | None = None):
        self.route = route
        self._key = api_key
        import requests  # on first use: off the cold start of functions that never call a provider

        self._http = session or requests.Session()
        self._http.trust_env = False

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        import requests

        url = self.route.base + path
        try:
            response = self._http.request(
                method,
                url,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT, self.route.timeout_seconds), self.route.timeout_seconds),
                allow_redirects=False,
                **kwargs,
            )
        except requests.Timeout:
            raise ProviderUnavailable(
                f"The {self.name} provider did not answer within {self.route.timeout_seconds:g} s."
            ) from None
        except requests.RequestException as exc:
            reason = f"The {self.name} provider could not be reached ({type(exc).__name__})."
            raise ProviderUnavailable(reason) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
            message = _message_of(body) or response.text[:200].strip() or "no message"
            status = response.status_code
            raise ProviderRejected(f"The {self.name} provider refused the request (HTTP {status}): {message}")
        if response.status_code >= 300:
            raise ProviderUnavailable(f"The {self.name} provider answered HTTP {response.status_code}.")
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"The {self.name} provider answered with something that is not a JSON object.")
        return body


class UnifiedProvider(_HttpProvider):
    name = "unified"

    def submit(self, request: VideoRequest) -> str:
        payload: dict[str, Any] = {"model": self.route.upstream_model or request.model, "prompt": request.prompt}
        if request.image_urls:
            payload["images"] = request.image_urls
        for field in ("aspect_ratio", "size", "duration"):
            if getattr(request, field) is not None:
                payload[field] = getattr(request, field)
        body = self._call("POST", "/v1/video/create", json=payload)
        task_id = body.get("id") or body.get("task_id")
        if map_status(body.get("status")) == "failed":
            raise ProviderRejected(f"The unified provider refused the task: {_message_of(body) or 'no reason given'}")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderUnavailable("The unified provider's answer to create has no task id.")
        return task_id

    def poll(self, provider_task_id: str) -> PollResult:
        body = self._call("GET", "/v1/video/query", params={"id": provider_task_id})
        status = map_status(body.get("status"))
        if status is None:
            raise ProviderUnavailable(f"The unified provider reported an unknown status {body.get('status')!r}.")
        if status == "completed":
            url = body.get("video_url") or body.get("url")
            if not isinstance(url, str) or not url:
                return PollResult("failed", reason="The provider reported the video completed but gave no video URL.")
            return PollResult("completed", video_url=url)
        if status == "failed":
            return PollResult("failed", reason=_message_of(body) or "The provider reported the generation failed.")
        return PollResult("processing")


class KlingProvider(_HttpProvider):
    name = "kling"
    PATH = "/kling/v1/videos/image2video"

    @staticmethod
    def _data(body: dict[str, Any]) -> dict[str, Any]:
        code = body.get("code", 0)
        if code not in (0, "0"):
            message = _message_of(body) or f"code {code}"
            raise ProviderRejected(f"The kling provider refused the request: {message}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProviderUnavailable("The kling provider's answer has no data object.")
        return data

    def submit(self, request: VideoRequest) -> str:
        payload: dict[str, Any] = {
            "model_name": self.route.upstream_model or request.model,
            "prompt": request.prompt,
            "image_urls": request.image_urls,
            "mode": self.route.mode,
        }
        if request.image_urls:
            payload["image"] = request.image_urls[0]  # the field of Kling's own image2video reference
        if request.duration is not None:
            payload["duration"] = str(request.duration)  # Kling takes "5" / "10"
        if request.aspect_ratio is not None:
            payload["aspect_ratio"] = request.aspect_ratio
        data = self._data(self._call("POST", self.PATH, json=payload))
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderUnavailable("The kling provider's answer to the submission has no task_id.")
        return task_id

    def poll(self, provider_task_id: str) -> PollResult:
        data = self._data(self._call("GET", f"{self.PATH}/{quote(provider_task_id, safe='')}"))
        status = map_status(data.get("task_status"))
        if status is None:
            raise ProviderUnavailable(f"The kling provider reported an unknown status {data.get('task_status')!r}.")
        if status == "completed":
            videos = (data.get("task_result") or {}).get("videos") or []
            url = videos[0].get("url") if videos and isinstance(videos[0], dict) else None
            if not isinstance(url, str) or not url:
                return PollResult("failed", reason="Kling reported the video succeeded but gave no video URL.")
            return PollResult("completed", video_url=url)
        if status == "failed":
            reason = data.get("task_status_msg") or "Kling reported the generation failed."
            return PollResult("failed", reason=str(reason))
        return PollResult("processing")


def provider_for(route: ModelRoute, api_key: str | None, session: requests.Session | None = None) -> Provider:
    if route.provider == "kling":
        return KlingProvider(route, api_key, session)
    return UnifiedProvider(route, api_key, session)
