"""Scale-out on a Ray cluster: each clip rendered on whichever node has room.

`Ray <https://docs.ray.io>`_ schedules the work, not stillmotion: a batch row
(:func:`stillmotion.batch.run_batch` with ``ray_address``) or a studio job
(``stillmotion serve --ray``) becomes one Ray task whose resources match its
engine (:func:`task_options`), and Ray retries a task whose node died
(``max_retries``). Nothing needs a shared file system:

* :func:`pack` reads the files a request names (the photo, a mask, a last
  frame, references, a sound track…) into a :class:`Parcel` that travels with
  the task;
* :func:`render_parcel`, on the node, writes them to a temporary folder,
  renders there through :func:`stillmotion.batch.run_row`, puts the
  requester's paths back into each recipe (sidecar and container tags, so a
  clip's recipe names the photo it was made from, not the node's temporary
  copy) and returns every output file's bytes in a :class:`Delivery`;
* :func:`unpack` writes them, atomically, into the requester's folder.

Every node needs the same stillmotion version (``pip install
"stillmotion[cluster]"``); a node that runs another version fails the row
with that reason rather than render something else. Model weights
(``model_path``, the Hugging Face cache) are each node's own.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import write_bytes_atomic
from ._version import __version__
from .errors import Canceled, EngineUnavailable, GenerationError, InputError

if TYPE_CHECKING:
    from .request import AnimateRequest
    from .rows import Row, RowResult

__all__ = [
    "ADDRESS_ENV",
    "HOSTED_CPUS",
    "MAX_RETRIES",
    "Delivery",
    "Parcel",
    "TaskLost",
    "connect",
    "connect_check",
    "pack",
    "render_on_cluster",
    "render_parcel",
    "task_options",
    "unpack",
    "wait_ready",
]

ADDRESS_ENV = "RAY_ADDRESS"
"""Environment variable Ray reads for the cluster's address (``HOST:PORT`` of the head's GCS)."""
MAX_RETRIES = 3
"""Times Ray runs a task again when its node or worker process dies (not when the render fails)."""
HOSTED_CPUS = 0.05
"""CPU share of a hosted-engine task: it only uploads, polls and downloads."""

# Request fields that name files of the requesting machine, shipped with the task.
_FILE_FIELDS = ("image", "last_image", "mask", "freeze", "audio", "motion_video")
_FILE_LISTS = ("reference",)


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (``HOST:PORT``, ``ray://HOST:10001`` or ``auto``) as a driver.

    ``None`` reads :data:`ADDRESS_ENV`. Idempotent within a process.

    Raises:
        EngineUnavailable: Ray is not installed (``pip install "stillmotion[cluster]"``).
        InputError: no address given, or no cluster answers at it.
    """
    try:
        import ray
    except ImportError:
        raise EngineUnavailable(
            'Ray is not installed: pip install "stillmotion[cluster]" (on this machine and every node)'
        ) from None
    if ray.is_initialized():
        return
    address = address or os.environ.get(ADDRESS_ENV)
    if not address:
        raise InputError(f"no Ray cluster named: give --ray HOST:PORT or set {ADDRESS_ENV}")
    _probe(address)
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(
            f"no Ray cluster answers at {address!r} ({first}): start one with `ray start --head` "
            "or give its address with --ray"
        ) from None


def connect_check(address: str, timeout_s: float = 5.0) -> None:
    """Check that Ray is installed and something listens at ``address``, without joining the cluster
    (``serve --ray`` checks before its workers join).

    Raises:
        EngineUnavailable: Ray is not installed.
        InputError: a malformed address, or nothing listens at it.
    """
    try:
        import ray  # noqa: F401
    except ImportError:
        raise EngineUnavailable(
            'Ray is not installed: pip install "stillmotion[cluster]" (on this machine and every node)'
        ) from None
    _probe(address, timeout_s)


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing listens at a ``HOST:PORT`` address (``ray.init`` would wait for minutes)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address!r}: give the head's HOST:PORT (as `ray start --head` printed it) or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise InputError(
            f"no Ray cluster answers at {address!r} ({err.strerror or err}): start one with `ray start --head` "
            "or give its address with --ray"
        ) from None


