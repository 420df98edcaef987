"""The KIE.AI, Chenyu and APIMart examples (../shared/seeds/002, 003, 004), replayed verbatim against
the deployed stack. The cURL blocks and Python programs are cut out of the pages at test time; only
the host and the key change, plus the inputs the pages leave as placeholders (local file paths, and
KIE's example.com file URL, replaced by a server on 127.0.0.1 that the stack allows explicitly).
Every field of each page's documented response example must be present with the same JSON type,
and every returned URL is fetched and compared byte for byte."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e.harness import E2EStack, file_server
from tests.e2e.test_seed_uploads import shell_blocks

pytestmark = pytest.mark.e2e

SEEDS = next(
    (p / "shared" / "seeds" for p in Path(__file__).resolve().parents if (p / "shared" / "seeds").is_dir()),
    Path("shared/seeds"),
)
KIE, CHENYU, APIMART = "002_eae68c86b880b9c8.txt", "003_19ed40961be58cd3.txt", "004_c15d8ac745629ec0.txt"


def seed(name: str) -> str:
    path = SEEDS / name
    assert path.exists(), f"the seed documents live beside the repo: {path}"
    return path.read_text()


def documented_json(text: str, marker: str) -> Any:
    """The JSON value that starts at the first '{' after `marker` in a page."""
    start = text.index("{", text.index(marker))
    return json.JSONDecoder().raw_decode(text, start)[0]


def python_block(text: str, first: str, stop: str) -> str:
    """Source lines of a page's Python example, from the line `first` up to (not including) `stop`."""
    lines = text.splitlines()
    begin = lines.index(first)
    end = next(i for i in range(begin, len(lines)) if lines[i].startswith(stop))
    return "\n".join(lines[begin:end]) + "\n"


def assert_documented_shape(actual: Any, documented: Any, where: str = "response") -> None:
    """Every documented field is present with the documented JSON type (bool is not a number)."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), (where, actual)
        for key, value in documented.items():
            assert key in actual, f"{where}.{key} is missing: {actual}"
            assert_documented_shape(actual[key], value, f"{where}.{key}")
    else:
        assert type(actual) is type(documented), (where, actual, documented)


def image(fmt: str, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), color).save(buffer, fmt)
    return buffer.getvalue()


def key_for(stack: E2EStack) -> str:
    return stack.create_key()[0] if stack.can_admin else stack.api_key


def run_curl(command: str, replacements: dict[str, str], cwd: Path) -> Any:
    for old, new in replacements.items():
        command = command.replace(old, new)
    result = subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_python(source: str, replacements: dict[str, str], cwd: Path) -> tuple[dict[str, Any], str]:
    """Execute an example as written (after the replacements) in `cwd`; returns its globals and output."""
    for old, new in replacements.items():
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "__seed_example__"}
    output = io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(source, "<seed example>", "exec"), namespace)  # noqa: S102  (the documented example)
    finally:
        os.chdir(previous)
    return namespace, output.getvalue()


def fetched(stack: E2EStack, url: str, content_type: str) -> bytes:
    response = stack.http.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    assert response.headers["Content-Type"] == content_type
    return response.content


@pytest.fixture(scope="module")
def origin() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A file server on 127.0.0.1 standing in for example.com; tests change what it serves."""
    files: dict[str, bytes] = {}
    with file_server(files, "image/jpeg") as base:
        yield base, files


