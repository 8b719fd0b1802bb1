"""The ``minislim`` command: ``train``, ``eval``, ``summary``, ``convert`` (and ``predict``).

::

    minislim train --net vgg_cifar --logdir runs/demo        # the embedded CIFAR-10 subset
    minislim eval --logdir runs/demo [--json]
    minislim summary --net vgg_cifar
    minislim summary --checkpoint vgg_16.ckpt                # a TensorFlow or .npz checkpoint
    minislim convert vgg_16.ckpt vgg_16.npz                  # or OUT.npz -> a TensorFlow V2 prefix
    minislim predict --net vgg_16 --checkpoint vgg_16.ckpt cat.jpg   # top-5 classes

``train`` records in ``<logdir>/minislim.json`` everything ``eval`` needs (the net and its
arguments, the normalisation statistics of the training set, the class names), writes
checkpoints and a training log of JSON lines (``train_log.jsonl``) there, and resumes
from the newest checkpoint when run again with the same logdir.

Errors a user can make are one line on stderr, never a traceback: exit code 2 for a
usage error (an unknown net, a logdir that holds another net), 1 for a data error (a
missing directory or file, a truncated or corrupt batch, a label out of range) or an OS
error on the logdir (a file, a dangling link, read-only, a full disk, another trainer
holding it). Ctrl-C and SIGTERM save a checkpoint and exit with 130 and 143
(docs/reliability.md).

>>> main(["summary", "--net", "lenet"])   # doctest: +ELLIPSIS
name ...
LeNet/conv1/weights ...
...
0
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import sys
import time

import numpy as np

from minislim import (checkpoint, data, datasets, evaluation, learning, losses, metrics, model_analyzer, parallel,
                      recipe)
from minislim.autograd.anomaly import AnomalyError, detect_anomaly
from minislim.autograd.tensor import Tensor
from minislim.datasets.files import check_directory
from minislim.framework.graph import Graph, set_random_seed
from minislim.framework.variables import get_model_variables
from minislim.learning.run_guard import (Interrupted, LogdirError, describe_os_error, lock_logdir, prepare_logdir,
                                         truncate_log)
from minislim.nets import nets_factory

CONFIG = "minislim.json"
TRAIN_LOG = "train_log.jsonl"
DATASETS = ("cifar10", "mnist")


class UsageError(Exception):
    """A mistake in the command line (exit code 2)."""


# --- data --------------------------------------------------------------------------------

def load_split(dataset: str, data_dir, split: str, num_examples=None):
    """``(images uint8 [N, H, W, C], labels int64 [N], class names)`` of a split."""
    if data_dir is not None:
        check_directory(data_dir, dataset)  # missing, or not a directory
    if dataset == "cifar10":
        images, labels = datasets.cifar10.load(data_dir, split=split, num_examples=num_examples)
        try:
            names = datasets.cifar10.class_names(data_dir)
        except datasets.DatasetError:  # the names file is optional
            names = list(datasets.cifar10.CLASS_NAMES)
        return check_split(images, labels, list(names), dataset, data_dir, split)
    images, labels = datasets.mnist.load(data_dir, split=split, num_examples=num_examples)
    return check_split(images, labels, datasets.mnist.class_names(data_dir), dataset, data_dir, split)


def check_split(images, labels, names, dataset, data_dir, split):
    """The data errors that would otherwise surface mid-training (an empty split, a label
    the net has no output for) as a :class:`~minislim.datasets.DatasetError`, at load time."""
    where = data_dir if data_dir is not None else f"the embedded {dataset} subset"
    if len(images) == 0 or 0 in images.shape[1:]:
        raise datasets.DatasetError(f"{where}: the {split} split holds no images (shape {images.shape})")
    bad = np.flatnonzero((labels < 0) | (labels >= len(names)))
    if bad.size:
        raise datasets.DatasetError(f"{where}: {split} example {int(bad[0])} has label {int(labels[bad[0]])}, "
                                    f"expected 0-{len(names) - 1}")
    return images, labels, names


def train_pipeline(images, labels, mean, std, batch_size: int, seed: int, augment: bool,
                   run_recipe: recipe.Recipe | None = None, communicator=None):
    """The training batches of ``run_recipe`` (default: the default recipe), with or without augmentation;
    with a ``communicator``, this process's shard of each global batch (see :mod:`minislim.parallel`)."""
    run_recipe = (run_recipe or recipe.Recipe()).replace(augment=augment)
    return recipe.train_pipeline(images, labels, mean, std, batch_size, seed, run_recipe, communicator=communicator)


