"""Per-channel statistics and normalisation."""
import numpy as np
import pytest

from minislim import data


def test_channel_stats_of_uint8_are_on_the_unit_scale_and_chunking_does_not_matter():
    images = np.random.default_rng(0).integers(0, 256, (37, 5, 4, 3), dtype=np.uint8)
    scaled = images.astype(np.float64) / 255
    for chunk in (1, 10, 100):
        mean, std = data.channel_stats(images, chunk_size=chunk)
        np.testing.assert_allclose(mean, scaled.mean(axis=(0, 1, 2)), rtol=1e-12)
        np.testing.assert_allclose(std, scaled.std(axis=(0, 1, 2)), rtol=1e-12)
        assert mean.shape == std.shape == (3,)


def test_channel_stats_of_floats_are_not_rescaled():
    images = np.random.default_rng(1).normal(5.0, 2.0, (20, 3, 3, 2)).astype(np.float32)
    mean, std = data.channel_stats(images)
    np.testing.assert_allclose(mean, images.astype(np.float64).mean(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(std, images.astype(np.float64).std(axis=(0, 1, 2)), rtol=1e-6)


def test_normalised_training_set_has_zero_mean_and_unit_std_per_channel():
    images = np.random.default_rng(2).integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    mean, std = data.channel_stats(images)
    out = data.normalize(images, mean, std)
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-5)
    expected = (images / 255.0 - mean) / std
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_normalize_transform_is_deterministic_and_ignores_the_generator():
    images = np.random.default_rng(3).integers(0, 256, (4, 2, 2, 3), dtype=np.uint8)
    transform = data.Normalize([0.5, 0.5, 0.5], [0.2, 0.3, 0.4])
    a = transform(images, np.random.default_rng(0))
    b = transform(images, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, data.normalize(images, transform.mean, transform.std))
    float_images = images.astype(np.float32)          # floats are not divided by 255
    np.testing.assert_allclose(transform(float_images), (float_images - 0.5) / transform.std,
                               rtol=1e-6)


@pytest.mark.parametrize("mean, std, message", [
    ([0.5, 0.5], [1.0, 1.0], r"must have shape \(3,\)"),
    ([0.5, 0.5, 0.5], [1.0, 0.0, 1.0], "std must be positive"),
])
def test_normalize_rejects_bad_statistics(mean, std, message):
    with pytest.raises(ValueError, match=message):
        data.normalize(np.zeros((1, 2, 2, 3), np.uint8), mean, std)


def test_normalize_transform_rejects_bad_statistics_when_made():
    with pytest.raises(ValueError, match="std must be positive"):
        data.Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="one length"):
        data.Normalize([0.0, 1.0], [1.0])


def test_channel_stats_rejects_what_is_not_a_batch_of_images():
    with pytest.raises(ValueError, match=r"nonempty \[N, H, W, C\]"):
        data.channel_stats(np.zeros((0, 2, 2, 3)))
