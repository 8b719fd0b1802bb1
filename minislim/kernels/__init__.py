"""Layer 1: kernels, plain NumPy functions on ndarrays (no autograd).

Every kernel in this package uses one notation, in names and docstrings alike:

====  ==========================================================
N     batch size
H, W  input height and width
C     input channels
OC    output channels
KH    kernel height;  KW kernel width
SH    stride along H; SW stride along W
PH    padding along H; PW padding along W (top/bottom, left/right)
OH    output height;  OW output width
====  ==========================================================

Layout is NHWC for activations and ``[KH, KW, C, OC]`` for convolution filters, as in
TF-Slim. The letter ``W`` always means width, never weights.
"""
