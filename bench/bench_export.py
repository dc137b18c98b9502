"""Editor exports: round-trip accuracy at every supported rate, and speed for many markers.

Accuracy: markers at awkward times (minute boundaries, near an hour) are exported and read back
by the project's own readers; the figure is the worst error in frames (must stay <= 0.5).
Speed: 999 markers (the EDL's limit) per format, against the JSON export as a baseline.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from fractions import Fraction
from pathlib import Path

from mtbsync_core.export import export_to_string, read_markers_file
from mtbsync_core.model import TransferredMarker
from mtbsync_core.timebase import STANDARD_RATES, seconds_to_frame

RATES = ["23.976", "24", "25", "29.97", "30", "50", "59.94", "60"]
FORMATS = {"edl": ".edl", "fcpxml": ".fcpxml", "premiere": ".xml"}


def _markers(n: int) -> list[TransferredMarker]:
    return [
        TransferredMarker(
            f"m{i}", i * 3.3, i * 3.61 + 0.013 * (i % 7), (i % 10) / 10, i % 5 == 0, f"note {i}"
        )
        for i in range(n)
    ]


def _worst_error_frames(n: int) -> tuple[dict[str, float], float]:
    """Worst |read back - source| in frames per format@rate; share landing on the exact frame."""
    worst: dict[str, float] = {}
    exact = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, suffix in FORMATS.items():
            for rate in RATES:
                fps = STANDARD_RATES[rate]
                src = _markers(n)
                path = Path(tmp) / f"m{suffix}"
                path.write_text(export_to_string(fmt, src, fps=fps), encoding="utf-8")
                got = read_markers_file(path, fps=fps)
                err = max(
                    abs(g.t_ref_s - s.t_new_s) * float(fps) for g, s in zip(got, src, strict=True)
                )
                worst[f"{fmt}@{rate}"] = round(err, 4)
                for g, s in zip(got, src, strict=True):
                    frame = seconds_to_frame(Fraction(s.t_new_s), fps)
                    exact += abs(g.t_ref_s - float(frame / fps)) < 1e-9
                    total += 1
    return worst, exact / total


def _speed(n: int, repeats: int) -> dict[str, float]:
    fps = Fraction(30000, 1001)
    src = _markers(n)
    out: dict[str, float] = {}
    for fmt in ["json", *FORMATS]:
        t0 = time.perf_counter()
        for _ in range(repeats):
            export_to_string(fmt, src, fps=fps)
        out[fmt] = (time.perf_counter() - t0) / repeats
    return out


def run(quick: bool = False) -> dict:
    """Print and return round-trip error (frames) per format and rate, and export times."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worst, exact_share = _worst_error_frames(60 if quick else 300)
        speed = _speed(999, 2 if quick else 5)
    print("export round trip: worst error per format (frames, limit 0.5)")
    for fmt in FORMATS:
        cells = "  ".join(f"{r}:{worst[f'{fmt}@{r}']:.3f}" for r in RATES)
        print(f"  {fmt:<9} {cells}")
    print(f"  read back on exactly the exported frame: {exact_share:.1%} of markers")
    print("export of 999 markers (ms; ratio to the JSON baseline in the same run)")
    for fmt, s in speed.items():
        print(f"  {fmt:<9} {s * 1e3:7.1f} ms  x{s / speed['json']:.2f}")
    return {
        "roundtrip_worst_frames": worst,
        "max_worst_frames": max(worst.values()),
        "exact_frame_share": exact_share,
        "export_999_ms": {k: round(v * 1e3, 2) for k, v in speed.items()},
    }


if __name__ == "__main__":
    run()