# ---------------------------------------------------------------------------------------------- KIE.AI
def test_kie_url_upload_curl_example(stack: E2EStack, tmp_path: Path, origin: tuple[str, dict[str, bytes]]) -> None:
    """The page's cURL, twice: the same fileName in the same uploadPath replaces the first file."""
    if not stack.local:
        pytest.skip("a remote stack cannot reach this machine's 127.0.0.1 origin")
    text = seed(KIE)
    [command] = [c for c in shell_blocks(text) if "/api/file-url-upload" in c]
    documented = documented_json(text, "200 - 成功示例")
    base, files = origin
    replacements = {
        "https://api.kie.ai": stack.base_url,
        "<token>": key_for(stack),
        "https://example.com/images/sample.jpg": f"{base}/images/sample.jpg",
    }
    files["/images/sample.jpg"] = first_bytes = image("JPEG", (200, 20, 20))
    first = run_curl(command, replacements, tmp_path)
    assert_documented_shape(first, documented)
    assert (first["success"], first["code"]) == (True, 200)
    data = first["data"]
    assert data["fileName"] == "my-downloaded-image.jpg"
    assert data["filePath"] == "images/downloaded/my-downloaded-image.jpg"
    assert (data["fileSize"], data["mimeType"]) == (len(first_bytes), "image/jpeg")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["uploadedAt"])
    assert fetched(stack, data["downloadUrl"], "image/jpeg") == first_bytes

    files["/images/sample.jpg"] = second_bytes = image("JPEG", (20, 20, 200))
    second = run_curl(command, replacements, tmp_path)
    assert second["data"]["filePath"] == data["filePath"]
    assert fetched(stack, second["data"]["downloadUrl"], "image/jpeg") == second_bytes
    gone = stack.http.get(data["downloadUrl"], timeout=30, allow_redirects=False)
    assert gone.status_code == 404, gone.text  # the replaced file's record and object are deleted


