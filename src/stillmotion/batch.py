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
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._atomic import write_bytes_atomic, write_json_atomic, write_png_atomic
from .errors import InputError, StillmotionError
from .request import OPTIONS, AnimateRequest, describe_error

__all__ = [
    "PHOTO_SUFFIXES",
    "Problem",
    "Row",
    "RowResult",
    "read_folder",
    "read_manifest",
    "run_batch",
    "run_row",
    "write_reports",
]

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
"""Files of a photos folder that become rows (any letter case)."""
THUMB_WIDTH = 240
"""Width of the contact sheet's thumbnails, in pixels."""
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


@dataclass(frozen=True)
class Row:
    """One clip to make: ``where`` it came from (``"line 3"``), its ``name`` and the validated request.

    ``request.output`` is ``DIR/NAME.mp4`` (or the format's extension).
    """

    row: int
    where: str
    name: str
    request: AnimateRequest


@dataclass
class RowResult:
    """What became of one row.

    Attributes:
        row: the manifest line (or the photo's number in a folder).
        name: the row's name.
        status: ``succeeded``, ``failed`` or ``skipped`` (an invalid row, with ``--skip-invalid``).
        outputs: the clips written, relative to the batch folder.
        seconds: render time in seconds (the recorded one for a row already done).
        score: the evaluation score (0..1) when the recipe has one (``pick="best"``), else None.
        node: the host name of the machine that rendered it.
        error: the failure, one line, or None.
        resumed: True when the row was already done and not rendered again.
        thumbnail: the first-frame PNG, relative to the batch folder, or None.
    """

    row: int
    name: str
    status: str
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    score: float | None = None
    node: str = ""
    error: str | None = None
    resumed: bool = False
    thumbnail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- rows


