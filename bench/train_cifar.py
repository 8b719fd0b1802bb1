"""vgg_cifar on CIFAR-10: minislim's default recipe beside PyTorch, whole runs and one step.

Whole runs (``python bench/train_cifar.py --epochs 20 --seeds 0 1 2``), side by side on one
machine with the same threads, each evaluated on the data dir's test images after every epoch:

(a) **PyTorch, textbook**: what a PyTorch user writes: its own data loading (a ``Dataset``
    over the binary files, ``DataLoader(shuffle=True)``, per-image random crop after 4 pixels
    of zero padding and flip, ``Normalize`` with CIFAR-10's usual constants), its default
    initialisation and batch norm, ``SGD(momentum=0.9, weight_decay=5e-4)`` on every
    parameter, ``CosineAnnealingLR`` by epoch. Only the net, batch size, epochs, peak rate
    and weight decay are ours.
(b) **PyTorch, same recipe**: a port of minislim's default recipe (:mod:`minislim.recipe`),
    fed the same batches from minislim's pipeline: shows that both frameworks agree.
(c) **minislim**: the default recipe, built by the same functions as ``minislim train``.

Reported: final accuracy (plain and flip-averaged), the epochs and training seconds to reach
0.60, 0.65 and 0.70, and images per second; the curves (accuracy vs seconds) go to a PNG.
One JSON line per run is appended to ``--out``.

``--step-time`` times one training step of each framework, with and without batch norm,
and the floor of its matrix products and im2col copies (``make bench``).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import gemm_products, header, im2col_copies, median_time, run_all, torch_or_none  # noqa: E402

import minislim as slim  # noqa: E402
from minislim import data, datasets, recipe  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "cifar-10-batches-bin")
RECIPE = dict(batch_size=64, learning_rate=0.05, momentum=0.9, weight_decay=5e-4, bn_epsilon=1e-3,
              bn_decay=0.99, widths=(32, 64, 128), fc_width=256, keep_prob=1.0)
TARGETS = (0.60, 0.65, 0.70)


# --- PyTorch ------------------------------------------------------------------------------------

def torch_vgg_cifar(torch, num_classes: int = 10, batch_norm: bool = True, bn_epsilon: float = RECIPE["bn_epsilon"],
                    bn_momentum: float = 1 - RECIPE["bn_decay"], init: str = "default"):
    """vgg_cifar in PyTorch. ``init``: "default" (PyTorch's own) or "glorot" (Glorot-uniform, zero biases)."""
    nn = torch.nn
    layers, channels = [], 3
    for width in RECIPE["widths"]:
        for _ in range(2):
            if batch_norm:  # BN follows: no bias (as slim)
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width, eps=bn_epsilon, momentum=bn_momentum)]
            else:
                layers.append(nn.Conv2d(channels, width, 3, padding=1, bias=True))
            layers.append(nn.ReLU(inplace=True))
            channels = width
        layers.append(nn.MaxPool2d(2))
    # minislim flattens NHWC; PyTorch NCHW. The order differs, the function class does not.
    layers += [nn.Flatten(), nn.Linear(channels * 16, RECIPE["fc_width"]), nn.ReLU(inplace=True),
               nn.Dropout(1 - RECIPE["keep_prob"]), nn.Linear(RECIPE["fc_width"], num_classes)]
    model = nn.Sequential(*layers)
    if init == "glorot":
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    return model


def as_torch(torch, images: np.ndarray):
    """NHWC float32 NumPy images -> an NCHW tensor."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def torch_accuracy(torch, model, test_images, test_labels, flip: bool = False) -> float:
    """Accuracy on normalised NHWC test images (``flip``: average the logits of the mirror images)."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(test_images), 500):
            x = as_torch(torch, test_images[i:i + 500])
            logits = model(x)
            if flip:
                logits = logits + model(torch.flip(x, dims=[3]))
            correct += int((logits.argmax(1).numpy() == test_labels[i:i + 500]).sum())
    model.train()
    return correct / len(test_images)


