"""The colour card fit and the region means of app/photos/colour.py, on
generated pictures (tests/photos/colour_images.py), without the API."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tests.photos.colour_images as images
from app.clinical.colour import linear_rgb_to_lab, srgb_to_linear
from app.core.errors import Problem
from app.photos import colour as service


def _picture(scene: images.Scene) -> Image.Image:
    return Image.fromarray(images.render(scene))


def test_the_fitted_matrix_undoes_the_cast():
    calibration = service._fit_card(_picture(images.Scene(card=True, cast=images.CAST)))
    assert calibration.method == "colour_checker"
    undone = np.array(calibration.matrix) @ np.array(images.CAST)
    assert np.allclose(undone, np.eye(3), atol=0.03), undone
    assert calibration.details["delta_e2000_mean"] < 2
    assert calibration.details["matrix"] == [list(row) for row in calibration.matrix]


def test_no_card_is_uncalibrated_and_changes_nothing():
    calibration = service._fit_card(_picture(images.Scene(card=False, width=800, height=600)))
    assert calibration.method == "uncalibrated"
    assert calibration.details == {"method": "uncalibrated", "reason": "no colour card found"}
    assert calibration.correct((0.2, 0.3, 0.4)) == (0.2, 0.3, 0.4)


def test_a_card_that_does_not_fit_is_refused(monkeypatch):
    # The chromatic patches printed in the wrong places: a card is found, but
    # no 3x3 matrix maps it onto the reference.
    reference = images.card_values()

    def shuffled() -> np.ndarray:
        values = reference.copy()
        chromatic = values[:18].copy()
        np.random.default_rng(3).shuffle(chromatic)
        values[:18] = chromatic
        return values

    monkeypatch.setattr(images, "card_values", shuffled)
    calibration = service._fit_card(_picture(images.Scene(card=True)))
    assert calibration.method == "uncalibrated" and calibration.matrix is None
    assert "fit is poor" in calibration.details["reason"]
    assert calibration.details["delta_e2000_mean"] > service.MAX_CARD_DELTA_E
    assert "matrix" not in calibration.details


def test_region_mean_is_the_linear_mean_of_the_pixels_inside():
    # Left half one colour, right half another: a region across the middle
    # averages them in linear RGB, weighted by the pixels on each side.
    pixels = np.zeros((100, 200, 3), dtype=np.uint8)
    pixels[:, :100] = (200, 100, 50)
    pixels[:, 100:] = (20, 40, 240)
    outline = [[50, 10], [149, 10], [149, 89], [50, 89]]
    count, rgb = service._region(Image.fromarray(pixels), outline, "region")
    left, right = 50 * 80, 50 * 80  # columns 50-99 and 100-149, rows 10-89, edges in
    assert count == left + right
    for channel, (a, b) in enumerate(zip((200, 100, 50), (20, 40, 240), strict=True)):
        expected = (srgb_to_linear(a / 255) + srgb_to_linear(b / 255)) / 2
        assert rgb[channel] == pytest.approx(expected)


def test_a_triangle_counts_about_its_area():
    picture = Image.new("RGB", (400, 300), (180, 120, 100))
    region = service._region(picture, [[0, 0], [300, 0], [0, 200]], "reference")
    assert region[0] == pytest.approx(300 * 200 / 2, rel=0.02)
    colour = service._colour_of(region, service.Calibration(None, {}), "reference")
    expected = linear_rgb_to_lab(tuple(srgb_to_linear(v / 255) for v in (180, 120, 100)))
    assert colour.lab == pytest.approx(expected)


def test_a_region_of_too_few_pixels_names_its_field():
    picture = Image.new("RGB", (100, 100), (180, 120, 100))
    with pytest.raises(Problem) as caught:
        service._region(picture, [[10, 10], [28, 10], [28, 28], [10, 28]], "reference")
    assert caught.value.status == 422
    assert list(caught.value.errors) == ["reference"]
    assert "at least 400" in caught.value.errors["reference"][0]


def test_a_black_region_has_no_skin_colour():
    with pytest.raises(Problem) as caught:
        service._colour_of((500, (0.0, 0.0, 0.1)), service.Calibration(None, {}), "region")
    assert "no skin colour" in caught.value.errors["region"][0]
