"""The outline proposal (app/photos/outline.py) on generated photos of known outline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from app.clinical.geometry import is_simple_polygon
from app.photos import outline
from tests.photos.outline_images import Spec, iou, render, specs


def _propose(photo, box=None) -> outline.Outline:
    return outline.propose(Image.fromarray(photo.image), photo.tap, box)


def test_accuracy_on_generated_photos(capsys) -> None:
    """Mean IoU with the true outline at least 0.90, none below 0.80 (issue 24).
    The figures are printed past pytest's capture, in every run."""
    rows = []
    for spec in specs():
        photo = render(spec)
        found = _propose(photo)
        assert 3 <= len(found.points) <= outline.MAX_POINTS
        assert is_simple_polygon(found.points)
        rows.append((spec.name, spec.size, iou(photo.truth, found.points), found.method))
    values = [r[2] for r in rows]
    mean = sum(values) / len(values)
    with capsys.disabled():
        print("\noutline IoU on generated photos (tone-shape-contrast-radius, size):")
        for name, size, value, method in rows:
            print(f"  {name:<28} {size[0]}x{size[1]}  IoU {value:.3f}  {method}")
        print(f"  mean IoU {mean:.3f}, lowest {min(values):.3f}, {len(values)} photos")
    assert mean >= 0.90
    assert min(values) >= 0.80


def test_points_are_in_pixels_of_the_full_image() -> None:
    # a large photo is worked on at 1000 px: the points still land on the lesion's edge
    photo = render(Spec("big", (4000, 3000), "light", "ellipse", 300, 0.6, 8, 7))
    found = _propose(photo)
    pts = np.asarray(found.points)
    ys, xs = np.nonzero(photo.truth)
    assert pts[:, 0].min() == pytest.approx(xs.min(), abs=12)
    assert pts[:, 0].max() == pytest.approx(xs.max(), abs=12)
    assert pts[:, 1].min() == pytest.approx(ys.min(), abs=12)
    assert iou(photo.truth, found.points) >= 0.93


def test_a_small_lesion_is_refined_at_full_resolution(monkeypatch) -> None:
    photo = render(Spec("small", (4000, 3000), "medium", "blob", 70, 0.6, 8, 11))
    refined = _propose(photo)
    assert _propose(photo).points == refined.points  # seeded: the same tap, the same edge
    monkeypatch.setattr(outline, "REFINE_BELOW", 0)  # never refine
    coarse = _propose(photo)
    # Refined, the edge lies on full-resolution pixels; the coarse one on the
    # working copy's grid (half-pixel centres scaled up). On generated small
    # lesions refining moves IoU either way by a few hundredths (the docs).
    assert refined.points != coarse.points
    assert all(float(x).is_integer() and float(y).is_integer() for x, y in refined.points)
    assert not all(float(x).is_integer() for x, _ in coarse.points)
    assert iou(photo.truth, refined.points) >= 0.9
    assert iou(photo.truth, coarse.points) >= 0.9


def test_a_box_bounds_the_outline() -> None:
    photo = render(Spec("boxed", (1600, 1200), "light", "blob", 120, 0.6, 6, 21))
    ys, xs = np.nonzero(photo.truth)
    box = (xs.min() - 30.0, ys.min() - 30.0, xs.max() + 30.0, ys.max() + 30.0)
    found = _propose(photo, box)
    pts = np.asarray(found.points)
    assert pts[:, 0].min() >= box[0] and pts[:, 0].max() <= box[2]
    assert pts[:, 1].min() >= box[1] and pts[:, 1].max() <= box[3]
    assert iou(photo.truth, found.points) >= 0.9


def test_random_walker_takes_over_when_grabcut_fails(monkeypatch) -> None:
    photo = render(Spec("walker", (1600, 1200), "light", "ellipse", 110, 0.6, 6, 31))

    def failing(*args, **kwargs):
        raise cv2.error("simulated GrabCut failure")

    monkeypatch.setattr(cv2, "grabCut", failing)
    found = _propose(photo)
    assert found.method == "random_walker"
    assert iou(photo.truth, found.points) >= 0.85


def test_random_walker_takes_over_when_grabcut_takes_the_whole_box(monkeypatch) -> None:
    photo = render(Spec("whole", (1600, 1200), "dark", "blob", 110, 1.0, 6, 41))

    def everything(image, mask, rect, bgd, fgd, count, mode):
        mask[mask != cv2.GC_BGD] = cv2.GC_FGD

    monkeypatch.setattr(cv2, "grabCut", everything)
    found = _propose(photo)
    assert found.method == "random_walker"
    assert iou(photo.truth, found.points) >= 0.85


def test_plain_skin_has_no_outline() -> None:
    rng = np.random.default_rng(3)
    skin = np.clip(rng.normal((220, 180, 160), 3, (600, 800, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(outline.NoOutline, match="No wound edge"):
        outline.propose(Image.fromarray(skin), (400.0, 300.0))


def test_tap_on_a_hair_over_the_lesion_still_finds_it() -> None:
    photo = render(Spec("hair", (1600, 1200), "light", "ellipse", 120, 0.6, 0, 51))
    ys, xs = np.nonzero(photo.truth)
    cx, cy = int(xs.mean()), int(ys.mean())
    cv2.line(photo.image, (cx - 400, cy), (cx + 400, cy), (40, 32, 28), 3, cv2.LINE_AA)
    photo.tap = (float(cx), float(cy))
    found = _propose(photo)
    assert iou(photo.truth, found.points) >= 0.9


def test_lesion_cut_by_the_image_corner() -> None:
    photo = render(Spec("corner", (1200, 900), "medium", "ellipse", 90, 1.0, 4, 61))
    # crop the picture so the lesion runs off its top-left corner
    ys, xs = np.nonzero(photo.truth)
    x0, y0 = int(xs.mean()) - 40, int(ys.mean()) - 40
    image = np.ascontiguousarray(photo.image[y0:, x0:])
    truth = np.ascontiguousarray(photo.truth[y0:, x0:])
    found = outline.propose(Image.fromarray(image), (40.0, 40.0))
    assert iou(truth, found.points) >= 0.85
    assert np.asarray(found.points).min() >= 0


def test_simplification_keeps_at_most_max_points(monkeypatch) -> None:
    photo = render(Spec("few", (1600, 1200), "light", "blob", 200, 1.0, 0, 71))
    monkeypatch.setattr(outline, "MAX_POINTS", 8)
    found = _propose(photo)
    assert 3 <= len(found.points) <= 8
    assert is_simple_polygon(found.points)