def torch_textbook(torch, data_dir: str, epochs: int, seed: int, test_images, test_labels) -> dict:
    """(a): PyTorch as its tutorials write it (see the module docstring)."""
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(seed)

    class CIFAR10Binary(torch.utils.data.Dataset):
        """The binary batches read with NumPy; per-image transforms in PyTorch."""

        def __init__(self, path, train: bool):
            records = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
            self.labels = torch.from_numpy(records[:, 0].astype(np.int64))
            self.images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())
            self.train = train
            self.mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(3, 1, 1)
            self.std = torch.tensor([0.2470, 0.2435, 0.2616]).view(3, 1, 1)

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            image = self.images[i]
            if self.train:  # RandomCrop(32, padding=4) (zero fill), RandomHorizontalFlip()
                padded = F.pad(image, (4, 4, 4, 4))
                top, left = torch.randint(0, 9, (2,)).tolist()
                image = padded[:, top:top + 32, left:left + 32]
                if torch.rand(()) < 0.5:
                    image = image.flip(2)
            return (image.float() / 255 - self.mean) / self.std, self.labels[i]

    train_set = CIFAR10Binary(os.path.join(data_dir, "data_batch_1.bin"), train=True)
    loader = torch.utils.data.DataLoader(train_set, batch_size=RECIPE["batch_size"], shuffle=True)
    test_x = ((test_images.astype(np.float32) / 255 - np.array([0.4914, 0.4822, 0.4465], np.float32))
              / np.array([0.2470, 0.2435, 0.2616], np.float32))
    model = torch_vgg_cifar(torch, bn_epsilon=1e-5, bn_momentum=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=RECIPE["learning_rate"], momentum=RECIPE["momentum"],
                                weight_decay=RECIPE["weight_decay"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = nn.CrossEntropyLoss()

    def epoch_fn():
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        schedule.step()
    return _run_epochs("PyTorch, textbook", epochs, epoch_fn,
                       lambda: (torch_accuracy(torch, model, test_x, test_labels),) * 2, len(train_set))


def torch_same_recipe(torch, pipeline, epochs: int, seed: int, test_normalized, test_labels) -> dict:
    """(b): minislim's default recipe ported to PyTorch, on minislim's batches."""
    torch.manual_seed(seed)
    defaults = recipe.Recipe()
    steps = epochs * len(pipeline)
    # PyTorch's default initialisation is vgg_cifar's U(+-1/sqrt(fan_in)); the classifier starts at zero
    model = torch_vgg_cifar(torch)
    torch.nn.init.zeros_(model[-1].weight)
    optimizer = torch.optim.SGD(model.parameters(), lr=defaults.learning_rate, momentum=defaults.momentum,
                                nesterov=defaults.nesterov, weight_decay=defaults.weight_decay)
    rate = recipe.optimizer(defaults, steps).learning_rate  # the same schedule object, read per step
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: rate(min(s, steps)) / defaults.learning_rate)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=defaults.label_smoothing)

    def epoch_fn():
        for images, labels in pipeline:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(as_torch(torch, images)), torch.from_numpy(labels))
            loss.backward()
            optimizer.step()
            schedule.step()

    def accuracies():
        return (torch_accuracy(torch, model, test_normalized, test_labels),
                torch_accuracy(torch, model, test_normalized, test_labels, flip=True))
    return _run_epochs("PyTorch, same recipe", epochs, epoch_fn, accuracies, pipeline.num_examples)


def _run_epochs(name: str, epochs: int, epoch_fn, accuracies, examples: int) -> dict:
    """Train epoch by epoch; evaluate after each (evaluation time not counted)."""
    result = {"name": name, "acc": [], "acc_flip": [], "seconds": [], "examples": examples}
    seconds = 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        epoch_fn()
        seconds += time.perf_counter() - start
        plain, flipped = accuracies()
        result["acc"].append(plain)
        result["acc_flip"].append(flipped)
        result["seconds"].append(round(seconds, 1))
        print(f"  {name} epoch {epoch + 1}: test {plain:.4f} (flip-averaged {flipped:.4f}), {seconds:.0f} s",
              flush=True)
    return result


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
        # what a PyTorch tutorial writes: the default layout (NCHW), slower on the CPU here
        time.sleep(0.5)
        default_layout = median_time(torch_step(torch, images, labels, True, channels_last=False), repeats, warmup=3)
        rows.append((f"PyTorch {torch.__version__}, its default layout (NCHW), {threads} threads", default_layout,
                     (True,)))

    print(f"\nvgg_cifar training step, batch 64, float32, median of {repeats}; ratios to PyTorch's step"
          f"\n(the floor: np.matmul alone for the step's {len(floor_products)} matrix products; with the"
          f"\n{len(copies)} im2col copies of its convolutions; then with batch norm's least memory traffic:"
          f"\nabout what no im2col step on NumPy can beat)\n")
    print(f"{'':<64}{'ms':>8}{'vs PyTorch':>12}{'vs PyTorch, no BN':>19}")
    for name, seconds, compare_with in rows:
        ratios = [f"{seconds / torch_seconds[bn]:.2f}x" if torch_seconds and bn in compare_with else ""
                  for bn in (True, False)]
        print(f"{name:<64}{seconds * 1e3:>8.1f}{ratios[0]:>12}{ratios[1]:>19}")
    print(f"\nminislim's step / (products + im2col copies): {rows[0][1] / floor_and_copies:.2f}x "
          f"(without batch norm: {rows[1][1] / floor_and_copies:.2f}x)")
    if torch is not None:
        print(f"minislim's step / PyTorch's: {rows[0][1] / torch_seconds[True]:.2f}x channels_last, "
              f"{rows[0][1] / default_layout:.2f}x its default layout")
    if torch is None and use_torch:
        print("PyTorch is not installed: `pip install torch==2.13.0` adds its times and the ratios.")