def recipe_of(config: dict) -> recipe.Recipe:
    """The recipe a logdir's run trains with (runs recorded before recipes existed: the old one)."""
    # vgg_cifar kept TF-Slim VGG's dropout 0.5 until its default became 1.0: runs recorded
    # before then (no dropout_keep_prob in their recipe) keep it
    dropout = 0.5 if config.get("net") == "vgg_cifar" else None
    if "recipe" in config:
        return recipe.Recipe(**{"dropout_keep_prob": dropout, **config["recipe"]})
    return recipe.Recipe(decay_all_variables=False, warmup_fraction=0.0, label_smoothing=0.0, pad_with_mean=False,
                         flip_averaging=False, augment=config.get("augment", True), dropout_keep_prob=dropout)


# --- the model ----------------------------------------------------------------------------

def network(config: dict, is_training: bool):
    """The net function that ``config`` describes (its arg_scope's weight decay: 0 when the
    optimizer decays every variable, the default recipe)."""
    run_recipe = recipe_of(config)
    weight_decay = run_recipe.replace(weight_decay=config["weight_decay"]).net_weight_decay()
    network_fn = nets_factory.get_network_fn(config["net"], num_classes=config["num_classes"],
                                             weight_decay=weight_decay, is_training=is_training)
    if run_recipe.dropout_keep_prob is None:
        return network_fn
    return functools.update_wrapper(functools.partial(network_fn, dropout_keep_prob=run_recipe.dropout_keep_prob),
                                    network_fn)


def check_net_fits(config: dict) -> None:
    """Run the net once on one blank image, in a throwaway graph.

    A net that cannot take the data set's images (``vgg_16``'s 7x7 VALID ``fc6`` on 32x32
    CIFAR-10 images) is then a one-line usage error before training, not a traceback.
    """
    image = np.zeros((1, *config["image_shape"]), np.float32)
    with Graph().as_default():
        try:
            network(config, is_training=False)(Tensor(image))
        except ValueError as error:
            raise UsageError(f"{config['net']} cannot take {config['dataset']} images of shape "
                             f"{tuple(config['image_shape'])}: {error}") from None


def read_config(logdir: str) -> dict | None:
    path = os.path.join(logdir, CONFIG)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:  # ValueError: not valid JSON
        raise checkpoint.CheckpointError(f"{path}: cannot read the run's configuration ({error}); restore it "
                                         "or use another --logdir") from None


