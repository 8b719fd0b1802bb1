"""The command line end to end: train a few steps, evaluate, resume, and the errors a user
can make (one line on stderr, exit code 2 for usage, 1 for data)."""
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from minislim import cli
from minislim.datasets import cifar10

TINY = ["--train-size", "48", "--batch-size", "16", "--log-every", "1"]


def write_cifar_dir(folder, n_train=48, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for name, n in [("data_batch_1.bin", n_train), ("test_batch.bin", n_test)]:
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        cifar10.write_binary_batch(os.path.join(folder, name), images, np.arange(n) % 10)
    return folder


def run(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_then_eval_json_on_the_embedded_subset(tmp_path, capsys):
    logdir = str(tmp_path / "run")
    code, out, _ = run(["train", "--net", "vgg_cifar", "--steps", "3", *TINY, "--logdir", logdir], capsys)
    assert code == 0
    assert "training from scratch" in out and "[" in out and "time left" in out
    assert sorted(os.listdir(logdir)) == [".minislim.lock", "minislim.json", "model.ckpt-3.npz", "train_log.jsonl"]
    with open(os.path.join(logdir, "train_log.jsonl")) as f:
        log = [json.loads(line) for line in f]
    assert [r["step"] for r in log] == [1, 2, 3] and all(np.isfinite(r["loss"]) for r in log)
    config = json.load(open(os.path.join(logdir, "minislim.json")))
    assert config["net"] == "vgg_cifar" and len(config["mean"]) == 3 and config["class_names"][3] == "cat"
    assert (config["learning_rate"], config["weight_decay"]) == (0.05, 5e-4)  # the recipe's defaults

    code, out, _ = run(["eval", "--logdir", logdir, "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["examples"] == 1000 and result["global_step"] == 3
    assert 0.0 <= result["accuracy"] <= 1.0 and np.isfinite(result["loss"])


def test_running_train_again_resumes_and_continues(tmp_path, capsys):
    logdir = str(tmp_path / "run")
    assert run(["train", "--net", "lenet", "--learning-rate", "0.01", "--steps", "2", *TINY, "--logdir", logdir],
               capsys)[0] == 0
    code, out, _ = run(["train", "--net", "lenet", "--learning-rate", "0.01", "--steps", "4", *TINY,
                        "--logdir", logdir], capsys)
    assert code == 0
    assert "Resumed from" in out and "global step 2" in out
    assert "model.ckpt-4.npz" in os.listdir(logdir)


def test_lenet_trains_with_its_own_defaults_unless_told(tmp_path, capsys):
    logdir = str(tmp_path / "default")
    code, out, _ = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", logdir], capsys)
    config = json.load(open(os.path.join(logdir, "minislim.json")))
    assert code == 0 and (config["learning_rate"], config["weight_decay"]) == (0.001, 0.0)
    assert "learning rate 0.001 (linear warm-up" in out and "weight decay 0.0 (every variable)" in out

    logdir = str(tmp_path / "told")
    code, out, err = run(["train", "--net", "lenet", "--steps", "1", "--learning-rate", "0.02", "--weight-decay",
                          "1e-4", *TINY, "--logdir", logdir], capsys)
    assert code == 0, err
    config = json.load(open(os.path.join(logdir, "minislim.json")))
    assert (config["learning_rate"], config["weight_decay"]) == (0.02, 1e-4)
    # resuming without the flags takes the net's defaults again, and says what changed
    code, out, _ = run(["train", "--net", "lenet", "--steps", "2", *TINY, "--logdir", logdir], capsys)
    assert code == 0 and "learning_rate 0.02 -> 0.001" in out


def test_two_runs_in_one_process_are_independent(tmp_path, capsys):
    """Each run trains in a graph of its own: the second does not inherit the first's global step."""
    for name in ("first", "second"):
        code, out, _ = run(["train", "--net", "lenet", "--steps", "2", *TINY, "--logdir", str(tmp_path / name)],
                           capsys)
        assert code == 0 and "training from scratch at step 0" in out
        assert "model.ckpt-2.npz" in os.listdir(tmp_path / name)


def test_a_diverging_run_stops_with_one_line_and_no_numpy_warnings(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run(["train", "--net", "lenet", "--learning-rate", "50", "--steps", "30", *TINY,
                            "--logdir", str(tmp_path)], capsys)
    assert code == 1 and "not finite" in err and len(err.strip().splitlines()) == 1
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def write_idx(path, array):
    """An IDX file: zero, zero, type 0x08 (unsigned bytes), rank, big-endian dimensions, the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_mnist_runs_record_fashion_class_names(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 32), ("t10k", 16)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    logdir = tmp_path / "run"
    code, out, _ = run(["train", "--net", "lenet", "--dataset", "mnist", "--data-dir", str(folder), "--steps", "1",
                        "--batch-size", "16", "--logdir", str(logdir)], capsys)
    config = json.load(open(logdir / "minislim.json"))
    assert code == 0 and config["class_names"][:2] == ["T-shirt/top", "Trouser"]
    assert config["image_shape"] == [28, 28, 1] and "T-shirt/top, Trouser, Pullover" in out


def test_eval_works_on_a_data_dir_with_only_the_test_file(tmp_path, capsys):
    data_dir = write_cifar_dir(str(tmp_path / "data"))
    logdir = str(tmp_path / "run")
    assert run(["train", "--net", "lenet", "--data-dir", data_dir, "--learning-rate", "0.01", "--steps", "2",
                *TINY, "--logdir", logdir], capsys)[0] == 0
    test_only = str(tmp_path / "test_only")
    os.makedirs(test_only)
    os.rename(os.path.join(data_dir, "test_batch.bin"), os.path.join(test_only, "test_batch.bin"))
    code, out, _ = run(["eval", "--logdir", logdir, "--data-dir", test_only, "--json"], capsys)
    assert code == 0 and json.loads(out)["examples"] == 20


def test_summary_prints_the_variables_table(capsys):
    code, out, _ = run(["summary", "--net", "vgg_cifar"], capsys)
    assert code == 0
    assert "vgg_cifar/conv1/conv1_1/weights" in out and "Total size of variables: 815466" in out


@pytest.mark.parametrize("args, message", [
    (["train", "--net", "resnet"], "unknown net 'resnet'"),
    (["eval"], "holds no minislim.json"),
    (["train", "--net", "vgg_16", "--steps", "1", *TINY],
     "vgg_16 cannot take cifar10 images of shape (32, 32, 3): conv2d 'vgg_16/fc6': padding='VALID'"),
])
def test_usage_errors_exit_with_2_and_one_line(args, message, tmp_path, capsys):
    code, _, err = run(args + ["--logdir", str(tmp_path)], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_logdir_holding_another_net_is_refused(tmp_path, capsys):
    logdir = str(tmp_path / "run")
    assert run(["train", "--net", "lenet", "--learning-rate", "0.01", "--steps", "1", *TINY, "--logdir", logdir],
               capsys)[0] == 0
    code, _, err = run(["train", "--net", "vgg_cifar", "--steps", "1", *TINY, "--logdir", logdir], capsys)
    assert code == 2 and "holds a lenet" in err


def test_data_errors_exit_with_1_and_name_the_file(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    code, _, err = run(["train", "--net", "lenet", "--data-dir", missing, *TINY, "--logdir", str(tmp_path / "a")],
                       capsys)
    assert code == 1 and "nowhere" in err and "does not exist" in err

    a_file = tmp_path / "a_file"
    a_file.write_text("not a data set")
    code, _, err = run(["train", "--net", "lenet", "--data-dir", str(a_file), *TINY, "--logdir", str(tmp_path / "f")],
                       capsys)
    assert code == 1 and "a_file is not a directory" in err

    code, _, err = run(["train", "--net", "lenet", "--train-size", "999999", "--logdir", str(tmp_path / "g")], capsys)
    assert code == 1 and err.startswith("minislim train: error: the embedded CIFAR-10 subset: asked for 999999")

    truncated = write_cifar_dir(str(tmp_path / "truncated"))
    path = os.path.join(truncated, "data_batch_1.bin")
    with open(path, "r+b") as f:
        f.truncate(3073 * 5 + 100)
    code, _, err = run(["train", "--net", "lenet", "--data-dir", truncated, *TINY, "--logdir", str(tmp_path / "b")],
                       capsys)
    assert code == 1 and "data_batch_1.bin" in err and len(err.strip().splitlines()) == 1

    bad_labels = write_cifar_dir(str(tmp_path / "labels"))
    path = os.path.join(bad_labels, "data_batch_1.bin")
    raw = bytearray(open(path, "rb").read())
    raw[0] = 42  # the first record's label byte
    open(path, "wb").write(bytes(raw))
    code, _, err = run(["train", "--net", "lenet", "--data-dir", bad_labels, *TINY, "--logdir", str(tmp_path / "c")],
                       capsys)
    assert code == 1 and "data_batch_1.bin" in err and "42" in err


@pytest.mark.parametrize("args, message", [
    (["train", "--net", "lenet", "--epochs", "0"], "--epochs must be a positive integer"),
    (["train", "--net", "lenet", "--diagnostics", "-1"], "--diagnostics must be a positive integer, got -1"),
    (["train", "--net", "lenet", "--learning-rate", "nan"], "--learning-rate must be a finite number >= 0, got nan"),
    (["train", "--net", "lenet", "--learning-rate", "-1"], "--learning-rate must be a finite number >= 0, got -1"),
    (["train", "--net", "lenet", "--weight-decay", "-1"], "--weight-decay must be a finite number >= 0, got -1"),
    (["summary", "--net", "lenet", "--num-classes", "0"], "--num-classes must be a positive integer, got 0"),
    (["summary", "--net", "lenet", "--image-size", "0"], "--image-size must be a positive integer, got 0"),
])
def test_bad_numbers_are_one_line_usage_errors(args, message, tmp_path, capsys):
    code, _, err = run(args + (["--logdir", str(tmp_path)] if args[0] == "train" else []), capsys)
    assert code == 2 and err.startswith(f"minislim {args[0]}: error: {message}")
    assert len(err.strip().splitlines()) == 1


def test_options_argparse_cannot_parse_return_2_from_main(capsys):
    code, _, err = run(["train", "--net", "lenet", "--epochs", "many"], capsys)
    assert code == 2 and "invalid int value: 'many'" in err


def test_summary_of_a_net_that_cannot_take_the_images_is_one_line(capsys):
    code, _, err = run(["summary", "--net", "vgg_16", "--image-size", "32"], capsys)
    assert code == 2 and "vgg_16 cannot take 32x32x3 images: conv2d 'vgg_16/fc6'" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run(["summary", "--net", "lenet", "--channels", "3"], capsys)
    assert code == 0 and "(5, 5, 3, 32)" in out


def test_a_logdir_that_is_a_file_or_holds_a_corrupt_config_is_one_line(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    code, _, err = run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(a_file)], capsys)
    assert code == 1 and "is a file, not a directory" in err and len(err.strip().splitlines()) == 1

    logdir = tmp_path / "run"
    assert run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", str(logdir)], capsys)[0] == 0
    (logdir / "minislim.json").write_text("{not json")
    for command in (["eval"], ["train", "--net", "lenet", "--steps", "2", *TINY]):
        code, _, err = run(command + ["--logdir", str(logdir)], capsys)
        assert code == 1 and "cannot read the run's configuration" in err and len(err.strip().splitlines()) == 1


def test_resuming_with_other_batches_is_refused_and_changes_nothing(tmp_path, capsys):
    logdir = tmp_path / "run"
    assert run(["train", "--net", "lenet", "--steps", "2", "--train-size", "64", "--batch-size", "16",
                "--logdir", str(logdir)], capsys)[0] == 0
    for flag, value, message in (("--batch-size", "32", "with --batch-size 32: it was trained with 16"),
                                 ("--train-size", "48", "with --train-size 48: it was trained with 64")):
        args = {"--train-size": "64", "--batch-size": "16", flag: value}
        code, _, err = run(["train", "--net", "lenet", "--steps", "3", "--logdir", str(logdir),
                            *[item for pair in args.items() for item in pair]], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    config = json.load(open(logdir / "minislim.json"))
    assert (config["batch_size"], config["train_size"], config["steps"]) == (16, 64, 2)


def test_eval_json_is_strict_json_when_the_loss_is_nan(tmp_path, capsys, monkeypatch):
    logdir = str(tmp_path / "run")
    assert run(["train", "--net", "lenet", "--steps", "1", *TINY, "--logdir", logdir], capsys)[0] == 0
    diverged = {"accuracy": 0.1, "loss": float("nan"), "global_step": 1}
    monkeypatch.setattr(cli.evaluation, "evaluate_once", lambda *args, **kwargs: diverged)
    code, out, _ = run(["eval", "--logdir", logdir, "--json"], capsys)

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    result = json.loads(out, parse_constant=refuse)
    assert code == 0 and result["loss"] is None and result["accuracy"] == 0.1


def test_python_dash_m_minislim_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minislim", "summary", "--net", "lenet"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "LeNet/fc4/weights" in result.stdout
    result = subprocess.run([sys.executable, "-m", "minislim", "eval", "--logdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_resolve_train_defaults_returns_the_settings_and_leaves_args_alone():
    args = cli.build_parser().parse_args(["train", "--net", "lenet", "--logdir", "x", "--weight-decay", "0.01"])
    assert cli.resolve_train_defaults(args) == {"learning_rate": 0.001, "weight_decay": 0.01}
    assert (args.learning_rate, args.weight_decay) == (None, 0.01)
    args = cli.build_parser().parse_args(["train", "--net", "vgg_cifar", "--logdir", "x"])
    assert cli.resolve_train_defaults(args) == {"learning_rate": 0.05, "weight_decay": 5e-4}