def minislim_train_op(batch_norm: bool):
    """The train op of `vgg_cifar` with the default recipe's optimizer and loss, in the default graph."""
    defaults = recipe.Recipe()

    def loss_fn(x, y):
        with slim.arg_scope(slim.nets.vgg.vgg_cifar_arg_scope(defaults.net_weight_decay(), batch_norm=batch_norm)):
            logits, _ = slim.nets.vgg.vgg_cifar(slim.tensor(x), 10)
        recipe.classification_loss(logits, y, defaults)
        return slim.losses.get_total_loss()

    return slim.learning.create_train_op(loss_fn, recipe.optimizer(defaults, 1000))


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


def torch_step(torch, images, labels, batch_norm: bool, channels_last: bool = True):
    """One PyTorch training step of the same net (with biased convolutions when without batch norm).

    ``channels_last``: the model and the images in PyTorch's channels_last layout (the faster
    one at one thread here; see docs/benchmarks.md); False: its default, NCHW, what a PyTorch
    tutorial writes.
    Returns the step function; its model is ``step.model``.
    """
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = torch_vgg_cifar(torch, batch_norm=batch_norm).to(memory_format=layout)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                weight_decay=RECIPE["weight_decay"])
    x = as_torch(torch, images).contiguous(memory_format=layout)
    y = torch.from_numpy(labels)

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    step.model = model
    return step


# --- whole runs ---------------------------------------------------------------------------------

def minislim_default(data_dir: str, epochs: int, seed: int) -> dict:
    """(c): minislim's default recipe (the functions ``minislim train`` builds its run from)."""
    import ablations

    return from_ablation(ablations.run("default", seed, epochs, RECIPE["batch_size"], data_dir))


def from_ablation(r: dict) -> dict:
    """The row of (c) for a run of ``bench/ablations.py``'s ``default`` variant (the same run)."""
    return {"name": "minislim", "acc": r["acc"], "acc_flip": r["acc_flip"], "seconds": r["seconds"],
            "examples": r["train_size"], "max_loss_after_first": r["max_loss_after_first"],
            "first_loss": r["losses"][0], "seed": r["seed"], "epochs": r["epochs"]}


def time_to(result: dict, target: float, key: str):
    """(epochs, seconds) at the first epoch whose accuracy reaches ``target``, or (None, None)."""
    for epoch, (accuracy, seconds) in enumerate(zip(result[key], result["seconds"]), start=1):
        if accuracy >= target:
            return epoch, seconds
    return None, None


def report(results: list) -> None:
    """The table: mean over seeds of each framework's final accuracy, times to the targets, images/s."""
    names = list(dict.fromkeys(r["name"] for r in results))
    cells = "".join(f"{'to ' + format(t, '.2f'):>16}" for t in TARGETS)
    print(f"\n{'run':<32}{'seeds':>6}{'final acc':>11}{'flip-avg':>10}{cells}{'images/s':>10}")
    print(f"{'':<59}" + "".join(f"{'epochs, s':>16}" for _ in TARGETS))
    for name in names:
        runs = [r for r in results if r["name"] == name]
        key = "acc" if name.startswith("PyTorch, textbook") else "acc_flip"
        row = f"{name:<32}{len(runs):>6}{np.mean([r['acc'][-1] for r in runs]):>11.4f}"
        row += f"{np.mean([r['acc_flip'][-1] for r in runs]):>10.4f}"
        for target in TARGETS:
            reached = [time_to(r, target, key) for r in runs]
            if all(e is not None for e, _ in reached):
                row += f"{np.mean([e for e, _ in reached]):>8.1f}, {np.mean([s for _, s in reached]):>5.0f}s"
            else:
                row += f"{'not reached':>16}"
        speed = np.mean([r["examples"] * len(r["seconds"]) / r["seconds"][-1] for r in runs])
        print(row + f"{speed:>10.1f}")
    print("(time to a target: training seconds at the end of the first epoch that reaches it, evaluation "
          "not counted;\n textbook: plain accuracy, the others: flip-averaged, as their evaluation reports)")


