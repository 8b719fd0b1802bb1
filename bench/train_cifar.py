"""Train vgg_cifar on a CIFAR-10 data dir with minislim, and with PyTorch side by side.

Both use one recipe (the default of ``minislim train``): batch norm (epsilon 1e-3,
decay 0.99) after every convolution, SGD with Nesterov momentum 0.9, learning rate 0.05
with cosine decay to 0 over the run, L2 weight decay 5e-4 on the weights (TF's
``l2_regularizer(5e-4)``, whose gradient is ``5e-4 * w``: PyTorch's ``weight_decay=5e-4``
on the same tensors), batch 64, random crops after 4-pixel zero padding, horizontal
flips, per-channel normalisation from the training set, Glorot-uniform weights and zero
biases. Both read the same batches, from the same seeded minislim pipeline.

minislim trains through the command line (``minislim train`` then ``minislim eval``),
exactly as a user would. Reported: test accuracy on the data dir's ``test_batch`` and
training images per second, PyTorch held to the same number of threads as NumPy's BLAS.

    python bench/train_cifar.py --epochs 20                 # both, on ../shared/data
    python bench/train_cifar.py --epochs 1 --framework minislim
    python bench/train_cifar.py --step-time                 # only the time of one training step
                                                            # (with and without batch norm, and the
                                                            # floor of its matrix products)
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import gemm_products, header, im2col_copies, median_time, run_all, torch_or_none  # noqa: E402

import minislim as slim  # noqa: E402
from minislim import cli, data, datasets  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "cifar-10-batches-bin")
RECIPE = dict(batch_size=64, learning_rate=0.05, momentum=0.9, weight_decay=5e-4, bn_epsilon=1e-3,
              bn_decay=0.99, widths=(32, 64, 128), fc_width=256, keep_prob=0.5)


# --- PyTorch, the same recipe ----------------------------------------------------------------

def torch_vgg_cifar(torch, num_classes: int = 10, batch_norm: bool = True):
    nn = torch.nn
    layers, channels = [], 3
    for width in RECIPE["widths"]:
        for _ in range(2):
            if batch_norm:  # BN follows: no bias (as slim)
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width, eps=RECIPE["bn_epsilon"], momentum=1 - RECIPE["bn_decay"])]
            else:
                layers.append(nn.Conv2d(channels, width, 3, padding=1, bias=True))
            layers.append(nn.ReLU(inplace=True))
            channels = width
        layers.append(nn.MaxPool2d(2))
    # minislim flattens NHWC; PyTorch NCHW. The order differs, the function class does not.
    layers += [nn.Flatten(), nn.Linear(channels * 16, RECIPE["fc_width"]), nn.ReLU(inplace=True),
               nn.Dropout(1 - RECIPE["keep_prob"]), nn.Linear(RECIPE["fc_width"], num_classes)]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model.to(memory_format=torch.channels_last)


def torch_optimizer(torch, model, steps: int):
    weights = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    others = [p for p in model.parameters() if all(p is not w for w in weights)]
    optimizer = torch.optim.SGD([{"params": weights, "weight_decay": RECIPE["weight_decay"]},
                                 {"params": others, "weight_decay": 0.0}],
                                lr=RECIPE["learning_rate"], momentum=RECIPE["momentum"], nesterov=True)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    return optimizer, schedule


def as_torch(torch, images: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).contiguous(
        memory_format=torch.channels_last)


def train_torch(torch, pipeline, steps: int, test_images, test_labels):
    torch.manual_seed(0)
    model = torch_vgg_cifar(torch)
    optimizer, schedule = torch_optimizer(torch, model, steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    step, start = 0, time.perf_counter()
    model.train()
    while step < steps:
        for images, labels in pipeline:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(as_torch(torch, images)), torch.from_numpy(labels))
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 200 == 0:
                print(f"  pytorch step {step}/{steps}  loss {loss.item():.4f}", flush=True)
            if step == steps:
                break
    seconds = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(test_images), 500):
            logits = model(as_torch(torch, test_images[i:i + 500]))
            correct += int((logits.argmax(1).numpy() == test_labels[i:i + 500]).sum())
    return {"accuracy": correct / len(test_images), "seconds": seconds}


# --- one training step, side by side ----------------------------------------------------------

def step_times(threads: int, repeats: int, use_torch: bool = True) -> None:
    """Time one training step of each framework, with and without batch norm, and the floor.

    The floor is ``np.matmul`` alone for every matrix product of minislim's step (three per
    convolution but the first, which computes no input gradient, and three per fully
    connected layer), on operands laid out as the kernels lay them out: no step built on
    NumPy's matrix products can be faster.
    """
    rng = np.random.default_rng(0)
    images = rng.standard_normal((RECIPE["batch_size"], 32, 32, 3)).astype(np.float32)
    labels = rng.integers(0, 10, RECIPE["batch_size"])
    floor_products = gemm_products(step_products(RECIPE["batch_size"]), rng)
    copies = im2col_copies(RECIPE["batch_size"], step_convolutions(), rng)
    rows = []  # (name, seconds, the PyTorch steps to compare it with: with batch norm or without)
    for batch_norm, name in ((True, "minislim"), (False, "minislim, no batch norm")):
        with slim.Graph().as_default():
            op = minislim_train_op(batch_norm)
            rows.append((name, median_time(lambda: op(images, labels), repeats, warmup=3), (batch_norm,)))
    floor = median_time(lambda: run_all(floor_products), repeats, warmup=2)
    rows.append(("floor: np.matmul alone", floor, (True, False)))
    floor_and_copies = floor + median_time(lambda: run_all(copies), repeats, warmup=2)
    rows.append(("floor + the im2col copies (back to back)", floor_and_copies, (True, False)))
    passes = passes_over_conv_outputs(RECIPE["batch_size"], rng)
    one_pass = median_time(lambda: run_all(passes), repeats, warmup=2)
    rows.append(("... + 4 passes over the conv outputs (batch norm's least)", floor_and_copies + 4 * one_pass,
                 (True,)))
    torch_seconds = {}  # batch_norm -> PyTorch's step
    torch = torch_or_none(threads) if use_torch else None
    if torch is not None:
        for batch_norm in (True, False):
            time.sleep(0.5)  # let OpenBLAS's spinning threads go idle
            torch_seconds[batch_norm] = median_time(torch_step(torch, images, labels, batch_norm), repeats, warmup=3)
            name = f"PyTorch {torch.__version__}, channels_last, {threads} threads" + ("" if batch_norm else
                                                                                       ", no batch norm")
            rows.append((name, torch_seconds[batch_norm], (batch_norm,)))

    print(f"\nvgg_cifar training step, batch 64, float32, median of {repeats}; ratios to PyTorch's step"
          f"\n(the floor: np.matmul alone for the step's {len(floor_products)} matrix products; with the"
          f"\n{len(copies)} im2col copies of its convolutions; then with batch norm's least memory traffic:"
          f"\nabout what no im2col step on NumPy can beat)\n")
    print(f"{'':<64}{'ms':>8}{'vs PyTorch':>12}{'vs PyTorch, no BN':>19}")
    for name, seconds, compare_with in rows:
        ratios = [f"{seconds / torch_seconds[bn]:.2f}x" if torch_seconds and bn in compare_with else ""
                  for bn in (True, False)]
        print(f"{name:<64}{seconds * 1e3:>8.1f}{ratios[0]:>12}{ratios[1]:>19}")
    if torch is None and use_torch:
        print("PyTorch is not installed: `pip install torch==2.13.0` adds its times and the ratios.")


def minislim_train_op(batch_norm: bool):
    """The train op of `vgg_cifar` with the recipe's optimizer, in the default graph."""
    def loss_fn(x, y):
        with slim.arg_scope(slim.nets.vgg.vgg_cifar_arg_scope(RECIPE["weight_decay"], batch_norm=batch_norm)):
            logits, _ = slim.nets.vgg.vgg_cifar(slim.tensor(x), 10)
        slim.losses.sparse_softmax_cross_entropy(logits, y)
        return slim.losses.get_total_loss()

    return slim.learning.create_train_op(loss_fn, slim.optimizers.Momentum(0.01, 0.9, use_nesterov=True))


