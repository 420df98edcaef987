"""A fake video provider on 127.0.0.1 speaking both provider APIs Ferry adapts (DESIGN §8):
the unified video API (POST /v1/video/create, GET /v1/video/query?id=) and Kling's native one
(POST /kling/v1/videos/image2video, GET /kling/v1/videos/image2video/{task_id}), plus the result
files it links to and a callback receiver.

Behaviour is scripted per task by a directive in the prompt, so one running server (and one
deployed stack) serves every scenario: ``[fake processing=3 outcome=failed]``. Keys:

  processing=N        answer "processing" N times before the outcome (default 2; -1 = forever)
  outcome=completed   or failed (with reason=<text, _ for spaces>)
  submit_errors=N     answer the first N creates with an error (kind below) before accepting
  poll_errors=N       answer N polls (after the first) with an error before going on
  errors=500,timeout,malformed   the kinds of those errors, used in turn (default 500)
  reject=1            answer the create with a 4xx and a message (the request is refused)
  video=bad           the result file is not a video
"""

from __future__ import annotations

import http.server
import json
import re
import secrets
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests import media_samples

DIRECTIVE = re.compile(r"\[fake ([^\]]*)\]")


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version_flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags), *payload)


def tiny_mp4(width: int = 64, height: int = 48) -> bytes:
    """A small real MP4 (ISO BMFF): one video track holding one Motion-JPEG frame shown for 1 s
    (sample entry 'jpeg', as QuickTime and ffmpeg read it), the frame in `mdat` before `moov`."""
    frame = media_samples.image("JPEG", (width, height))
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    mdat = _box(b"mdat", frame)
    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = _full(b"mvhd", 0, struct.pack(">IIII", 0, 0, 1000, 1000), struct.pack(">IH", 0x00010000, 0x0100),
                 bytes(10), matrix, bytes(24), struct.pack(">I", 2))  # fmt: skip
    tkhd = _full(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, 1000), bytes(8), struct.pack(">hhhH", 0, 0, 0, 0),
                 matrix, struct.pack(">II", width << 16, height << 16))  # fmt: skip
    mdhd = _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, 1000, 1000, 0x55C4, 0))  # language "und"
    hdlr = _full(b"hdlr", 0, struct.pack(">I", 0), b"vide", bytes(12), b"VideoHandler\0")
    vmhd = _full(b"vmhd", 1, struct.pack(">HHHH", 0, 0, 0, 0))
    dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), _full(b"url ", 1)))
    entry = _box(
        b"jpeg", bytes(6), struct.pack(">H", 1), bytes(16), struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000), bytes(4), struct.pack(">H", 1),
        bytes([10]) + b"Photo JPEG".ljust(31, b"\0"), struct.pack(">Hh", 0x18, -1),
    )  # fmt: skip
    offset = len(ftyp) + 8  # the frame starts right after mdat's header
    stbl = _box(
        b"stbl",
        _full(b"stsd", 0, struct.pack(">I", 1), entry),
        _full(b"stts", 0, struct.pack(">III", 1, 1, 1000)),
        _full(b"stsc", 0, struct.pack(">IIII", 1, 1, 1, 1)),
        _full(b"stsz", 0, struct.pack(">III", 0, 1, len(frame))),
        _full(b"stco", 0, struct.pack(">II", 1, offset)),
    )
    minf = _box(b"minf", vmhd, dinf, stbl)
    moov = _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))
    return ftyp + mdat + moov


MP4 = tiny_mp4()


@dataclass
class Script:
    processing: int = 2
    outcome: str = "completed"
    reason: str = "content moderation refused the generated video"
    submit_errors: int = 0
    poll_errors: int = 0
    errors: list[str] = field(default_factory=lambda: ["500"])
    reject: bool = False
    video: str = "mp4"

    @classmethod
    def from_prompt(cls, prompt: str) -> Script:
        script = cls()
        match = DIRECTIVE.search(prompt or "")
        for part in match.group(1).split() if match else []:
            key, _, value = part.partition("=")
            if key in ("processing", "submit_errors", "poll_errors"):
                setattr(script, key, int(value))
            elif key == "errors":
                script.errors = value.split(",")
            elif key == "reject":
                script.reject = value not in ("0", "")
            elif key == "reason":
                script.reason = value.replace("_", " ")
            elif key in ("outcome", "video"):
                setattr(script, key, value)
        return script


