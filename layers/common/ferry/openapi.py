"""The OpenAPI document of every Ferry route, generated from the Powertools routers.

It is written to openapi.json beside this module (`python -m ferry.openapi`) and served as a file
by GET /v1/openapi.json, so no function imports every route module at cold start just to describe
them. tests/unit/test_openapi.py fails when the file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("openapi.json")


def generate() -> str:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    from ferry import __version__
    from ferry.api import PUBLIC_PATHS, build_resolver
    from ferry.routes import files, health, presign, quota, upload_base64, upload_file, upload_url, video

    routers = (health, quota, upload_file, upload_base64, upload_url, presign, files, video)
    app = build_resolver(*(module.router for module in routers), *dialect_routers())
    schema = json.loads(
        app.get_openapi_json_schema(
            title="Ferry",
            version=__version__,
            description="Temporary provider-fetchable media URLs and video tasks.",
            servers=[Server(url="/")],
            security_schemes={"bearer": HTTPBearer(bearerFormat="fy_ key")},
            security=[{"bearer": []}],
        )
    )
    # Ferry answers every failure, validation included, with its own envelope (never a 422 list).
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ERROR_SCHEMA
    error_response = {
        "description": "Any failure: the documented error envelope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    # The multipart route parses its body itself (python-multipart); describe that body here.
    from ferry.routes.upload_file import UploadForm

    form = UploadForm.model_json_schema()
    form["properties"]["file"] = {"type": "string", "format": "binary", "description": "the file"}
    form["required"] = ["file"]
    schema["paths"]["/v1/files/uploads"]["post"]["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {"schema": form}},
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            operation["responses"]["default"] = error_response
            if path in PUBLIC_PATHS:
                operation["security"] = []
    describe_dialects(schema)
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def dialect_routers() -> list[Any]:
    from ferry.routes import apimart, chenyu, kie

    return [kie.url_router, kie.base64_router, kie.stream_router, chenyu.router, apimart.router]


def describe_dialects(schema: dict[str, Any]) -> None:
    """The compatible routes (DESIGN §6): their multipart bodies and their own error envelopes."""
    from ferry.dialects import apimart, chenyu, kie

    components = schema["components"]["schemas"]
    components["KieError"] = kie.KieError.model_json_schema()
    components["ChenyuError"] = chenyu.ChenyuError.model_json_schema()
    binary = {"type": "string", "format": "binary", "description": "the file"}
    forms: dict[str, tuple[dict[str, Any], str]] = {
        kie.STREAM_PATH: (kie.KieStreamForm.model_json_schema(), "KieError"),
        chenyu.ASSETS_PATH: (chenyu.AssetForm.model_json_schema(), "ChenyuError"),
        apimart.IMAGES_PATH: ({"type": "object", "properties": {}}, "Error"),
    }
    for path, (form, _) in forms.items():
        form["properties"]["file"] = binary
        form["required"] = ["file"]
        schema["paths"][path]["post"]["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": form}},
        }
    envelopes = {kie.URL_PATH: "KieError", kie.BASE64_PATH: "KieError", **{p: e for p, (_, e) in forms.items()}}
    for path, envelope in envelopes.items():
        schema["paths"][path]["post"]["responses"]["default"] = {
            "description": "Any failure, in this provider's error envelope (the HTTP status is meaningful)",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{envelope}"}}},
        }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "type"],
            "properties": {
                "code": {"type": "string", "description": "snake_case, stable: branch on this"},
                "message": {"type": "string", "description": "what to do, for a person"},
                "type": {
                    "type": "string",
                    "enum": [
                        "invalid_request_error",
                        "authentication_error",
                        "permission_error",
                        "not_found_error",
                        "rate_limit_error",
                        "upstream_error",
                        "api_error",
                    ],
                },
                "request_id": {"type": "string", "description": "on 5xx responses"},
            },
        }
    },
}


def served() -> str:
    return DOCUMENT.read_text()


if __name__ == "__main__":
    DOCUMENT.write_text(generate())
    sys.stdout.write(f"wrote {DOCUMENT}\n")
