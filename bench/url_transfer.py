"""URL transfer of a 100 MB body from a loopback server (F2 targets: peak memory ≤ 64 MB; throughput
≥ 0.5× a plain streaming `requests` download of the same body, measured in the same run).

Ferry's side is the real route path below the handler: ferry.remote (pinned, SSRF-checked) →
FileService.upload_stream (sniff, quota per part, multipart upload). S3 is a sink that accepts the
parts and hashes them, so the figures are Ferry's own, not an emulator's; DynamoDB is moto.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
import tracemalloc
from typing import Any

import requests

from bench.moto_stack import moto_stack

SIZE = int(os.environ.get("FERRY_BENCH_URL_BYTES", str(100 * 1024 * 1024)))
BLOCK = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(1024 * 1024))[: 1024 * 1024]


class _Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        sent = 0
        while sent < SIZE:
            piece = BLOCK[: min(len(BLOCK), SIZE - sent)]
            self.wfile.write(piece)
            sent += len(piece)

    def log_message(self, *_: Any) -> None:
        pass


class _PartSink:
    """An S3 client that takes multipart uploads and keeps nothing but a hash."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "bench"}

    def upload_part(self, *, Body: bytes, PartNumber: int, **_: Any) -> dict[str, str]:
        self.digest.update(Body)
        return {"ETag": f'"{PartNumber}"'}

    def complete_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {}

    def abort_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {}


def _plain_download(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=60) as response:
        for chunk in response.iter_content(8 * 1024 * 1024):
            digest.update(chunk)
    return time.perf_counter() - started, digest.hexdigest()


def _ferry_transfer(url: str, *, trace: bool) -> tuple[float, str, int]:
    import ipaddress

    from ferry.data.storage import PART_SIZE
    from ferry.files import UploadOptions
    from ferry.keys import Principal
    from ferry.remote import FetchPolicy, open_remote
    from ferry.services import file_service

    service = file_service()
    sink = _PartSink()
    service.storage._s3 = sink
    policy = FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), deadline_seconds=120)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with open_remote(url, max_bytes=SIZE, policy=policy) as remote:
        record = service.upload_stream(
            Principal("bench", "k", quota_bytes=10 * SIZE),
            remote.iter_chunks(PART_SIZE),
            UploadOptions(media_type="video"),
            declared_size=remote.content_length,
        )
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    assert record.size == SIZE
    return seconds, sink.digest.hexdigest(), peak


def run() -> dict[str, Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
    try:
        baseline_seconds, baseline_hash = min(_plain_download(url) for _ in range(2))
        with moto_stack():
            ferry_seconds, ferry_hash, _ = min(_ferry_transfer(url, trace=False) for _ in range(2))
            _, traced_hash, peak = _ferry_transfer(url, trace=True)
        assert baseline_hash == ferry_hash == traced_hash
    finally:
        server.shutdown()

    results = {
        "bytes": SIZE,
        "peak_bytes": peak,
        "peak_target_bytes": 64 * 1024 * 1024,
        "ferry_mb_per_s": round(SIZE / ferry_seconds / 1e6, 1),
        "requests_mb_per_s": round(SIZE / baseline_seconds / 1e6, 1),
        "throughput_ratio": round(baseline_seconds / ferry_seconds, 2),
        "throughput_target_ratio": 0.5,
    }
    print(f"\nURL transfer of {SIZE / 2**20:.0f} MiB from 127.0.0.1 (S3 = a part sink)")
    print(f"  peak traced memory  {peak / 2**20:6.1f} MiB   target ≤ 64 MiB  {'ok' if peak <= 64 * 2**20 else 'OVER'}")
    print(
        f"  throughput          {results['ferry_mb_per_s']} MB/s vs plain requests {results['requests_mb_per_s']} MB/s"
        f" = {results['throughput_ratio']}x  target ≥ 0.5x  {'ok' if results['throughput_ratio'] >= 0.5 else 'UNDER'}"
    )
    return results
