"""Output sizes and padding: TF's SAME rule (with rate), VALID, explicit, and argument checks."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minislim.kernels.shapes import (as_pair, check_conv_args, effective_size, explicit_pads, resolve_padding,
                                     same_padding)


def test_same_padding_is_asymmetric_like_tf():
    # TF: 32 rows, 3x3 kernel, stride 2 -> 16 rows, pad_total = 15 * 2 + 3 - 32 = 1: all of it at the bottom
    assert same_padding(32, kernel=3, stride=2) == ((0, 1), 16)
    # an even kernel at stride 1 pads one more row at the bottom than at the top
    assert same_padding(5, kernel=4, stride=1) == ((1, 2), 5)


def test_same_padding_is_symmetric_for_odd_kernels_at_stride_one():
    assert same_padding(7, kernel=5, stride=1) == ((2, 2), 7)


def test_same_padding_uses_the_dilated_kernel():
    # a 3-tap kernel at rate 2 spans 5 rows, so SAME needs 4 rows of padding
    assert same_padding(10, kernel=3, stride=1, rate=2) == ((2, 2), 10)


def test_same_padding_is_zero_when_the_stride_skips_past_the_kernel():
    # 1x1 kernel, stride 3 on 7 rows: outputs at rows 0, 3, 6, no padding needed
    assert same_padding(7, kernel=1, stride=3) == ((0, 0), 3)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 5), rate=st.integers(1, 3))
def test_same_output_is_ceil_of_input_over_stride_and_every_window_touches_the_input(size, kernel, stride, rate):
    (top, bottom), out = same_padding(size, kernel, stride, rate)
    assert out == math.ceil(size / stride)
    assert 0 <= top <= bottom <= top + 1
    span = effective_size(kernel, rate)
    assert (size + top + bottom - span) // stride + 1 == out  # the padding produces exactly `out` windows
    assert top < span and (out - 1) * stride - top <= size - 1  # first and last windows reach the input


def test_valid_output_size():
    pads, out_hw = resolve_padding("VALID", (7, 6), kernel=(3, 2), stride=(2, 2), rate=(1, 1))
    assert pads == ((0, 0), (0, 0)) and out_hw == (3, 3)


def test_padding_names_are_case_insensitive():
    assert resolve_padding("same", (5, 5), (3, 3), (1, 1)) == resolve_padding("SAME", (5, 5), (3, 3), (1, 1))


def test_explicit_padding_output_size():
    pads, out_hw = resolve_padding(((2, 0), (1, 3)), (4, 4), kernel=(3, 3), stride=(1, 2), rate=(1, 1))
    assert pads == ((2, 0), (1, 3)) and out_hw == (4, 3)


def test_kernel_as_large_as_the_padded_input_gives_one_output():
    assert resolve_padding(((1, 1), (0, 0)), (3, 4), kernel=(5, 4), stride=(1, 1), rate=(1, 1))[1] == (1, 1)


@pytest.mark.parametrize("value, expected", [(2, (2, 2)), ((3, 1), (3, 1)), ([1, 4], (1, 4)),
                                             (np.int64(2), (2, 2))])
def test_as_pair_accepts_an_int_or_a_pair(value, expected):
    assert as_pair(value, "stride", "conv2d") == expected


@pytest.mark.parametrize("value", [0, -1, (1, 0), (2, -3)])
def test_as_pair_rejects_non_positive_values_naming_the_argument(value):
    with pytest.raises(ValueError, match=r"conv2d: stride must be positive"):
        as_pair(value, "stride", "conv2d")


@pytest.mark.parametrize("value", [1.5, (1, 2, 3), (1,), "2", True, None])
def test_as_pair_rejects_what_is_not_one_or_two_ints(value):
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or a pair of ints"):
        as_pair(value, "kernel_size", "max_pool2d")


def test_valid_kernel_larger_than_the_input_is_an_error_that_states_the_sizes():
    with pytest.raises(ValueError, match=r"conv2d: padding='VALID'.*kernel spans 5.*input has 4.*\(4, 9\)"):
        resolve_padding("VALID", (4, 9), kernel=(5, 5), stride=(1, 1), rate=(1, 1))


def test_dilated_kernel_that_does_not_fit_names_the_rate():
    with pytest.raises(ValueError, match=r"dilated kernel spans 5.*rate=\(2, 1\)"):
        resolve_padding("VALID", (4, 9), kernel=(3, 3), stride=(1, 1), rate=(2, 1))


@pytest.mark.parametrize("padding", ["FULL", ((1, 1),), ((1, 1), (1, 1), (0, 0)), ((1.5, 1), (0, 0)), 3])
def test_unknown_padding_is_an_error(padding):
    with pytest.raises(ValueError, match=r"padding must be 'SAME', 'VALID' or"):
        resolve_padding(padding, (5, 5), (3, 3), (1, 1))


def test_negative_explicit_padding_is_an_error():
    with pytest.raises(ValueError, match=r"must not be negative"):
        explicit_pads(((1, -1), (0, 0)))


def test_conv_args_reject_a_rank_three_input():
    with pytest.raises(ValueError, match=r"inputs must be \[N, H, W, C\] \(rank 4\), got shape \(8, 8, 3\)"):
        check_conv_args((8, 8, 3), (3, 3, 3, 4), (1, 1), (1, 1))


def test_conv_args_reject_a_channel_mismatch_stating_both_shapes():
    with pytest.raises(ValueError, match=r"inputs have 3 channels \(shape \(1, 8, 8, 3\)\).*expect 4 "
                                         r"\(shape \(3, 3, 4, 2\)\)"):
        check_conv_args((1, 8, 8, 3), (3, 3, 4, 2), (1, 1), (1, 1))


def test_conv_args_reject_rate_together_with_stride():
    with pytest.raises(ValueError, match=r"rate > 1 cannot be combined with stride > 1.*stride=\(2, 1\), "
                                         r"rate=\(1, 2\)"):
        check_conv_args((1, 8, 8, 3), (3, 3, 3, 2), (2, 1), (1, 2))


def test_conv_args_reject_an_empty_kernel():
    with pytest.raises(ValueError, match=r"kernel size must be positive.*\(0, 3, 3, 2\)"):
        check_conv_args((1, 8, 8, 3), (0, 3, 3, 2), (1, 1), (1, 1))
