"""Benchmark: inference with a TF-Slim zoo net (vgg_16 on one 224x224 image) and loading its checkpoint.

Prints (as Markdown tables):

* ``forward``: the median time of vgg_16's forward pass on one image, minislim (NumPy, under
  ``no_grad``) and, when installed, PyTorch CPU running the same network with the same
  weights (channels_last, same thread count), their ratio, and the largest difference of
  the two outputs (a check that both ran the same computation);
* ``memory``: the peak of NumPy allocations during one forward pass (tracemalloc), next to
  the weights and the largest layer's im2col buffer;
* ``load``: writing the weights as a TensorFlow V2 checkpoint, then the median time of
  reading every tensor back (index, bytes, CRC32C checks) against reading the data file's
  bytes alone (both from the page cache).

Run: ``python bench/predict.py [--image-size 224] [--repeats 5] [--threads T] [--no-torch]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minislim as slim  # noqa: E402
from _common import header, median_times, torch_or_none  # noqa: E402
from minislim.checkpoint import tensorflow as tf_format  # noqa: E402
from minislim.nets import vgg  # noqa: E402


def build(image_size: int):
    """vgg_16 (random weights) on one image; returns (forward function, variables, image)."""
    padding = "VALID" if image_size >= 224 else "SAME"     # small images: keep fc6's map non-empty
    image = np.random.default_rng(0).uniform(-100, 100, (1, image_size, image_size, 3)).astype(np.float32)
    slim.set_random_seed(0)

    def forward():
        with slim.no_grad():
            logits, _ = vgg.vgg_16(slim.tensor(image), is_training=False, spatial_squeeze=False,
                                   fc_conv_padding=padding)
        return logits.numpy()

    template = slim.make_template("bench", forward)
    with slim.arg_scope(vgg.vgg_arg_scope()):
        template()
    variables = slim.get_variables()

    def run():
        with slim.arg_scope(vgg.vgg_arg_scope()):
            return template()

    return run, variables, image, padding


def torch_forward(torch, variables, image, padding):
    """The same network in PyTorch, with the same weights; returns its forward function."""
    values = {v.name.split("/", 1)[1]: v.numpy() for v in variables}   # drop the template's scope
    layers = []
    names = [name[:-len("/weights")] for name in values if name.endswith("/weights")]
    for name in names:
        w = torch.from_numpy(values[name + "/weights"]).permute(3, 2, 0, 1).contiguous()   # OIHW
        conv = torch.nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]),
                               padding="same" if not name.endswith("fc6") or padding == "SAME" else 0)
        conv.weight.data, conv.bias.data = w, torch.from_numpy(values[name + "/biases"])
        layers.append(conv)
        if not name.endswith("fc8"):
            layers.append(torch.nn.ReLU())
        if name.endswith(("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3")):
            layers.append(torch.nn.MaxPool2d(2))
    model = torch.nn.Sequential(*layers).eval().to(memory_format=torch.channels_last)
    x = torch.from_numpy(image).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)

    def run():
        with torch.no_grad():
            return model(x).permute(0, 2, 3, 1).numpy()

    return run


def peak_forward_bytes(run) -> int:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def load_times(variables, repeats: int) -> dict:
    directory = tempfile.mkdtemp(prefix="bench_predict_")
    try:
        prefix = tf_format.write_v2(os.path.join(directory, "vgg_16.ckpt"), {v.name: v.numpy() for v in variables})
        data_path = prefix + ".data-00000-of-00001"

        def raw():
            with open(data_path, "rb") as handle:
                buffer = bytearray(os.path.getsize(data_path))
                handle.readinto(buffer)

        times = median_times({"read_all": lambda: tf_format.read_all(prefix), "raw bytes": raw}, repeats, warmup=1)
        times["bytes"] = os.path.getsize(data_path)
        return times
    finally:
        shutil.rmtree(directory)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="PyTorch's threads (default: its own)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="skip the checkpoint loading benchmark")
    args = parser.parse_args(argv)

    print(header(f"vgg_16 inference, one {args.image_size}x{args.image_size} image"))
    results = {}
    with slim.Graph().as_default():
        run, variables, image, padding = build(args.image_size)
        weights = sum(v.data.nbytes for v in variables)
        torch = None if args.no_torch else torch_or_none(args.threads)
        functions = {"minislim": run}
        if torch is not None:
            functions["torch"] = torch_forward(torch, variables, image, padding)
        times = median_times(functions, args.repeats, warmup=1)
        print("\n| forward | minislim ms | torch ms | minislim / torch | max abs diff |")
        print("|---|---|---|---|---|")
        if torch is not None:
            difference = float(np.abs(run() - functions["torch"]()).max())
            print(f"| vgg_16 | {times['minislim']:.1f} | {times['torch']:.1f} | "
                  f"{times['minislim'] / times['torch']:.2f} | {difference:.2e} |")
        else:
            print(f"| vgg_16 | {times['minislim']:.1f} | - | - | - |")
        results["forward"] = times
        peak = peak_forward_bytes(run)
        size = args.image_size
        im2col = size * size * 9 * 64 * 4                        # conv1_2: [224*224, 3*3*64] float32
        print("\n| memory | MiB |\n|---|---|")
        print(f"| weights | {weights / 2**20:.1f} |")
        print(f"| largest im2col buffer (conv1_2) | {im2col / 2**20:.1f} |")
        print(f"| peak NumPy allocations during the forward | {peak / 2**20:.1f} |")
        results["memory"] = {"weights": weights, "im2col": im2col, "peak": peak}
        if not args.no_load:
            load = load_times(variables, args.repeats)
            print("\n| load (TF V2, page cache) | ms | / raw |\n|---|---|---|")
            print(f"| raw bytes ({load['bytes'] / 2**20:.0f} MiB) | {load['raw bytes']:.1f} | 1.00 |")
            print(f"| read_all (+ CRC32C) | {load['read_all']:.1f} | {load['read_all'] / load['raw bytes']:.2f} |")
            results["load"] = load
    return results


if __name__ == "__main__":
    main()
