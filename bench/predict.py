"""Benchmark: inference with a TF-Slim zoo net (vgg_16 on one 224x224 image) and loading its checkpoint.

Prints (as Markdown tables):

* ``forward``: the median time of vgg_16's forward pass on one image, minislim (NumPy, under
  ``no_grad``) and, when installed, PyTorch CPU running the same network with the same
  weights (channels_last, same thread count), their ratio, and the largest difference of
  the two outputs (a check that both ran the same computation);
* ``memory``: the peak of NumPy allocations during one forward pass (tracemalloc), next to
  the weights and the largest layer's im2col buffer; and the peak resident memory (RSS) of
  a whole ``minislim predict`` process (reading the checkpoint, building the net, one
  image), against the target: twice the weights plus one im2col buffer;
* ``load``: the median time of reading every tensor of a checkpoint (index, bytes, every
  CRC32C check) against reading all its files' bytes into memory (``readinto`` a fresh
  buffer; both from the page cache, or with ``--cold`` from the disk, runs interleaved, one
  thread), with the CRC32C backend
  in use and, when google-crc32c is installed, with the NumPy one too; wall time and the
  process's CPU time (which leaves out waiting for a CPU on a shared machine). The checkpoint is ``--checkpoint``
  (e.g. one written by TensorFlow) or, by default, the net's weights written by
  ``write_v2``.

Run: ``python bench/predict.py [--image-size 224] [--repeats 5] [--threads T] [--no-torch]
[--checkpoint PREFIX] [--cold] [--out bench/results/predict.jsonl]``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minislim as slim  # noqa: E402
from _common import header, median_times, torch_or_none  # noqa: E402
from minislim.checkpoint import crc32c  # noqa: E402
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


def checkpoint_files(prefix: str) -> list:
    """Every file of a TensorFlow checkpoint: V2's index and data shards, or V1's file(s)."""
    if os.path.isfile(prefix + ".index"):
        return [prefix + ".index"] + sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????"))
    return [prefix] if os.path.isfile(prefix) else sorted(glob.glob(glob.escape(prefix) + "-?????-of-?????"))


def evict(paths: list) -> None:
    """Ask the kernel to drop ``paths`` from the page cache, so the next read comes from the disk.

    ``posix_fadvise(DONTNEED)`` drops clean pages that no process maps (what a fresh
    process reading a checkpoint it has not read before finds); no privileges needed.
    """
    if not hasattr(os, "posix_fadvise"):
        raise SystemExit("--cold needs os.posix_fadvise (Linux and most Unix systems); this platform has none")
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def wall_and_cpu_times(functions: dict, repeats: int, warmup: int = 1, before=None) -> tuple:
    """Median wall and CPU (this process's user + system) ms of each function, runs interleaved.

    On a shared machine the wall time includes waiting for a CPU; the CPU time does not.
    ``before`` (untimed) runs before every call, e.g. :func:`evict`.
    """
    wall, cpu = {name: [] for name in functions}, {name: [] for name in functions}
    for round_ in range(warmup + repeats):
        for name, fn in functions.items():
            if before is not None:
                before()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            if round_ >= warmup:
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    return ({name: statistics.median(values) * 1e3 for name, values in wall.items()},
            {name: statistics.median(values) * 1e3 for name, values in cpu.items()})


def _entries(checkpoint) -> list:
    """The tensors' entries (dtype enum, shape) of a V2 or V1 checkpoint, in name order."""
    entries = checkpoint.entries if checkpoint.format == "V2" else checkpoint.metas
    return [entries[name] for name in sorted(entries)]


def load_times(prefix: str, repeats: int, cold: bool = False) -> dict:
    """Median ms of reading ``prefix``'s files' bytes, and of ``read_all`` (per CRC32C backend).

    From the page cache, or with ``cold``, from the disk: the files evicted before every run.
    """
    files = checkpoint_files(prefix)

    def raw():
        for path in files:
            with open(path, "rb") as handle:
                handle.readinto(np.empty(os.path.getsize(path), np.uint8))

    # the same bytes in fresh buffers of the tensors' sizes (then the rest): the loader's allocations
    checkpoint = tf_format.open_checkpoint(prefix)
    sizes = [int(np.prod(entry.shape, dtype=np.int64)) * (tf_format.DTYPES.get(entry.dtype, (0, None))[1]
                                                          or np.dtype("S1")).itemsize for entry in _entries(checkpoint)]

    def raw_pieces():
        pending = list(sizes)
        for path in files:
            left = os.path.getsize(path)
            with open(path, "rb") as handle:
                while left:
                    size = min(pending.pop(0) if pending else left, left)
                    handle.readinto(np.empty(size, np.uint8))
                    left -= size

    def numpy_crc():
        accelerated, crc32c.ACCELERATED = crc32c.ACCELERATED, None
        try:
            tf_format.read_all(prefix)
        finally:
            crc32c.ACCELERATED = accelerated

    functions = {"raw bytes": raw, "raw bytes, tensor-sized buffers": raw_pieces, f"read_all ({crc32c.backend()} CRC32C)": lambda: tf_format.read_all(prefix)}
    if crc32c.backend() != "numpy":
        functions["read_all (numpy CRC32C)"] = numpy_crc
    times, cpu = wall_and_cpu_times(functions, repeats, warmup=1, before=(lambda: evict(files)) if cold else None)
    times["cpu"] = cpu
    times["source"] = "disk (evicted before every run)" if cold else "page cache"
    times["bytes"] = sum(os.path.getsize(path) for path in files)
    times["format"] = tf_format.open_checkpoint(prefix).format
    return times


# Run in the child: minislim predict, then the child's own high-water RSS (VmHWM, Linux). Not
# getrusage(RUSAGE_CHILDREN): Linux carries the forked parent's RSS into ru_maxrss across exec.
_CHILD = """import sys
from minislim import cli
code = cli.main(["predict", "--net", "vgg_16", "--checkpoint", sys.argv[1], sys.argv[2]])
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print("VmHWM", int(status[0]) * 1024, code)
"""


def predict_peak_rss(prefix: str, image_size: int) -> int:
    """Peak RSS in bytes of ``minislim predict --net vgg_16`` on one image, in a child process."""
    directory = tempfile.mkdtemp(prefix="bench_predict_image_")
    try:
        image = os.path.join(directory, "image.npy")
        np.save(image, np.random.default_rng(1).integers(0, 256, (image_size + 32, image_size + 64, 3), np.uint8))
        repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        environment = dict(os.environ, PYTHONPATH=repository + os.pathsep + os.environ.get("PYTHONPATH", ""))
        output = subprocess.run([sys.executable, "-c", _CHILD, prefix, image], check=True, env=environment,
                                capture_output=True, text=True).stdout
        _, peak, code = output.splitlines()[-1].split()
        if code != "0":
            raise RuntimeError(f"minislim predict failed (exit {code}): {output}")
        return int(peak)
    finally:
        shutil.rmtree(directory)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="PyTorch's threads (default: its own)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-forward", action="store_true", help="skip the forward timing (and tracemalloc)")
    parser.add_argument("--no-load", action="store_true", help="skip the checkpoint loading benchmark")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak RSS of a minislim predict process")
    parser.add_argument("--checkpoint", help="a vgg_16 checkpoint prefix to load (default: the random weights, "
                                             "written by write_v2)")
    parser.add_argument("--cold", action="store_true", help="load from the disk: evict the checkpoint's files from "
                                                             "the page cache before every run (default: page cache)")
    parser.add_argument("--out", help="append the results as one JSON line to this file")
    args = parser.parse_args(argv)

    print(header(f"vgg_16 inference, one {args.image_size}x{args.image_size} image"))
    results = {"argv": sys.argv[1:] if argv is None else list(argv), "crc32c": crc32c.backend(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "loadavg": os.getloadavg()}
    directory = tempfile.mkdtemp(prefix="bench_predict_")
    try:
        with slim.Graph().as_default():
            run, variables, image, padding = build(args.image_size)
            weights = sum(v.data.nbytes for v in variables)
            size = args.image_size
            im2col = size * size * 9 * 64 * 4                        # conv1_2: [224*224, 3*3*64] float32
            results["memory"] = {"weights": weights, "im2col": im2col}
            if not args.no_forward:
                forward(args, run, variables, image, padding, results)
            prefix = args.checkpoint
            if prefix is None and not (args.no_load and args.no_rss):
                prefix = tf_format.write_v2(os.path.join(directory, "vgg_16.ckpt"),
                                            {v.name.split("/", 1)[1]: v.numpy() for v in variables})
            del run, variables
        if not args.no_rss:
            rss = predict_peak_rss(prefix, size)
            results["memory"]["predict_peak_rss"] = rss
            print("\n| memory, whole `minislim predict` process | MiB |\n|---|---|")
            print(f"| weights (W) | {weights / 2**20:.1f} |")
            print(f"| largest im2col buffer (conv1_2, I) | {im2col / 2**20:.1f} |")
            print(f"| target: 2 W + I | {(2 * weights + im2col) / 2**20:.1f} |")
            print(f"| peak RSS (Python, NumPy, checkpoint, net, one image) | {rss / 2**20:.1f} |")
        if not args.no_load:
            load = load_times(prefix, args.repeats, cold=args.cold)
            cpu = load["cpu"]
            print(f"\n| load ({load['format']}, {load['source']}) | ms | / raw | CPU ms | CPU / raw |\n|---|---|---|---|---|")
            print(f"| raw bytes ({load['bytes'] / 2**20:.0f} MiB) | {load['raw bytes']:.1f} | 1.00 | "
                  f"{cpu['raw bytes']:.1f} | 1.00 |")
            for name, value in load.items():
                if name.startswith("read_all") or name.startswith("raw bytes,"):
                    print(f"| {name} | {value:.1f} | {value / load['raw bytes']:.2f} | {cpu[name]:.1f} | "
                          f"{cpu[name] / cpu['raw bytes']:.2f} |")
            results["load"] = load
    finally:
        shutil.rmtree(directory)
    if args.out:
        with open(args.out, "a") as handle:
            handle.write(json.dumps(results) + "\n")
    return results


def forward(args, run, variables, image, padding, results) -> None:
    """Time vgg_16's forward (and PyTorch's), and the peak NumPy allocations during one."""
    torch = None if args.no_torch else torch_or_none(args.threads)
    functions = {"minislim": run}
    if torch is not None:
        functions["torch"] = torch_forward(torch, variables, image, padding)
    times = median_times(functions, args.repeats, warmup=1)
    print("\n| forward | minislim ms | torch ms | minislim / torch | max abs diff |")
    print("|---|---|---|---|---|")
    if torch is not None:
        difference = float(np.abs(run() - functions["torch"]()).max())
        times["torch_threads"] = torch.get_num_threads()
        print(f"| vgg_16 | {times['minislim']:.1f} | {times['torch']:.1f} | "
              f"{times['minislim'] / times['torch']:.2f} | {difference:.2e} |")
    else:
        print(f"| vgg_16 | {times['minislim']:.1f} | - | - | - |")
    results["forward"] = times
    peak = peak_forward_bytes(run)
    results["memory"]["forward_tracemalloc_peak"] = peak
    print("\n| memory, one forward | MiB |\n|---|---|")
    print(f"| weights | {results['memory']['weights'] / 2**20:.1f} |")
    print(f"| largest im2col buffer (conv1_2) | {results['memory']['im2col'] / 2**20:.1f} |")
    print(f"| peak NumPy allocations during the forward (on top of the weights) | {peak / 2**20:.1f} |")


if __name__ == "__main__":
    main()
