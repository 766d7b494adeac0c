"""A worker process: claim a job, run it through :func:`stillmotion.api.run`, record the result.

Run by the server's supervisor as ``python -m stillmotion.server.worker --data DIR``.
A heartbeat thread renews the lease every few seconds (also during stages
without progress callbacks) and ends the process if the server that started
it is gone. ``SIGTERM`` stops the current job between frames and puts it
back in the queue without counting the attempt. The clip and its sidecar carry
the public recipe (:func:`stillmotion.recipe.public`: file names, not the
server's paths); the job's row keeps the full one.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from .jobs import HOST, LEASE_S, JobStore

__all__ = ["main", "run_job"]

HEARTBEAT_S = min(2.0, LEASE_S / 5)
PROGRESS_EVERY_S = 0.5
PREVIEW_EVERY_S = 1.5
POLL_S = 0.3

_shutdown = threading.Event()


def _judge(path, request) -> dict:
    """The clip's measured quality for the gallery (:func:`stillmotion.evaluate.evaluate_clip`), as
    :meth:`stillmotion.evaluate.Evaluation.to_dict`: score 0..1, the camera move seen, and each
    metric's value, unit, verdict and meaning.
    A clip that cannot be judged gets ``{"error": …}`` instead; the job still succeeds."""
    from ..errors import StillmotionError
    from ..evaluate import evaluate_clip

    try:
        ev = evaluate_clip(path, source=request.image, prompt=request.prompt or None, loop=bool(request.loop) or None)
    except StillmotionError as err:
        return {"error": str(err).splitlines()[0]}
    return ev.to_dict()


def _publish_recipe(clip) -> None:
    """Re-tag the clip and rewrite its sidecar with the public recipe: a downloaded file must not
    carry the server's folders (``…/data/inputs/<id>.jpg``) any more than the JSON API does.
    A stream copy (no re-encoding), written atomically."""
    from .._atomic import write_json_atomic
    from ..recipe import embed, public
    from ..video import remux

    shown = public(clip.recipe)
    remux(clip.path, clip.path, metadata=embed(shown))
    if clip.sidecar is not None and clip.sidecar.exists():
        write_json_atomic(clip.sidecar, shown)


WORKER_NICENESS = 10
"""How much lower than the server's a worker process's CPU priority is (``os.nice``)."""


def run_job(store: JobStore, job: dict, *, cluster: bool = False) -> None:
    """Run one claimed job to its end and record succeeded, failed or canceled.

    With ``cluster`` the render is a Ray task (:func:`stillmotion.cluster.render_on_cluster`;
    :func:`stillmotion.cluster.connect` already called): the photo travels to the node, the clip
    comes back here, the job keeps its lease meanwhile, and a task Ray lost more often than it
    retries puts the job back in the queue (the attempt counted, as for a killed worker).
    """
    import numpy as np

    from ..api import run
    from ..cluster import TaskLost
    from ..errors import Canceled, StillmotionError
    from ..request import AnimateRequest
    from ..video import write_png_atomic

    job_id = job["id"]
    state = {
        "progress": None,
        "eta": None,
        "lost": False,
        "cancel": False,
        "preview": None,
        "preview_at": 0.0,
        "progress_at": 0.0,
        "t0": None,
    }
    stop_beat = threading.Event()

    def beat() -> None:
        while not stop_beat.wait(HEARTBEAT_S):
            ours, cancel = store.heartbeat(job, state["progress"], state["eta"])
            state["lost"] |= not ours
            state["cancel"] |= cancel

    beater = threading.Thread(target=beat, daemon=True)
    beater.start()

    def on_progress(done: int, total: int, preview: np.ndarray | None) -> None:
        now = time.monotonic()
        if state["t0"] is None:
            state["t0"] = now
        frac = done / max(total, 1)
        elapsed = now - state["t0"]
        state["progress"] = frac
        state["eta"] = round(elapsed / frac * (1 - frac), 2) if frac > 0 and done > 1 else None
        if preview is not None:
            state["preview"] = preview
            if now - state["preview_at"] > PREVIEW_EVERY_S:
                state["preview_at"] = now
                write_png_atomic(store.preview_path(job_id), preview)
        if now - state["progress_at"] > PROGRESS_EVERY_S:
            state["progress_at"] = now
            ours, cancel = store.heartbeat(job, frac, state["eta"])
            state["lost"] |= not ours
            state["cancel"] |= cancel

    last_check = [0.0]

    def should_stop() -> bool:
        if _shutdown.is_set() or state["lost"] or state["cancel"]:
            return True
        now = time.monotonic()
        if now - last_check[0] > 0.1:  # one small read at most every 0.1 s
            last_check[0] = now
            state["cancel"] = store.cancel_requested(job)
        return state["cancel"]

    class Submissions:  # hosted engines: what this job submitted, kept in its row across crashes
        def get(self, key: str) -> str | None:
            return store.submission(job_id, key)

        def put(self, key: str, remote_id: str) -> None:
            store.record_submission(job_id, key, remote_id)

    try:
        fields = dict(job["_request"])
        request = AnimateRequest.build(image=store.input_path(job), output=store.video_path(job_id), **fields)
        if cluster:
            from ..cluster import render_on_cluster

            path, rendered, node = render_on_cluster(request, should_stop=should_stop)
            clip = SimpleNamespace(path=path, recipe={**rendered, "node": node}, sidecar=path.with_suffix(".json"))
        else:
            clip = run(request, on_progress=on_progress, should_stop=should_stop, submissions=Submissions())
        if state["preview"] is not None:
            write_png_atomic(store.preview_path(job_id), state["preview"])
        _publish_recipe(clip)
        recipe = dict(clip.recipe)
        if "evaluation" not in recipe and not should_stop():
            recipe["evaluation"] = _judge(clip.path, request)
        store.finish(job, "succeeded", recipe=recipe)
    except TaskLost as err:
        if job["attempts"] < job["max_attempts"]:
            store.finish(job, "queued", requeue=True, count_attempt=True)
        else:
            store.finish(job, "failed", error=f"{err} (during each of {job['attempts']} attempts)")
    except Canceled:
        if _shutdown.is_set() and not state["cancel"]:
            store.finish(job, "queued", requeue=True)
        else:
            store.finish(job, "canceled")
    except StillmotionError as err:
        store.finish(job, "failed", error=str(err).splitlines()[0] if str(err) else type(err).__name__)
    except Exception as err:  # a bug in one job must not end the worker
        store.finish(job, "failed", error=f"internal error: {type(err).__name__}: {err}".splitlines()[0])
    finally:
        stop_beat.set()


def main(argv: list[str] | None = None) -> None:
    """Claim and run jobs until SIGTERM or until the parent process is gone."""
    import json

    parser = argparse.ArgumentParser(prog="python -m stillmotion.server.worker")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--lane", choices=("local", "hosted"), default=None, help="claim only this lane's jobs")
    parser.add_argument("--ray", default=None, metavar="ADDRESS", help="render each job as a task on this Ray cluster")
    args = parser.parse_args(argv)
    os.umask(0o077)  # clips, previews and sidecars: the studio owner's alone
    if hasattr(os, "nice"):
        # Rendering is batch work: the API process (submits, health checks, event streams)
        # keeps its priority when every worker is busy.
        os.nice(WORKER_NICENESS)
    store = JobStore(args.data)
    if args.ray:
        from ..cluster import connect
        from ..errors import StillmotionError

        try:
            connect(args.ray)
        except StillmotionError as err:  # the supervisor restarts this worker, backing off
            print(f"stillmotion worker: {err}", file=sys.stderr)
            sys.exit(3)
    worker = f"{HOST}:{os.getpid()}"
    parent = os.getppid()

    signal.signal(signal.SIGTERM, lambda *_: _shutdown.set())
    signal.signal(signal.SIGINT, lambda *_: _shutdown.set())

    def watch_parent() -> None:  # orphaned (server killed): leave at once, the server re-queues the job
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()

    while not _shutdown.is_set():
        job = store.claim(worker, args.lane)
        if job is None:
            _shutdown.wait(POLL_S)
            continue
        job["_request"] = json.loads(job["request"])
        run_job(store, job, cluster=bool(args.ray))
    sys.exit(0)


if __name__ == "__main__":
    main()
