"""template.yaml: SAM's linter, cfn-lint, and the properties DESIGN requires."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.conftest import ROOT

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_sam_validate_lint() -> None:
    assert SAM.exists(), "run `make tools` (make test does) to install the SAM CLI"
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", "template.yaml", "--region", "us-east-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SAM_CLI_TELEMETRY": "0", "HOME": str(ROOT / ".tools")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_functions_run_python313_on_arm64_with_the_layer(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Layers"] == [{"Ref": "CommonLayer"}]
    layer = template["Resources"]["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    for name, function in resources(template, "AWS::Serverless::Function").items():
        assert (ROOT / function["Properties"]["CodeUri"] / "app.py").exists(), name


def test_every_function_has_a_log_group_with_retention(template: dict[str, Any]) -> None:
    groups = resources(template, "AWS::Logs::LogGroup").values()
    named = {str(g["Properties"].get("LogGroupName")) for g in groups}
    for name in resources(template, "AWS::Serverless::Function"):
        assert any(name in group for group in named), f"{name} has no log group"
    assert all("RetentionInDays" in g["Properties"] for g in groups)


def test_policies_are_scoped_statements_without_wildcard_actions(template: dict[str, Any]) -> None:
    for name, function in resources(template, "AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            assert "Statement" in policy, f"{name}: use inline statements, not broad policy templates"
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), name
                assert statement["Resource"] != "*", name


def test_bucket_is_private_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["MediaBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = template["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in statements)


def test_every_ttl_class_has_a_lifecycle_rule(template: dict[str, Any]) -> None:
    rules = template["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    by_prefix = {r.get("Prefix"): r for r in rules}
    for ttl_hours in range(1, 169):
        days = -(-ttl_hours // 24)
        rule = by_prefix[f"ttl-{days}d/"]
        assert rule["ExpirationInDays"] == days and rule["Status"] == "Enabled"
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)


def test_local_stack_puts_the_template_lifecycle_rules_in_s3_form(template: dict[str, Any]) -> None:
    from local.stack import LocalStackError, lifecycle_rules

    rules = {r["ID"]: r for r in lifecycle_rules(template["Resources"]["MediaBucket"])}
    assert rules["ttl-3d"] == {
        "ID": "ttl-3d",
        "Status": "Enabled",
        "Filter": {"Prefix": "ttl-3d/"},
        "Expiration": {"Days": 3},
    }
    assert rules["abort-incomplete-multipart"]["Filter"] == {"Prefix": ""}
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    noncurrent = {
        "Properties": {
            "LifecycleConfiguration": {"Rules": [{"Id": "x", "Status": "Enabled", "NoncurrentVersionExpiration": {}}]}
        }
    }
    with pytest.raises(LocalStackError, match="NoncurrentVersionExpiration"):
        lifecycle_rules(noncurrent)


def test_table_has_ttl_and_point_in_time_recovery(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_http_api_uses_a_cached_simple_request_authorizer(template: dict[str, Any]) -> None:
    auth = template["Resources"]["HttpApi"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["EnableSimpleResponses"] is True
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheSeconds"}
