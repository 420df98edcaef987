"""make bench: prints a table and writes bench/results.json. Every ratio compares figures measured
in this same run on this machine, so machines of different speed give comparable ratios."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from bench import cold_start, presign, uploads, url_transfer, video_polling

RESULTS = Path(__file__).with_name("results.json")


def main() -> None:
    results: dict[str, object] = {"machine": {"python": platform.python_version(), "arch": platform.machine()}}
    results["cold_start"] = cold_start.run()
    results["uploads"] = uploads.run()
    results["url_transfer"] = url_transfer.run()
    results["presign"] = presign.run()
    results["video_polling"] = video_polling.run()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
