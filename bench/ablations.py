"""Ablations of minislim's default recipe: train vgg_cifar with one ingredient changed.

Each variant is the default recipe of ``minislim train`` (:class:`minislim.recipe.Recipe`,
built by the same functions as the command line) with one change. Every epoch the model
is evaluated on the data dir's test images, with and without flip averaging; one JSON line
per run is appended to ``--out`` (so a long sweep survives an interruption and can be
resumed: runs already in the file are skipped), and a table of the mean over seeds is printed.

    python bench/ablations.py --variants default black_padding --seeds 0 1 2 --epochs 20
    python bench/ablations.py --table                       # print the table of --out only

Threads: NumPy's BLAS as the environment sets it (``OPENBLAS_NUM_THREADS``); the line at
the top says how many.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import header  # noqa: E402

import minislim as slim  # noqa: E402
from minislim import data, datasets, learning, recipe  # noqa: E402
from minislim.learning.templates import model_template  # noqa: E402
from minislim.nets import nets_factory  # noqa: E402
from minislim.nets.vgg import cifar_weights_initializer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "cifar-10-batches-bin")

#: name -> (recipe changes, arguments of vgg_cifar_arg_scope, of the net (NET_ARGUMENTS) or of the
#: run (RUN_ARGUMENTS), what it tests)
VARIANTS = {
    "default": ({}, {}, "minislim train's recipe"),
    "old_recipe": (dict(decay_all_variables=False, warmup_fraction=0.0, label_smoothing=0.0,
                        pad_with_mean=False), dict(weights_initializer="glorot", dropout_keep_prob=0.5),
                   "the recipe before issue 11 (black padding, Glorot, weights-only decay, no smoothing, no warm-up, "
                   "dropout 0.5)"),
    "black_padding": (dict(pad_with_mean=False), {}, "crops padded with black (before normalising)"),
    "glorot_init": ({}, dict(weights_initializer="glorot"), "Glorot-uniform weights (TF-Slim's default)"),
    "he_init": ({}, dict(weights_initializer="he"), "He (variance 2/fan_in) weights"),
    "weights_only_decay": (dict(decay_all_variables=False), {}, "L2 on conv/fc weights only (TF-Slim's regularizer)"),
    "no_label_smoothing": (dict(label_smoothing=0.0), {}, "no label smoothing"),
    "no_warmup": (dict(warmup_fraction=0.0), {}, "no warm-up"),
    "lr_0.1": (dict(learning_rate=0.1), {}, "peak learning rate 0.1"),
    "lr_0.025": (dict(learning_rate=0.025), {}, "peak learning rate 0.025"),
    "bn_decay_0.9": ({}, dict(batch_norm_decay=0.9), "batch norm moving averages with decay 0.9"),
    "dropout_0.5": ({}, dict(dropout_keep_prob=0.5), "dropout 0.5 before the logits (TF-Slim VGG's)"),
    # a batch size changes the number of steps; the peak rate scales with it (the linear scaling
    # rule), so the rate per example and the decay per epoch stay the default's
    "batch_32": (dict(learning_rate=0.025), dict(batch_size=32), "batches of 32, peak learning rate 0.025"),
    "batch_128": (dict(learning_rate=0.1), dict(batch_size=128), "batches of 128, peak learning rate 0.1"),
}
#: variants in bench/results that were run by an earlier version of this script -> what they tested
RETIRED = {
    "default_uniform_logits": "the classifier at U(+-1/sqrt(fan_in)), not zero (dropout 0.5 then)",
}
#: arguments of the net itself (not of its arg_scope) that a variant may set
NET_ARGUMENTS = ("dropout_keep_prob",)
#: arguments of the run (not of the net) that a variant may set; they override the command line's
RUN_ARGUMENTS = ("batch_size",)

INITIALIZERS = {
    "glorot": lambda: slim.xavier_initializer(),
    "he": lambda: slim.variance_scaling_initializer(factor=2.0, mode="FAN_IN"),
    "default": cifar_weights_initializer,
}


def run(variant: str, seed: int, epochs: int, batch_size: int, data_dir: str, train_size=None) -> dict:
    """Train one variant; return its per-epoch test accuracies, losses and times."""
    changes, scope_args, _ = VARIANTS[variant]
    run_recipe = recipe.Recipe().replace(**changes)
    scope_args = dict(scope_args)
    net_kwargs = {name: scope_args.pop(name) for name in NET_ARGUMENTS if name in scope_args}
    run_kwargs = {name: scope_args.pop(name) for name in RUN_ARGUMENTS if name in scope_args}
    batch_size = run_kwargs.get("batch_size", batch_size)
    scope_args["weights_initializer"] = INITIALIZERS[scope_args.get("weights_initializer", "default")]()
    images, labels = datasets.cifar10.load(data_dir, "train", num_examples=train_size)
    test_images, test_labels = datasets.cifar10.load(data_dir, "test")
    mean, std = data.channel_stats(images)
    test_normalized = data.normalize(test_images, mean, std)
    pipeline = recipe.train_pipeline(images, labels, mean, std, batch_size, seed, run_recipe)
    steps = epochs * len(pipeline)
    with slim.Graph().as_default():
        slim.set_random_seed(seed)
        train_net = nets_factory.get_network_fn("vgg_cifar", 10, weight_decay=run_recipe.net_weight_decay(),
                                                is_training=True, **scope_args)
        eval_net = nets_factory.get_network_fn("vgg_cifar", 10, weight_decay=run_recipe.net_weight_decay(),
                                               is_training=False, **scope_args)

        def loss_fn(batch_images, batch_labels):
            logits, _ = train_net(slim.tensor(batch_images), **net_kwargs)
            recipe.classification_loss(logits, batch_labels, run_recipe)
            return slim.losses.get_total_loss()

        train_op = learning.create_train_op(loss_fn, recipe.optimizer(run_recipe, steps))
        # the evaluation net reuses the training net's variables (a template's first call
        # finds them in the graph); each batch holds the images and their mirrors
        evaluate = model_template(lambda x: eval_net(slim.tensor(x))[0])

        def accuracies():
            plain = averaged = 0
            with slim.no_grad():
                for i in range(0, len(test_images), 500):
                    x = test_normalized[i:i + 500]
                    both = evaluate(np.concatenate([x, x[:, :, ::-1]]))
                    n = len(x)
                    y = test_labels[i:i + 500]
                    plain += int(np.sum(np.argmax(both.data[:n], 1) == y))
                    averaged += int(np.sum(np.argmax(both.data[:n] + both.data[n:], 1) == y))
            return plain / len(test_images), averaged / len(test_images)

        result = {"variant": variant, "seed": seed, "epochs": epochs, "batch_size": batch_size,
                  "train_size": len(images), "recipe": {**run_recipe.__dict__}, "acc": [], "acc_flip": [],
                  "seconds": [], "losses": []}
        start = time.perf_counter()
        train_seconds = 0.0
        for epoch in range(epochs):
            epoch_start = time.perf_counter()
            epoch_losses = [train_op(*batch) for batch in pipeline]
            train_seconds += time.perf_counter() - epoch_start
            result["losses"] += [round(v, 4) for v in epoch_losses]
            plain, averaged = accuracies()
            result["acc"].append(plain)
            result["acc_flip"].append(averaged)
            result["seconds"].append(round(train_seconds, 1))
            print(f"  {variant} seed {seed} epoch {epoch + 1}: loss {np.mean(epoch_losses):.3f}, test {plain:.4f}, "
                  f"flip-averaged {averaged:.4f}, {train_seconds:.0f} s training", flush=True)
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        losses = result["losses"]
        result["max_loss_after_first"] = max(losses[1:]) if len(losses) > 1 else None
        return result


def load(path: str) -> list:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def table(results: list) -> None:
    groups: dict = {}
    for r in results:
        groups.setdefault((r["variant"], r["epochs"], r.get("train_size")), []).append(r)
    print(f"\n{'variant':<22}{'epochs':>7}{'seeds':>6}{'test acc':>10}{'flip-avg':>10}{'min':>7}{'max':>7}"
          f"{'s/run':>8}  what")
    for (variant, epochs, _), runs in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        final = [r["acc"][-1] for r in runs]
        flipped = [r["acc_flip"][-1] for r in runs]
        print(f"{variant:<22}{epochs:>7}{len(runs):>6}{np.mean(final):>10.4f}{np.mean(flipped):>10.4f}"
              f"{min(flipped):>7.3f}{max(flipped):>7.3f}{np.mean([r['seconds'][-1] for r in runs]):>8.0f}  "
              f"{VARIANTS[variant][2] if variant in VARIANTS else RETIRED.get(variant, '?')}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["default"], choices=sorted(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64, help="the batch size (a batch_* variant sets its own)")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--data-dir", default=DEFAULT_DATA)
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results", "ablations.jsonl"))
    parser.add_argument("--table", action="store_true", help="only print the table of --out")
    args = parser.parse_args(argv)
    if not args.table:
        print(header("ablations of minislim's default recipe (vgg_cifar)"))
        done = {(r["variant"], r["seed"], r["epochs"], r.get("train_size")) for r in load(args.out)}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        for seed in args.seeds:
            for variant in args.variants:
                key = (variant, seed, args.epochs, args.train_size or 10000)
                if key in done:
                    print(f"  {variant} seed {seed}: already in {args.out}")
                    continue
                result = run(variant, seed, args.epochs, args.batch_size, args.data_dir, args.train_size)
                with open(args.out, "a") as f:
                    f.write(json.dumps(result) + "\n")
    table(load(args.out))


if __name__ == "__main__":
    main()
