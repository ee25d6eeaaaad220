"""``python -m upsell.generate --scale S --seed 42 --out include/sample``"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from upsell.generate import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m upsell.generate", description=__doc__)
    p.add_argument("--scale", default="S", choices=["S", "M", "L"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 4, 1))
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    m = generate(a.out, a.scale, a.seed, a.start, a.end)
    size = sum(f["bytes"] for f in m["files"].values())
    print(f"{a.scale} seed {a.seed}: {len(m['files'])} files, {size / 1e6:.1f} MB, "
          f"{time.perf_counter() - t0:.1f} s -> {a.out}")
    for k, v in sorted(m["counts"].items()):
        print(f"  {k:24s} {v:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
