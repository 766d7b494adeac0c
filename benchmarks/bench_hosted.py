"""What stillmotion adds around a hosted job: prepare + upload + download + remux, for a 5 s 720p clip.

Runs against the local Replicate stand-in (tests/standins), so the provider's own time is the
stand-in making its MP4; that time is measured and subtracted. Side by side in the same run:
the bare official client doing the same job (upload, create, poll, download) with no mapping,
schema check, cropping, recipe or remux. Medians of --repeats runs.

    python benchmarks/bench_hosted.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from standins.replicate_api import ReplicateStandIn  # noqa: E402

PHOTO = ROOT / "examples" / "china.jpg"
MODEL, ENGINE = "kwaivgi/kling-v2.1", "kling-v2.1"


def provider_seconds(server: ReplicateStandIn) -> float:
    """Seconds the stand-in spent making outputs (its 'GPU time'), summed over its predictions."""
    return sum(
        (p.completed_at - p.started_at).total_seconds()
        for p in server.predictions.values()
        if p.started_at is not None and p.completed_at is not None
    )


def bare_client(server: ReplicateStandIn, out: Path) -> None:
    import httpx
    import replicate

    client = replicate.Client(api_token=server.token, base_url=server.base_url)
    f = client.files.create(PHOTO, content_type="image/jpeg")
    p = client.models.predictions.create(
        MODEL, input={"prompt": "slow push-in", "start_image": f.urls["get"], "duration": 5}, wait=False
    )
    while p.status not in ("succeeded", "failed", "canceled"):
        p = client.predictions.get(p.id)
    out.write_bytes(httpx.get(p.output, timeout=60).content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import stillmotion

    rows: dict[str, list[float]] = {"stillmotion": [], "bare client": []}
    with tempfile.TemporaryDirectory() as tmp, ReplicateStandIn(processing_after=0, succeeded_after=1) as server:
        os.environ.update(server.env(), XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        for i in range(args.repeats + 1):  # the first run warms imports and the schema cache
            before = provider_seconds(server)
            t = time.perf_counter()
            stillmotion.animate(
                PHOTO,
                "slow push-in",
                engine=ENGINE,
                duration=5,
                resolution="720p",
                seed=1,
                output=Path(tmp) / f"s{i}.mp4",
            )
            wall = time.perf_counter() - t
            own = wall - (provider_seconds(server) - before)
            before = provider_seconds(server)
            t = time.perf_counter()
            bare_client(server, Path(tmp) / f"b{i}.mp4")
            bare = time.perf_counter() - t - (provider_seconds(server) - before)
            if i:
                rows["stillmotion"].append(own)
                rows["bare client"].append(bare)
    print(
        f"hosted job overhead, 5 s 720p ({ENGINE} on the local stand-in), provider time excluded, "
        f"median of {args.repeats}:"
    )
    for name, values in rows.items():
        print(f"  {name:<12} {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
