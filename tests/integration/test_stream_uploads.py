"""Server-side transfers stream into S3 multipart uploads; failures leave no object and no charge."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import boto3
import pytest

from ferry.data.storage import PART_SIZE
from ferry.errors import QuotaExceeded, UpstreamTimeout
from ferry.files import UploadOptions
from ferry.keys import Principal
from ferry.services import file_service, quota_service
from tests import media_samples as samples

ALICE = Principal(user_id="alice", key_id="key_alice")
VIDEO = UploadOptions(media_type="video", filename="clip.mp4")


def body(size: int) -> bytes:
    return (samples.MP4 + bytes(range(256)) * (size // 256 + 1))[:size]


def chunks(data: bytes, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def objects(bucket: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def open_multipart_uploads(bucket: str) -> list[str]:
    return [u["Key"] for u in boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-content-length"])
def test_large_video_streams_in_parts_and_charges_its_size(aws: dict[str, str], declared: bool) -> None:
    data = body(2 * PART_SIZE + 12345)
    record = file_service().upload_stream(ALICE, chunks(data), VIDEO, declared_size=len(data) if declared else None)
    assert (record.size, record.mime_type, record.sha256) == (len(data), "video/mp4", hashlib.sha256(data).hexdigest())
    stored = boto3.client("s3").get_object(Bucket=aws["FERRY_BUCKET_NAME"], Key=record.key)
    assert stored["Body"].read() == data and stored["ContentType"] == "video/mp4"
    assert quota_service().usage("alice").used_bytes == len(data)


def test_images_from_a_stream_are_decoded(aws: dict[str, str]) -> None:
    png = samples.image("PNG", (30, 20))
    record = file_service().upload_stream(ALICE, chunks(png, 100), UploadOptions(), declared_size=None)
    assert (record.width, record.height, record.mime_type) == (30, 20, "image/png")


def test_failure_mid_stream_aborts_the_upload_and_refunds(aws: dict[str, str]) -> None:
    def breaks_after_one_part() -> Iterator[bytes]:
        yield body(PART_SIZE + 10)
        raise UpstreamTimeout("The remote server did not finish sending within 30 s.")

    with pytest.raises(UpstreamTimeout):
        file_service().upload_stream(ALICE, breaks_after_one_part(), VIDEO, declared_size=None)
    assert objects(aws["FERRY_BUCKET_NAME"]) == [] and open_multipart_uploads(aws["FERRY_BUCKET_NAME"]) == []
    assert quota_service().usage("alice").used_bytes == 0


def test_quota_running_out_mid_stream_is_429_and_nothing_stays(aws: dict[str, str]) -> None:
    quota_service().reserve("alice", 209_715_200 - PART_SIZE - 100)
    with pytest.raises(QuotaExceeded):
        file_service().upload_stream(ALICE, chunks(body(2 * PART_SIZE)), VIDEO, declared_size=None)
    assert objects(aws["FERRY_BUCKET_NAME"]) == [] and open_multipart_uploads(aws["FERRY_BUCKET_NAME"]) == []
    assert quota_service().usage("alice").used_bytes == 209_715_200 - PART_SIZE - 100


def test_wrong_type_is_refused_before_anything_is_stored(aws: dict[str, str]) -> None:
    from ferry.errors import UnsupportedMediaType

    with pytest.raises(UnsupportedMediaType):
        file_service().upload_stream(ALICE, chunks(samples.HTML * 1000), VIDEO, declared_size=None)
    assert objects(aws["FERRY_BUCKET_NAME"]) == [] and quota_service().usage("alice").used_bytes == 0


def test_declared_size_over_the_cap_is_413_before_reading(aws: dict[str, str]) -> None:
    from ferry.errors import PayloadTooLarge

    def never_read() -> Iterator[bytes]:
        raise AssertionError("the body must not be read")
        yield b""

    with pytest.raises(PayloadTooLarge):
        file_service().upload_stream(ALICE, never_read(), VIDEO, declared_size=100 * 1024 * 1024 + 1)
