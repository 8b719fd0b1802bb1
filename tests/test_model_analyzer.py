"""model_analyzer.analyze_vars: totals and the printed table."""
import numpy as np

import minislim as slim


def test_totals_count_elements_and_bytes_per_dtype(capsys):
    slim.conv2d(np.zeros((1, 4, 4, 3), np.float32), 8, [3, 3], scope="conv1")
    slim.get_or_create_global_step()  # int64, one element
    total_size, total_bytes = slim.model_analyzer.analyze_vars(slim.get_variables())
    assert total_size == 3 * 3 * 3 * 8 + 8 + 1
    assert total_bytes == (3 * 3 * 3 * 8 + 8) * 4 + 8
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "shape", "size", "bytes"]
    assert lines[1].split() == ["conv1/weights", "(3,", "3,", "3,", "8)", "216", "864"]
    assert lines[-2:] == ["Total size of variables: 225", "Total bytes of variables: 904"]


def test_print_info_false_prints_nothing_and_none_means_every_variable(capsys):
    slim.variable("v", shape=[2, 5], dtype="float64")
    assert slim.model_analyzer.analyze_vars(print_info=False) == (10, 80)
    assert capsys.readouterr().out == ""


def test_an_empty_list_is_zero(capsys):
    assert slim.model_analyzer.analyze_vars([]) == (0, 0)
    assert "Total size of variables: 0" in capsys.readouterr().out


# --- analyze_ops: per-layer costs --------------------------------------------------------

import gc  # noqa: E402
import tracemalloc  # noqa: E402

import pytest  # noqa: E402

from minislim import cli  # noqa: E402
from minislim.kernels.im2col import WORKSPACE  # noqa: E402


def test_per_layer_macs_shapes_and_im2col_of_a_small_net_are_exact(capsys):
    images = slim.tensor(np.ones((2, 8, 8, 3), np.float32))
    net = slim.conv2d(images, 4, [3, 3], scope="conv1")                 # SAME: 8x8 out
    net = slim.conv2d(net, 6, [3, 3], padding="VALID", scope="conv2")   # 6x6 out
    net = slim.flatten(net, scope="flatten")
    logits = slim.fully_connected(net, 5, activation_fn=None, scope="fc")
    totals = slim.model_analyzer.analyze_ops(logits)
    rows = {r.name: r for r in totals["layers"]}
    assert list(rows) == ["conv1", "conv2", "flatten", "fc"]
    assert rows["conv1"].output_shape == (2, 8, 8, 4) and rows["fc"].output_shape == (2, 5)
    assert rows["conv1"].macs_forward == 2 * 8 * 8 * 4 * 3 * 3 * 3
    assert rows["conv1"].macs_backward == rows["conv1"].macs_forward  # the images need no gradient
    assert rows["conv2"].macs_forward == 2 * 6 * 6 * 6 * 3 * 3 * 4
    assert rows["conv2"].macs_backward == 2 * rows["conv2"].macs_forward
    assert rows["fc"].macs_forward == 2 * 216 * 5 and rows["fc"].macs_backward == 2 * 2 * 216 * 5
    assert rows["conv1"].im2col_bytes == 2 * 8 * 8 * 3 * 3 * 3 * 4      # N*OH*OW*KH*KW*C float32s
    assert rows["conv2"].im2col_bytes == 2 * 6 * 6 * 3 * 3 * 4 * 4
    assert rows["conv1"].scratch_bytes == 2 * 10 * 10 * 3 * 4            # the padded copy (SAME, 1 each side)
    assert rows["conv2"].scratch_bytes == 2 * 10 * 10 * 6 * 4            # VALID: no padding; the spread gradient
    assert totals["macs_forward"] == sum(r.macs_forward for r in rows.values())
    assert totals["parameter_bytes"] == (3 * 3 * 3 * 4 + 4 + 3 * 3 * 4 * 6 + 6 + 216 * 5 + 5) * 4
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["layer", "output", "MMACs", "fwd", "MMACs", "bwd", "activ.", "MiB", "im2col", "MiB"]
    assert out[1].startswith("conv1 ") and out[5].startswith("total ")
    assert out[-1].startswith("Estimated peak of a training step: ")


def test_activation_memory_counts_each_buffer_once_and_not_the_variables():
    x = slim.tensor(np.ones((100, 50)), requires_grad=True)  # float64, 40000 bytes
    y = slim.nn.tanh(x * 2.0)  # the graph holds x, x * 2 (the input of Tanh) and the 0-d 2.0
    totals = slim.model_analyzer.analyze_ops(y, print_info=False)
    assert totals["activation_bytes"] == 2 * 40_000 + 8  # y itself is the caller's, not the graph's
    w = slim.variable("w", shape=[100, 50], dtype="float64")
    totals = slim.model_analyzer.analyze_ops((w * w).sum(), print_info=False)
    assert totals["activation_bytes"] == 40_000 and totals["parameter_bytes"] == 40_000  # only w * w


def test_a_tensor_without_a_graph_is_refused():
    with pytest.raises(ValueError, match="no recorded graph"):
        slim.model_analyzer.analyze_ops(slim.tensor([1.0]))
    with slim.no_grad():
        y = slim.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match="no_grad"):
        slim.model_analyzer.analyze_ops(y)


@pytest.mark.slow
def test_vgg_cifar_memory_matches_tracemalloc_within_20_percent():
    """The analyzer's activations + scratch against the memory NumPy really holds after the
    forward pass, and its estimated peak against the measured peak of forward + backward."""
    from minislim.nets.vgg import vgg_cifar, vgg_cifar_arg_scope

    def model(images, labels):
        with slim.arg_scope(vgg_cifar_arg_scope()):
            logits, _ = vgg_cifar(images)
        slim.losses.sparse_softmax_cross_entropy(logits, labels)
        return slim.losses.get_total_loss()

    rng = np.random.default_rng(0)
    batch = 16
    images = slim.tensor(rng.standard_normal((batch, 32, 32, 3)).astype(np.float32))
    labels = rng.integers(0, 10, batch)
    step = slim.make_template("model", model)
    step(images, labels).backward()  # variables and their gradient buffers exist from here on
    WORKSPACE.clear()
    gc.collect()
    tracemalloc.start()
    try:
        loss = step(images, labels)
        after_forward, _ = tracemalloc.get_traced_memory()
        totals = slim.model_analyzer.analyze_ops(loss, print_info=False)
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = totals["activation_bytes"] + totals["scratch_bytes"] - _backward_scratch(totals)
    assert abs(held - after_forward) <= 0.2 * after_forward, (held / 2**20, after_forward / 2**20)
    assert abs(totals["peak_bytes"] - peak) <= 0.2 * peak, (totals["peak_bytes"] / 2**20, peak / 2**20)


def _backward_scratch(totals) -> int:
    """The spread-gradient buffers: allocated by the backward pass, not yet after the forward."""
    return sum(r.scratch_bytes - r.padded_bytes for r in totals["layers"])


def test_cli_summary_prints_the_per_layer_table_for_the_batch_size(capsys):
    assert cli.main(["summary", "--net", "lenet", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "Per layer, for a training step on a batch of 4" in out
    conv1 = next(line for line in out.splitlines() if line.startswith("LeNet/conv1 "))
    assert conv1.split()[1:5] == ["(4,", "28,", "28,", "32)"]
    assert float(conv1.split()[5]) == pytest.approx(4 * 28 * 28 * 32 * 5 * 5 * 1 / 1e6, abs=0.01)
