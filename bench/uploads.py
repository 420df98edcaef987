"""Upload-path figures (F2), measured in-process against moto:

- AWS API calls per request, counted with botocore's before-call event (targets: ≤ 3 for a
  multipart or base64 upload, ≤ 1 for GET /f/<name>);
- peak traced memory (tracemalloc) of a maximum-size inline upload, as a multiple of the file size
  (target ≤ 3×), with S3 replaced by a sink that hashes the body (Ferry's own peak), and with
  moto's in-process S3, which keeps its own copies of the object in the same process.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tracemalloc
from collections import Counter
from typing import Any

from bench.moto_stack import Context, http_event, load_function, moto_stack


def _png_of_size(target: int) -> bytes:
    from PIL import Image

    side = int((target / 3) ** 0.5)
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=0)
        data = buffer.getvalue()
        if data and len(data) <= target:
            return data
        side -= 8


def _multipart(data: bytes) -> dict[str, Any]:
    from urllib3 import encode_multipart_formdata

    body, content_type = encode_multipart_formdata({"purpose": "model_input", "file": ("r.png", data, "image/png")})
    return http_event(
        "POST",
        "/v1/files/uploads",
        body=base64.b64encode(body).decode(),
        headers={"content-type": content_type},
        base64_body=True,
    )


class _HashingSink:
    """Stands in for S3 in the memory figure: consumes the body without keeping it."""

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        import hashlib

        hashlib.sha256(kwargs["Body"]).digest()
        return {}


def _peak(function: Any, event: dict[str, Any]) -> int:
    tracemalloc.start()
    response = function.lambda_handler(event, Context())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response["statusCode"] == 201, response["body"]
    return peak


def run() -> dict[str, Any]:
    import boto3

    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    results: dict[str, Any] = {}
    with moto_stack():
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", count)
        from ferry.files import INLINE_CAP_BYTES

        upload_file, upload_b64, delivery = (load_function(n) for n in ("upload_file", "upload_base64", "delivery"))
        small = _png_of_size(200_000)
        per_route = {}
        for label, fn, event in [
            ("POST /v1/files/uploads", upload_file, lambda: _multipart(small)),
            (
                "POST /v1/files/uploads/base64",
                upload_b64,
                lambda: http_event(
                    "POST", "/v1/files/uploads/base64", body=json.dumps({"data": base64.b64encode(small).decode()})
                ),
            ),
        ]:
            fn.lambda_handler(event(), Context())  # warm: clients exist, like a warm container
            calls.clear()
            response = fn.lambda_handler(event(), Context())
            assert response["statusCode"] == 201, response["body"]
            per_route[label] = {"calls": sum(calls.values()), "operations": dict(calls)}
            name = json.loads(response["body"])["url"].rsplit("/", 1)[1]
        delivery.lambda_handler(http_event("GET", f"/f/{name}", authenticated=False), Context())
        calls.clear()
        assert (
            delivery.lambda_handler(http_event("GET", f"/f/{name}", authenticated=False), Context())["statusCode"]
            == 302
        )
        per_route["GET /f/{name}"] = {"calls": sum(calls.values()), "operations": dict(calls)}
        results["aws_calls"] = per_route

        big = _png_of_size(INLINE_CAP_BYTES - 2048)
        with_moto = _peak(upload_file, _multipart(big))
        from ferry.services import file_service

        file_service().storage._s3 = _HashingSink()  # Ferry's own peak: S3 that only reads the body
        own = _peak(upload_file, _multipart(big))
        results["inline_memory"] = {
            "file_bytes": len(big),
            "peak_bytes_ferry": own,
            "ratio": round(own / len(big), 2),
            "peak_bytes_with_moto_s3": with_moto,
            "ratio_with_moto_s3": round(with_moto / len(big), 2),
            "target_ratio": 3.0,
        }

    print("\nAWS API calls per request (moto, warm container)")
    for label, row in results["aws_calls"].items():
        target = 1 if label.startswith("GET /f") else 3
        verdict = "ok" if row["calls"] <= target else f"over {target}"
        print(f"  {label:<32} {row['calls']}  {verdict}   {row['operations']}")
    memory = results["inline_memory"]
    print(f"\npeak traced memory, {memory['file_bytes']:,}-byte inline image upload")
    verdict = "ok" if memory["ratio"] <= 3 else "over 3x"
    print(f"  Ferry's path (S3 = a hashing sink): {memory['peak_bytes_ferry']:,} bytes = {memory['ratio']}x  {verdict}")
    print(f"  with moto's in-process S3 holding the object: {memory['ratio_with_moto_s3']}x")
    return results
