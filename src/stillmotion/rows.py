"""One batch row: what it is (:class:`Row`), what became of it (:class:`RowResult`), rendering
it (:func:`run_row`), whether it is already done, and where its files go (:class:`RemoteOut`).

The layer under :mod:`stillmotion.batch` (manifests, lanes, reports) and
:mod:`stillmotion.cluster` (a row as a Ray task): both import it, it imports neither.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._atomic import write_png_atomic
from .errors import Canceled, EngineUnavailable, StillmotionError
from .request import AnimateRequest

__all__ = [
    "THUMB_WIDTH",
    "RemoteOut",
    "Row",
    "RowResult",
    "done_outputs",
    "is_url",
    "local_folder",
    "node_name",
    "restore_paths",
    "run_row",
]

THUMB_WIDTH = 240
"""Width of the contact sheet's thumbnails, in pixels."""


def node_name() -> str:
    """``HOST`` here, ``HOST/NODE_ID`` (first 8 hex digits) inside a Ray task: several nodes may share a host."""
    host = socket.gethostname()
    try:
        import ray

        if ray.is_initialized():
            return f"{host}/{ray.get_runtime_context().get_node_id()[:8]}"
    except ImportError:
        pass
    return host


@dataclass(frozen=True)
class Row:
    """One clip to make: ``where`` it came from (``"line 3"``), its ``name`` and the validated request.

    ``request.output`` is ``DIR/NAME.mp4`` (or the format's extension). ``notice``: what the
    row's recipe could not carry over (see :func:`stillmotion.recipes.settings`), or None.
    """

    row: int
    where: str
    name: str
    request: AnimateRequest
    notice: str | None = None


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


# ---------------------------------------------------------------- one row


def run_row(row: Row, out_dir: str | os.PathLike[str], should_stop: Callable[[], bool] | None = None) -> RowResult:
    """Render one row (or find it already done); never raises for a failed render.

    A plain function of picklable values so that it can run in a worker process or
    a Ray task (:func:`stillmotion.cluster.render_parcel`).

    Args:
        row: the validated row; its request names the output in ``out_dir``.
        out_dir: the batch folder (for the thumbnail and the relative output paths).
        should_stop: polled between frames (a row run in a thread); True cancels it.

    Returns:
        ``succeeded`` (``resumed`` when its outputs were already there) or ``failed``
        with the error's first line.

    Raises:
        Canceled: ``should_stop()`` returned True; ``api.run`` deleted the partial clip.
        KeyboardInterrupt: not caught; ``api.run`` deleted the partial clip.
    """
    from .api import run

    folder = Path(out_dir)
    node = node_name()
    done = done_outputs(row.request)
    if done is not None:
        paths, recipes = done
        seconds = float((recipes[0].get("timings_s") or {}).get("total") or 0.0)
        return _result(row, folder, paths, recipes[0], seconds, node, resumed=True)
    t0 = time.perf_counter()
    try:
        clip = run(row.request, should_stop=should_stop)
    except Canceled:
        raise
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


def done_outputs(
    request: AnimateRequest, remote: RemoteOut | None = None
) -> tuple[list[Path], list[dict[str, Any]]] | None:
    """The outputs of ``request`` already written with a matching recipe, or None when it must render.

    The recipe's ``request`` must equal this one, field by field (``output`` aside: the
    name is the row's); the seed is compared only when the row sets it (a random seed is
    whatever the earlier run drew). With ``remote`` the outputs are looked for there (their
    sidecars read), and the paths returned are the names in the staging folder.
    """
    from .recipe import read

    assert request.output is not None  # set by _check_rows for every row
    out = Path(request.output)
    want = request.model_dump(mode="json")
    want.pop("seed")
    want.pop("output")
    if request.variations == 1:
        candidates = [out]
    elif request.seed is not None:
        candidates = [
            out.with_name(f"{out.stem}_seed{(request.seed + i) % 2**32}{out.suffix}") for i in range(request.variations)
        ]
    elif remote is not None:
        candidates = [out.with_name(n) for n in remote.glob(f"{out.stem}_seed*{out.suffix}")]
    else:
        candidates = sorted(out.parent.glob(f"{out.stem}_seed*{out.suffix}"))
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in candidates:
        if remote is not None:
            recipe = remote.recipe(path.name)
            if not recipe:
                continue
        elif not path.exists():
            continue
        else:
            recipe = read(path)
        got = dict(recipe.get("request") or {})
        seed = got.pop("seed", None)
        got.pop("output", None)
        if got == want and (request.seed is None or request.variations > 1 or seed == request.seed):
            found.append((path, recipe))
    if len(found) < request.variations:
        return None
    found = found[: request.variations]
    return [p for p, _ in found], [r for _, r in found]