def write_config(logdir: str, config: dict) -> None:
    path = os.path.join(logdir, CONFIG)
    with open(path + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
    os.replace(path + ".tmp", path)


# --- train --------------------------------------------------------------------------------

class TrainLog:
    """``train``'s per-step hook in ``minislim train``: each step appends ``{"step", "loss", "learning_rate",
    "seconds"}`` to a JSON-lines log (the rate the optimizer used for the step)."""

    def __init__(self, log_file, optimizer):
        self.log_file, self.optimizer = log_file, optimizer
        self.start = time.time()

    def __call__(self, step: int, loss: float) -> None:
        record = {"step": step, "loss": float(loss), "learning_rate": float(self.optimizer.last_learning_rate),
                  "seconds": round(time.time() - self.start, 3)}
        try:
            self.log_file.write(json.dumps(record) + "\n")
            self.log_file.flush()
        except OSError as error:  # a full disk: one line, and the last checkpoint stays
            name = self.log_file.name
            raise LogdirError(f"cannot write the training log: {describe_os_error(error, name)}") from None


def progress_printer(total_steps: int, stream=None):
    """A log function that draws a progress bar in front of train's step lines."""
    def log(line: str) -> None:
        if line.startswith("step "):
            step = int(line.split()[1].split("/")[0])
            done = int(30 * step / max(total_steps, 1))
            line = f"[{'#' * done}{'.' * (30 - done)}] {line}"
        print(line, file=stream or sys.stdout, flush=True)
    return log


#: the learning rate and weight decay a net trains with unless given (the rest of the recipe is
#: shared). LeNet keeps TF-Slim's ``lenet_arg_scope`` (no weight decay); with its N(0, 0.1)
#: weights it needs a 50x smaller rate than the small VGG (on CIFAR-10, 0.05 diverges within
#: ten steps and 0.01 leaves it at chance; 0.001 learns).
TRAIN_DEFAULTS = {"learning_rate": 0.05, "weight_decay": 5e-4}
NET_TRAIN_DEFAULTS = {"lenet": {"learning_rate": 0.001, "weight_decay": 0.0}}


def resolve_train_defaults(args) -> dict:
    """``{"learning_rate", "weight_decay"}``: those given on the command line, else the net's defaults."""
    defaults = {**TRAIN_DEFAULTS, **NET_TRAIN_DEFAULTS.get(args.net, {})}
    return {name: default if getattr(args, name) is None else getattr(args, name)
            for name, default in defaults.items()}


def cmd_train_locked(args) -> int:
    """``cmd_train`` holding the logdir's lock (one trainer per logdir), after cutting the
    training log back to the checkpoint the run resumes from (one record per step)."""
    comm = parallel.world()
    with train_job_guard(comm):  # under mpiexec, rank 0's busy logdir must not leave the others waiting
        if args.net not in nets_factory.networks_map:
            raise UsageError(f"unknown net {args.net!r}; known nets: {', '.join(sorted(nets_factory.networks_map))}")
        if not comm.is_root:  # under mpiexec, rank 0 alone holds the lock and writes the log
            return cmd_train(args)
        prepare_logdir(args.logdir)
        with lock_logdir(args.logdir):
            found = checkpoint.all_checkpoints(args.logdir)
            truncate_log(os.path.join(args.logdir, TRAIN_LOG), found[-1][0] if found else 0)
            return cmd_train(args)


def train_job_guard(comm):
    """Under ``mpiexec``: an error in one process of ``minislim train`` is printed (a user's
    mistake without traceback; a bad option by rank 0 alone, exit status 2) and ends the whole
    job (:func:`minislim.parallel.abort_on_error`). One process: the error goes on to ``main``."""
    quiet = (UsageError, datasets.DatasetError, checkpoint.CheckpointError, learning.NonFiniteError, LogdirError)
    return parallel.abort_on_error(comm, "minislim train", code=lambda error: 2 if isinstance(error, UsageError) else 1,
                                   quiet=quiet, same_everywhere=(UsageError,))


def cmd_train(args) -> int:
    """``minislim train``; under ``mpiexec -n N`` each of the N processes trains on its share
    of every (global) batch of ``--batch-size``, and rank 0 alone prints, logs and saves."""
    comm = parallel.world()
    with contextlib.ExitStack() as stack:
        stack.enter_context(train_job_guard(comm))
        if not comm.is_root:
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(open(os.devnull, "w"))))
        return _cmd_train(args, comm)