def task_options(request: AnimateRequest, *, gpus_per_row: float = 1.0) -> dict[str, Any]:
    """Ray task options for rendering ``request``: resources by where its engine runs.

    * ``cpu`` engines (living): ``num_cpus=1`` (the renderer and x264 share the core);
    * ``gpu`` engines (diffusion): ``num_gpus=gpus_per_row`` and ``num_cpus=1``;
      ``gpus_per_row=0`` lets a CPU node take them (tiny models only);
    * ``hosted`` engines: ``num_cpus=HOSTED_CPUS``; their number in flight is the
      caller's cap (``--hosted-concurrency``), not Ray's.

    Every task gets ``max_retries=MAX_RETRIES`` (a lost node) and no retry on a
    failed render (the row reports the error).

    Raises:
        InputError: ``gpus_per_row`` below 0.
    """
    from .engines.registry import find_spec

    if gpus_per_row < 0:
        raise InputError(f"--gpus-per-row {gpus_per_row}: use 0 or more")
    spec = find_spec(request.engine)
    runs_on = spec.runs_on if spec is not None else "cpu"
    if runs_on == "hosted":
        resources: dict[str, Any] = {"num_cpus": HOSTED_CPUS}
    elif runs_on == "gpu":
        resources = {"num_cpus": 1, "num_gpus": gpus_per_row}
    else:
        resources = {"num_cpus": 1}
    return {**resources, "max_retries": MAX_RETRIES, "retry_exceptions": False}


@dataclass(frozen=True)
class Parcel:
    """A row and the bytes of every file its request names, ready to travel to a node.

    Attributes:
        row: the row as the requester validated it (its paths are the requester's).
        files: ``field`` (or ``field.N`` for the N-th item of a list field) → (file name, bytes).
        version: the requester's stillmotion version; a node with another refuses the row.
        destination: an fsspec URL the node uploads the outputs to itself (then none come back),
            or None to send them back in the :class:`Delivery`.
    """

    row: Row
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    version: str = __version__
    destination: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What a node sends back: the row's result and its output files, by name relative to the batch folder."""

    result: RowResult
    files: dict[str, bytes] = field(default_factory=dict)


def pack(row: Row, *, destination: str | None = None) -> Parcel:
    """Read the files ``row.request`` names into a :class:`Parcel` (``model_path`` stays: weights are each node's).

    Raises:
        InputError: a named file cannot be read.
    """
    request = row.request
    files: dict[str, tuple[str, bytes]] = {}

    def take(key: str, value: Any) -> None:
        path = Path(str(value))
        try:
            files[key] = (path.name, path.read_bytes())
        except OSError as err:
            raise InputError(f"{key.split('.')[0]} {str(path)!r} cannot be read ({err.strerror or err})") from None

    for name in _FILE_FIELDS:
        value = getattr(request, name, None)
        if value is not None:
            take(name, value)
    for name in _FILE_LISTS:
        for i, value in enumerate(getattr(request, name, None) or []):
            take(f"{name}.{i}", value)
    return Parcel(row=row, files=files, destination=destination)


def render_parcel(parcel: Parcel) -> Delivery:
    """Render a :class:`Parcel` on this node (the body of the Ray task); never raises for a failed render.

    The outputs are named as the requester's (``NAME.mp4``, ``NAME.json``, ``NAME_seedS.mp4``,
    ``NAME.thumb.png``); each recipe carries the requester's paths (``request.image``,
    ``request.output``, ``source.path`` …), rewritten in the sidecar and, for MP4, in the
    container's tags (a stream copy, no re-encoding).
    """
    from .rows import RowResult, node_name, restore_paths, run_row

    row = parcel.row
    node = node_name()
    if parcel.version != __version__:
        return Delivery(
            RowResult(
                row.row,
                row.name,
                "failed",
                node=node,
                error=f"node {node} runs stillmotion {__version__}, the requester {parcel.version}: "
                "install the same version on every node",
            )
        )
    work = Path(tempfile.mkdtemp(prefix="stillmotion-task-"))
    try:
        inbox, outbox = work / "in", work / "out"
        inbox.mkdir()
        outbox.mkdir()
        local: dict[str, str] = {}  # the node's path → the requester's
        fields: dict[str, Any] = {}
        lists: dict[str, list[Path]] = {}
        for key, (name, payload) in parcel.files.items():
            target = inbox / key / name
            target.parent.mkdir()
            target.write_bytes(payload)
            field_name, _, index = key.partition(".")
            original = getattr(row.request, field_name)[int(index)] if index else getattr(row.request, field_name)
            local[str(target)] = str(original)
            if index:
                lists.setdefault(field_name, []).append(target)
            else:
                fields[field_name] = target
        assert row.request.output is not None  # every batch row names its output
        final = Path(row.request.output)
        fields["output"] = outbox / final.name
        request = row.request.model_copy(update={**fields, **lists})
        # model_copy skips validation: the paths were valid where they came from, and the row's
        # other fields are untouched.
        result = run_row(replace(row, request=request), outbox)
        result.node = node
        if result.status != "succeeded":
            return Delivery(result)
        clips = [outbox / o for o in result.outputs]
        if parcel.destination is not None:
            from .rows import RemoteOut

            restore_paths(clips, local, str(outbox), parcel.destination.rstrip("/"))
            RemoteOut(parcel.destination).put(sorted(p for p in outbox.iterdir() if p.is_file()))
            return Delivery(result)
        restore_paths(clips, local, str(outbox), str(final.parent))
        files = {p.name: p.read_bytes() for p in sorted(outbox.iterdir()) if p.is_file()}
        return Delivery(result, files)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def unpack(delivery: Delivery, folder: Path) -> RowResult:
    """Write a :class:`Delivery`'s files into ``folder`` (each atomically) and return its result.

    Raises:
        InputError: a file name that would leave ``folder`` (a node must not write elsewhere).
    """
    for name, payload in delivery.files.items():
        if Path(name).name != name or name.startswith("."):
            raise InputError(f"a node sent the file name {name!r}: refused")
        write_bytes_atomic(folder / name, payload, "output")
    return delivery.result


