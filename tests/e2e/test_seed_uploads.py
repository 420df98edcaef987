"""The Crazyrouter upload examples (../shared/seeds/000_…txt), replayed verbatim with curl against the
deployed stack: only the host and the key change, plus the two things the page elides or points
elsewhere (the truncated base64 payload, and example.com, replaced by a server on 127.0.0.1 that the
stack allows explicitly). Each returned `url` is then fetched and compared byte for byte."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.harness import E2EStack, file_server

pytestmark = pytest.mark.e2e

SEED_NAME = "000_e80654672ed54842.txt"
# CI clones the repository with the steering repo's shared/ beside it; look there (or further up).
SEED = next(
    (p / "shared" / "seeds" / SEED_NAME for p in Path(__file__).resolve().parents if (p / "shared" / "seeds").is_dir()),
    Path("shared/seeds") / SEED_NAME,
)
SEED_HOST, SEED_KEY = "https://crazyrouter.com", "YOUR_API_KEY"


def shell_blocks(text: str) -> list[str]:
    """Every shell command in the page: from a line starting a command to the end of its continuation."""
    blocks, current = [], []
    for line in text.splitlines():
        if not current and not line.startswith(("curl ", "UPLOAD_RESPONSE=", "IMAGE_URL=", "echo ")):
            continue
        current.append(line)
        if not line.endswith("\\") and "".join(current).count("'") % 2 == 0:
            blocks.append("\n".join(current))
            current = []
    return blocks


def image_bytes(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seed_commands() -> list[str]:
    assert SEED.exists(), f"the seed documents live beside the repo: {SEED}"
    return shell_blocks(SEED.read_text())


@pytest.fixture(scope="module")
def origin() -> Iterator[tuple[str, bytes]]:
    content = image_bytes((10, 200, 30))
    with file_server({"/reference.png": content}, "image/png") as base:
        yield f"{base}/reference.png", content


def run(command: str, stack: E2EStack, key: str, cwd: Path) -> str:
    command = command.replace(SEED_HOST, stack.base_url).replace(SEED_KEY, key)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def fetched(stack: E2EStack, url: str) -> bytes:
    response = stack.http.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    assert response.headers["Content-Type"] == "image/png"
    return response.content


def key_for(stack: E2EStack) -> str:
    return stack.create_key()[0] if stack.can_admin else stack.api_key


def test_multipart_example(stack: E2EStack, seed_commands: list[str], tmp_path: Path) -> None:
    [command] = [c for c in seed_commands if '-F "file=@./reference.png"' in c]
    (tmp_path / "reference.png").write_bytes(content := image_bytes((200, 10, 10)))
    file = json.loads(run(command, stack, key_for(stack), tmp_path))
    assert set(file) >= {"id", "url", "mime_type", "size", "expires_at"}
    assert (file["mime_type"], file["size"]) == ("image/png", len(content))
    assert fetched(stack, file["url"]) == content


def test_base64_example(stack: E2EStack, seed_commands: list[str], tmp_path: Path) -> None:
    [command] = [c for c in seed_commands if "/v1/files/uploads/base64" in c]
    content = image_bytes((10, 10, 200))
    command = command.replace("iVBORw0KGgoAAA...", base64.b64encode(content).decode())
    file = json.loads(run(command, stack, key_for(stack), tmp_path))
    assert (file["mime_type"], file["size"], file["filename"]) == ("image/png", len(content), "reference.png")
    assert fetched(stack, file["url"]) == content


def test_remote_url_example(
    stack: E2EStack, seed_commands: list[str], tmp_path: Path, origin: tuple[str, bytes]
) -> None:
    if not stack.local:
        pytest.skip("a remote stack cannot reach this machine's 127.0.0.1 origin")
    [command] = [c for c in seed_commands if "/v1/files/uploads/url" in c]
    url, content = origin
    file = json.loads(run(command.replace("https://example.com/reference.png", url), stack, key_for(stack), tmp_path))
    assert (file["mime_type"], file["size"], file["filename"]) == ("image/png", len(content), "reference.png")
    assert fetched(stack, file["url"]) == content


def test_kling_walkthrough_step_one(stack: E2EStack, seed_commands: list[str], tmp_path: Path) -> None:
    """The page's first step of its Kling example: upload, pull `url` out with python, echo it."""
    start = next(i for i, c in enumerate(seed_commands) if c.startswith("UPLOAD_RESPONSE="))
    script = "\n".join(seed_commands[start : start + 3])
    (tmp_path / "portrait.png").write_bytes(content := image_bytes((120, 90, 60)))
    image_url = run(script, stack, key_for(stack), tmp_path).strip()
    assert fetched(stack, image_url) == content


def test_private_targets_are_refused_over_http(stack: E2EStack) -> None:
    response = stack.http.post(
        f"{stack.base_url}/v1/files/uploads/url",
        json={"url": "http://169.254.169.254/latest/meta-data/", "purpose": "model_input"},
        headers={"Authorization": f"Bearer {key_for(stack)}"},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "url_not_allowed"
