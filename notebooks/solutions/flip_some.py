"""Solution of the ``flip_some`` exercise (notebook 09): mirror along the width, axis 2 of NHWC.

Run it to see the checker's verdict: ``python notebooks/solutions/flip_some.py``.
"""


def flip_some(images, flip):
    out = images.copy()
    out[flip] = images[flip][:, :, ::-1, :]
    return out


if __name__ == "__main__":
    from minislim.exercises import check

    check(flip_some, "flip_some")
