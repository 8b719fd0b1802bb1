"""Layer 9: the TF-Slim zoo's image preprocessing, in NumPy (evaluation mode).

A checkpoint only gives the right answers on images prepared the way it was trained:

* :mod:`~minislim.preprocessing.vgg_preprocessing` (VGG, ResNet v1): resize so the smaller
  side is 256, crop the central 224x224, subtract the RGB means 123.68, 116.78, 103.94;
* :mod:`~minislim.preprocessing.inception_preprocessing` (Inception, MobileNet, ResNet v2):
  scale to [0, 1], crop the central 87.5%, resize to 224x224 (299 for Inception V3),
  map to [-1, 1].

``preprocessing_factory.get_preprocessing(net_name)`` picks the right one. Images are
``[H, W, 3]`` RGB arrays (uint8 0..255, or floats on that scale); results are float32.
Resizing is TensorFlow 1's bilinear ``resize_bilinear`` (corner-aligned sampling grid,
``align_corners=False``), so the pixels match TF-Slim's.
"""
from minislim.preprocessing import inception_preprocessing, preprocessing_factory, resize, vgg_preprocessing

__all__ = ["vgg_preprocessing", "inception_preprocessing", "preprocessing_factory", "resize"]