class TaskLost(GenerationError):
    """The task's node or worker died more often than Ray retries it (:data:`MAX_RETRIES`)."""


def render_on_cluster(
    request: AnimateRequest,
    *,
    should_stop: Callable[[], bool] | None = None,
    gpus_per_row: float = 1.0,
    poll_s: float = 0.5,
) -> tuple[Path, dict[str, Any], str]:
    """Render one request as a Ray task and write its clip and sidecar at ``request.output``; blocks.

    The body of ``stillmotion serve --ray``'s workers: call :func:`connect` first.

    Args:
        request: a validated request whose ``output`` is the clip's final path (``NAME.mp4``).
        should_stop: polled every ``poll_s`` seconds; True cancels the task (Ray kills its process).
        gpus_per_row: see :func:`task_options`.
        poll_s: seconds between polls.

    Returns:
        ``(clip path, recipe, node)``: the recipe as written beside the clip (this machine's
        paths) and the node that rendered it (``HOST/NODE_ID``).

    Raises:
        Canceled: ``should_stop()`` returned True; nothing was written.
        TaskLost: the task was lost more often than Ray retries it.
        GenerationError: the render failed on the node (its message).
    """
    import json

    import ray

    from .rows import Row

    assert request.output is not None
    final = Path(request.output)
    row = Row(row=0, where="job", name=final.stem, request=request)
    ref = ray.remote(render_parcel).options(**task_options(request, gpus_per_row=gpus_per_row)).remote(pack(row))
    while not ray.wait([ref], timeout=poll_s)[0]:
        if should_stop is not None and should_stop():
            ray.cancel(ref, force=True)
            raise Canceled("canceled: the cluster task was stopped")
    try:
        delivery: Delivery = ray.get(ref)
    except ray.exceptions.RayError as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise TaskLost(f"lost on the cluster after {MAX_RETRIES + 1} tries: {type(err).__name__}: {first}") from None
    result = delivery.result
    if result.status != "succeeded":
        raise GenerationError(result.error or "the render failed on the cluster")
    files = {k: v for k, v in delivery.files.items() if not k.endswith(".thumb.png")}
    unpack(Delivery(result, files), final.parent)
    clip = final.parent / result.outputs[0]
    recipe = json.loads((clip.with_suffix(".json")).read_text(encoding="utf-8"))
    return clip, recipe, result.node


def wait_ready(address: str, nodes: int, timeout_s: float = 60.0) -> int:
    """Block until the cluster at ``address`` has ``nodes`` live nodes; return how many it has.

    Raises:
        InputError: fewer after ``timeout_s`` seconds.
    """
    import ray

    connect(address)
    deadline = time.monotonic() + timeout_s
    while True:
        alive = sum(1 for n in ray.nodes() if n.get("Alive"))
        if alive >= nodes:
            return alive
        if time.monotonic() > deadline:
            raise InputError(f"the Ray cluster at {address} has {alive} live node(s), not {nodes}")
        time.sleep(0.25)
