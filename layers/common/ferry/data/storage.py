"""Objects in the media bucket. Keys are generated (`ttl-<days>d/<expires_epoch>/<file_id>.<ext>`):
the prefix selects the lifecycle rule that deletes the object, and the expiry in the path lets the
CDN refuse it after `expires_at` without a lookup (a changed expiry names an object that does not exist)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from ferry import aws

PART_SIZE = 8 * 1024 * 1024
# Edge caches keep an object this long at most, so a file deleted early stops being served soon after.
CACHE_CONTROL = "public, max-age=300"


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class Storage:
    def __init__(self, bucket: str, s3: Any | None = None):
        self.bucket = bucket
        self._s3 = s3

    @property
    def _client(self) -> Any:
        return self._s3 or aws.client("s3")

    def put(self, key: str, body: bytes, *, content_type: str, filename: str, sha256_b64: str) -> None:
        self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ContentDisposition=content_disposition(filename),
            CacheControl=CACHE_CONTROL,
            ChecksumSHA256=sha256_b64,
        )

    def put_stream(self, key: str, parts: Iterable[bytes], *, content_type: str, filename: str) -> int:
        """Multipart upload from an iterator of ≥5 MiB parts (the last may be smaller); aborts on any error."""
        upload_id = self._client.create_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
            ContentDisposition=content_disposition(filename),
            CacheControl=CACHE_CONTROL,
        )["UploadId"]
        try:
            etags = []
            for number, part in enumerate(parts, start=1):
                response = self._client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part
                )
                etags.append({"ETag": response["ETag"], "PartNumber": number})
            self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": etags}
            )
            return len(etags)
        except BaseException:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def presigned_post(self, key: str, *, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        """A browser/curl-ready POST policy: this exact key and Content-Type, 1..max_bytes bytes."""
        post: dict[str, Any] = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return post

    def size_of(self, key: str) -> int | None:
        try:
            return int(self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def open(self, key: str, *, first_bytes: int | None = None) -> Any:
        """The object's body as a stream (optionally only its first bytes)."""
        extra = {"Range": f"bytes=0-{first_bytes - 1}"} if first_bytes else {}
        return self._client.get_object(Bucket=self.bucket, Key=key, **extra)["Body"]

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_get(self, key: str, *, expires_in: int, content_type: str, filename: str) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=max(1, expires_in),
        )
        return url