# ---------------------------------------------------------------- an fsspec URL as --out


def is_url(out: str | os.PathLike[str]) -> bool:
    return "://" in str(out)


def local_folder(out: str | os.PathLike[str]) -> Path:
    """The folder rows render into: ``out`` itself, or the staging folder of a URL."""
    return RemoteOut(str(out)).staging if is_url(out) else Path(out)


class RemoteOut:
    """An fsspec URL (``s3://bucket/path``, ``gs://…``, ``file:///…``) as the batch folder.

    Rows render into a local staging folder (``$TMPDIR/stillmotion-out-<hash of the URL>``);
    each finished row's files — clips, sidecars, thumbnail — are uploaded and removed from
    it, their recipes naming the URL (``request.output`` = ``URL/NAME.mp4``). On a Ray
    cluster the node uploads them itself. Resume reads the sidecars at the URL.
    The filesystem's package and credentials are the user's (``pip install s3fs``;
    ``AWS_PROFILE`` …), as for any fsspec URL.

    Raises:
        EngineUnavailable: fsspec, or the package for the URL's scheme, is not installed.
    """

    def __init__(self, url: str) -> None:
        import hashlib
        import tempfile

        self.url = url.rstrip("/")
        digest = hashlib.sha1(self.url.encode()).hexdigest()[:12]
        self.staging = Path(tempfile.gettempdir()) / f"stillmotion-out-{digest}"
        self._fs: Any = None
        self._root = ""

    def _open(self) -> tuple[Any, str]:
        if self._fs is None:
            try:
                from fsspec.core import url_to_fs
            except ImportError:
                raise EngineUnavailable(f"--out {self.url}: a URL needs fsspec: pip install fsspec") from None
            try:
                self._fs, self._root = url_to_fs(self.url)
            except ImportError as err:
                raise EngineUnavailable(f"--out {self.url}: {err}") from None
            self._fs.makedirs(self._root, exist_ok=True)
        return self._fs, self._root

    def glob(self, pattern: str) -> list[str]:
        """Names (not paths) at the URL matching ``pattern``, sorted."""
        fs, root = self._open()
        return sorted(p.rsplit("/", 1)[-1] for p in fs.glob(f"{root}/{pattern}"))

    def recipe(self, name: str) -> dict[str, Any]:
        """The sidecar recipe of the output ``name`` at the URL, or ``{}``."""
        fs, root = self._open()
        sidecar = f"{root}/{Path(name).with_suffix('.json').name}"
        try:
            loaded = json.loads(fs.cat_file(sidecar))
        except (FileNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) and fs.exists(f"{root}/{name}") else {}

    def exists(self, name: str) -> bool:
        fs, root = self._open()
        return bool(fs.exists(f"{root}/{name}"))

    def put(self, files: Sequence[Path]) -> None:
        """Upload ``files`` (each under its own name) and remove them here."""
        fs, root = self._open()
        for path in files:
            fs.put_file(str(path), f"{root}/{path.name}")
        for path in files:
            path.unlink(missing_ok=True)

    def publish(self, result: RowResult) -> None:
        """Upload a row rendered here: its recipes rewritten to name the URL, then every file of it."""
        clips = [self.staging / o for o in result.outputs if (self.staging / o).exists()]
        if not clips:
            return  # rendered on a node, which uploaded it
        restore_paths(clips, {}, str(self.staging), self.url)
        files = [*clips, *(c.with_suffix(".json") for c in clips)]
        if result.thumbnail:
            files.append(self.staging / result.thumbnail)
        self.put([f for f in files if f.exists()])


def restore_paths(clips: Sequence[Path], local: Mapping[str, str], here: str, there: str) -> None:
    """Rewrite the recipes of ``clips`` (sidecar, and MP4 tags by a stream copy) with the requester's
    paths: a path in ``local`` becomes its value, one under the folder ``here`` moves under ``there``
    (a folder or a URL)."""
    from ._atomic import write_json_atomic
    from .recipe import embed, read, sidecar_path
    from .video import remux

    def back(node: Any) -> Any:
        if isinstance(node, str):
            if node in local:
                return local[node]
            if node.startswith(here + os.sep):
                rest = node[len(here) + 1 :]
                return f"{there}/{rest}" if "://" in there else str(Path(there) / rest)
            return node
        if isinstance(node, list):
            return [back(v) for v in node]
        if isinstance(node, dict):
            return {k: back(v) for k, v in node.items()}
        return node

    for clip in clips:
        recipe = read(clip)
        if not recipe:
            continue
        restored = back(recipe)
        if clip.suffix.lower() == ".mp4":
            remux(clip, clip, metadata=embed(restored))
        sidecar = sidecar_path(clip)
        if sidecar.exists():
            write_json_atomic(sidecar, restored)
