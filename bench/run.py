"""Run every benchmark in turn."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    ["bench.screenpop", "--events", "3000", "--rate", "500", "--agents", "20"],
    ["bench.ami_ingest", "--events", "120000"],
    ["bench.speech", "--variants", "5", "--callers", "3"],
    ["bench.wallboard", "--calls", "1000", "--rate", "50", "--agents", "100", "--boards", "10"],
    ["bench.routing", "--customers", "1000000", "--decisions", "5000"],
    ["bench.capacity", "--rate", "1.0", "--seconds", "30", "--rounds", "2"],
    ["bench.popdata"],
    ["bench.customers"],
    ["bench.cms"],
    ["bench.transcription", "--recordings", "10"],
]


def main() -> int:
    failed = 0
    for module, *args in BENCHES:
        print(f"== {module} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, "-m", module, *args]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