def _cmd_train(args, comm) -> int:
    if args.net not in nets_factory.networks_map:
        raise UsageError(f"unknown net {args.net!r}; known nets: {', '.join(sorted(nets_factory.networks_map))}")
    settings = resolve_train_defaults(args)
    if args.batch_size % comm.size:
        raise UsageError(f"--batch-size {args.batch_size} is the global batch: it must divide among the {comm.size} "
                         f"processes (try {args.batch_size - args.batch_size % comm.size or comm.size})")
    if os.path.exists(args.logdir) and not os.path.isdir(args.logdir):
        raise UsageError(f"--logdir {args.logdir} is a file, not a directory")
    os.makedirs(args.logdir, exist_ok=True)
    # A config without a checkpoint (a run that stopped before its first save) binds nothing.
    recorded = read_config(args.logdir) if checkpoint.latest_checkpoint(args.logdir) else None
    if recorded is not None and (recorded["net"], recorded["dataset"]) != (args.net, args.dataset):
        raise UsageError(f"logdir {args.logdir} holds a {recorded['net']} trained on {recorded['dataset']}; "
                         f"use another --logdir, or --net {recorded['net']} --dataset {recorded['dataset']}")
    images, labels, class_names = load_split(args.dataset, args.data_dir, "train", args.train_size)
    if recorded is not None:  # keep the normalisation the weights were trained with
        mean, std = np.array(recorded["mean"]), np.array(recorded["std"])
    else:
        mean, std = data.channel_stats(images)
    # a resumed run keeps its recipe (one recorded before recipes existed: the old one)
    run_recipe = (recipe_of(recorded) if recorded is not None else recipe.Recipe()).replace(
        learning_rate=settings["learning_rate"], weight_decay=settings["weight_decay"],
        augment=not args.no_augment,
        **({} if args.label_smoothing is None else {"label_smoothing": args.label_smoothing}))
    pipeline = train_pipeline(images, labels, mean, std, args.batch_size, args.seed, not args.no_augment,
                              run_recipe, comm)
    steps = args.steps if args.steps is not None else args.epochs * len(pipeline)
    config = {"net": args.net, "dataset": args.dataset, "num_classes": len(class_names),
              "class_names": class_names, "image_shape": list(images.shape[1:]),
              "mean": [float(m) for m in mean], "std": [float(s) for s in std],
              "weight_decay": settings["weight_decay"], "learning_rate": settings["learning_rate"],
              "batch_size": args.batch_size, "epochs": args.epochs, "steps": steps,
              "train_size": int(len(images)), "seed": args.seed, "augment": not args.no_augment,
              "recipe": dataclasses.asdict(run_recipe),
              "data_dir": os.path.abspath(args.data_dir) if args.data_dir else None}
    check_net_fits(config)
    if recorded is not None:
        # the input pipeline resumes where it stopped only over the same examples, in the same batches
        for name, flag in (("batch_size", "--batch-size"), ("train_size", "--train-size")):
            if recorded.get(name) != config[name]:
                raise UsageError(f"cannot resume the run in {args.logdir} with {flag} {config[name]}: it was "
                                 f"trained with {recorded.get(name)}, and its input pipeline continues only over "
                                 f"the same batches; use {flag} {recorded.get(name)} or another --logdir")
        changed = [f"{k} {recorded.get(k)} -> {config[k]}" for k in ("epochs", "steps", "learning_rate",
                                                                       "weight_decay", "seed")
                   if recorded.get(k) != config[k]]
        if changed:
            print("note: the recipe differs from the one recorded in the logdir: " + ", ".join(changed))
    comm.barrier()  # every process has read the logdir's config before rank 0 rewrites it
    if comm.is_root:
        write_config(args.logdir, config)

    # A graph of its own: in one process (a notebook, the tests), a second run must not see the
    # first run's variables or global step.
    with Graph().as_default():
        set_random_seed(args.seed)
        network_fn = network(config, is_training=True)

        def loss_fn(batch_images, batch_labels):
            logits, _ = network_fn(Tensor(batch_images))
            recipe.classification_loss(logits, batch_labels, run_recipe)
            return losses.get_total_loss()

        optimizer = recipe.optimizer(run_recipe, steps)
        print(f"Training {args.net} on {len(images)} {args.dataset} images ({', '.join(class_names[:3])}, ...): "
              f"{steps} steps of {args.batch_size}{processes_note(comm, args.batch_size)} ({steps / len(pipeline):.1f} "
              f"epochs), SGD with Nesterov momentum "
              f"{run_recipe.momentum}, learning rate {run_recipe.learning_rate} (linear warm-up over "
              f"{run_recipe.warmup_steps(steps)} steps, then cosine decay), weight decay {run_recipe.weight_decay} "
              f"({'every variable' if run_recipe.decay_all_variables else 'weights only'}), "
              f"label smoothing {run_recipe.label_smoothing}")
        # A diverging run overflows before its loss turns NaN; the NaN check stops it with a clear
        # message (NonFiniteError), so NumPy's own warnings would only be noise before it.
        with open(os.path.join(args.logdir, TRAIN_LOG) if comm.is_root else os.devnull, "a") as log_file, np.errstate(over="ignore", invalid="ignore",
                                                                                        divide="ignore"):
            train_op = learning.create_train_op(loss_fn, optimizer, communicator=comm)
            learning.train(train_op, pipeline, args.logdir, number_of_steps=steps,
                           log_every_n_steps=args.log_every, save_interval_steps=len(pipeline),
                           save_interval_secs=None, diagnostics_every_n_steps=args.diagnostics,
                           log_fn=progress_printer(steps), after_step=TrainLog(log_file, optimizer))
    print(f"Evaluate with: minislim eval --logdir {args.logdir}")
    return 0


