"""The default training recipe (minislim.recipe, what `minislim train` runs): one test per
cause of the accuracy lost before issue 11, each of which fails on the old recipe, and the
flip averaging of `minislim eval`."""
import dataclasses
import functools
import json
import os

import numpy as np
import pytest

import minislim as slim
from minislim import cli, data, recipe
from minislim.nets import nets_factory
from minislim.nets.vgg import cifar_weights_initializer

MEAN, STD = np.array([0.49, 0.48, 0.45]), np.array([0.25, 0.24, 0.26])  # on the [0, 1] scale


# --- cause 1: crops padded with black --------------------------------------------------------

def test_crops_are_padded_with_the_mean_not_with_black():
    # Every pixel at the data set's mean: normalised, the image is all zeros, and a crop that
    # moved must still be all zeros. Padding before normalising (the old recipe) puts black
    # borders there: (0 - 0.49) / 0.25 = -1.96.
    images = np.broadcast_to((MEAN * 255).round().astype(np.uint8), (64, 32, 32, 3)).copy()
    mean = images.reshape(-1, 3).mean(0) / 255
    rng = np.random.default_rng(0)
    default = recipe.augmentation(32, mean, STD, recipe.Recipe())(images, rng)
    assert default.dtype == np.float32 and np.abs(default).max() < 1e-6
    old = recipe.augmentation(32, mean, STD, recipe.Recipe(pad_with_mean=False))
    assert old(images, rng).min() < -1.5  # the black border the old order injected


def test_the_cli_pipeline_is_the_recipes():
    images = np.full((8, 32, 32, 3), 200, np.uint8)
    pipeline = cli.train_pipeline(images, np.zeros(8, np.int64), MEAN, STD, 8, 0, augment=True)
    batch, _ = next(iter(pipeline))
    normalized = (200 / 255 - MEAN) / STD
    # every value is either the image's own or the mean (0): no black
    assert np.all(np.isclose(batch, 0, atol=1e-6) | np.isclose(batch, normalized.astype(np.float32), atol=1e-5))


# --- cause 2: the initialisation -----------------------------------------------------------------

def test_vgg_cifar_weights_start_at_one_over_sqrt_fan_in():
    net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=True)
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        net(slim.tensor(np.zeros((2, 32, 32, 3), np.float32)))
        weights = [v for v in slim.get_trainable_variables() if v.name.endswith("weights")]
        assert len(weights) == 8 and weights[-1].name == "vgg_cifar/logits/weights"
        assert not weights[-1].data.any()  # the classifier starts at zero: uniform predictions
        for w in weights[:-1]:
            fan_in = int(np.prod(w.shape[:-1]))
            limit = 1 / np.sqrt(fan_in)
            assert np.abs(w.data).max() <= limit
            # uniform on [-l, l]: standard deviation l / sqrt(3), not Glorot's sqrt(2 / (fan_in + fan_out))
            assert w.data.std() == pytest.approx(limit / np.sqrt(3), rel=0.15 if w.data.size > 500 else 0.4)


def two_training_passes(net, images):
    """The logits of two training-mode passes of ``net`` over ``images``, with the same random
    weights (not vgg_cifar's zero classifier, which would hide dropout): only dropout can make
    them differ."""
    with slim.Graph().as_default():
        slim.set_random_seed(0)
        net(slim.tensor(images))  # creates the variables
        for v in slim.get_trainable_variables():
            v.data[...] = np.random.default_rng(1).standard_normal(v.shape) * 0.1
        return [net(slim.tensor(images), reuse=True)[0].data for _ in range(2)]


def test_vgg_cifar_trains_without_dropout_by_default():
    """Dropout 0.5 before the logits cost this small, underfitting net 2.5 points (docs/training.md)."""
    images = np.random.default_rng(0).standard_normal((4, 32, 32, 3)).astype(np.float32)
    net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=True)
    logits = {None: two_training_passes(net, images),
              0.5: two_training_passes(functools.partial(net, dropout_keep_prob=0.5), images)}
    # training mode, same weights, same images: only dropout could tell two passes apart
    np.testing.assert_array_equal(*logits[None])
    assert not np.allclose(*logits[0.5])


def test_cifar_initializer_is_pytorchs_default_scale():
    w = cifar_weights_initializer(seed=1)([3, 3, 64, 128], np.float32)
    assert w.dtype == np.float32 and np.abs(w).max() <= 1 / np.sqrt(576)
    assert w.std() == pytest.approx(1 / np.sqrt(3 * 576), rel=0.02)


