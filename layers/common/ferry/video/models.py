"""The unified video API's request and response shapes (Crazyrouter's, DESIGN §5)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LABEL_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
TASK_ID_PATTERN = r"^video_[0-9a-f]{32}$"
MAX_IMAGES = 8


class ImageObject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str = Field(min_length=1, description="https URL, file_… id, asset:// URI or data URI")
    role: Literal["reference", "first_frame", "last_frame"] | None = Field(
        None, description="first_frame is sent first and last_frame last; reference keeps its place"
    )
    label: str | None = Field(None, pattern=LABEL_PATTERN, description="name usable as @label or {{label}}")


class VideoCreate(BaseModel):
    model: str = Field(min_length=1, max_length=128, description="a configured model (400 lists them)")
    prompt: str = Field(min_length=1, max_length=4000)
    aspect_ratio: Literal["16:9", "9:16", "1:1"] | None = None
    size: str | None = Field(None, pattern=r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$", description="e.g. 1280x720")
    images: list[str | ImageObject] = Field(default_factory=list, max_length=MAX_IMAGES)
    duration: int | None = Field(None, ge=1, le=60, description="seconds")
    callback_url: str | None = Field(None, max_length=2048, description="POSTed the task, signed, when it ends")


class TaskError(BaseModel):
    code: str
    message: str


class VideoTask(BaseModel):
    id: str
    status: Literal["processing", "completed", "failed"]
    status_update_time: int = Field(description="unix seconds of the last status change")
    model: str | None = None
    created_at: int | None = None
    video_url: str | None = None
    error: TaskError | None = None