def cmd_train_checked(args) -> int:
    """``train --detect-anomaly``: train inside ``detect_anomaly()``; the first NaN/inf stops
    the run with the op, its layer scope and the line that made it (exit code 1)."""
    if not args.detect_anomaly:
        return cmd_train_locked(args)
    print("detect_anomaly: checking every op's output and gradients for NaN/inf (slower)")
    try:
        with detect_anomaly():
            return cmd_train_locked(args)
    except AnomalyError as error:
        print(f"minislim train: error: {error}", file=sys.stderr)
        return 1


def processes_note(comm, batch_size: int) -> str:
    """`` = 4 processes x 64`` in the start line of a data-parallel run ('' for one process)."""
    return f" = {comm.size} processes x {batch_size // comm.size}" if comm.size > 1 else ""


# --- eval ---------------------------------------------------------------------------------

def cmd_eval(args) -> int:
    if not os.path.isdir(args.logdir):
        what = "is a file, not a directory" if os.path.exists(args.logdir) else "does not exist"
        raise UsageError(f"logdir {args.logdir} {what}")
    config = read_config(args.logdir)
    if config is None:
        raise UsageError(f"logdir {args.logdir} holds no {CONFIG}: train into it first "
                         f"(minislim train --net NAME --logdir {args.logdir})")
    dataset = args.dataset or config["dataset"]
    if dataset != config["dataset"]:
        raise UsageError(f"the model in {args.logdir} was trained on {config['dataset']}, not {dataset}")
    if args.checkpoint is None and checkpoint.latest_checkpoint(args.logdir) is None:
        raise UsageError(f"logdir {args.logdir} holds no checkpoint")
    data_dir = args.data_dir if args.data_dir is not None else config.get("data_dir")
    images, labels, _ = load_split(dataset, data_dir, args.split)
    if images.shape[1:] != tuple(config["image_shape"]):
        raise datasets.DatasetError(f"images of shape {images.shape[1:]} do not fit the model, which was trained on "
                                    f"{tuple(config['image_shape'])}")
    normalized = data.normalize(images, config["mean"], config["std"])
    batches = [(normalized[i:i + args.batch_size], labels[i:i + args.batch_size])
               for i in range(0, len(images), args.batch_size)]
    network_fn = network(config, is_training=False)
    trained = recipe_of(config)
    flip_averaging = trained.flip_averaging and trained.augment and not args.no_tta

    def eval_fn(batch_images, batch_labels):
        if flip_averaging:
            logits = recipe.flip_averaged_logits(network_fn, batch_images)
        else:
            logits, _ = network_fn(Tensor(batch_images))
        loss = losses.sparse_softmax_cross_entropy(logits, batch_labels, loss_collection=None)
        return {"accuracy": (logits.data, batch_labels), "loss": (loss.data, len(batch_labels))}

    def evaluate(path):
        with Graph().as_default():
            return evaluation.evaluate_once(path, eval_fn, batches,
                                            {"accuracy": metrics.Accuracy(), "loss": metrics.Mean("loss")},
                                            log_fn=None)
    if args.checkpoint is not None:
        path, results = args.checkpoint, evaluate(args.checkpoint)
    else:  # chosen now, not before loading the data: a trainer may have pruned it meanwhile
        path, results = evaluate_newest(args.logdir, evaluate)
    summary = {"accuracy": float(results["accuracy"]), "loss": float(results["loss"]),
               "examples": int(len(images)), "global_step": results["global_step"],
               "checkpoint": os.path.abspath(path), "split": args.split, "net": config["net"],
               "flip_averaging": flip_averaging}
    if args.json:  # strict JSON: a NaN loss (a diverged model) is null
        print(json.dumps({key: None if isinstance(value, float) and not np.isfinite(value) else value
                          for key, value in summary.items()}, allow_nan=False))
    else:
        print(f"{config['net']} at step {summary['global_step']} on {len(images)} {dataset} {args.split} images: "
              f"accuracy {summary['accuracy']:.4f}, loss {summary['loss']:.4f}"
              f"{' (averaged over each image and its mirror; --no-tta: without)' if flip_averaging else ''}")
    return 0


