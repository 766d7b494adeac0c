"""``stillmotion batch``: many photos, one command, on this machine.

A batch is a list of :class:`Row`s, each one validated :class:`AnimateRequest`
with a name. Rows come from a manifest (:func:`read_manifest`: CSV or JSON
Lines with a column ``image`` and any request field as a column) or from a
folder of photos (:func:`read_folder`); command-line options are the
defaults for cells left empty. Every row is checked before anything
renders (the request, the photo's header, the engine); problems come back
as :class:`Problem`s, one per bad field, naming the manifest line.

:func:`run_batch` then renders the rows not yet done, through the plain
function :func:`run_row` (one row in, one :class:`RowResult` out, so that it
can run in another process or on another machine), and keeps
``DIR/report.csv``, ``DIR/report.json`` and ``DIR/index.html`` (a contact
sheet of first frames) up to date, every file written atomically.

Outputs in ``DIR``, per row ``NAME`` (the ``name`` column, else the photo's stem)::

    NAME.mp4, NAME.json               the clip and its recipe (as ``animate`` writes them)
    NAME_seedS.mp4, NAME_seedS.json   one per variation instead, with ``variations`` > 1
    NAME.thumb.png                    the first frame, for index.html

Resume: a row is done when its outputs exist and their recipes hold the
row's request (the seed aside when the row leaves it random); a done row is
not rendered again, a changed row is.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._atomic import write_bytes_atomic, write_json_atomic
from .errors import InputError
from .request import HOSTED_CONCURRENCY, OPTIONS, AnimateRequest, describe_error
from .rows import THUMB_WIDTH, RemoteOut, Row, RowResult, done_outputs, is_url, local_folder, run_row

__all__ = [
    "PHOTO_SUFFIXES",
    "Problem",
    "RemoteOut",
    "Row",
    "RowResult",
    "default_concurrency",
    "read_folder",
    "read_manifest",
    "run_batch",
    "run_row",
    "write_reports",
]

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
"""Files of a photos folder that become rows (any letter case)."""
LIST_SEPARATOR = ";"
"""Separates the items of a list field (``arrows``, ``input``, ``reference``) in a CSV cell."""

_KINDS = {o.name: o.kind for o in OPTIONS}
# Fields batch decides itself: every row's output is DIR/NAME.mp4.
_NOT_COLUMNS = ("output", "show_regions")
_SUFFIX = {"mp4": ".mp4", "h265": ".mp4", "webm": ".webm", "webp": ".webp", "gif": ".gif", "png": ""}
_REPORT_FIELDS = ("row", "name", "status", "outputs", "seconds", "score", "node", "error")


@dataclass(frozen=True)
class Problem:
    """One bad field of one row: its number, ``where`` (``"line 3"`` or a photo's name), the field, the message."""

    row: int
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# ---------------------------------------------------------------- rows


def read_manifest(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    defaults: Mapping[str, Any] | None = None,
    *,
    cluster: bool = False,
) -> tuple[list[Row], list[Problem]]:
    """Read and check every row of a CSV or JSON Lines manifest; render nothing.

    Args:
        path: ``.csv`` (a header line, then one row a line; list cells split on ``;``) or
            ``.jsonl`` / ``.ndjson`` (one JSON object a line; blank lines skipped).
        out_dir: the batch folder the outputs go to (need not exist yet), or an fsspec URL
            (``s3://bucket/path``; see :class:`RemoteOut`).
        defaults: request fields for cells left empty (the command-line options).
        cluster: the rows render on a Ray cluster: an engine is only checked to exist
            (whether it can run is the node's to say, with its own packages and keys).

    A ``recipe`` column (a recipe .json, a clip, or a saved NAME; see
    :func:`stillmotion.recipes.load`) gives the row every setting of that recipe but
    the seed; the row's own cells and ``defaults`` (the options given) win over it.

    Returns:
        The valid rows and the problems of the others, both in manifest order.
        Relative paths in a row are relative to the manifest's folder.

    Raises:
        InputError: the manifest cannot be read, has an unknown extension or no ``image`` column.
    """
    source = Path(path).expanduser()
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(f"manifest {str(path)!r}: use a .csv or .jsonl file, or a folder of photos")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(f"manifest {str(path)!r} cannot be read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise InputError(f"manifest {str(path)!r} is not UTF-8 text: save it as UTF-8") from None
    entries = list(_csv_entries(text, source) if suffix == ".csv" else _jsonl_entries(text))
    return _check_rows(entries, source.parent, local_folder(out_dir), defaults or {}, cluster=cluster)


def read_folder(
    folder: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    defaults: Mapping[str, Any] | None = None,
    *,
    cluster: bool = False,
) -> tuple[list[Row], list[Problem]]:
    """One row per photo in ``folder`` (:data:`PHOTO_SUFFIXES`, sorted by name), all with ``defaults``
    (``recipe`` among them: see :func:`read_manifest`).

    Raises:
        InputError: the folder holds no photo.
    """
    root = Path(folder).expanduser()
    photos = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise InputError(f"folder {str(folder)!r} holds no photo ({', '.join(PHOTO_SUFFIXES)})")
    entries = [(i, p.name, {"image": str(p.resolve())}) for i, p in enumerate(photos, 1)]
    return _check_rows(entries, root, local_folder(out_dir), defaults or {}, cluster=cluster)


def _csv_entries(text: str, source: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "image" not in header:
        raise InputError(f"manifest {str(source)!r} line 1: the header has no column 'image' (got {header})")
    reader.fieldnames = header
    for cells in reader:
        extra = cells.pop(None, None)  # cells past the header's columns
        row: dict[str, Any] = {}
        for key, value in cells.items():
            value = (value or "").strip()
            if value:
                kind = _KINDS.get(key)
                row[key] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()] if kind == "list" else value
        if extra and any((e or "").strip() for e in extra):
            row[" extra"] = extra
        if not row:  # a line of empty cells (",,," as spreadsheets export blank rows): no row at all
            continue
        yield reader.line_num, f"line {reader.line_num}", row


def _jsonl_entries(text: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            row = {" json": str(err)}
        if not isinstance(row, dict):
            row = {" json": f"a {type(row).__name__}, not an object"}
        yield number, f"line {number}", {k: v for k, v in row.items() if v not in (None, "", [])}


def _check_rows(
    entries: Sequence[tuple[int, str, dict[str, Any]]],
    base: Path,
    out_dir: Path,
    defaults: Mapping[str, Any],
    *,
    cluster: bool = False,
) -> tuple[list[Row], list[Problem]]:
    """Validate every entry into a :class:`Row` (the request, the photo's header, the engine, the name)."""
    from . import recipes
    from .engines.registry import find_spec
    from .image import check_image

    loaded: dict[str, tuple[dict[str, Any], str | None] | str] = {}  # recipe cell → (fields, notice) or error

    def recipe_settings(value: str) -> tuple[dict[str, Any], str | None] | str:
        if value not in loaded:
            path = Path(_under(base, value))
            try:
                loaded[value] = recipes.settings(recipes.load(path if path.exists() else value, what="recipe"))
            except InputError as err:
                loaded[value] = str(err)
        return loaded[value]

    rows: list[Row] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    engines: dict[str, str | None] = {}  # engine name → why it cannot run here, or None
    out_dir = out_dir.expanduser().resolve()
    for number, where, cells in entries:
        found: list[Problem] = []
        if " json" in cells:
            problems.append(Problem(number, where, "line", f"not a JSON object ({cells[' json']})"))
            continue
        if " extra" in cells:
            found.append(Problem(number, where, "line", f"more cells than the header has columns: {cells[' extra']}"))
        own = {k: v for k, v in cells.items() if not k.startswith(" ")}
        fields = {**defaults, **own}
        notice = None
        if fields.get("recipe"):
            got = recipe_settings(str(fields["recipe"]))
            if isinstance(got, str):
                found.append(Problem(number, where, "recipe", got))
            else:
                given = {**{k: v for k, v in defaults.items() if k != "recipe"}, **own}
                fields = recipes.merge_options(got[0], given)
                notice = got[1]
        fields.pop("recipe", None)
        name = str(fields.pop("name", "") or Path(str(fields.get("image", ""))).stem).strip()
        for key in _NOT_COLUMNS:
            if key in cells:
                found.append(
                    Problem(number, where, key, f"column {key!r}: batch names every output DIR/NAME; use 'name'")
                )
            fields.pop(key, None)
        if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
            found.append(
                Problem(number, where, "name", f"name {name!r} is not a plain file name: use letters, digits, - or _")
            )
        elif name in names:
            found.append(
                Problem(number, where, "name", f"name {name!r} is also {names[name]}'s: give each row its own name")
            )
        else:
            names[name] = where
        for key, value in list(fields.items()):  # paths in the manifest are relative to it
            if key not in cells or _KINDS.get(key) not in ("path", "list") or key in ("arrows", "input"):
                continue
            fields[key] = [_under(base, v) for v in value] if isinstance(value, list) else _under(base, value)
        fmt = str(fields.get("format") or "mp4")
        fields["output"] = out_dir / f"{name}{_SUFFIX.get(fmt, '.mp4')}"
        request = None
        try:
            request = AnimateRequest(**fields)
        except ValidationError as err:
            for e in err.errors():
                loc = e.get("loc") or ("request",)
                found.append(Problem(number, where, str(loc[0]), describe_error(e)))
        except InputError as err:
            found.append(Problem(number, where, "request", str(err)))
        if request is not None:
            try:
                check_image(request.image)
            except InputError as err:
                found.append(Problem(number, where, "image", str(err)))
            if request.engine not in engines:
                spec = find_spec(request.engine)
                verdict = spec.availability() if spec is not None and not cluster else None
                engines[request.engine] = (
                    f"--engine {request.engine!r} is unknown (see `stillmotion engines`)"
                    if spec is None
                    else None
                    if verdict is None or verdict.runnable
                    else f"engine {spec.name!r} cannot run here: {verdict.reason}; {verdict.fix}"
                )
            if engines[request.engine]:
                found.append(Problem(number, where, "engine", str(engines[request.engine])))
        if found or request is None:
            problems += found
        else:
            rows.append(Row(row=number, where=where, name=name, request=request, notice=notice))
    return rows, problems


def _under(base: Path, value: Any) -> str:
    p = Path(str(value)).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


# ---------------------------------------------------------------- the batch


RowCallback = Callable[[RowResult, int, int], None]
"""``on_row(result, done, total)``: called in the main process as each row finishes."""

_POLL_S = 0.5


def run_batch(
    rows: Sequence[Row],
    out_dir: str | os.PathLike[str],
    *,
    concurrency: int | None = None,
    hosted_concurrency: int = HOSTED_CONCURRENCY,
    ray_address: str | None = None,
    gpus_per_row: float = 1.0,
    skipped: Sequence[Problem] = (),
    on_row: RowCallback | None = None,
    source: str = "",
) -> list[RowResult]:
    """Render every row not yet done and keep the reports up to date.

    Rows run in two lanes: hosted rows (which only wait on a provider) at most
    ``hosted_concurrency`` at once, in threads; the others ``concurrency`` at once,
    each in its own process (1: one at a time, in a thread of this process). With
    ``ray_address`` every row is a Ray task instead (:mod:`stillmotion.cluster`):
    Ray places it by its resources and retries it when its node dies; the photo
    travels with it and its outputs come back here. At most twice the cluster's
    CPUs are in flight (plus the hosted lane), so a long batch does not ship every
    photo at once.

    Args:
        rows: validated rows (:func:`read_manifest`, :func:`read_folder`).
        out_dir: the batch folder, created when missing; or an fsspec URL (``s3://bucket/path``;
            see :class:`RemoteOut`), where a cluster's nodes upload their rows themselves.
        concurrency: local rows rendered at once (ignored with ``ray_address``); None:
            :func:`default_concurrency`.
        hosted_concurrency: hosted rows in flight at once (locally or on the cluster), ≥ 1.
        ray_address: a Ray cluster (``HOST:PORT``, ``auto``), or None to render here.
        gpus_per_row: GPUs a diffusion row asks Ray for (0: any CPU node).
        skipped: invalid rows left out (``--skip-invalid``); reported as ``skipped``.
        on_row: progress callback, see :data:`RowCallback`.
        source: the manifest or folder, for the reports.

    Returns:
        One result per row, in row order (skipped rows included).

    Raises:
        InputError: ``concurrency`` or ``hosted_concurrency`` below 1; no cluster at ``ray_address``.
        EngineUnavailable: ``ray_address`` given and Ray not installed.

    On Ctrl-C the rows finished so far are in the reports and the interrupt goes on;
    a row being rendered leaves no partial file (local rows stop between frames,
    cluster tasks are canceled: they write nothing here until they finish).
    """
    if concurrency is not None and concurrency < 1:
        raise InputError(f"--concurrency {concurrency}: use 1 or more")
    if hosted_concurrency < 1:
        raise InputError(f"--hosted-concurrency {hosted_concurrency}: use 1 or more")
    remote = RemoteOut(str(out_dir)) if is_url(out_dir) else None
    folder = remote.staging if remote is not None else Path(out_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[int, RowResult] = {}
    for p in skipped:
        if p.row not in results:
            results[p.row] = RowResult(p.row, "", "skipped", error=str(p))
    total = len(rows)
    last_write = 0.0

    def reports() -> None:
        write_reports(folder, _ordered(results), source=source)
        if remote is not None:
            remote.put([folder / "report.json", folder / "report.csv", folder / "index.html"])

    def finished(result: RowResult) -> None:
        nonlocal last_write
        if remote is not None and result.status == "succeeded" and not result.resumed:
            remote.publish(result)
        results[result.row] = result
        if on_row is not None:
            on_row(result, sum(1 for r in results.values() if r.status != "skipped"), total)
        if time.monotonic() - last_write > 2.0:  # keep the reports current without rewriting them per row
            reports()
            last_write = time.monotonic()

    # Rows already done are reported at once, here: neither a process nor a node is needed.
    todo: list[Row] = []
    for row in rows:
        done = done_outputs(row.request, remote)
        if done is None:
            todo.append(row)
        elif remote is not None:
            finished(_remote_result(row, done, remote))
        else:
            finished(run_row(row, folder))
    if not todo:
        reports()
        return _ordered(results)
    runner: _Runner = (
        _RayRunner(ray_address, folder, gpus_per_row, remote.url if remote is not None else None)
        if ray_address is not None
        else _LocalRunner(folder, concurrency or default_concurrency(len(todo)), hosted_concurrency)
    )
    hosted = [r for r in todo if _is_hosted(r)]
    lanes = {"hosted": hosted, "local": [r for r in todo if not _is_hosted(r)]}
    caps = {"hosted": hosted_concurrency, "local": runner.capacity(concurrency or default_concurrency(len(todo)))}
    try:
        runner.run(lanes, caps, finished)
    finally:
        runner.close()
        reports()
    return _ordered(results)


def _remote_result(row: Row, done: tuple[list[Path], list[dict[str, Any]]], remote: RemoteOut) -> RowResult:
    """The result of a row already done at an fsspec URL (nothing downloaded)."""
    paths, recipes = done
    score = (recipes[0].get("evaluation") or {}).get("score")
    thumb = f"{row.name}.thumb.png"
    return RowResult(
        row=row.row,
        name=row.name,
        status="succeeded",
        outputs=[p.name for p in paths],
        seconds=float((recipes[0].get("timings_s") or {}).get("total") or 0.0),
        score=None if score is None else float(score),
        node=str(recipes[0].get("node") or ""),
        resumed=True,
        thumbnail=thumb if remote.exists(thumb) else None,
    )


def _is_hosted(row: Row) -> bool:
    from .engines.registry import find_spec

    spec = find_spec(row.request.engine)
    return spec is not None and spec.runs_on == "hosted"


class _Runner:
    """Keeps each lane's rows in flight up to its cap and hands each result to ``finished``."""

    def capacity(self, concurrency: int) -> int:
        return concurrency

    def submit(self, row: Row, lane: str) -> Any:
        raise NotImplementedError

    def wait(self, handles: list[Any]) -> list[tuple[Any, RowResult]]:
        raise NotImplementedError

    def cancel(self, handles: list[Any]) -> list[RowResult]:
        """Stop the rows in flight; return those that finished all the same (their clips are written)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def run(
        self, lanes: Mapping[str, list[Row]], caps: Mapping[str, int], finished: Callable[[RowResult], None]
    ) -> None:
        queues = {lane: list(rows) for lane, rows in lanes.items()}
        flying: dict[Any, str] = {}  # handle → lane
        try:
            while any(queues.values()) or flying:
                for lane, queue in queues.items():
                    while queue and sum(1 for v in flying.values() if v == lane) < caps[lane]:
                        flying[self.submit(queue.pop(0), lane)] = lane
                for handle, result in self.wait(list(flying)):
                    del flying[handle]
                    finished(result)
        except BaseException:
            for result in self.cancel(list(flying)):
                finished(result)
            raise


class _LocalRunner(_Runner):
    """Local rows in processes (``concurrency`` > 1) or one thread; hosted rows in threads."""

    def __init__(self, folder: Path, concurrency: int, hosted_concurrency: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.folder = folder
        # spawn, not fork: the parent holds threads (the progress bar, PyAV), and a worker is
        # the same plain run_row a cluster task runs. One stop event for threads and processes.
        context = get_context("spawn")
        self.stop = context.Event()
        self.pools: dict[str, Any] = {
            "local": ProcessPoolExecutor(
                max_workers=concurrency, mp_context=context, initializer=_init_worker, initargs=(self.stop,)
            )
            if concurrency > 1
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="stillmotion-row"),
            "hosted": ThreadPoolExecutor(max_workers=hosted_concurrency, thread_name_prefix="stillmotion-hosted"),
        }
        self.in_process = concurrency == 1

    def submit(self, row: Row, lane: str) -> Future[RowResult]:
        if lane == "local" and not self.in_process:
            return self.pools[lane].submit(_run_row_in_worker, row, self.folder)
        return self.pools[lane].submit(run_row, row, self.folder, self.stop.is_set)

    def wait(self, handles: list[Any]) -> list[tuple[Any, RowResult]]:
        done, _ = wait(handles, timeout=_POLL_S, return_when=FIRST_COMPLETED)
        return [(f, f.result()) for f in done]

    def cancel(self, handles: list[Any]) -> list[RowResult]:
        self.stop.set()  # threads and worker processes stop between frames and delete their partial clip
        for future in handles:
            future.cancel()
        wait(handles)
        return [f.result() for f in handles if not f.cancelled() and f.exception() is None]

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)


_worker_stop: Any = None  # in a worker process: the batch's stop event


def _init_worker(stop: Any) -> None:
    """Worker-process start: Ctrl-C is the batch process's to handle (it sets ``stop``)."""
    import signal

    global _worker_stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_stop = stop


def _run_row_in_worker(row: Row, folder: Path) -> RowResult:
    return run_row(row, folder, _worker_stop.is_set if _worker_stop is not None else None)


def default_concurrency(rows: int) -> int:
    """Local rows at once when none is given: 2 on a machine with 2 or more cores, 1 for a batch
    of 1–2 rows (a worker process's start-up costs more than it saves).

    Measured by ``benchmarks/bench_batch.py`` (BENCHMARKS.md): on 2 cores, 24 rows of 3 s 480p
    clips ran at 45 clips/min with 2 processes and 34 with 1, although x264 threads its encode.
    """
    return 1 if rows <= 2 else max(1, min(2, os.cpu_count() or 1))


class _RayRunner(_Runner):
    """Each row a Ray task (:func:`stillmotion.cluster.render_parcel`); outputs written here."""

    def __init__(self, address: str, folder: Path, gpus_per_row: float, destination: str | None) -> None:
        import ray

        from .cluster import connect

        connect(address)
        self.ray = ray
        self.folder = folder
        self.gpus_per_row = gpus_per_row
        self.destination = destination
        self.rows: dict[Any, Row] = {}

    def capacity(self, concurrency: int) -> int:
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        return max(2, 2 * cpus)

    def submit(self, row: Row, lane: str) -> Any:
        from .cluster import pack, render_parcel, task_options

        options = task_options(row.request, gpus_per_row=self.gpus_per_row)
        ref = self.ray.remote(render_parcel).options(**options).remote(pack(row, destination=self.destination))
        self.rows[ref] = row
        return ref

    def wait(self, handles: list[Any]) -> list[tuple[Any, RowResult]]:
        from .cluster import MAX_RETRIES, unpack

        ready, _ = self.ray.wait(handles, num_returns=1, timeout=_POLL_S)
        out = []
        for ref in ready:
            row = self.rows.pop(ref)
            try:
                result = unpack(self.ray.get(ref), self.folder)
            except self.ray.exceptions.RayError as err:  # lost more often than Ray retries it
                first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                result = RowResult(
                    row.row,
                    row.name,
                    "failed",
                    error=f"lost on the cluster after {MAX_RETRIES + 1} tries: {type(err).__name__}: {first}",
                )
            out.append((ref, result))
        return out

    def cancel(self, handles: list[Any]) -> list[RowResult]:
        for ref in handles:  # nothing of theirs is written here until unpack: nothing to clean up
            self.ray.cancel(ref, force=True)
        return []

    def close(self) -> None:
        self.ray.shutdown()


def _ordered(results: Mapping[int, RowResult]) -> list[RowResult]:
    return [results[k] for k in sorted(results)]


def write_reports(folder: Path, results: Sequence[RowResult], *, source: str = "") -> None:
    """Write ``report.csv``, ``report.json`` and ``index.html`` in ``folder``, each atomically."""
    counts = {s: sum(1 for r in results if r.status == s) for s in ("succeeded", "failed", "skipped")}
    write_json_atomic(
        folder / "report.json", {"source": source, "summary": counts, "rows": [r.to_dict() for r in results]}
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_REPORT_FIELDS)
    for r in results:
        score = "" if r.score is None else f"{r.score:.4f}"
        writer.writerow(
            [r.row, r.name, r.status, LIST_SEPARATOR.join(r.outputs), f"{r.seconds:.3f}", score, r.node, r.error or ""]
        )
    write_bytes_atomic(folder / "report.csv", buffer.getvalue().encode("utf-8"), "CSV")
    write_bytes_atomic(folder / "index.html", _index_html(results, counts).encode("utf-8"), "HTML")


def _index_html(results: Sequence[RowResult], counts: Mapping[str, int]) -> str:
    cards = []
    for r in results:
        e = html.escape
        thumb = f'<img src="{e(r.thumbnail)}" alt="{e(r.name)}">' if r.thumbnail else '<div class="none">no frame</div>'
        link = f'<a href="{e(r.outputs[0])}">{thumb}</a>' if r.outputs else thumb
        score = "" if r.score is None else f" · score {r.score:.2f}"
        more = " ".join(f'<a href="{e(o)}">{e(Path(o).name)}</a>' for o in r.outputs[1:])
        error = f'<p class="error">{e(r.error)}</p>' if r.error else ""
        cards.append(
            f'<figure class="{e(r.status)}">{link}<figcaption><b>{e(r.name or f"row {r.row}")}</b> '
            f"{e(r.status)}{score} · {r.seconds:.1f} s {more}{error}</figcaption></figure>"
        )
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>stillmotion batch</title>\n'
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em}main{display:flex;flex-wrap:wrap;gap:1em}"
        f"figure{{margin:0;width:{THUMB_WIDTH}px}}img{{width:100%;display:block}}.failed img,.none{{opacity:.4}}"
        ".none{height:8em;background:#ddd}.error{color:#b00020;font-size:.85em}.failed b{color:#b00020}</style>"
        f"</head><body><h1>stillmotion batch</h1><p>{html.escape(summary)}</p><main>\n"
        + "\n".join(cards)
        + "\n</main></body></html>\n"
    )
