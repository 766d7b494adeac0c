"""Region masks on real photos: sky, water, vegetation, hair, steam.

Every kind is covered by photos shipped in packages (scikit-image,
scikit-learn) and in ``examples/``; the development photos in
``../shared/photos`` add harder cases (sea behind grass, a road under
storm clouds, a close-up of water) and are skipped where that folder is
missing (CI). Boxes below are fractions of the frame, found by looking at
the photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stillmotion.scene import Scene
from stillmotion.scene.depth import estimate_depth
from stillmotion.scene.regions import REGION_KINDS, REGION_SIDE, detect_regions

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "photos"

ASTRONAUT_FACE = (177, 67, 93, 93)
"""The face box detect_faces finds on skimage.data.astronaut() (x, y, w, h)."""


def _package_photo(name: str) -> np.ndarray:
    import skimage.data as data

    if name == "china":
        from sklearn.datasets import load_sample_image

        return load_sample_image("china.jpg")
    return getattr(data, name)()


def _shared_photo(name: str) -> np.ndarray:
    path = SHARED / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"development photos not found at {SHARED}")
    return np.asarray(Image.open(path).convert("RGB"))


_MASKS: dict[str, dict[str, np.ndarray]] = {}


def masks_of(name: str) -> dict[str, np.ndarray]:
    """Masks of a package photo or a shared photo, computed once per test run."""
    if name not in _MASKS:
        if name in ("astronaut", "coffee", "chelsea", "china"):
            rgb = _package_photo(name)
        else:
            rgb = _shared_photo(name)
        faces = [ASTRONAUT_FACE] if name == "astronaut" else None
        _MASKS[name] = detect_regions(rgb, faces=faces)
    return _MASKS[name]


def box(mask: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> float:
    """Mean of ``mask`` over a box given as fractions of the frame."""
    h, w = mask.shape
    return float(mask[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].mean())


def centroid(mask: np.ndarray) -> tuple[float, float]:
    """(x, y) centre of mass of ``mask`` as fractions of the frame."""
    h, w = mask.shape
    total = float(mask.sum())
    ys, xs = np.mgrid[0:h, 0:w]
    return float((mask * xs).sum()) / total / w, float((mask * ys).sum()) / total / h


# ---------------------------------------------------------------- contract


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "china"])
def test_every_kind_float32_unit_range_same_shape(name):
    rgb = _package_photo(name)
    m = masks_of(name)
    assert tuple(m) == REGION_KINDS
    H, W = rgb.shape[:2]
    shape = m["sky"].shape
    assert max(shape) == REGION_SIDE
    assert abs(shape[0] / shape[1] - H / W) < 2 / REGION_SIDE  # aspect kept
    for kind, mask in m.items():
        assert mask.dtype == np.float32, kind
        assert mask.shape == shape, kind
        assert 0.0 <= float(mask.min()) and float(mask.max()) <= 1.0, kind


def test_small_and_flat_photos_give_empty_masks_not_errors():
    grey = np.full((60, 90, 3), 128, np.uint8)
    m = detect_regions(grey, faces=[(30, 10, 20, 20)], depth=np.zeros((5, 5), np.float32))
    assert m["sky"].shape == (341, 512)
    assert all(float(v.max()) == 0.0 for k, v in m.items() if k != "hair")


def test_invalid_input_is_rejected():
    with pytest.raises(ValueError, match="uint8"):
        detect_regions(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="depth"):
        detect_regions(np.zeros((32, 32, 3), np.uint8), depth=np.zeros((4, 4, 1), np.float32))


# ---------------------------------------------------------------- package photos


def test_china_sky_lake_and_trees():
    m = masks_of("china")
    assert box(m["sky"], 0, 0, 1, 0.2) > 0.6
    assert box(m["sky"], 0, 0.8, 1, 1) < 0.01
    # The hazy lake right of the pagoda is water, not sky.
    assert box(m["water"], 0.62, 0.52, 0.85, 0.62) > 0.6
    assert box(m["sky"], 0.62, 0.52, 0.85, 0.62) < 0.05
    assert box(m["water"], 0, 0, 1, 0.4) < 0.01
    assert box(m["water"], 0, 0.85, 1, 1) < 0.01
    # Trees in both bottom corners; not the pagoda's painted eaves.
    assert box(m["vegetation"], 0, 0.8, 0.15, 1) > 0.6
    assert box(m["vegetation"], 0.85, 0.8, 1, 1) > 0.6
    assert box(m["vegetation"], 0.15, 0.1, 0.45, 0.6) < 0.05
    assert float(m["hair"].max()) == 0.0
    assert float(m["steam"].mean()) < 0.002


def test_coffee_steam_rises_above_the_cup():
    m = masks_of("coffee")
    steam = m["steam"]
    assert float(steam.sum()) > 0.005 * steam.size
    cx, cy = centroid(steam)
    # The cup (looked up on the 600×400 photo): x 170–410, rim top at y ≈ 18,
    # the coffee's surface around y ≈ 110. The plume rises from the surface.
    assert cy < 110 / 400
    assert 170 / 600 < cx < 410 / 600
    assert box(steam, 170 / 600, 0, 410 / 600, 18 / 400) > 0.1  # above the rim too
    assert box(steam, 0, 0.3, 1, 1) < 0.01  # nothing over the saucer or the table
    assert float(m["water"].max()) < 0.05
    assert float(m["sky"].max()) < 0.05
    assert float(m["vegetation"].mean()) < 0.01


def test_astronaut_hair_above_the_face():
    m = masks_of("astronaut")
    hair = m["hair"]
    _x, y, _w, h = ASTRONAUT_FACE
    _, cy = centroid(hair)
    assert cy * 512 < y + h / 2  # the mass is above the face's centre
    assert box(hair, 190 / 512, 20 / 512, 260 / 512, 60 / 512) > 0.5  # crown
    assert box(hair, 200 / 512, 100 / 512, 250 / 512, 150 / 512) < 0.05  # skin
    assert box(hair, 0, 0.5, 1, 1) < 0.01
    assert float(m["water"].max()) < 0.05
    assert float(m["steam"].mean()) < 0.005
    assert float(m["vegetation"].mean()) < 0.01  # blonde hair is not dry grass


def test_astronaut_hair_needs_faces_and_agrees_with_depth():
    import skimage.data as data

    rgb = data.astronaut()
    assert float(detect_regions(rgb)["hair"].max()) == 0.0
    depth = estimate_depth(rgb, faces=[ASTRONAUT_FACE])[::2, ::2]  # any resolution
    with_depth = detect_regions(rgb, faces=[ASTRONAUT_FACE], depth=depth)["hair"]
    assert box(with_depth, 190 / 512, 20 / 512, 260 / 512, 60 / 512) > 0.5
    assert box(with_depth, 0, 0, 0.25, 0.5) < 0.01  # backdrop and flag


def test_chelsea_has_no_elements():
    m = masks_of("chelsea")
    for kind in ("sky", "water", "steam", "hair"):
        assert float(m[kind].max()) < 0.05, kind
    assert float(m["vegetation"].mean()) < 0.01  # not the cat's green eyes


@pytest.mark.parametrize("name", ["china", "coffee", "astronaut"])
def test_shipped_examples_match_the_package_photos(name):
    rgb = np.asarray(Image.open(EXAMPLES / f"{name}.jpg").convert("RGB"))
    faces = [ASTRONAUT_FACE] if name == "astronaut" else None
    ours = detect_regions(rgb, faces=faces)
    ref = masks_of(name)
    for kind in REGION_KINDS:
        assert float(np.abs(ours[kind] - ref[kind]).mean()) < 0.02, kind


def test_scene_caches_regions():
    import skimage.data as data

    scene = Scene(data.coffee())
    regions = scene.regions
    assert tuple(regions) == REGION_KINDS
    assert Scene(data.coffee()).regions is regions
    assert float(regions["steam"].sum()) > 0


# ---------------------------------------------------------------- development photos


def test_dune_sea_band_is_water_and_grass_is_vegetation():
    m = masks_of("dune-sea-grass")
    assert box(m["water"], 0, 0.33, 1, 0.42) > 0.6  # the blue band
    assert box(m["sky"], 0, 0.33, 1, 0.42) < 0.2
    assert box(m["sky"], 0, 0, 1, 0.2) > 0.8
    assert box(m["water"], 0, 0.6, 1, 1) < 0.01
    assert box(m["vegetation"], 0, 0.6, 1, 1) > 0.8  # golden dry grass
    assert box(m["vegetation"], 0, 0, 1, 0.2) < 0.02


def test_storm_road_is_not_water():
    m = masks_of("storm-clouds-road")
    assert float(m["water"].max()) < 0.05
    assert box(m["sky"], 0, 0, 1, 0.4) > 0.8  # dark clouds included
    assert box(m["sky"], 0, 0.7, 1, 1) < 0.01


def test_water_drop_close_up_is_water():
    m = masks_of("water-drop")
    assert float(m["water"].mean()) > 0.7
    assert float(m["sky"].max()) < 0.05


def test_grass_and_ladybird_are_vegetation_blurred_leaves_too():
    """Blurred leaves behind the ladybird are plants too (the labelled set counts
    them, tests/data/scene); the orange flower close-up is neither sky nor water."""
    assert float(masks_of("grass-field")["vegetation"].mean()) > 0.6
    lady = masks_of("ladybird-meadow")["vegetation"]
    assert box(lady, 0.55, 0.5, 0.75, 0.65) > 0.4  # the stem under the ladybird
    assert box(lady, 0.0, 0.45, 0.2, 0.75) > 0.6  # blurred leaves behind
    flower = masks_of("flower-bokeh")
    assert float(flower["sky"].mean()) < 0.01 and float(flower["water"].mean()) < 0.01