def evaluate_newest(logdir: str, evaluate):
    """``(path, evaluate(path))`` for the newest checkpoint of ``logdir`` that still exists.

    A trainer running in the logdir prunes old checkpoints: the newest one when this was
    called can be gone when it is read. Then the list is read again and the newest
    remaining one is tried, until one loads (a file that exists but is corrupt is an
    error, never skipped).
    """
    tried = set()
    while True:
        candidates = [path for _, path in checkpoint.all_checkpoints(logdir) if path not in tried]
        if not candidates:
            raise checkpoint.CheckpointError(f"logdir {logdir}: every checkpoint was removed while eval read it "
                                             f"({len(tried)} tried)")
        path = candidates[-1]
        try:
            return path, evaluate(path)
        except (checkpoint.CheckpointError, OSError):
            if os.path.exists(path):
                raise
            tried.add(path)


# --- summary ------------------------------------------------------------------------------

def cmd_summary(args) -> int:
    if args.checkpoint:
        return summarize_checkpoint(args.checkpoint)
    if not args.net:
        raise UsageError("give --net NAME (a net's variables) or --checkpoint PATH (a checkpoint's)")
    if args.net not in nets_factory.networks_map:
        raise UsageError(f"unknown net {args.net!r}; known nets: {', '.join(sorted(nets_factory.networks_map))}")
    network_fn = nets_factory.get_network_fn(args.net, num_classes=args.num_classes)
    size = args.image_size or network_fn.default_image_size
    channels = args.channels or (1 if args.net == "lenet" else 3)
    with Graph().as_default():
        try:
            logits = network_fn(Tensor(np.zeros((args.batch_size, size, size, channels), dtype=np.float32)))[0]
        except ValueError as error:
            raise UsageError(f"{args.net} cannot take {size}x{size}x{channels} images: {error}") from None
        model_analyzer.analyze_vars(get_model_variables(), print_info=True)
        print(f"\nPer layer, for a training step on a batch of {args.batch_size} (forward to the logits):")
        model_analyzer.analyze_ops(logits, print_info=True)
    return 0


def summarize_checkpoint(path: str) -> int:
    """The table of a checkpoint's arrays (TensorFlow V1/V2 or .npz): name, shape, dtype, size."""
    rows = [(name, str(tuple(shape)), dtype, int(np.prod(shape, dtype=np.int64)))
            for name, shape, dtype in checkpoint.describe(path)]
    header = ("name", "shape", "dtype", "size")
    widths = [max([len(header[i])] + [len(str(row[i])) for row in rows]) for i in range(4)]
    print(f"{header[0]:<{widths[0]}} {header[1]:<{widths[1]}} {header[2]:<{widths[2]}} {header[3]:>{widths[3]}}")
    for name, shape, dtype, size in rows:
        print(f"{name:<{widths[0]}} {shape:<{widths[1]}} {dtype:<{widths[2]}} {size:>{widths[3]}}")
    print(f"{len(rows)} arrays, {sum(row[3] for row in rows):,} elements in {checkpoint.resolve_path(path)}")
    return 0