def test_first_step_loss_is_near_chance_and_training_is_stable():
    # The old recipe's first losses on the real data were 4.17, 9.92, 7.17: a first loss far
    # above ln(10) and a blow-up after it. With the default recipe (the first steps of a
    # 20-epoch run: 3,140 steps of 64, the rate warming up) the classifier starts at zero, so
    # the first loss is ln(10) exactly, and no later step's loss rises above it by more than
    # batch-to-batch noise (0.001; the old recipe's rose by 5.7).
    images, labels = slim.datasets.cifar10.load(None, "train", num_examples=256)
    mean, std = data.channel_stats(images)
    default = recipe.Recipe()
    pipeline = recipe.train_pipeline(images, labels, mean, std, 32, 0, default)
    net = nets_factory.get_network_fn("vgg_cifar", 10, weight_decay=default.net_weight_decay(), is_training=True)
    with slim.Graph().as_default():
        slim.set_random_seed(0)

        def loss_fn(x, y):
            logits, _ = net(slim.tensor(x))
            recipe.classification_loss(logits, y, default)
            return slim.losses.get_total_loss()

        train_op = slim.learning.create_train_op(loss_fn, recipe.optimizer(default, 3140))
        losses = [train_op(*batch) for batch in pipeline]
    assert len(losses) == 8
    assert losses[0] == pytest.approx(np.log(10), abs=1e-6), losses
    assert max(losses[1:]) <= losses[0] + 1e-3, losses


# --- cause 3: weight decay on the weights only ------------------------------------------------

def test_default_recipe_decays_every_trained_variable():
    default = recipe.Recipe()
    optimizer = recipe.optimizer(default, 100)
    assert optimizer.weight_decay == default.weight_decay == 5e-4
    assert default.net_weight_decay() == 0.0  # no l2_regularizer in the net on top of it
    # a batch norm offset (beta) with a zero gradient shrinks, as in PyTorch's SGD(weight_decay=...)
    beta = slim.tensor(np.ones(4, np.float32))
    beta.name = "BatchNorm/beta"
    step = slim.tensor(np.array(50, np.int64))  # past the warm-up's first step, whose rate is 0
    optimizer.apply_gradients([(np.zeros(4, np.float32), beta)], global_step=step)
    assert np.all(beta.data < 1.0)


def test_weight_decay_is_l2_added_to_the_gradient():
    w = slim.tensor(np.array([1.0, -2.0], np.float32))
    w.name = "w"
    opt = slim.optimizers.Momentum(0.1, 0.9, use_nesterov=True, weight_decay=0.01)
    g = np.array([0.5, 0.5], np.float32)
    opt.apply_gradients([(g, w)])
    d = g + 0.01 * np.array([1.0, -2.0])       # the decayed gradient
    accum = d                                    # first step: accum = 0.9 * 0 + d
    expected = np.array([1.0, -2.0]) - 0.1 * (d + 0.9 * accum)
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)
    assert g.tolist() == [0.5, 0.5]  # the caller's gradient is not changed


@pytest.mark.parametrize("cls,args", [(slim.optimizers.SGD, ()), (slim.optimizers.Momentum, (0.9,)),
                                      (slim.optimizers.Adam, ()), (slim.optimizers.RMSProp, ())])
def test_weight_decay_is_refused_when_negative(cls, args):
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0, got -1.0"):
        cls(0.1, *args, weight_decay=-1.0)


def test_weight_decay_matches_pytorch_sgd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(5)]
    w = slim.tensor(start.copy())
    w.name = "w"
    ours = slim.optimizers.Momentum(0.05, 0.9, use_nesterov=True, weight_decay=5e-4)
    p = torch.nn.Parameter(torch.from_numpy(start.copy()))
    theirs = torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    for g in grads:
        ours.apply_gradients([(g, w)])
        p.grad = torch.from_numpy(g.copy())
        theirs.step()
    np.testing.assert_allclose(w.data, p.detach().numpy(), rtol=1e-5, atol=1e-6)


# --- label smoothing, warm-up ----------------------------------------------------------------------

def test_label_smoothing_loss_matches_its_formula():
    logits = slim.tensor(np.array([[2.0, 0.0, -1.0]], np.float32))
    with slim.Graph().as_default():
        loss = recipe.classification_loss(logits, np.array([0]), recipe.Recipe(label_smoothing=0.3))
    log_p = logits.data - np.log(np.exp(logits.data).sum())
    target = np.array([0.7 + 0.1, 0.1, 0.1])
    assert loss.item() == pytest.approx(float(-(target * log_p).sum()), rel=1e-5)


def test_warmup_then_cosine():
    opt = recipe.optimizer(recipe.Recipe(), 1000)
    rates = [opt.current_learning_rate(s) for s in (0, 50, 100, 550, 999)]
    assert rates[0] == 0 and rates[1] == pytest.approx(0.025) and rates[2] == pytest.approx(0.05)
    assert rates[3] == pytest.approx(0.025) and rates[4] < 1e-6


