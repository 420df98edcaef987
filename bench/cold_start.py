"""Cold import+init of each handler module in a fresh interpreter, as a ratio to `import boto3`
plus one client creation measured in the same run (target ≤ 1.3×).

Each sample is a new Python process with a Lambda-like environment (function name, task root,
tracing as deployed), timing only the import of functions/<name>/app.py: that is the work Lambda
does before the first invocation. The median of N samples is reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = int(os.environ.get("FERRY_BENCH_SAMPLES", "15"))
TARGET = 1.3

BASELINE = "import boto3\nboto3.client('dynamodb')"
HANDLER = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('app', {path!r})\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
)
TIMER = "import time\n_t0 = time.perf_counter()\n{body}\nprint(time.perf_counter() - _t0)\n"


def _env(tracing: bool) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "common"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": "ferry-bench",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "POWERTOOLS_SERVICE_NAME": "ferry",
        "POWERTOOLS_METRICS_NAMESPACE": "Ferry",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        "FERRY_TABLE_NAME": "ferry-bench",
    }


def _sample(body: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median(body: str, env: dict[str, str]) -> float:
    _sample(body, env)  # warm the OS file cache; Lambda's is warm too
    return statistics.median(_sample(body, env) for _ in range(SAMPLES))


def run() -> dict[str, Any]:
    handlers = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
    results: dict[str, Any] = {"samples": SAMPLES, "target_ratio": TARGET, "modes": {}}
    for tracing in (False, True):
        env = _env(tracing)
        baseline = _median(BASELINE, env)
        rows = {}
        for name in handlers:
            seconds = _median(HANDLER.format(path=str(ROOT / "functions" / name / "app.py")), env)
            rows[name] = {"seconds": round(seconds, 4), "ratio": round(seconds / baseline, 2)}
        mode = "powertools_tracer_on" if tracing else "powertools_tracer_off_default"
        results["modes"][mode] = {"baseline_seconds": round(baseline, 4), "handlers": rows}
        label = "Powertools Tracer on (opt-in)" if tracing else "Powertools Tracer off (the default)"
        print(f"\ncold import+init, {label}, median of {SAMPLES}; baseline = import boto3 + 1 client")
        print(f"  {'baseline':<12} {baseline * 1000:8.1f} ms")
        for name, row in rows.items():
            verdict = "ok" if row["ratio"] <= TARGET else f"over {TARGET}x"
            print(f"  {name:<12} {row['seconds'] * 1000:8.1f} ms  {row['ratio']:5.2f}x  {verdict}")
    return results