# --- convert ------------------------------------------------------------------------------

def cmd_convert(args) -> int:
    written = checkpoint.convert(args.source, args.target)
    kind = ".npz" if written.endswith(".npz") else "TensorFlow V2 checkpoint"
    print(f"wrote {kind} {written} ({len(checkpoint.list_variables(written))} arrays)")
    return 0


# --- predict ------------------------------------------------------------------------------

def cmd_predict(args) -> int:
    from minislim import predict

    try:
        images = [predict.load_image(path) for path in args.images]
        num_classes = args.num_classes or nets_factory.zoo_num_classes.get(args.net)
        labels = predict.load_labels(args.labels, num_classes) if num_classes else None
        results = predict.classify(args.net, args.checkpoint, images, num_classes=args.num_classes, k=args.top)
    except predict.ImageError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        if isinstance(error, checkpoint.CheckpointError):
            raise
        raise UsageError(str(error)) from None
    for path, top in zip(args.images, results):
        print(f"{path}:")
        for index, probability in top:
            name = f" {labels[index]}" if labels else ""
            print(f"  {probability:.4f}  class {index}{name}")
    return 0


# --- the parser -----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minislim", description="Train and evaluate TF-Slim style nets in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a net; resumes from the newest checkpoint in --logdir")
    train.add_argument("--net", required=True, help=f"one of {', '.join(sorted(nets_factory.networks_map))}")
    train.add_argument("--dataset", default="cifar10", choices=DATASETS)
    train.add_argument("--data-dir", help="directory with the official files (default: the embedded CIFAR-10 "
                                          "subset; for --dataset mnist, /usr/share/datasets/fashion-mnist)")
    train.add_argument("--train-size", type=int, help="use the first N training images")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--steps", type=int, help="train this many steps instead of --epochs")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--learning-rate", type=float,
                       help="peak of the cosine schedule (default: 0.05; lenet: 0.001)")
    train.add_argument("--weight-decay", type=float, help="L2 weight decay (default: 5e-4; lenet: 0)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-augment", action="store_true", help="no random crops and flips")
    train.add_argument("--label-smoothing", type=float, help="label smoothing of the loss (default: 0.1)")
    train.add_argument("--log-every", type=int, default=20, help="print progress every N steps")
    train.add_argument("--diagnostics", type=int, help="print the per-layer diagnostics table every N steps")
    train.add_argument("--logdir", required=True)
    train.add_argument("--detect-anomaly", action="store_true",
                       help="stop at the first op that makes a NaN or inf, and name it (slower)")
    train.set_defaults(run=cmd_train_checked)

    evaluate = commands.add_parser("eval", help="evaluate the newest checkpoint in --logdir")
    evaluate.add_argument("--logdir", required=True)
    evaluate.add_argument("--dataset", choices=DATASETS, help="default: the one the model was trained on")
    evaluate.add_argument("--data-dir", help="default: the training data dir (or the embedded subset)")
    evaluate.add_argument("--split", default="test", choices=("train", "test"))
    evaluate.add_argument("--checkpoint", help="a checkpoint file (default: the newest in --logdir)")
    evaluate.add_argument("--batch-size", type=int, default=500)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--no-tta", action="store_true",
                          help="no flip averaging (default: on for nets trained with flips, as recorded in the logdir)")
    evaluate.set_defaults(run=cmd_eval)

    summary = commands.add_parser("summary", help="print the variables of a net (the model analyzer's table) "
                                                   "or of a checkpoint")
    summary.add_argument("--net")
    summary.add_argument("--checkpoint", help="list a checkpoint's arrays instead (.npz or a TensorFlow prefix)")
    summary.add_argument("--num-classes", type=int, default=10)
    summary.add_argument("--image-size", type=int, help="default: the net's default image size")
    summary.add_argument("--channels", type=int, help="image channels (default: 1 for lenet, as MNIST; else 3)")
    summary.add_argument("--batch-size", type=int, default=1, help="batch size of the per-layer costs (default: 1)")
    summary.set_defaults(run=cmd_summary)

    convert = commands.add_parser("convert", help="convert a checkpoint: TensorFlow V1/V2 <-> .npz")
    convert.add_argument("source", help="a TensorFlow checkpoint prefix (model.ckpt-1000, vgg_16.ckpt) or an .npz")
    convert.add_argument("target", help="OUT.npz, or a prefix to write a TensorFlow V2 checkpoint")
    convert.set_defaults(run=cmd_convert)

    predict = commands.add_parser("predict", help="classify images with a TF-Slim zoo net and its checkpoint")
    predict.add_argument("--net", required=True, help="a zoo net: vgg_16, inception_v1, resnet_v1_50, ...")
    predict.add_argument("--checkpoint", required=True, help="a TensorFlow checkpoint prefix or an .npz")
    predict.add_argument("--labels", help="class names, one per line (1000 names: a background class is added "
                                          "for 1001-class nets)")
    predict.add_argument("--num-classes", type=int, help="default: the zoo checkpoint's (1000 or 1001)")
    predict.add_argument("--top", type=int, default=5, help="how many classes to print (default 5)")
    predict.add_argument("images", nargs="+", help="image files (.npy [H, W, 3] always; JPEG/PNG need Pillow)")
    predict.set_defaults(run=cmd_predict)
    return parser