def test_kie_base64_and_stream_siblings(stack: E2EStack) -> None:
    """The page names the base64 and stream routes beside the URL one (same envelope)."""
    key = key_for(stack)
    headers = {"Authorization": f"Bearer {key}"}
    png = image("PNG", (10, 120, 10))
    import base64

    response = stack.http.post(
        f"{stack.base_url}/api/file-base64-upload",
        json={"base64Data": "data:image/png;base64," + base64.b64encode(png).decode(), "uploadPath": "b64/x"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert_documented_shape(response.json(), documented_json(seed(KIE), "200 - 成功示例"))
    assert fetched(stack, response.json()["data"]["downloadUrl"], "image/png") == png

    response = stack.http.post(
        f"{stack.base_url}/api/file-stream-upload",
        files={"file": ("stream.png", png, "image/png")},
        data={"uploadPath": "streams", "fileName": "named.png"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["filePath"] == "streams/named.png"
    assert fetched(stack, response.json()["data"]["downloadUrl"], "image/png") == png

    refused = stack.http.post(
        f"{stack.base_url}/api/file-stream-upload",
        files={"file": ("stream.png", png, "image/png")},
        data={"uploadPath": "../../etc"},
        headers=headers,
        timeout=30,
    )
    assert refused.status_code == 400 and refused.json()["success"] is False and refused.json()["code"] == 400
    bad_key = stack.http.post(
        f"{stack.base_url}/api/file-stream-upload",
        files={"file": ("stream.png", png, "image/png")},
        headers={"Authorization": "Bearer fy_" + "x" * 43},
        timeout=30,
    )
    assert bad_key.status_code == 401 and bad_key.json()["code"] == 401 and bad_key.json()["success"] is False


# ---------------------------------------------------------------------------------------------- Chenyu
def test_chenyu_python_example(stack: E2EStack, tmp_path: Path) -> None:
    text = seed(CHENYU)
    source = python_block(text, "import requests", "print(asset_uri)") + "print(asset_uri)\n"
    (tmp_path / "input.png").write_bytes(content := image("PNG", (90, 60, 200)))
    namespace, printed = run_python(
        source,
        {"https://www.chenyu.cn": stack.base_url, "your_api_key": key_for(stack)},
        tmp_path,
    )
    body = namespace["response"].json()
    assert namespace["response"].status_code == 200, body
    assert_documented_shape(body, documented_json(text, "响应示例"))
    data = body["data"]
    assert printed.strip() == data["asset_uri"] == f"asset://{data['asset_id']}"
    assert re.fullmatch(r"asset_[0-9a-f]{32}", data["asset_id"])
    assert (body["code"], data["media_type"], data["mime_type"], data["size_bytes"]) == (
        0,
        "image",
        "image/png",
        len(content),
    )
    assert (data["purpose"], data["persistent"], data["status"], data["original_filename"]) == (
        "temp_input",
        False,
        "confirmed",
        "input.png",
    )
    assert data["signed_url"].startswith(data["content_url"] + "?expires=")
    for name in ("url", "content_url", "signed_url"):
        assert fetched(stack, data[name], "image/png") == content, name
    tampered = stack.http.get(data["signed_url"][:-1] + ("0" if data["signed_url"][-1] != "0" else "1"), timeout=30)
    assert tampered.status_code == 403 and tampered.json()["code"] == 403 and tampered.json()["data"] is None


def test_chenyu_curl_example_is_refused_in_chenyu_shape(stack: E2EStack, tmp_path: Path) -> None:
    """The page's generated cURL sends JSON without a file; the route takes multipart/form-data (as the
    page says), so the answer is a Chenyu error: non-zero code, msg, data null."""
    text = seed(CHENYU)
    [command] = [c for c in shell_blocks(text) if "/api/open/v2/assets" in c]
    body = run_curl(command, {"https://www.chenyu.cn": stack.base_url, "<token>": key_for(stack)}, tmp_path)
    assert body["code"] == 400 and isinstance(body["msg"], str) and body["data"] is None


# ---------------------------------------------------------------------------------------------- APIMart
def test_apimart_curl_example(stack: E2EStack, tmp_path: Path) -> None:
    text = seed(APIMART)
    commands = [c for c in shell_blocks(text) if "/v1/uploads/images" in c]
    assert commands and len(set(commands)) == 1  # the page shows the same command twice
    (tmp_path / "image.jpg").write_bytes(content := image("JPEG", (250, 200, 10)))
    replacements = {
        "https://api.apimart.ai": stack.base_url,
        "<token>": key_for(stack),
        "/path/to/your/image.jpg": str(tmp_path / "image.jpg"),
    }
    body = run_curl(commands[0], replacements, tmp_path)
    assert_documented_shape(body, documented_json(text, "--form 'file=@/path/to/your/image.jpg'"))
    assert (body["filename"], body["content_type"], body["bytes"]) == ("image.jpg", "image/jpeg", len(content))
    assert fetched(stack, body["url"], "image/jpeg") == content


def test_apimart_python_example_upload_step(stack: E2EStack, tmp_path: Path) -> None:
    """The page's image-to-image program up to its upload step (Ferry stores images; it does not run
    APIMart's /v1/images/generations, so the program stops before create_generation is called)."""
    text = seed(APIMART)
    source = python_block(text, "import requests", "task_id = create_generation(")
    (tmp_path / "reference.jpg").write_bytes(content := image("JPEG", (5, 100, 250)))
    namespace, printed = run_python(
        source,
        {'"https://api.apimart.ai"': repr(stack.base_url), '"your-Apimart-key"': repr(key_for(stack))},
        tmp_path,
    )
    url = namespace["image_url"]
    assert printed.strip() == f"图片已上传: {url}"
    assert fetched(stack, url, "image/jpeg") == content
    over = requests.post(
        f"{stack.base_url}/v1/uploads/images",
        files={"file": ("notes.txt", b"plain words\n", "text/plain")},
        headers={"Authorization": f"Bearer {key_for(stack)}"},
        timeout=30,
    )
    assert over.status_code == 415 and over.json()["error"]["code"] == "unsupported_file_type"


# ---------------------------------------------------------------------------------------------- limits
def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress (about 3 bytes per pixel)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_limits_answer_in_each_dialect_shape(stack: E2EStack) -> None:
    """413 over the inline limit (pointing at presign) and 429 with Retry-After, through API Gateway."""
    if not stack.can_admin:
        pytest.skip("needs a key with a small quota")
    key, _, _ = stack.create_key(quota_mb=1)
    headers = {"Authorization": f"Bearer {key}"}
    big = b"\x89PNG\r\n\x1a\n" + os.urandom(4_600_000)
    too_large = stack.http.post(
        f"{stack.base_url}/api/file-stream-upload", files={"file": ("big.png", big)}, headers=headers, timeout=60
    )
    assert too_large.status_code == 413, too_large.text[:300]
    assert too_large.json()["code"] == 413 and too_large.json()["success"] is False
    assert "/v1/files/uploads/presign" in too_large.json()["msg"]

    picture = noise_png(320, 320)  # ≈ 300 KB: the fourth one does not fit in 1 MB
    assert 262_144 < len(picture) < 349_525
    answers = [
        stack.http.post(
            f"{stack.base_url}/api/open/v2/assets", files={"file": ("n.png", picture)}, headers=headers, timeout=60
        )
        for _ in range(4)
    ]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200], [a.text[:200] for a in answers]
    refused = answers[3]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["code"] == 429 and refused.json()["data"] is None
