"""``make bench``: every benchmark, each printing its figures against a baseline measured in the
same run and against ground truth. Results go to bench/results/latest.json.

    python -m bench.run [--quick] [--only align,gps,export,multicam,scrub,world,cli,highlights,batch,stitch,peer]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import time
import traceback
from pathlib import Path

AREAS = (
    "align",
    "gps",
    "export",
    "multicam",
    "scrub",
    "world",
    "cli",
    "highlights",
    "batch",
    "stitch",
)  # "peer" is opt-in: --only peer


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="the small cases only")
    ap.add_argument("--only", default=",".join(AREAS), help="comma-separated areas (default: all)")
    args = ap.parse_args()
    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
        },
        "quick": args.quick,
    }
    failed = []
    for area in [a.strip() for a in args.only.split(",") if a.strip()]:
        t0 = time.perf_counter()
        print(f"\n################ {area} ################", flush=True)
        try:
            module = importlib.import_module(f"bench.bench_{area}")
            results[area] = module.run(quick=args.quick)
        except Exception as err:  # noqa: BLE001 - one area failing must not hide the others' figures
            traceback.print_exc()
            results[area] = {"error": f"{err.__class__.__name__}: {err}"}
            failed.append(area)
        print(f"[{area}: {time.perf_counter() - t0:.1f} s]", flush=True)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    print(
        f"\nresults: {out / 'latest.json'}" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
