"""The local stack: MiniStack on 127.0.0.1, the template built and deployed onto it with the SAM CLI,
and the HTTP API wired by hand (MiniStack ignores the OpenAPI body SAM generates for an HttpApi).

Used by `make dev` (local/dev.py) and by the end-to-end fixture (tests/e2e/conftest.py). Nothing
here logs an API key or a request body.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import yaml  # type: ignore[import-untyped]  # (PyYAML comes with cfn-lint and moto)
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
MINISTACK_PYTHON = ROOT / ".tools" / "ministack" / "bin" / "python"
LAYER_DEPS_CACHE = ROOT / ".local-stack" / "layer-deps"  # see local/layer_pip.py
SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
ARTIFACT_BUCKET = "ferry-local-artifacts"
# Both are what MiniStack expects; they are not secrets and reach nothing but 127.0.0.1.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCOUNT_ID, "AWS_SECRET_ACCESS_KEY": "test"}
# Variables that would send boto3, the SAM CLI or the AWS CLI somewhere else than the local stack.
_FOREIGN_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class LocalStackError(RuntimeError):
    """Something on the way to a running local stack failed; the message says what and where to look."""


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def aws_env(endpoint: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment whose AWS SDKs and CLIs talk to the local stack, and only to it."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in _FOREIGN_AWS_VARS and not k.startswith("AWS_ENDPOINT_URL")
    }
    env.update(CREDENTIALS)
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, SAM_CLI_TELEMETRY="0")
    return env


def client(endpoint: str, service: str) -> Any:
    """A boto3 client for the local stack, whatever AWS settings this process has."""
    session = boto3.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _ministack_health(port: int, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url(port)}/_ministack/health", timeout=timeout) as r:
            return r.status == 200 and "services" in json.loads(r.read())
    except (OSError, ValueError):
        return False


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------------------------------ MiniStack


@dataclass
class MiniStack:
    """A MiniStack on 127.0.0.1:`port`, either started by this process (then `stop()` ends it and
    the Lambda workers it spawned) or found already running there and left alone."""

    port: int
    workdir: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.port)

    @property
    def started_here(self) -> bool:
        return self._proc is not None

    @property
    def log_path(self) -> Path:
        return self.workdir / "ministack.log"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "ministack.pid"

    @classmethod
    def start(
        cls, port: int, workdir: Path, *, reuse: bool = True, persist: bool = False, timeout: float = 60.0
    ) -> MiniStack:
        """Start MiniStack, or reuse one already listening on `port` (when `reuse`). With `persist`,
        its state is saved under `workdir` when it stops (SIGTERM) and restored when it starts."""
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        stack = cls(port=port, workdir=workdir)
        if _port_open(port):
            if not (reuse and _ministack_health(port, timeout=5)):
                raise LocalStackError(f"{HOST}:{port} is taken by something that is not MiniStack: use another port")
            return stack
        if not MINISTACK_PYTHON.exists():
            raise LocalStackError(f"{MINISTACK_PYTHON} is missing: run `make tools`")
        tmp = workdir / "tmp"  # Lambda code and layers are unpacked here, per worker, and left behind
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        env = aws_env(endpoint_url(port))
        env.update(
            BIND_HOST=HOST,
            GATEWAY_PORT=str(port),
            TMPDIR=str(tmp),
            S3_DATA_DIR=str(workdir / "s3"),
            STATE_DIR=str(workdir / "state"),
            PERSIST_STATE="1" if persist else "0",
            S3_PERSIST="1" if persist else "0",
            SFN_WAIT_SCALE=os.environ.get("SFN_WAIT_SCALE", "0.01"),  # Step Functions Wait states at 1 %
            SFTP_ENABLED="0",  # no Transfer Family listener besides the gateway port
            PYTHONDONTWRITEBYTECODE="1",
        )
        with stack.log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(MINISTACK_PYTHON), "-m", "ministack"],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it
            )
        stack._proc = proc
        stack.pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while not _ministack_health(port):
            if proc.poll() is not None:
                stack.pid_file.unlink(missing_ok=True)
                raise LocalStackError(f"MiniStack exited with {proc.returncode}:\n{_tail(stack.log_path)}")
            if time.monotonic() > deadline:
                stack.stop()
                raise LocalStackError(f"MiniStack did not answer on {stack.endpoint} within {timeout:.0f} s")
            time.sleep(0.1)
        return stack

    def stop(self, timeout: float = 10.0) -> None:
        """End MiniStack (it saves its state on SIGTERM when persisting) and every Lambda worker it
        spawned: its whole process group. Does nothing to a MiniStack this process did not start."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # a Lambda worker that outlived MiniStack
            os.killpg(proc.pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        shutil.rmtree(self.workdir / "tmp", ignore_errors=True)


# ------------------------------------------------------------------------------ build and deploy


@dataclass(frozen=True)
class Deployment:
    """What a client of the local (or any) Ferry stack needs."""

    endpoint: str
    stack_name: str
    stage: str
    api_id: str
    base_url: str
    host_url: str
    table_name: str
    bucket_name: str
    outputs: dict[str, str]

    def env(self) -> dict[str, str]:
        """Environment for ferry-admin / the AWS CLI against this stack."""
        env = aws_env(self.endpoint)
        env.update(FERRY_TABLE_NAME=self.table_name, FERRY_STACK_NAME=self.stack_name)
        return env


def _run(cmd: list[str], *, env: Mapping[str, str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise LocalStackError(f"{what} failed (exit {result.returncode}); {log}:\n{_tail(log)}")


def build(workdir: Path, log: Log = _quiet) -> Path:
    """`sam build` for this machine's interpreter (the one MiniStack runs Lambdas on); returns the
    built template. Uses its own build and cache directories, apart from .aws-sam (the AWS build)."""
    if not SAM.exists():
        raise LocalStackError(f"{SAM} is missing: run `make tools`")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "samconfig.toml"  # keeps the repo's samconfig.toml (AWS settings) out of it
    config.write_text("version = 0.1\n")
    (workdir / "sam.log").write_text("")  # one run's worth
    env = dict(os.environ)
    env.update(
        FERRY_LAYER_TARGET="local",
        PIP=f"{MINISTACK_PYTHON} {ROOT / 'local' / 'layer_pip.py'}",
        FERRY_LAYER_PIP_CACHE=str(LAYER_DEPS_CACHE),
        SAM_CLI_TELEMETRY="0",
    )
    LAYER_DEPS_CACHE.mkdir(parents=True, exist_ok=True)
    log("building (sam build, layer for the local interpreter)")
    build_dir = workdir / "build"
    _run(
        [
            str(SAM), "build",
            "--config-file", str(config),
            "--template-file", str(TEMPLATE),
            "--build-dir", str(build_dir),
            "--cache-dir", str(workdir / "cache"),
            "--cached",
            "--parallel",
        ],
        env=env,
        log=workdir / "sam.log",
        what="sam build",
    )  # fmt: skip
    return build_dir / "template.yaml"


def deploy(
    endpoint: str,
    built_template: Path,
    workdir: Path,
    *,
    stage: str = "dev",
    parameters: Mapping[str, str] | None = None,
    log: Log = _quiet,
) -> Deployment:
    """`sam deploy` the built template onto MiniStack (skipped when MiniStack already runs exactly
    this build), then wire its HTTP API (idempotent)."""
    stack_name, workdir = f"ferry-{stage}", workdir.resolve()
    declared = load_template(built_template).get("Parameters", {})
    unknown = sorted(set(parameters or {}) - set(declared))
    if unknown:
        log(f"ignoring parameters the template does not declare: {', '.join(unknown)}")
    # No CloudFront locally: MiniStack would invent a *.cloudfront.net domain that serves nothing, and
    # files are delivered through GET /f/{name} instead.
    overrides = {"Stage": stage, "TracingMode": "PassThrough", "EnableCdn": "false"}
    overrides.update({k: v for k, v in (parameters or {}).items() if k in declared})
    fingerprint = _fingerprint(built_template.parent, overrides)
    # Kept inside MiniStack, so that it is lost (and the stack redeployed) exactly when its state is.
    marker = f"/ferry-local/{stack_name}/deployed-build"
    ssm = client(endpoint, "ssm")
    if _deployed(endpoint, stack_name) and _parameter(ssm, marker) == fingerprint:
        log(f"{stack_name} already runs this build: skipping sam deploy")
    else:
        s3 = client(endpoint, "s3")
        try:
            s3.head_bucket(Bucket=ARTIFACT_BUCKET)
        except ClientError:
            s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        env = aws_env(endpoint)
        env["SAM_CLI_POLL_DELAY"] = "0.5"  # MiniStack applies a change set in about a second
        log(f"deploying {stack_name} (sam deploy)")
        _run(
            [
                str(SAM), "deploy",
                "--config-file", str(workdir / "samconfig.toml"),
                "--template-file", str(built_template),
                "--stack-name", stack_name,
                "--s3-bucket", ARTIFACT_BUCKET,
                "--region", REGION,
                "--capabilities", "CAPABILITY_IAM",
                "--parameter-overrides", *(f"{k}={v}" for k, v in overrides.items()),
                "--no-confirm-changeset",
                "--no-fail-on-empty-changeset",
                "--no-progressbar",
            ],
            env=env,
            log=workdir / "sam.log",
            what="sam deploy",
        )  # fmt: skip
        # MiniStack's Lambda keeps its own copy of the code, so the uploaded packages are not needed
        # any more (and would pile up in a persisted stack); the next deploy uploads what it needs.
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ARTIFACT_BUCKET):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=ARTIFACT_BUCKET, Key=obj["Key"])
        ssm.put_parameter(Name=marker, Value=fingerprint, Type="String", Overwrite=True)
    log("wiring the HTTP API routes and authorizer from template.yaml")
    return wire(endpoint, stack_name, stage)


def _fingerprint(build_dir: Path, overrides: Mapping[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(sorted(overrides.items())).encode())
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file() and p.name != "build.toml"):
        digest.update(str(path.relative_to(build_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _deployed(endpoint: str, stack_name: str) -> bool:
    try:
        stack = client(endpoint, "cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError:
        return False
    status = str(stack["StackStatus"])
    return status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status


def _parameter(ssm: Any, name: str) -> str | None:
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError:
        return None


def describe(endpoint: str, stack_name: str, stage: str) -> Deployment:
    stack = client(endpoint, "cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    api_id = outputs["ApiId"]
    return Deployment(
        endpoint=endpoint,
        stack_name=stack_name,
        stage=stage,
        api_id=api_id,
        # MiniStack serves an HTTP API at {endpoint}/_aws/execute-api/{apiId}/{stage}/…, and a
        # $default stage from there directly. The Host-header form works as well, but only for
        # clients that map *.localhost to loopback (curl, browsers; not Python's resolver).
        base_url=f"{endpoint}/_aws/execute-api/{api_id}",
        host_url=f"http://{api_id}.execute-api.localhost:{urlsplit(endpoint).port}",
        table_name=outputs["TableName"],
        bucket_name=outputs["BucketName"],
        outputs=outputs,
    )


# --------------------------------------------------------------------------------- API wiring


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML loader that turns CloudFormation short forms (!Ref, !GetAtt, …) into their long forms."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))  # noqa: S506 (a SafeLoader subclass)


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    function: str  # logical id
    authorizer: str | None  # authorizer name in the API's Auth block, None for NONE
    payload_format: str = "2.0"


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function: str  # logical id (FunctionArn: !GetAtt <Function>.Arn)
    payload_format: str
    simple_responses: bool
    identity_source: list[str]
    ttl_seconds: int


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    authorizers: dict[str, AuthorizerSpec]
    routes: list[RouteSpec]


def _resolve(value: Any, parameters: Mapping[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    return value


def _function_of(arn: Any, where: str) -> str:
    if isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][1] == "Arn":
        return str(arn["Fn::GetAtt"][0])
    raise LocalStackError(f"{where}: only `FunctionArn: !GetAtt <Function>.Arn` can be wired locally")


def api_specs(template: Mapping[str, Any], parameters: Mapping[str, str]) -> list[ApiSpec]:
    """Every HttpApi of the template with its Lambda authorizers and the routes of its functions."""
    resources: dict[str, Any] = template.get("Resources", {})
    global_auth = template.get("Globals", {}).get("HttpApi", {}).get("Auth", {})
    apis: dict[str, ApiSpec] = {}
    defaults: dict[str, str | None] = {}
    for logical_id, res in resources.items():
        if res.get("Type") != "AWS::Serverless::HttpApi":
            continue
        auth = res.get("Properties", {}).get("Auth") or global_auth
        authorizers = {}
        for name, cfg in (auth.get("Authorizers") or {}).items():
            if "FunctionArn" not in cfg:
                raise LocalStackError(f"{logical_id}.{name}: only Lambda authorizers are wired locally")
            identity = cfg.get("Identity") or {}
            sources = [f"$request.header.{h}" for h in identity.get("Headers", [])]
            sources += [f"$request.querystring.{q}" for q in identity.get("QueryStrings", [])]
            sources += [f"$stageVariables.{s}" for s in identity.get("StageVariables", [])]
            sources += [f"$context.{c}" for c in identity.get("Context", [])]
            authorizers[name] = AuthorizerSpec(
                name=name,
                function=_function_of(cfg["FunctionArn"], f"{logical_id}.{name}"),
                payload_format=str(cfg.get("AuthorizerPayloadFormatVersion", "2.0")),
                simple_responses=bool(cfg.get("EnableSimpleResponses", False)),
                identity_source=sources,
                ttl_seconds=int(_resolve(identity.get("ReauthorizeEvery", 300), parameters)),
            )
        apis[logical_id] = ApiSpec(logical_id, authorizers, [])
        defaults[logical_id] = auth.get("DefaultAuthorizer")
    for fn_id, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in (res.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            api_ref = props.get("ApiId", {"Ref": "ServerlessHttpApi"})
            api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
            if api_id not in apis:
                raise LocalStackError(f"{fn_id}.{event_name}: ApiId must be !Ref to an HttpApi of the template")
            path = props.get("Path", "$default")
            key = "$default" if path == "$default" else f"{str(props.get('Method', 'ANY')).upper()} {path}"
            authorizer = (props.get("Auth") or {}).get("Authorizer", defaults[api_id])
            if authorizer == "NONE":
                authorizer = None
            if authorizer is not None and authorizer not in apis[api_id].authorizers:
                raise LocalStackError(f"{fn_id}.{event_name}: unknown authorizer {authorizer}")
            apis[api_id].routes.append(RouteSpec(key, fn_id, authorizer, str(props.get("PayloadFormatVersion", "2.0"))))
    return list(apis.values())


def _lambda_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def wire(endpoint: str, stack_name: str, stage: str, template: Mapping[str, Any] | None = None) -> Deployment:
    """Create or update the authorizers, integrations, routes and $default stage of every HttpApi
    of the template on MiniStack, so that the API behaves as the OpenAPI body SAM generated says.
    Idempotent: matched by name / integration URI / route key; routes no longer in the template
    are deleted."""
    template = template or load_template()
    cfn = client(endpoint, "cloudformation")
    apigw = client(endpoint, "apigatewayv2")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    }
    function_arns = {
        fn: f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        for fn, name in physical.items()
        if template["Resources"].get(fn, {}).get("Type") == "AWS::Serverless::Function"
    }
    for spec in api_specs(template, parameters):
        api_id = physical[spec.logical_id]
        authorizer_ids = _wire_authorizers(apigw, api_id, spec, function_arns)
        _wire_routes(apigw, api_id, spec, function_arns, authorizer_ids)
        stages = {s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]}
        if "$default" not in stages:
            apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    _apply_lifecycle_rules(client(endpoint, "s3"), template, physical)
    deployment = describe(endpoint, stack_name, stage)
    _set_delivery_base(client(endpoint, "lambda"), function_arns.values(), delivery_base_url(deployment))
    return deployment


_LIFECYCLE_RULE_PROPERTIES = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}


def lifecycle_rules(bucket: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bucket resource's CloudFormation lifecycle rules in the S3 API's form (what CloudFormation
    itself sends). Only the properties Ferry uses are translated; any other one is an error, so that
    the local bucket never silently differs from the template."""
    rules = []
    for rule in bucket.get("Properties", {}).get("LifecycleConfiguration", {}).get("Rules", []):
        unknown = set(rule) - _LIFECYCLE_RULE_PROPERTIES
        if unknown:
            raise LocalStackError(f"lifecycle rule {rule.get('Id')}: translate {sorted(unknown)} in local/stack.py")
        converted: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        rules.append(converted)
    return rules


def _apply_lifecycle_rules(s3: Any, template: Mapping[str, Any], physical: Mapping[str, str]) -> None:
    """MiniStack's CloudFormation drops a bucket's LifecycleConfiguration (its S3 API keeps one), so
    the rules are put through the S3 API, as CloudFormation does on AWS."""
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::S3::Bucket" and (rules := lifecycle_rules(resource)):
            s3.put_bucket_lifecycle_configuration(Bucket=physical[logical_id], LifecycleConfiguration={"Rules": rules})


def delivery_base_url(deployment: Deployment) -> str:
    """The origin of the file URLs (`/f/<name>`) the local stack hands out. A function derives it from
    the Host header when FERRY_DELIVERY_BASE_URL is unset, which with the path form gives
    https://127.0.0.1:<port>, without the /_aws/execute-api/<apiId> prefix: so it is set, to the
    path-form base URL if ferry accepts a path there, else to the Host-header form."""
    from ferry.settings import Settings, SettingsError

    try:
        Settings.from_env({"FERRY_TABLE_NAME": "probe", "FERRY_DELIVERY_BASE_URL": deployment.base_url})
    except SettingsError:
        return deployment.host_url
    return deployment.base_url


def _set_delivery_base(lambda_: Any, function_arns: Iterable[str], url: str) -> None:
    for arn in function_arns:
        variables = lambda_.get_function_configuration(FunctionName=arn).get("Environment", {}).get("Variables", {})
        if "FERRY_TABLE_NAME" in variables and variables.get("FERRY_DELIVERY_BASE_URL") != url:
            variables["FERRY_DELIVERY_BASE_URL"] = url
            lambda_.update_function_configuration(FunctionName=arn, Environment={"Variables": variables})


def _wire_authorizers(apigw: Any, api_id: str, spec: ApiSpec, function_arns: Mapping[str, str]) -> dict[str, str]:
    existing = {a["Name"]: a["AuthorizerId"] for a in apigw.get_authorizers(ApiId=api_id)["Items"]}
    ids = {}
    for auth in spec.authorizers.values():
        settings = {
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": _lambda_uri(function_arns[auth.function]),
            "AuthorizerPayloadFormatVersion": auth.payload_format,
            "EnableSimpleResponses": auth.simple_responses,
            "IdentitySource": auth.identity_source,
            "AuthorizerResultTtlInSeconds": auth.ttl_seconds,
        }
        if auth.name in existing:
            apigw.update_authorizer(ApiId=api_id, AuthorizerId=existing[auth.name], Name=auth.name, **settings)
            ids[auth.name] = existing[auth.name]
        else:
            ids[auth.name] = apigw.create_authorizer(ApiId=api_id, Name=auth.name, **settings)["AuthorizerId"]
    return ids


def _wire_routes(
    apigw: Any,
    api_id: str,
    spec: ApiSpec,
    function_arns: Mapping[str, str],
    authorizer_ids: Mapping[str, str],
) -> None:
    integrations = {
        (i["IntegrationUri"], i.get("PayloadFormatVersion")): i["IntegrationId"]
        for i in apigw.get_integrations(ApiId=api_id)["Items"]
    }
    routes = {r["RouteKey"]: r["RouteId"] for r in apigw.get_routes(ApiId=api_id)["Items"]}
    wanted = set()
    for route in spec.routes:
        uri = function_arns[route.function]
        if (uri, route.payload_format) not in integrations:
            integrations[(uri, route.payload_format)] = apigw.create_integration(
                ApiId=api_id,
                IntegrationType="AWS_PROXY",
                IntegrationUri=uri,
                IntegrationMethod="POST",
                PayloadFormatVersion=route.payload_format,
            )["IntegrationId"]
        settings: dict[str, Any] = {
            "Target": f"integrations/{integrations[(uri, route.payload_format)]}",
            "AuthorizationType": "CUSTOM" if route.authorizer else "NONE",
        }
        if route.authorizer:
            settings["AuthorizerId"] = authorizer_ids[route.authorizer]
        if route.route_key in routes:
            apigw.update_route(ApiId=api_id, RouteId=routes[route.route_key], **settings)
        else:
            routes[route.route_key] = apigw.create_route(ApiId=api_id, RouteKey=route.route_key, **settings)["RouteId"]
        wanted.add(route.route_key)
    for key, route_id in routes.items():
        if key not in wanted:
            apigw.delete_route(ApiId=api_id, RouteId=route_id)


# ------------------------------------------------------------------------------------- keys


def admin(table_name: str, *args: str, env: Mapping[str, str]) -> str:
    """Run `ferry-admin --table <table> <args>` in `env` (Deployment.env() for the local stack, your
    own environment for AWS) and return its stdout, which may hold a key: never log it."""
    cmd = [sys.executable, "-m", "ferry.admin", "--table", table_name, *args]
    result = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise LocalStackError(f"ferry-admin {' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def create_key(
    table_name: str,
    user: str,
    *,
    env: Mapping[str, str],
    quota_mb: int | None = None,
    expires: str | None = None,
) -> tuple[str, str]:
    """Issue a key with ferry-admin; returns (api_key, key_id)."""
    args = ["keys", "create", "--user", user, "--json"]
    if quota_mb is not None:
        args += ["--quota-mb", str(quota_mb)]
    if expires is not None:
        args += ["--expires", expires]
    issued = json.loads(admin(table_name, *args, env=env))
    return str(issued["api_key"]), str(issued["key_id"])


def up(
    port: int,
    workdir: Path,
    *,
    stage: str = "dev",
    parameters: Mapping[str, str] | None = None,
    reuse: bool = True,
    persist: bool = False,
    log: Log = _quiet,
) -> tuple[MiniStack, Deployment]:
    """MiniStack started (or reused), the template built, deployed (with these template
    `parameters`) and wired. On failure the MiniStack this call started is stopped again."""
    t0 = time.monotonic()
    ministack = MiniStack.start(port, workdir, reuse=reuse, persist=persist)
    try:
        verb = "started" if ministack.started_here else "reused"
        log(f"MiniStack {verb} on {ministack.endpoint} in {time.monotonic() - t0:.1f} s (log: {ministack.log_path})")
        t0 = time.monotonic()
        built = build(workdir, log)
        log(f"built in {time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        deployment = deploy(ministack.endpoint, built, workdir, stage=stage, parameters=parameters, log=log)
        log(f"deployed and wired in {time.monotonic() - t0:.1f} s")
    except BaseException:
        if ministack.started_here:
            ministack.stop()
        raise
    return ministack, deployment


def wait_until_healthy(base_url: str, timeout: float = 30.0) -> None:
    """GET /v1/health until it answers 200 (the first call starts the Lambda workers)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/v1/health", timeout=15) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise LocalStackError(f"{base_url}/v1/health did not answer 200 within {timeout:.0f} s")
        time.sleep(0.2)