def read_manifest(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None
) -> tuple[list[Row], list[Problem]]:
    """Read and check every row of a CSV or JSON Lines manifest; render nothing.

    Args:
        path: ``.csv`` (a header line, then one row a line; list cells split on ``;``) or
            ``.jsonl`` / ``.ndjson`` (one JSON object a line; blank lines skipped).
        out_dir: the batch folder the outputs go to (need not exist yet).
        defaults: request fields for cells left empty (the command-line options).

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
    return _check_rows(entries, source.parent, Path(out_dir), defaults or {})


def read_folder(
    folder: str | os.PathLike[str], out_dir: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None
) -> tuple[list[Row], list[Problem]]:
    """One row per photo in ``folder`` (:data:`PHOTO_SUFFIXES`, sorted by name), all with ``defaults``.

    Raises:
        InputError: the folder holds no photo.
    """
    root = Path(folder).expanduser()
    photos = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise InputError(f"folder {str(folder)!r} holds no photo ({', '.join(PHOTO_SUFFIXES)})")
    entries = [(i, p.name, {"image": str(p.resolve())}) for i, p in enumerate(photos, 1)]
    return _check_rows(entries, root, Path(out_dir), defaults or {})


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
        if extra:
            row[" extra"] = extra
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
    entries: Sequence[tuple[int, str, dict[str, Any]]], base: Path, out_dir: Path, defaults: Mapping[str, Any]
) -> tuple[list[Row], list[Problem]]:
    """Validate every entry into a :class:`Row` (the request, the photo's header, the engine, the name)."""
    from .engines.registry import find_spec
    from .image import check_image

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
        fields = {**defaults, **{k: v for k, v in cells.items() if not k.startswith(" ")}}
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
                verdict = spec.availability() if spec is not None else None
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
            rows.append(Row(row=number, where=where, name=name, request=request))
    return rows, problems


def _under(base: Path, value: Any) -> str:
    p = Path(str(value)).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


# ---------------------------------------------------------------- one row


def run_row(row: Row, out_dir: str | os.PathLike[str]) -> RowResult:
    """Render one row (or find it already done); never raises for a failed render.

    A plain function of picklable values so that it can run in a worker process.

    Args:
        row: the validated row; its request names the output in ``out_dir``.
        out_dir: the batch folder (for the thumbnail and the relative output paths).

    Returns:
        ``succeeded`` (``resumed`` when its outputs were already there) or ``failed``
        with the error's first line. Ctrl-C is not caught: ``api.run`` deletes the
        partial clip and the interrupt goes on.
    """
    from .api import run

    folder = Path(out_dir)
    node = socket.gethostname()
    done = _done_outputs(row.request)
    if done is not None:
        paths, recipes = done
        seconds = float((recipes[0].get("timings_s") or {}).get("total") or 0.0)
        return _result(row, folder, paths, recipes[0], seconds, node, resumed=True)
    t0 = time.perf_counter()
    try:
        clip = run(row.request)
    except StillmotionError as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        return RowResult(row.row, row.name, "failed", seconds=_secs(t0), node=node, error=message)
    except Exception as err:  # a bug in one engine must not end the batch: the row fails, with the reason
        return RowResult(
            row.row, row.name, "failed", seconds=_secs(t0), node=node, error=f"{type(err).__name__}: {err}"
        )
    clips = clip.variations or [clip]
    return _result(row, folder, [c.path for c in clips], clip.recipe, _secs(t0), node, resumed=False)


def _secs(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


def _result(
    row: Row, folder: Path, paths: list[Path], recipe: Mapping[str, Any], seconds: float, node: str, *, resumed: bool
) -> RowResult:
    evaluation = recipe.get("evaluation") or {}
    score = evaluation.get("score")
    thumb = folder / f"{row.name}.thumb.png"
    if not thumb.exists():
        thumb = _thumbnail(paths[0], thumb)
    return RowResult(
        row=row.row,
        name=row.name,
        status="succeeded",
        outputs=[_rel(p, folder) for p in paths],
        seconds=seconds,
        score=None if score is None else float(score),
        node=node,
        resumed=resumed,
        thumbnail=None if not thumb.exists() else _rel(thumb, folder),
    )


def _rel(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def _thumbnail(clip: Path, target: Path) -> Path:
    """The clip's first frame, :data:`THUMB_WIDTH` px wide, as a PNG; a clip that cannot be read gets none."""
    import cv2

    from .video import iter_frames

    source = clip if clip.suffix else sorted(clip.glob("*.png"))[0] if clip.is_dir() else clip
    try:
        frames = iter_frames(source)
        first = next(frames)
        frames.close()
    except (StillmotionError, StopIteration, IndexError, OSError):
        return target
    h, w = first.shape[:2]
    small = cv2.resize(first, (THUMB_WIDTH, max(2, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return write_png_atomic(target, small)


def _done_outputs(request: AnimateRequest) -> tuple[list[Path], list[dict[str, Any]]] | None:
    """The outputs of ``request`` already on disk with a matching recipe, or None when it must render.

    The recipe's ``request`` must equal this one, field by field; the seed is compared
    only when the row sets it (a random seed is whatever the earlier run drew).
    """
    from .recipe import read

    assert request.output is not None  # set by _check_rows for every row
    out = Path(request.output)
    want = request.model_dump(mode="json")
    want.pop("seed")
    if request.variations == 1:
        candidates = [out]
    elif request.seed is not None:
        candidates = [
            out.with_name(f"{out.stem}_seed{(request.seed + i) % 2**32}{out.suffix}") for i in range(request.variations)
        ]
    else:
        candidates = sorted(out.parent.glob(f"{out.stem}_seed*{out.suffix}"))
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in candidates:
        if not path.exists():
            continue
        recipe = read(path)
        got = dict(recipe.get("request") or {})
        seed = got.pop("seed", None)
        if got == want and (request.seed is None or request.variations > 1 or seed == request.seed):
            found.append((path, recipe))
    if len(found) < request.variations:
        return None
    found = found[: request.variations]
    return [p for p, _ in found], [r for _, r in found]


# ---------------------------------------------------------------- the batch


RowCallback = Callable[[RowResult, int, int], None]
"""``on_row(result, done, total)``: called in the main process as each row finishes."""


def run_batch(
    rows: Sequence[Row],
    out_dir: str | os.PathLike[str],
    *,
    concurrency: int = 1,
    skipped: Sequence[Problem] = (),
    on_row: RowCallback | None = None,
    source: str = "",
) -> list[RowResult]:
    """Render every row not yet done and keep the reports up to date.

    Args:
        rows: validated rows (:func:`read_manifest`, :func:`read_folder`).
        out_dir: the batch folder; created when missing.
        concurrency: rows rendered at once, each in its own process (1: in this process).
        skipped: invalid rows left out (``--skip-invalid``); reported as ``skipped``.
        on_row: progress callback, see :data:`RowCallback`.
        source: the manifest or folder, for the reports.

    Returns:
        One result per row, in row order (skipped rows included).

    On Ctrl-C the rows finished so far are in the reports and the interrupt goes on;
    the row being rendered leaves no partial file.
    """
    if concurrency < 1:
        raise InputError(f"--concurrency {concurrency}: use 1 or more")
    folder = Path(out_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[int, RowResult] = {}
    for p in skipped:
        if p.row not in results:
            results[p.row] = RowResult(p.row, "", "skipped", error=str(p))
    total = len(rows)
    last_write = 0.0

    def finished(result: RowResult) -> None:
        nonlocal last_write
        results[result.row] = result
        if on_row is not None:
            on_row(result, sum(1 for r in results.values() if r.status != "skipped"), total)
        if time.monotonic() - last_write > 2.0:  # keep the reports current without rewriting them per row
            write_reports(folder, _ordered(results), source=source)
            last_write = time.monotonic()

    try:
        if concurrency == 1 or len(rows) <= 1:
            for row in rows:
                finished(run_row(row, folder))
        else:
            # spawn, not fork: the parent may hold threads (the progress bar, PyAV), and a
            # worker is the same plain run_row a cluster task will be.
            with ProcessPoolExecutor(max_workers=concurrency, mp_context=get_context("spawn")) as pool:
                pending: set[Future[RowResult]] = {pool.submit(run_row, row, folder) for row in rows}
                try:
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            finished(future.result())
                except BaseException:
                    for future in pending:
                        future.cancel()
                    raise
    finally:
        write_reports(folder, _ordered(results), source=source)
    return _ordered(results)


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