@dataclass
class Task:
    id: str
    script: Script
    polls: int = 0
    errors_sent: int = 0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeUpstream:
    """Start with `running()`; `api_key` is the only Bearer key it accepts (None: any)."""

    def __init__(self, api_key: str | None = "upstream-test-key", timeout_delay: float = 3.0):
        self.api_key = api_key
        self.timeout_delay = timeout_delay
        self.tasks: dict[str, Task] = {}
        self.requests: list[Received] = []
        self.callbacks: list[Received] = []
        self.callback_failures = 0  # answer this many callbacks with 503 first
        self._submit_errors: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ behaviour
    def _error(self, kind: str) -> tuple[int, Any]:
        if kind == "timeout":
            time.sleep(self.timeout_delay)
            return 504, {"error": {"message": "gateway timeout"}}
        if kind == "malformed":
            return 200, b"{not json"
        return int(kind), {"error": {"message": f"upstream error {kind}"}}

    def _create(self, prompt: str) -> tuple[int, Any] | Task:
        script = Script.from_prompt(prompt)
        with self._lock:
            sent = self._submit_errors.get(prompt, 0)
            if sent < script.submit_errors:
                self._submit_errors[prompt] = sent + 1
                kind = script.errors[sent % len(script.errors)]
                return ("error", kind)  # type: ignore[return-value]
            if script.reject:
                return 400, {"error": {"message": "The prompt was refused by the content policy.", "type": "invalid"}}
            task = Task(id="up_" + secrets.token_hex(8), script=script)
            self.tasks[task.id] = task
            return task

    def _advance(self, task_id: str) -> tuple[str, Any]:
        """('error', kind) | ('processing', None) | ('completed', url) | ('failed', reason) | ('missing', None)"""
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:
                return "missing", None
            task.polls += 1
            script = task.script
            if task.polls > 1 and task.errors_sent < script.poll_errors:
                kind = script.errors[task.errors_sent % len(script.errors)]
                task.errors_sent += 1
                return "error", kind
            answered = task.polls - task.errors_sent
            if script.processing < 0 or answered <= script.processing:
                return "processing", None
            if script.outcome == "failed":
                return "failed", script.reason
            return "completed", f"{self.base_url}/files/{task.id}.{script.video}"

    # ------------------------------------------------------------------ server
    @contextmanager
    def running(self) -> Iterator[FakeUpstream]:
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _record(self) -> Received:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
                if self.path.startswith("/callback"):
                    upstream.callbacks.append(received)
                else:
                    upstream.requests.append(received)
                return received

            def _authorized(self) -> bool:
                if upstream.api_key is None or self.headers.get("Authorization") == f"Bearer {upstream.api_key}":
                    return True
                self._send(401, {"error": {"message": "invalid upstream API key"}})
                return False

            def _error(self, kind: str) -> None:
                status, body = upstream._error(kind)
                self._send(status, body)

            def do_GET(self) -> None:
                self._record()
                parts = urlsplit(self.path)
                if parts.path.startswith("/files/"):
                    name = parts.path.rsplit("/", 1)[1]
                    body = MP4 if name.endswith(".mp4") else b"<html>not a video</html>"
                    return self._send(200, body, "video/mp4")
                if not self._authorized():
                    return None
                if parts.path == "/v1/video/query":
                    task_id = parse_qs(parts.query).get("id", [""])[0]
                    state, value = upstream._advance(task_id)
                    if state == "missing":
                        return self._send(404, {"error": {"message": f"task {task_id} not found"}})
                    if state == "error":
                        return self._error(value)
                    body = {"id": task_id, "status": state, "status_update_time": int(time.time())}
                    if state == "completed":
                        body["video_url"] = value
                    if state == "failed":
                        body["error"] = value
                    return self._send(200, body)
                match = re.fullmatch(r"/kling/v1/videos/image2video/([^/]+)", parts.path)
                if match:
                    state, value = upstream._advance(match.group(1))
                    if state == "missing":
                        return self._send(404, {"code": 1203, "message": "task not found"})
                    if state == "error":
                        return self._error(value)
                    kling = {"processing": "processing", "completed": "succeed", "failed": "failed"}[state]
                    data: dict[str, Any] = {"task_id": match.group(1), "task_status": kling}
                    if state == "completed":
                        data["task_result"] = {"videos": [{"id": "v1", "url": value, "duration": "5"}]}
                    if state == "failed":
                        data["task_status_msg"] = value
                    return self._send(200, {"code": 0, "message": "SUCCEED", "data": data})
                return self._send(404, {"error": {"message": "no such route"}})

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_POST(self) -> None:
                received = self._record()
                path = urlsplit(self.path).path
                if path.startswith("/callback"):
                    with upstream._lock:
                        fail = upstream.callback_failures > 0
                        upstream.callback_failures -= 1 if fail else 0
                    return self._send(503 if fail else 200, {"ok": not fail})
                if not self._authorized():
                    return None
                try:
                    payload = received.json()
                except ValueError:
                    return self._send(400, {"error": {"message": "body is not JSON"}})
                if path == "/v1/video/create":
                    result = upstream._create(str(payload.get("prompt", "")))
                    if isinstance(result, Task):
                        return self._send(200, {"id": result.id, "status": "processing", "status_update_time": 1})
                    if result[0] == "error":
                        return self._error(result[1])
                    return self._send(*result)
                if path == "/kling/v1/videos/image2video":
                    if not payload.get("image_urls"):
                        return self._send(400, {"code": 1201, "message": "image_urls is required"})
                    result = upstream._create(str(payload.get("prompt", "")))
                    if isinstance(result, Task):
                        data = {"task_id": result.id, "task_status": "submitted", "created_at": 1}
                        return self._send(200, {"code": 0, "message": "SUCCEED", "data": data})
                    if result[0] == "error":
                        return self._error(result[1])
                    return self._send(400, {"code": 1301, "message": result[1]["error"]["message"]})
                return self._send(404, {"error": {"message": "no such route"}})

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that drop keep-alive connections (the Lambdas) are not errors

        server = Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":  # python -m tests.fake_upstream: a provider for `make dev` (docs/local-stack.md)
    import sys

    from tests.e2e.video import video_models_parameter

    with FakeUpstream(api_key=sys.argv[1] if len(sys.argv) > 1 else None).running() as running:
        print(f"fake provider on {running.base_url}; deploy with:")
        models = video_models_parameter(running, "dev")
        print(f"FERRY_LOCAL_PARAMETERS='UrlAllowedNetworks=127.0.0.1/32 VideoModels={models}'")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
