"""`make bench`: run every benchmark, print a table, write build/bench.json.

Each benchmark module (run in its own process) has ``run(results)`` appending dicts
{name, value, unit, target, better ("lower"|"higher")}. Values are ratios to a
floor measured in the same run wherever the contract asks for one, so a noisy
shared machine moves both sides together. The exit status is 0 only when every
benchmark ran and every target held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULES = (
    "tests.bench.bench_clinical",
    "tests.bench.bench_records",
    "tests.bench.bench_alerts",
    "tests.bench.bench_photos",
    "tests.bench.bench_outline",
    "tests.bench.bench_colour",
    "tests.bench.bench_summaries",
    "tests.bench.bench_exports",
    "tests.bench.bench_sync",
)


def _meets(row: dict) -> bool | None:
    target = row.get("target")
    if target is None:
        return None
    return row["value"] <= target if row["better"] == "lower" else row["value"] >= target


def main(argv: list[str]) -> int:
    only = set(argv[1:])
    results: list[dict] = []
    failures: list[str] = []
    for name in MODULES:
        short = name.rsplit(".", 1)[-1]
        if only and short not in only:
            continue
        started = time.perf_counter()
        print(f"== {short}", flush=True)
        # One process per module: each builds its own app and database, and
        # memory figures are not polluted by the previous benchmark.
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            code = (
                "import json, sys, importlib; rows = []; "
                f"importlib.import_module({name!r}).run(rows); "
                f"json.dump(rows, open({tmp.name!r}, 'w'))"
            )
            proc = subprocess.run([sys.executable, "-c", code], check=False)  # noqa: S603 - our own module names
            if proc.returncode == 0:
                results += json.loads(Path(tmp.name).read_text() or "[]")
            else:
                failures.append(short)
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)

    width = max((len(r["name"]) for r in results), default=10)
    print(f"\n{'benchmark':<{width}}  {'value':>12}  {'unit':<10} {'target':>10}  met")
    for r in results:
        met = _meets(r)
        mark = "-" if met is None else ("yes" if met else "NO")
        target = (
            ""
            if r.get("target") is None
            else f"{'<=' if r['better'] == 'lower' else '>='}{r['target']:g}"
        )
        print(f"{r['name']:<{width}}  {r['value']:>12.4g}  {r['unit']:<10} {target:>10}  {mark}")
        r["met"] = met
    missed = [r["name"] for r in results if r["met"] is False]
    out = Path(os.environ.get("BENCH_OUT", "build/bench.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")
    if failures:
        print("benchmarks that crashed: " + ", ".join(failures))
    if missed:
        print("targets missed: " + ", ".join(missed))
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
