"""The benchmarks of ``make bench`` run, print their tables, and time the right work.

They run here on tiny settings (batch 2, one repeat, PyTorch skipped): the figures are
meaningless, what is checked is that the scripts work and that their floors count the
matrix products and copies the kernels really make.
"""
import math
import os
import re
import sys
from collections import Counter

import numpy as np
import pytest

import minislim as slim
from minislim.kernels.im2col import im2col

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)
import _common  # noqa: E402
import conv as conv_bench  # noqa: E402
import train_cifar  # noqa: E402


def table_rows(text: str, first_cell: str) -> list:
    """The cells of the Markdown table rows of ``text`` whose first cell is ``first_cell``."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith(f"| {first_cell} |")]


def test_conv_bench_prints_every_table_with_positive_ratios(capsys):
    conv_bench.main(["--batch", "2", "--repeats", "1", "--no-torch"])
    out = capsys.readouterr().out
    assert "torch fwd" not in out  # --no-torch: no PyTorch columns
    for h, w, c, oc in conv_bench.LAYERS:
        timing, bounds = table_rows(out, f"{h}x{w}x{c}->{oc}")
        assert len(timing) == 9 and len(bounds) == 7
        numbers = [float(cell) for cell in timing[1:] + bounds[1:]]
        assert all(math.isfinite(v) and v >= 0 for v in numbers)  # times print as 0.0 at batch 2
        ratios = [timing[3], timing[6], timing[8], bounds[4], bounds[6]]  # the /floor, /im2col, ... columns
        assert all(float(r) > 0 for r in ratios)
        floor, copies, bound = (float(cell) for cell in bounds[1:4])
        assert bound == pytest.approx(floor + copies, abs=0.11)  # printed to one decimal
    assert len(table_rows(out, "**all six**")) == 2
    assert len(table_rows(out, "32x32x32")) == 1  # the pooling table


def test_gemm_products_multiply_the_shapes_asked_for():
    rng = np.random.default_rng(0)
    plain, transposed = _common.gemm_products([(5, 3, 2, False), (5, 3, 2, True)], rng)
    for product, shape in ((plain, (5, 2)), (transposed, (3, 2))):
        a, b = product.args
        result = product()
        assert result.shape == shape and result.dtype == np.float32
        np.testing.assert_allclose(result, a @ b, rtol=1e-6)
    assert transposed.args[0].flags.f_contiguous  # a plain transpose, as columns.T in the kernel


def test_im2col_copies_are_the_kernels_copies(rng):
    copies = _common.im2col_copies(2, [(4, 5, 3, 6, True), (4, 5, 3, 6, False)], rng)
    assert len(copies) == 3  # forward columns (x2), and the output gradient's once
    for copy, channels in zip(copies, (3, 6, 3)):
        columns, view = copy.args
        copy()
        assert columns.shape == (2, 4, 5, 3, 3, channels) and columns.flags.c_contiguous
        # the window centres are the unpadded input: the columns must be its im2col
        inputs = np.ascontiguousarray(view[:, :, :, 1, 1, :])
        expected = im2col(inputs, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), (4, 5))
        np.testing.assert_array_equal(columns, expected)
    # the two copies of one layer share their buffer, as Conv2D's columns do
    assert np.shares_memory(copies[0].args[0], copies[1].args[0])


def test_step_products_are_the_matrix_products_of_vgg_cifar():
    products = train_cifar.step_products(64)
    assert len(products) == 6 * 3 - 1 + 2 * 3  # the first convolution computes no input gradient
    assert products[0] == (64 * 32 * 32, 27, 32, False)

    # every product multiplies by one weight matrix of the net (K * N = its size): three
    # products per weight (forward, its gradient, the inputs' gradient), two for the first
    with slim.Graph().as_default():
        with slim.arg_scope(slim.nets.vgg.vgg_cifar_arg_scope()):
            slim.nets.vgg.vgg_cifar(slim.tensor(np.zeros((2, 32, 32, 3), np.float32)))
        weights = [v for v in slim.get_model_variables() if v.name.endswith("/weights")]
    expected = Counter()
    for i, variable in enumerate(weights):
        expected[int(np.prod(variable.shape))] += 2 if i == 0 else 3
    assert Counter(k * n for _, k, n, _ in products) == expected
    # and M is the batch times the output pixels of that layer
    assert sorted({m for m, _, _, _ in products}) == [64, 64 * 8 * 8, 64 * 16 * 16, 64 * 32 * 32]


@pytest.mark.slow  # three training steps of each net at batch 64: about 6 s
def test_passes_cover_every_conv_output():
    passes = train_cifar.passes_over_conv_outputs(2, np.random.default_rng(0))
    shapes = [p.keywords["out"].shape for p in passes]
    assert shapes == [(2, 32, 32, 32)] * 2 + [(2, 16, 16, 64)] * 2 + [(2, 8, 8, 128)] * 2
    for one_pass in passes:
        a = one_pass.args[0]
        np.testing.assert_array_equal(one_pass(), a + a)


def test_pytorch_step_in_either_layout_trains_the_same_net():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    images = rng.standard_normal((4, 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, 4)
    losses = {}
    for channels_last in (True, False):
        torch.manual_seed(0)
        step = train_cifar.torch_step(torch, images, labels, True, channels_last=channels_last)
        step()
        weight = next(p for p in step.model.parameters() if p.dim() == 4)
        # channels_last strides put the channels innermost; the default layout is plain contiguous
        assert weight.is_contiguous(memory_format=torch.channels_last) == channels_last
        assert weight.is_contiguous() != channels_last
        with torch.no_grad():
            logits = step.model(train_cifar.as_torch(torch, images))
            losses[channels_last] = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)).item()
    # same seed, same net, one step: the layouts give the same model up to float rounding
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)


def test_step_time_prints_minislim_and_the_floor(capsys):
    train_cifar.main(["--step-time", "--repeats", "1", "--no-torch"])
    out = capsys.readouterr().out
    for name in ("minislim ", "minislim, no batch norm", "floor: np.matmul alone", "floor + the im2col copies",
                 "... + 4 passes over the conv outputs"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert float(re.findall(r"\d+\.\d", line)[0]) > 0
    assert "23 matrix products" in out and "11 im2col copies" in out
    assert "minislim's step / (products + im2col copies):" in out


SHARED_CIFAR = os.path.join(os.path.dirname(BENCH), "..", "shared", "data", "cifar-10-batches-bin")


@pytest.mark.skipif(not os.path.isdir(SHARED_CIFAR), reason="../shared/data is not beside the repository")
def test_ablations_run_one_variant_and_print_the_table(tmp_path, capsys):
    import json

    import ablations

    out = str(tmp_path / "ablations.jsonl")
    ablations.main(["--variants", "black_padding", "dropout_0.5", "--epochs", "1", "--train-size", "64",
                    "--batch-size", "32", "--data-dir", SHARED_CIFAR, "--out", out])
    printed = capsys.readouterr().out
    rows = open(out).readlines()
    assert len(rows) == 2
    first = json.loads(rows[0])
    assert first["variant"] == "black_padding" and not first["recipe"]["pad_with_mean"]
    assert len(first["acc"]) == len(first["acc_flip"]) == 1 and 0 <= first["acc"][0] <= 1
    assert len(first["losses"]) == 2  # 64 images in batches of 32
    assert "black_padding" in printed and "dropout 0.5 before the logits" in printed
    # a second call skips the runs already in the file
    ablations.main(["--variants", "black_padding", "--epochs", "1", "--train-size", "64", "--batch-size", "32",
                    "--out", out, "--data-dir", SHARED_CIFAR])
    assert "already in" in capsys.readouterr().out and len(open(out).readlines()) == 2


@pytest.mark.skipif(not os.path.isdir(SHARED_CIFAR), reason="../shared/data is not beside the repository")
def test_a_batch_size_variant_sets_its_batch_and_scales_the_rate(tmp_path):
    import json

    import ablations

    out = str(tmp_path / "ablations.jsonl")
    # --batch-size says 32; the variant's own batch of 128 wins
    ablations.main(["--variants", "batch_128", "--epochs", "1", "--train-size", "256", "--batch-size", "32",
                    "--data-dir", SHARED_CIFAR, "--out", out])
    run = json.loads(open(out).readline())
    assert run["batch_size"] == 128 and len(run["losses"]) == 2  # 256 images in batches of 128
    assert run["recipe"]["learning_rate"] == 2 * ablations.recipe.Recipe().learning_rate


def test_whole_run_report_reads_times_to_each_target(capsys):
    runs = [{"name": "minislim", "acc": [0.5, 0.62, 0.71], "acc_flip": [0.52, 0.66, 0.72], "seconds": [10, 20, 30],
             "examples": 100},
            {"name": "PyTorch, textbook", "acc": [0.4, 0.61, 0.64], "acc_flip": [0.4, 0.61, 0.64],
             "seconds": [5, 10, 15], "examples": 100}]
    assert train_cifar.time_to(runs[0], 0.65, "acc_flip") == (2, 20)
    assert train_cifar.time_to(runs[1], 0.65, "acc") == (None, None)
    train_cifar.report(runs)
    out = capsys.readouterr().out
    minislim_row = next(line for line in out.splitlines() if line.startswith("minislim"))
    assert "2.0,    20s" in minislim_row and "3.0,    30s" in minislim_row and "10.0" in minislim_row
    assert "not reached" in next(line for line in out.splitlines() if line.startswith("PyTorch, textbook"))




def test_overhead_bench_prints_the_cost_of_the_higher_order_design(capsys):
    import overhead

    overhead.main(["--ops", "20", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "backward on ndarrays (first order only)" in out
    assert "one formula on Tensors, run unrecorded (what minislim does)" in out
    assert "the same, recorded (create_graph=True)" in out
    tensor_ops, all_ops = (int(n) for n in re.search(r"has (\d+) such ops \(of (\d+);", out).groups())
    assert 0 < tensor_ops < all_ops


@pytest.mark.slow  # three configurations of fresh processes, vgg_cifar at batch 4: about 10 s
def test_parallel_bench_reports_three_configurations_and_the_cost_model():
    import contextlib
    import io

    import parallel as parallel_bench
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert parallel_bench.main(["--batch", "4", "--steps", "1"]) == 0
    text = out.getvalue()
    one, single = table_rows(text, "1 process x 2 threads")[0], table_rows(text, "1 process x 1 thread (reference)")[0]
    assert float(one[1]) > 0 and float(single[1]) > 0 and one[6] == "0.00 MB"  # one process: nothing to send
    two = table_rows(text, "2 processes x 1 thread")[0]
    if "not available" not in two[1]:
        assert float(two[1]) > 0 and 0 <= float(two[4].rstrip("%")) <= 100
        assert two[6] == f"{4 * 814570 / 1e6:.2f} MB"  # every trainable float32 of vgg_cifar, once per step
    assert len(table_rows(text, "64")) == 1 and "outweighs the computation below" in text
    assert "1 process x 1 thread above: CPU time of the step" in text and "load average before" in text
    # the ring all-reduce sends 2 (N-1)/N of the bytes: at 2 machines, the bytes once, plus two latencies
    assert parallel_bench.ring_allreduce_seconds(1e6, 2, 8e6, latency=0) == pytest.approx(1.0)
    assert parallel_bench.ring_allreduce_seconds(1e6, 1, 8e6) == 0.0
