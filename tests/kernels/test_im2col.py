"""im2col and the workspace that recycles its buffers."""
import numpy as np
import pytest

from minislim.kernels.im2col import Workspace, im2col, padded, windows


def test_im2col_rows_are_the_windows_in_kh_kw_c_order():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    cols = im2col(x, kernel=(2, 3), stride=(2, 1), rate=(1, 1), pads=((0, 0), (0, 0)), out_hw=(2, 3))
    assert cols.shape == (2, 2, 3, 2, 3, 3) and cols.dtype == np.float32 and cols.flags.c_contiguous
    for n in range(2):
        for oh in range(2):
            for ow in range(3):
                np.testing.assert_array_equal(cols[n, oh, ow], x[n, oh * 2:oh * 2 + 2, ow:ow + 3, :])


def test_im2col_with_padding_and_rate_reads_zeros_outside_the_input():
    x = np.ones((1, 2, 2, 1))
    cols = im2col(x, kernel=(2, 2), stride=(1, 1), rate=(2, 2), pads=((1, 1), (1, 1)), out_hw=(2, 2))
    # window (0, 0) taps padded rows/cols 0 and 2: only (2, 2), i.e. input (1, 1), is inside
    assert cols[0, 0, 0, :, :, 0].tolist() == [[0.0, 0.0], [0.0, 1.0]]
    assert cols[0, 1, 1, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_windows_is_a_read_only_view_without_a_copy():
    x = np.zeros((1, 5, 5, 2))
    view = windows(x, (3, 3), (1, 1), (1, 1), (3, 3))
    assert np.shares_memory(view, x) and not view.flags.writeable


def test_im2col_reads_non_contiguous_inputs_correctly():
    base = np.random.default_rng(0).standard_normal((3, 6, 5, 4))
    x = np.ascontiguousarray(base.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)  # Fortran order, same values
    expected = im2col(base, (3, 2), (1, 2), (1, 1), ((0, 0), (0, 0)), (4, 2))
    np.testing.assert_array_equal(im2col(x, (3, 2), (1, 2), (1, 1), ((0, 0), (0, 0)), (4, 2)), expected)


def test_padded_border_stays_zero_when_the_buffer_is_reused():
    workspace = Workspace()
    first = padded(np.full((1, 2, 2, 1), 5.0), ((1, 2), (0, 1)), workspace=workspace)
    second = padded(np.full((1, 2, 2, 1), 7.0), ((1, 2), (0, 1)), workspace=workspace)
    assert first is second  # the same memory, reused
    assert second[0, :, :, 0].tolist() == [[0, 0, 0], [7, 7, 0], [7, 7, 0], [0, 0, 0], [0, 0, 0]]


def test_padded_without_padding_returns_the_input_itself():
    x = np.ones((1, 2, 2, 1))
    assert padded(x, ((0, 0), (0, 0))) is x


def test_scratch_buffers_are_told_apart_by_purpose_shape_dtype_and_fill():
    workspace = Workspace()
    a = workspace.scratch("a", (2, 3), np.float32)
    assert workspace.scratch("b", (2, 3), np.float32) is not a
    assert workspace.scratch("a", (3, 2), np.float32) is not a
    assert workspace.scratch("a", (2, 3), np.float64) is not a
    assert workspace.scratch("a", (2, 3), np.float32, fill=0) is not a
    assert workspace.scratch("a", (2, 3), np.float32) is a


def test_a_leased_buffer_is_not_handed_out_again_until_given_back():
    workspace = Workspace()
    first = workspace.lease((4, 4), np.float32)
    second = workspace.lease((4, 4), np.float32)
    assert second is not first and workspace.nbytes == 0  # the workspace keeps no reference to leases
    workspace.give_back(first)
    assert workspace.lease((4, 4), np.float32) is first
    assert workspace.lease((4, 4), np.float32) is not second  # never given back: a fresh one


def test_workspace_drops_the_least_recently_used_buffers_beyond_its_bound():
    workspace = Workspace(max_bytes=3 * 800)
    buffers = [workspace.scratch(i, (100,), np.float64) for i in range(4)]  # 800 bytes each
    assert workspace.nbytes == 3 * 800
    assert workspace.scratch(0, (100,), np.float64) is not buffers[0]  # evicted: a new one
    assert workspace.scratch(3, (100,), np.float64) is buffers[3]


def test_workspace_never_keeps_a_buffer_larger_than_its_bound():
    workspace = Workspace(max_bytes=100)
    workspace.give_back(np.empty(1000))
    assert workspace.nbytes == 0


@pytest.mark.parametrize("fill", [0.0, -np.inf])
def test_new_scratch_buffer_starts_filled(fill):
    assert np.all(Workspace().scratch("p", (3,), np.float32, fill=fill) == fill)