def passes_over_conv_outputs(batch: int, rng) -> list:
    """One elementwise pass (``np.add(a, a, out=b)``: read, write) over each convolution's output.

    Batch norm must read its input for the statistics and write its output, and in the
    backward pass read the gradient and the input and write the input's gradient: about
    four such passes, even fused into one loop, which NumPy cannot do.
    """
    passes = []
    for h, w, _, oc, _ in step_convolutions():
        a = rng.standard_normal((batch, h, w, oc), dtype=np.float32)
        passes.append(functools.partial(np.add, a, a, out=np.empty_like(a)))
    return passes


def step_convolutions() -> list:
    """(H, W, C, OC, needs_input_grad) of the 3x3 SAME convolutions of `vgg_cifar`."""
    layers, size, channels = [], 32, 3
    for width in RECIPE["widths"]:
        for _ in range(2):
            layers.append((size, size, channels, width, channels != 3))  # the images need no gradient
            channels = width
        size //= 2
    return layers


def step_products(batch: int) -> list:
    """(M, K, N, transposed_a) of every matrix product in one minislim step of `vgg_cifar`.

    Per 3x3 SAME convolution: forward ``[M, 9C] @ [9C, OC]``, filters' gradient
    ``[9C, M] @ [M, OC]``, inputs' gradient ``[M, 9 OC] @ [9 OC, C]`` (not for the first layer);
    per fully connected layer: forward, weights' gradient, inputs' gradient.
    """
    products = []
    for h, w, c, oc, needs_input_grad in step_convolutions():
        products += [(batch * h * w, 9 * c, oc, False), (batch * h * w, 9 * c, oc, True)]
        if needs_input_grad:
            products.append((batch * h * w, 9 * oc, c, False))
    h, w, _, oc, _ = step_convolutions()[-1]
    flattened = (h // 2) * (w // 2) * oc  # after the last 2x2 pooling
    for inputs, outputs in ((flattened, RECIPE["fc_width"]), (RECIPE["fc_width"], 10)):
        products += [(batch, inputs, outputs, False), (batch, inputs, outputs, True), (batch, outputs, inputs, False)]
    return products


def torch_step(torch, images, labels, batch_norm: bool):
    """One PyTorch training step of the same net (with biased convolutions when without batch norm)."""
    model = torch_vgg_cifar(torch, batch_norm=batch_norm)
    optimizer, _ = torch_optimizer(torch, model, 100)
    x, y = as_torch(torch, images), torch.from_numpy(labels)

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


# --- whole runs ---------------------------------------------------------------------------------

def run_minislim(args, steps: int) -> dict:
    logdir = tempfile.mkdtemp(prefix="minislim_bench_")
    command = ["train", "--net", "vgg_cifar", "--data-dir", args.data_dir, "--steps", str(steps),
               "--batch-size", str(RECIPE["batch_size"]), "--seed", str(args.seed), "--logdir", logdir,
               "--log-every", "200"]
    if args.train_size:
        command += ["--train-size", str(args.train_size)]
    if cli.main(command) != 0:
        raise SystemExit("minislim train failed")
    with open(os.path.join(logdir, cli.TRAIN_LOG)) as f:
        seconds = [json.loads(line)["seconds"] for line in f][-1]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):  # `minislim eval --json` prints one JSON line
        cli.main(["eval", "--logdir", logdir, "--json"])
    result = json.loads(buffer.getvalue().strip().splitlines()[-1])
    return {"accuracy": result["accuracy"], "seconds": seconds, "logdir": logdir}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (match NumPy's BLAS)")
    parser.add_argument("--framework", choices=["both", "minislim", "torch"], default="both")
    parser.add_argument("--step-time", action="store_true", help="only time one training step of each")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-torch", action="store_true", help="--step-time: skip PyTorch even when it is installed")
    args = parser.parse_args(argv)
    print(header("vgg_cifar on CIFAR-10: minislim and PyTorch, same recipe, same batches"))
    if args.step_time:
        step_times(args.threads, args.repeats, use_torch=not args.no_torch)
        return

    images, labels = datasets.cifar10.load(args.data_dir, "train", num_examples=args.train_size)
    test_images, test_labels = datasets.cifar10.load(args.data_dir, "test")
    mean, std = data.channel_stats(images)
    pipeline = cli.train_pipeline(images, labels, mean, std, RECIPE["batch_size"], args.seed, augment=True)
    steps = args.epochs * len(pipeline)
    print(f"data: {args.data_dir}: {len(images)} training, {len(test_images)} test images; {args.epochs} epochs = "
          f"{steps} steps of {RECIPE['batch_size']}")
    results = {}
    if args.framework in ("both", "minislim"):
        results["minislim"] = run_minislim(args, steps)
    torch = torch_or_none(args.threads) if args.framework in ("both", "torch") else None
    if torch is not None:
        normalized_test = data.normalize(test_images, mean, std)
        results[f"PyTorch {torch.__version__}"] = train_torch(torch, pipeline, steps, normalized_test, test_labels)
    elif args.framework != "minislim":
        print("PyTorch is not installed: `pip install torch==2.13.0` adds the side-by-side run.")
    print(f"\n{'framework':<24}{'test accuracy':>14}{'images/s':>10}{'minutes':>9}")
    for name, r in results.items():
        print(f"{name:<24}{r['accuracy']:>14.4f}{steps * RECIPE['batch_size'] / r['seconds']:>10.1f}"
              f"{r['seconds'] / 60:>9.1f}")


if __name__ == "__main__":
    main()
