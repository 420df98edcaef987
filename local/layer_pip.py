"""`pip` for the local build of the CommonLayer, with a cache of the installed requirements.

layers/common/Makefile runs `$(PIP) install … -r requirements.txt -t <layer>/python` and then copies
the ferry package in. For the local stack, local/stack.py sets PIP to this script (run by MiniStack's
interpreter), so editing ferry/ costs a copy instead of a fresh `pip install` (~10 s): the installed
tree is kept under $FERRY_LAYER_PIP_CACHE, keyed by the pip arguments, the requirements file and the
interpreter. Any other pip command is passed through unchanged.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path


def _pip(args: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "pip", *args])


def main(argv: list[str]) -> int:
    cache_root = os.environ.get("FERRY_LAYER_PIP_CACHE")
    if not cache_root or argv[:1] != ["install"] or "-t" not in argv or "-r" not in argv:
        return _pip(argv)
    t = argv.index("-t")
    target = Path(argv[t + 1])
    args = argv[:t] + argv[t + 2 :]
    requirements = Path(argv[argv.index("-r") + 1]).read_bytes()
    fingerprint = "\0".join([*args, requirements.hex(), sys.version, sys.platform, platform.machine()])
    cached = Path(cache_root) / hashlib.sha256(fingerprint.encode()).hexdigest()[:20]
    if not cached.is_dir():
        scratch = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        status = _pip([*args, "-t", str(scratch)])
        if status != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            return status
        try:
            scratch.rename(cached)
        except OSError:  # another build filled the cache first
            shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(cached, target, symlinks=True, dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