def plot(results: list, path: str) -> None:
    """Accuracy against training seconds, one curve per run (matplotlib; skipped when absent)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = {}
    for r in results:
        key = "acc" if r["name"].startswith("PyTorch, textbook") else "acc_flip"
        colour = colours.setdefault(r["name"], f"C{len(colours)}")
        label = r["name"] if sum(1 for x in results if x["name"] == r["name"] and x is not r
                                  and results.index(x) < results.index(r)) == 0 else None
        ax.plot(r["seconds"], r[key], "-o", color=colour, markersize=3, label=label, alpha=0.8)
    for target in TARGETS:
        ax.axhline(target, color="grey", linewidth=0.5, linestyle=":")
    ax.set_xlabel("training seconds (same machine, same threads)")
    ax.set_ylabel("test accuracy")
    ax.set_title("vgg_cifar on 10,000 CIFAR-10 images, test accuracy after each epoch")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"curves: {path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (match NumPy's BLAS)")
    parser.add_argument("--runs", nargs="+", choices=["textbook", "same_recipe", "minislim"],
                        default=["textbook", "same_recipe", "minislim"])
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "train_cifar.jsonl"))
    parser.add_argument("--plot", default=os.path.join(REPO, "docs", "images", "train_cifar_curves.png"))
    parser.add_argument("--report", action="store_true", help="only print the table and plot of --out")
    parser.add_argument("--minislim-from", metavar="ABLATIONS_JSONL",
                        help="append (c)'s rows from the `default` runs in a bench/ablations.py output (the same "
                             "function trains both) instead of training minislim again")
    parser.add_argument("--step-time", action="store_true", help="only time one training step of each")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-torch", action="store_true", help="--step-time: skip PyTorch even when it is installed")
    args = parser.parse_args(argv)
    print(header("vgg_cifar on CIFAR-10: minislim's default recipe and PyTorch"))
    if args.step_time:
        step_times(args.threads, args.repeats, use_torch=not args.no_torch)
        return
    if args.minislim_from:
        import ablations

        with open(args.out, "a") as f:
            for r in ablations.load(args.minislim_from):
                if r["variant"] == "default" and r["epochs"] == args.epochs and r["seed"] in args.seeds:
                    f.write(json.dumps({**from_ablation(r), "threads": args.threads, "keep_prob": RECIPE["keep_prob"]}) + "\n")
    elif not args.report:
        images, labels = datasets.cifar10.load(args.data_dir, "train")
        test_images, test_labels = datasets.cifar10.load(args.data_dir, "test")
        mean, std = data.channel_stats(images)
        test_normalized = data.normalize(test_images, mean, std)
        torch = torch_or_none(args.threads)
        if torch is None and args.runs != ["minislim"]:
            print("PyTorch is not installed (`pip install torch==2.13.0`): minislim alone")
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        for seed in args.seeds:
            for run in args.runs:  # one after the other, alternating, on the same machine
                if run == "minislim":
                    result = minislim_default(args.data_dir, args.epochs, seed)
                elif torch is None:
                    continue
                elif run == "textbook":
                    result = torch_textbook(torch, args.data_dir, args.epochs, seed, test_images, test_labels)
                else:
                    pipeline = recipe.train_pipeline(images, labels, mean, std, RECIPE["batch_size"], seed,
                                                     recipe.Recipe())
                    result = torch_same_recipe(torch, pipeline, args.epochs, seed, test_normalized, test_labels)
                result.update(seed=seed, epochs=args.epochs, threads=args.threads, keep_prob=RECIPE["keep_prob"])
                with open(args.out, "a") as f:
                    f.write(json.dumps(result) + "\n")
    with open(args.out) as f:
        results = [json.loads(line) for line in f if line.strip()]
    results = [r for r in results if r["epochs"] == args.epochs]
    report(results)
    if args.plot:
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        plot(results, args.plot)


if __name__ == "__main__":
    main()