# --- flip averaging in evaluation ----------------------------------------------------------------

def test_flip_averaged_logits_are_the_mean_of_both_views():
    net = nets_factory.get_network_fn("vgg_cifar", 10, is_training=False)
    images = np.random.default_rng(0).standard_normal((3, 32, 32, 3)).astype(np.float32)
    with slim.Graph().as_default():
        template = slim.make_template("m", lambda x: recipe.flip_averaged_logits(net, x))
        averaged = template(images).data
        plain = slim.make_template("m", lambda x: net(slim.tensor(x))[0])
        a, b = plain(images).data, plain(images[:, :, ::-1].copy()).data
    np.testing.assert_allclose(averaged, (a + b) / 2, rtol=1e-5, atol=1e-6)


def test_eval_averages_flips_by_default_and_not_with_no_tta(tmp_path, capsys):
    logdir = str(tmp_path / "run")
    assert cli.main(["train", "--net", "vgg_cifar", "--steps", "2", "--train-size", "32", "--batch-size", "16",
                     "--logdir", logdir]) == 0
    config = json.load(open(os.path.join(logdir, cli.CONFIG)))
    assert config["recipe"]["flip_averaging"] and config["recipe"]["pad_with_mean"]
    capsys.readouterr()
    results = {}
    for flag in ([], ["--no-tta"]):
        assert cli.main(["eval", "--logdir", logdir, "--json", *flag]) == 0
        results[bool(flag)] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results[False]["flip_averaging"] is True and results[True]["flip_averaging"] is False
    assert cli.main(["eval", "--logdir", logdir]) == 0
    assert "averaged over each image and its mirror" in capsys.readouterr().out


def test_eval_of_a_net_trained_without_flips_does_not_average(tmp_path, capsys):
    logdir = str(tmp_path / "run")
    assert cli.main(["train", "--net", "vgg_cifar", "--steps", "1", "--train-size", "16", "--batch-size", "16",
                     "--no-augment", "--logdir", logdir]) == 0
    capsys.readouterr()
    assert cli.main(["eval", "--logdir", logdir, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["flip_averaging"] is False


def test_label_smoothing_flag_is_checked_and_recorded(tmp_path, capsys):
    assert cli.main(["train", "--net", "vgg_cifar", "--label-smoothing", "1.5", "--logdir", str(tmp_path)]) == 2
    assert "--label-smoothing must be in [0, 1), got 1.5" in capsys.readouterr().err
    logdir = str(tmp_path / "run")
    assert cli.main(["train", "--net", "vgg_cifar", "--steps", "1", "--train-size", "16", "--batch-size", "16",
                     "--label-smoothing", "0", "--logdir", logdir]) == 0
    assert json.load(open(os.path.join(logdir, cli.CONFIG)))["recipe"]["label_smoothing"] == 0.0


def test_old_logdirs_keep_their_recipe():
    old = {"augment": True, "weight_decay": 5e-4}
    trained = cli.recipe_of(old)
    assert not trained.decay_all_variables and not trained.pad_with_mean and not trained.flip_averaging
    assert trained.label_smoothing == 0.0 and trained.warmup_fraction == 0.0


def test_vgg_cifar_logdirs_from_before_the_dropout_change_keep_dropout():
    recorded = {"label_smoothing": 0.1, "warmup_fraction": 0.1}  # a recipe without dropout_keep_prob
    assert cli.recipe_of({"net": "vgg_cifar", "recipe": recorded}).dropout_keep_prob == 0.5
    assert cli.recipe_of({"net": "vgg_cifar", "augment": True}).dropout_keep_prob == 0.5
    assert cli.recipe_of({"net": "lenet", "recipe": recorded}).dropout_keep_prob is None  # its own default
    new = {"net": "vgg_cifar", "recipe": dataclasses.asdict(recipe.Recipe())}
    assert cli.recipe_of(new).dropout_keep_prob is None  # vgg_cifar's default: no dropout
    images = np.random.default_rng(0).standard_normal((4, 32, 32, 3)).astype(np.float32)
    config = {"net": "vgg_cifar", "num_classes": 10, "weight_decay": 5e-4, "recipe": recorded}
    twice = two_training_passes(cli.network(config, is_training=True), images)
    assert not np.allclose(*twice)  # dropout 0.5 is on: two training passes differ


def test_normalize_then_crop_keeps_float32():
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    out = recipe.augmentation(32, MEAN, STD, recipe.Recipe())(images, np.random.default_rng(1))
    assert out.shape == images.shape and out.dtype == np.float32
    plain = data.normalize(images, MEAN, STD)
    assert out.max() <= plain.max() + 1e-6 and out.min() >= min(plain.min(), 0.0) - 1e-6
