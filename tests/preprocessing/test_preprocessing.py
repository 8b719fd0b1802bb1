"""The zoo's evaluation preprocessing against TensorFlow's own ops (tests/fixtures/tf/expected.npz)."""
import os

import numpy as np
import pytest

from minislim.preprocessing import inception_preprocessing, preprocessing_factory, resize, vgg_preprocessing

EXPECTED = np.load(os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "tf", "expected.npz"),
                   allow_pickle=False)


@pytest.mark.parametrize("number", [0, 1])
def test_vgg_preprocessing_matches_tensorflow(number):
    image = EXPECTED[f"preprocessing/{number}/image"]
    got = vgg_preprocessing.preprocess_image(image, 24, 24, resize_side=32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, EXPECTED[f"preprocessing/{number}/vgg"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("number", [0, 1])
def test_inception_preprocessing_matches_tensorflow(number):
    image = EXPECTED[f"preprocessing/{number}/image"]
    got = inception_preprocessing.preprocess_image(image, 29, 29)
    np.testing.assert_allclose(got, EXPECTED[f"preprocessing/{number}/inception"], rtol=0, atol=1e-6)


def test_resize_bilinear_uses_tf1_corner_aligned_grid():
    image = np.arange(4, dtype=np.float32).reshape(1, 4, 1)            # one row: 0 1 2 3
    assert resize.resize_bilinear(image, 1, 2)[0, :, 0].tolist() == [0.0, 2.0]    # samples x = 0, 2
    assert resize.resize_bilinear(image, 1, 8)[0, :, 0].tolist() == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3]
    with pytest.raises(ValueError, match="must be \\[H, W, C\\]"):
        resize.resize_bilinear(np.zeros((4, 4)), 2, 2)


def test_smallest_side_and_central_crops_round_as_tf_slim():
    assert vgg_preprocessing.smallest_size_at_least(300, 400, 256) == (256, 341)
    assert vgg_preprocessing.smallest_size_at_least(500, 375, 256) == (341, 256)
    assert resize.central_crop(np.zeros((100, 80, 3)), 0.875).shape == (88, 70, 3)
    with pytest.raises(ValueError, match="smaller than the crop"):
        resize.crop_center(np.zeros((10, 10, 3)), 20, 20)


def test_the_factory_maps_nets_to_their_preprocessing():
    assert preprocessing_factory.preprocessing_fn_map["resnet_v1_50"] is vgg_preprocessing
    assert preprocessing_factory.preprocessing_fn_map["resnet_v2_50"] is inception_preprocessing
    assert preprocessing_factory.preprocessing_fn_map["mobilenet_v1"] is inception_preprocessing
    out = preprocessing_factory.get_preprocessing("vgg_16")(np.full((256, 256, 3), 200, np.uint8), 224, 224)
    np.testing.assert_allclose(out[0, 0], [200 - 123.68, 200 - 116.78, 200 - 103.94], rtol=1e-6)
    with pytest.raises(ValueError, match="no preprocessing for 'vgg_17'"):
        preprocessing_factory.get_preprocessing("vgg_17")
    with pytest.raises(NotImplementedError):
        preprocessing_factory.get_preprocessing("vgg_16", is_training=True)(np.zeros((8, 8, 3)), 4, 4)
    with pytest.raises(ValueError, match="RGB"):
        inception_preprocessing.preprocess_image(np.zeros((8, 8)), 4, 4)
