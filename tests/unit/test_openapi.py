import json

from ferry import openapi


def test_served_document_is_current() -> None:
    assert openapi.served() == openapi.generate(), "run: PYTHONPATH=layers/common python -m ferry.openapi"


def test_document_describes_routes_auth_and_the_error_envelope() -> None:
    document = json.loads(openapi.served())
    assert {"/v1/health", "/v1/quota"} <= set(document["paths"])
    assert document["paths"]["/v1/health"]["get"]["security"] == []
    assert "bearer" in document["components"]["securitySchemes"]
    quota = document["paths"]["/v1/quota"]["get"]["responses"]
    assert "422" not in quota and quota["default"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
