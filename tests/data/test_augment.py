"""Pad-and-crop, flip and Compose: vectorised results equal a per-image reference."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minislim import data
from minislim.data import augment


def reference_crop(images, padding, size, top, left):
    """One image at a time, with np.pad and slicing."""
    out = []
    for image, t, l in zip(images, top, left):
        padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
        out.append(padded[t:t + size[0], l:l + size[1]])
    return np.stack(out)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 3),
       padding=st.integers(0, 3), shrink=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       seed=st.integers(0, 1000), transposed=st.booleans())
def test_random_crop_equals_per_image_padding_and_slicing(n, h, w, c, padding, shrink, seed,
                                                          transposed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    if transposed:                                     # a non-contiguous view
        images = np.ascontiguousarray(images.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    size = (max(1, h + 2 * padding - shrink[0]), max(1, w + 2 * padding - shrink[1]))
    out = data.RandomCrop(size, padding=padding)(images, np.random.default_rng(seed))
    draws = np.random.default_rng(seed)               # the same draws, in the same order
    top = draws.integers(0, h + 2 * padding - size[0] + 1, size=n)
    left = draws.integers(0, w + 2 * padding - size[1] + 1, size=n)
    np.testing.assert_array_equal(out, reference_crop(images, padding, size, top, left))
    assert out.dtype == images.dtype


def test_crop_offsets_cover_every_shift_uniformly():
    images = np.zeros((4000, 3, 3, 1), np.uint8)
    images[:, 1, 1, 0] = 1                             # centre pixel: lands where the shift says
    out = data.RandomCrop(3, padding=1)(images, np.random.default_rng(0))
    positions = np.argwhere(out[:, :, :, 0] == 1)[:, 1:]   # where the pixel landed
    counts = np.zeros((3, 3))
    np.add.at(counts, (positions[:, 0], positions[:, 1]), 1)
    assert counts.sum() == 4000
    assert np.all(np.abs(counts / 4000 - 1 / 9) < 0.03)


def test_padding_is_zero_and_crop_uses_the_given_offsets():
    images = np.full((2, 4, 4, 1), 9, np.uint8)
    out = augment.crop(augment.pad(images, 2), np.array([0, 4]), np.array([0, 4]), (4, 4))
    assert out[0, :2].sum() == 0 and out[0, :, :2].sum() == 0 and np.all(out[0, 2:, 2:] == 9)
    assert np.all(out[1, :2, :2] == 9) and out[1, 2:].sum() == 0


def test_random_flip_mirrors_about_half_the_images_exactly():
    images = np.random.default_rng(1).integers(0, 256, (1000, 5, 6, 3), dtype=np.uint8)
    out = data.RandomFlip()(images, np.random.default_rng(2))
    same = np.all(out == images, axis=(1, 2, 3))
    mirrored = np.all(out == images[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 0.45 < mirrored.mean() < 0.55
    np.testing.assert_array_equal(data.RandomFlip(0.0)(images, np.random.default_rng(0)), images)
    np.testing.assert_array_equal(data.RandomFlip(1.0)(images, np.random.default_rng(0)),
                                  images[:, :, ::-1])


def test_compose_applies_in_order_with_one_generator():
    images = np.random.default_rng(3).integers(0, 256, (8, 6, 6, 3), dtype=np.uint8)
    crop, flip = data.RandomCrop(6, padding=2), data.RandomFlip()
    rng = np.random.default_rng(5)
    expected = flip(crop(images, rng), rng)
    got = data.Compose([crop, flip])(images, np.random.default_rng(5))
    np.testing.assert_array_equal(got, expected)
    assert "RandomCrop" in repr(data.Compose([crop, flip]))


@pytest.mark.parametrize("make, images, message", [
    (lambda: data.RandomCrop(5), np.zeros((2, 4, 4, 1)), "larger than the padded images"),
    (lambda: data.RandomCrop(2), np.zeros((4, 4, 1)), r"must be \[N, H, W, C\]"),
    (lambda: data.RandomFlip(), np.zeros((4, 4)), r"must be \[N, H, W, C\]"),
    (lambda: data.RandomCrop(0), None, "size must be a positive int"),
    (lambda: data.RandomCrop(2, padding=-1), None, "padding must be >= 0"),
    (lambda: data.RandomFlip(1.5), None, r"p must lie in \[0, 1\]"),
])
def test_bad_transforms_and_inputs_are_explained(make, images, message):
    with pytest.raises(ValueError, match=message):
        make()(images, np.random.default_rng(0))


def test_compose_refuses_a_non_callable():
    with pytest.raises(TypeError, match="must be callable"):
        data.Compose([data.RandomFlip(), 3])
