"""Video tasks, pure logic: status mapping, the adapters' request/response handling (with a stub
HTTP session: no network), model configuration, callback signatures, prompt labels."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from ferry.errors import InvalidRequest
from ferry.keys import Principal
from ferry.remote import FetchPolicy
from ferry.video.callback import sign, verify_signature
from ferry.video.config import ModelRoute, parse_routes
from ferry.video.models import VideoCreate
from ferry.video.providers import (
    KlingProvider,
    ProviderRejected,
    ProviderUnavailable,
    UnifiedProvider,
    VideoRequest,
    map_status,
)
from ferry.video.service import VideoService


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("processing", "processing"), ("queued", "processing"), ("submitted", "processing"), ("RUNNING", "processing"),
        ("completed", "completed"), ("succeed", "completed"), ("SUCCEEDED", "completed"),
        ("failed", "failed"), ("error", "failed"), ("cancelled", "failed"),
        ("", None), ("weird", None), (None, None),
    ],
)  # fmt: skip
def test_status_mapping(raw: Any, mapped: str | None) -> None:
    assert map_status(raw) == mapped


class StubSession(requests.Session):
    """Answers every request with the next scripted (status, body) and records what was sent."""

    def __init__(self, *answers: tuple[int, Any] | Exception):
        super().__init__()
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return response


UNIFIED = ModelRoute(provider="unified", base_url="https://up.example/", upstream_model="veo3")
KLING = ModelRoute(provider="kling", base_url="https://up.example", mode="pro")
REQUEST = VideoRequest(model="m", prompt="p", image_urls=["https://i/1.png"], aspect_ratio="16:9", duration=5)


def test_unified_submit_and_poll() -> None:
    session = StubSession(
        (200, {"id": "t1", "status": "processing"}),
        (200, {"id": "t1", "status": "processing"}),
        (200, {"id": "t1", "status": "completed", "video_url": "https://cdn/v.mp4"}),
    )
    provider = UnifiedProvider(UNIFIED, "k", session)
    assert provider.submit(REQUEST) == "t1"
    sent = session.sent[0]
    assert sent["url"] == "https://up.example/v1/video/create" and sent["headers"]["Authorization"] == "Bearer k"
    assert sent["json"] == {
        "model": "veo3", "prompt": "p", "images": ["https://i/1.png"], "aspect_ratio": "16:9", "duration": 5
    }  # fmt: skip
    assert provider.poll("t1").status == "processing"
    done = provider.poll("t1")
    assert (done.status, done.video_url) == ("completed", "https://cdn/v.mp4")
    assert session.sent[1]["params"] == {"id": "t1"}


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((400, {"error": {"message": "prompt too long"}}), ProviderRejected),
        ((401, {"message": "bad key"}), ProviderRejected),
        ((429, {"error": "slow down"}), ProviderUnavailable),
        ((500, {"error": "boom"}), ProviderUnavailable),
        ((502, b"<html>bad gateway</html>"), ProviderUnavailable),
        ((200, b"{not json"), ProviderUnavailable),
        ((200, {"status": "processing"}), ProviderUnavailable),  # no id
        (requests.ConnectTimeout("slow"), ProviderUnavailable),
        (requests.ConnectionError("refused"), ProviderUnavailable),
    ],
)
def test_unified_submit_errors_are_classified(answer: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        UnifiedProvider(UNIFIED, None, StubSession(answer)).submit(REQUEST)
    if error is ProviderRejected:
        assert "prompt too long" in str(caught.value) or "bad key" in str(caught.value)


def test_unified_poll_failures_and_oddities() -> None:
    session = StubSession(
        (200, {"status": "failed", "error": {"message": "moderation"}}),
        (200, {"status": "completed"}),
        (200, {"status": "teleporting"}),
    )
    provider = UnifiedProvider(UNIFIED, None, session)
    assert provider.poll("t").reason == "moderation"
    assert provider.poll("t").status == "failed"  # completed without a URL
    with pytest.raises(ProviderUnavailable):
        provider.poll("t")


def test_kling_submit_and_poll() -> None:
    session = StubSession(
        (200, {"code": 0, "message": "SUCCEED", "data": {"task_id": "k1", "task_status": "submitted"}}),
        (200, {"code": 0, "data": {"task_id": "k1", "task_status": "processing"}}),
        (200, {"code": 0, "data": {"task_status": "succeed", "task_result": {"videos": [{"url": "https://k/v.mp4"}]}}}),
        (200, {"code": 0, "data": {"task_status": "failed", "task_status_msg": "risk control"}}),
        (200, {"code": 1201, "message": "invalid task"}),
    )
    provider = KlingProvider(KLING, "k", session)
    assert provider.submit(REQUEST) == "k1"
    body = session.sent[0]["json"]
    assert session.sent[0]["url"] == "https://up.example/kling/v1/videos/image2video"
    assert body["model_name"] == "m" and body["image_urls"] == ["https://i/1.png"]
    assert body["duration"] == "5" and body["mode"] == "pro"
    assert provider.poll("k1").status == "processing"
    assert session.sent[1]["url"] == "https://up.example/kling/v1/videos/image2video/k1"
    assert provider.poll("k1").video_url == "https://k/v.mp4"
    assert provider.poll("k1").reason == "risk control"
    with pytest.raises(ProviderRejected, match="invalid task"):
        provider.poll("k1")


def test_model_configuration_is_validated() -> None:
    routes = parse_routes('{"a": {"provider": "kling", "base_url": "https://x", "secret": "/ferry/dev/k"}}')
    assert routes["a"].provider == "kling" and routes["a"].mode == "std"
    for bad, fragment in [
        ("[1]", "JSON object"),
        ("{", "not valid JSON"),
        ('{"a": {"provider": "sora", "base_url": "https://x"}}', "provider"),
        ('{"a": {"provider": "unified", "base_url": "ftp://x"}}', "base_url"),
        ('{"a": {"provider": "unified", "base_url": "https://x", "api_key": "sk-1"}}', "api_key"),
        ('{"bad name!": {"provider": "unified", "base_url": "https://x"}}', "model name"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            parse_routes(bad)


def test_settings_refuse_a_bad_model_configuration() -> None:
    from ferry.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="FERRY_VIDEO_MODELS"):
        Settings.from_env({"FERRY_TABLE_NAME": "t", "FERRY_VIDEO_MODELS": '{"m": {"provider": "x"}}'})


def test_callback_signature_round_trip() -> None:
    body = '{"id":"video_1","status":"completed"}'
    header = sign("secret", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("secret", body, header, now=1_700_000_100)
    assert not verify_signature("secret", body + " ", header, now=1_700_000_100)
    assert not verify_signature("other", body, header, now=1_700_000_100)
    assert not verify_signature("secret", body, header, now=1_700_001_000)  # too old: replay
    assert not verify_signature("secret", body, "garbage")


class NoFiles:
    inline_cap_bytes = 4_500_000


def plan(prompt: str, images: list[Any], model: str = "m") -> Any:
    service = VideoService(
        None,  # type: ignore[arg-type]
        NoFiles(),  # type: ignore[arg-type]
        {"m": UNIFIED, "k": KLING},
        starter=None,
        policy=FetchPolicy(),
        default_deadline_seconds=1800,
        delivery_url=None,
    )
    body = VideoCreate(model=model, prompt=prompt, images=images)
    return service.plan(Principal("alice", "key"), body, delivery_base="https://f")


def test_labels_become_image_positions() -> None:
    result = plan(
        "{{ hero }} and @sidekick, not user@mail.com or @ home",
        [
            {"uri": "https://e.com/b.png", "label": "sidekick", "role": "last_frame"},
            {"uri": "https://e.com/a.png", "label": "hero"},
        ],
    )
    assert [i.url for i in result.images] == ["https://e.com/a.png", "https://e.com/b.png"]
    assert result.prompt == "image 1 and image 2, not user@mail.com or @ home"


def test_at_words_are_plain_text_without_labels() -> None:
    assert plan("ping @team", ["https://e.com/a.png"]).prompt == "ping @team"


@pytest.mark.parametrize(
    ("prompt", "images", "fragment"),
    [
        ("{{nobody}}", [], "nobody"),
        ("@x", [{"uri": "https://e.com/a.png", "label": "y"}], "'x'"),
        ("x", [{"uri": "https://e.com/a.png", "label": "y"}, {"uri": "https://e.com/b.png", "label": "y"}], "twice"),
        ("x", [{"uri": "https://e/1.png", "role": "first_frame"}, {"uri": "https://e/2.png", "role": "first_frame"}],
         "first_frame"),
        ("x", ["file://etc/passwd"], "images[0]"),
        ("x", ["https://127.0.0.1:99999/a.png"], "images[0]"),
    ],
)  # fmt: skip
def test_plan_refusals(prompt: str, images: list[Any], fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=None) as caught:
        plan(prompt, images)
    assert fragment in caught.value.message


def test_kling_needs_an_image() -> None:
    with pytest.raises(InvalidRequest, match="at least one"):
        plan("x", [], model="k")


def test_the_fake_providers_video_is_a_well_formed_mp4() -> None:
    import struct

    from ferry.media import detect
    from tests.fake_upstream import MP4

    def boxes(data: bytes) -> dict[bytes, bytes]:
        found, i = {}, 0
        while i < len(data):
            size, kind = struct.unpack(">I4s", data[i : i + 8])
            assert size >= 8 and i + size <= len(data)
            found[kind] = data[i + 8 : i + size]
            i += size
        return found

    top = boxes(MP4)
    assert list(top) == [b"ftyp", b"mdat", b"moov"] and detect(MP4[:4096]) == "video/mp4"
    stbl = boxes(boxes(boxes(boxes(boxes(top[b"moov"])[b"trak"])[b"mdia"])[b"minf"])[b"stbl"])
    (offset,) = struct.unpack(">I", stbl[b"stco"][8:12])
    (size,) = struct.unpack(">I", stbl[b"stsz"][12:16])
    frame = MP4[offset : offset + size]
    assert frame.startswith(b"\xff\xd8") and frame.endswith(b"\xff\xd9") and stbl[b"stsd"][12:16] == b"jpeg"
