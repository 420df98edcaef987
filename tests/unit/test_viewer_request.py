"""Production delivery (DESIGN §3, docs/delivery.md): the CloudFront resources in template.yaml, and the
viewer-request function's JavaScript, extracted from the template and run with node's test runner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

JS_TESTS = ROOT / "tests" / "unit" / "viewer_request"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CDN_RESOURCES = {
    "MediaOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "ViewerRequestFunction": "AWS::CloudFront::Function",
    "MediaResponseHeadersPolicy": "AWS::CloudFront::ResponseHeadersPolicy",
    "Distribution": "AWS::CloudFront::Distribution",
}


@pytest.fixture(scope="module")
def distribution(template: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    return config


def function_code(template: dict[str, Any]) -> str:
    code = template["Resources"]["ViewerRequestFunction"]["Properties"]["FunctionCode"]
    assert isinstance(code, str), "FunctionCode must be inline JavaScript, not an intrinsic"
    return code


# ------------------------------------------------------------------ the function, run with node
def test_viewer_request_function_passes_its_node_tests(template: dict[str, Any], tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node (>= 20) is required to test the CloudFront function; it is on every Ferry machine"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 20, f"node {version} is too old; need >= 20"
    files = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs under {JS_TESTS}"
    code = tmp_path / "viewer-request.js"
    code.write_text(function_code(template), encoding="utf-8")

    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        cwd=ROOT,
        env={**os.environ, "FERRY_VIEWER_REQUEST_JS": str(code), "NODE_OPTIONS": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", result.stdout, re.MULTILINE)
    assert passed and failed, output
    assert int(failed.group(1)) == 0 and int(passed.group(1)) >= 50, output


def test_function_is_cloudfront_js_2_auto_published_and_small(template: dict[str, Any]) -> None:
    props = template["Resources"]["ViewerRequestFunction"]["Properties"]
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert props["AutoPublish"] is True
    code = function_code(template)
    assert "function handler(event)" in code
    assert len(code.encode()) <= 10 * 1024  # CloudFront Functions' size limit
    assert "require(" not in code and "import " not in code


# ------------------------------------------------------------------ the template
def test_cdn_is_a_parameter_and_every_cloudfront_resource_depends_on_it(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["EnableCdn"]
    assert parameter["AllowedValues"] == ["true", "false"] and parameter["Default"] == "true"
    assert template["Conditions"]["CdnEnabled"] == {"Fn::Equals": [{"Ref": "EnableCdn"}, "true"]}
    cloudfront = {k: v["Type"] for k, v in template["Resources"].items() if v["Type"].startswith("AWS::CloudFront::")}
    assert cloudfront == CDN_RESOURCES
    for name in CDN_RESOURCES:
        assert template["Resources"][name]["Condition"] == "CdnEnabled", name


def test_functions_learn_the_cdn_domain_and_the_stack_outputs_it(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["FERRY_CDN_DOMAIN"] == {
        "Fn::If": ["CdnEnabled", {"Fn::GetAtt": ["Distribution", "DomainName"]}, ""]
    }
    output = template["Outputs"]["CdnDomain"]
    assert output["Condition"] == "CdnEnabled"
    assert output["Value"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}


def test_distribution_is_https_only_get_head_with_the_function_on_viewer_request(
    distribution: dict[str, Any],
) -> None:
    behavior = distribution["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"  # DESIGN: no redirect in production
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["ViewerRequestFunction", "FunctionARN"]}}
    ]
    assert "LambdaFunctionAssociations" not in behavior
    assert "CacheBehaviors" not in distribution, "one behaviour: every path goes through the function"
    assert distribution["HttpVersion"] == "http2and3"
    assert distribution["PriceClass"] == "PriceClass_100"


def test_nothing_but_the_path_reaches_the_cache_key_or_s3(distribution: dict[str, Any]) -> None:
    behavior = distribution["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == CACHING_OPTIMIZED  # no query string, header or cookie
    # An origin request policy could forward query strings, and S3 honours response-content-type
    # and friends on requests OAC has signed.
    assert "OriginRequestPolicyId" not in behavior
    assert "ForwardedValues" not in behavior


def test_origin_is_the_private_bucket_through_origin_access_control(template: dict[str, Any]) -> None:
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == origin["Id"]
    oac = template["Resources"]["MediaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_missing_keys_are_not_cached_long(distribution: dict[str, Any]) -> None:
    errors = {e["ErrorCode"]: e for e in distribution["CustomErrorResponses"]}
    assert errors[404]["ErrorCachingMinTTL"] <= 60  # S3's answer for a missing key (it may list)
    assert errors[403]["ErrorCachingMinTTL"] <= 60
    for error in errors.values():
        # CloudFront takes ResponseCode only together with a ResponsePagePath object.
        assert ("ResponseCode" in error) == ("ResponsePagePath" in error)


def test_response_headers_policy_sets_nosniff(template: dict[str, Any], distribution: dict[str, Any]) -> None:
    assert distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "MediaResponseHeadersPolicy"}
    config = template["Resources"]["MediaResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    assert config["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}
    (cache_control,) = config["CustomHeadersConfig"]["Items"]
    assert cache_control["Header"] == "Cache-Control" and cache_control["Override"] is False


def test_bucket_policy_lets_only_this_distribution_get_ttl_objects(template: dict[str, Any]) -> None:
    statements = template["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    conditional = {s["Fn::If"][1]["Sid"]: s["Fn::If"] for s in statements if "Fn::If" in s}
    assert set(conditional) == {"CloudFrontReadsMedia", "CloudFrontSeesMissingKeys"}
    this_distribution = {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
            }
        }
    }
    granted = {}
    for condition, statement, otherwise in conditional.values():
        assert condition == "CdnEnabled" and otherwise == {"Ref": "AWS::NoValue"}
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"] == this_distribution
        granted[statement["Action"]] = statement["Resource"]
    # Objects under ttl-* only; ListBucket (so a missing key is 404, not 403) on the bucket itself.
    assert granted == {
        "s3:GetObject": {"Fn::Sub": "${MediaBucket.Arn}/ttl-*"},
        "s3:ListBucket": {"Fn::GetAtt": ["MediaBucket", "Arn"]},
    }
    others = [s for s in statements if "Fn::If" not in s]
    assert all(s["Effect"] == "Deny" for s in others), "no other statement grants anything"