#: the largest sizes ``summary`` builds a net for: above any real net's (ImageNet-21k has
#: 21,843 classes), and small enough that even vgg_16 at the limit needs < 2 GB to build
SUMMARY_LIMITS = {"num_classes": 100_000, "image_size": 512, "channels": 256}


def check_numbers(args) -> None:
    """Counts must be positive (and summary's sizes bounded); the seed >= 0; the learning
    rate and weight decay finite and >= 0."""
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed < 2**32:
        raise UsageError(f"--seed must be an integer in 0 .. 2**32-1, got {seed}")
    if args.command == "summary":
        for name, limit in SUMMARY_LIMITS.items():
            value = getattr(args, name, None)
            if value is not None and value > limit:
                raise UsageError(f"--{name.replace('_', '-')} must be at most {limit}, got {value}")
    for name in ("epochs", "batch_size", "steps", "train_size", "log_every", "diagnostics", "num_classes",
                 "image_size", "channels", "top"):
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    for name in ("learning_rate", "weight_decay"):
        value = getattr(args, name, None)
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise UsageError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
    smoothing = getattr(args, "label_smoothing", None)
    if smoothing is not None and not 0 <= smoothing < 1:
        raise UsageError(f"--label-smoothing must be in [0, 1), got {smoothing}")


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data error, 2 usage error).

    An option argparse itself cannot parse (unknown, missing, not a number) gets argparse's
    usage line and error line, and exit code 2 (returned here, not raised).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse printed its message (or --help)
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        check_numbers(args)
        return args.run(args)
    except UsageError as error:
        print(f"minislim {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (datasets.DatasetError, checkpoint.CheckpointError, learning.NonFiniteError, LogdirError) as error:
        print(f"minislim {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the logdir or a file in it: one line naming the path and the reason
        print(f"minislim {args.command}: error: {describe_os_error(error, getattr(args, 'logdir', None))}",
              file=sys.stderr)
        return 1
    except MemoryError:  # sizes no check foresaw: still one line
        print(f"minislim {args.command}: error: out of memory (use smaller sizes)", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:  # Ctrl-C / SIGTERM: train saved and said so; 128 + the signal
        if not isinstance(error, Interrupted):
            print(f"minislim {args.command}: interrupted", file=sys.stderr)
        return getattr(error, "exit_code", 130)


if __name__ == "__main__":
    sys.exit(main())
