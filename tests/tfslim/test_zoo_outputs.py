"""Zoo nets against tf_slim's: the same random weights, passed through a TensorFlow checkpoint.

TensorFlow builds each net with its own random initializers (and random batch-norm moving
statistics), runs one image through it, and saves its variables with
``tf.compat.v1.train.Saver`` (V2, and V1 for one net); minislim builds the net from
``nets_factory``, restores that checkpoint with ``assign_from_checkpoint_fn`` and must give
the same logits and end points. So each test checks the net's arithmetic and that a
checkpoint written by TensorFlow for it restores into minislim's variables, name for name.

tf_slim 1.1.0 ships alexnet_v2, overfeat and the VGGs, but not MobileNet v1: its TensorFlow
side is written here from the published definition (TF-Slim's ``nets/mobilenet_v1.py``:
the conv table, ReLU6, batch norm after every convolution, depthwise layers as
``separable_conv2d(net, None, ...)``, the reduced 7x7 average pool).
(inception_v1/v3 and resnet_v1/v2_50 are compared in the normal suite, tests/nets/test_zoo.py.)
"""
import numpy as np
import pytest

import minislim as slim
from minislim.nets import nets_factory

pytest.importorskip("tf_slim")


def tf_mobilenet_v1(tf, tfs, inputs, num_classes, depth_multiplier=1.0, min_depth=8):
    """MobileNet v1 in tf_slim layers, from the published model definition (evaluation mode)."""
    defs = [(2, 32)] + [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + \
        [(2, 1024), (1, 1024)]
    end_points = {}

    def depth(d):
        return max(int(d * depth_multiplier), min_depth)

    batch_norm = {"is_training": False, "center": True, "scale": True, "decay": 0.9997, "epsilon": 0.001}
    with tf.compat.v1.variable_scope("MobilenetV1"):
        with tfs.arg_scope([tfs.conv2d, tfs.separable_conv2d], activation_fn=tf.nn.relu6,
                           normalizer_fn=tfs.batch_norm, padding="SAME",
                           weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.09)), \
                tfs.arg_scope([tfs.batch_norm], **batch_norm):
            net = tfs.conv2d(inputs, depth(32), [3, 3], stride=2, scope="Conv2d_0")
            end_points["Conv2d_0"] = net
            for i, (stride, d) in enumerate(defs[1:], start=1):
                net = tfs.separable_conv2d(net, None, [3, 3], depth_multiplier=1, stride=stride,
                                           scope=f"Conv2d_{i}_depthwise")
                end_points[f"Conv2d_{i}_depthwise"] = net
                net = tfs.conv2d(net, depth(d), [1, 1], stride=1, scope=f"Conv2d_{i}_pointwise")
                end_points[f"Conv2d_{i}_pointwise"] = net
        with tf.compat.v1.variable_scope("Logits"):
            height, width = net.shape.as_list()[1:3]
            net = tfs.avg_pool2d(net, [min(height, 7), min(width, 7)], padding="VALID", scope="AvgPool_1a")
            end_points["AvgPool_1a"] = net
            logits = tfs.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.09),
                                scope="Conv2d_1c_1x1")
            logits = tf.squeeze(logits, [1, 2], name="SpatialSqueeze")
        end_points["Logits"] = logits
        end_points["Predictions"] = tfs.softmax(logits, scope="Predictions")
    return logits, end_points


def tf_net(tf, tfs, name, inputs, num_classes):
    from tf_slim.nets import alexnet, overfeat, vgg
    if name == "mobilenet_v1":
        return tf_mobilenet_v1(tf, tfs, inputs, num_classes)
    net_fn, scope_fn = {"alexnet_v2": (alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope),
                        "overfeat": (overfeat.overfeat, overfeat.overfeat_arg_scope),
                        "vgg_16": (vgg.vgg_16, vgg.vgg_arg_scope), "vgg_19": (vgg.vgg_19, vgg.vgg_arg_scope),
                        "vgg_a": (vgg.vgg_a, vgg.vgg_arg_scope)}[name]
    with tfs.arg_scope(scope_fn()):
        return net_fn(inputs, num_classes=num_classes, is_training=False)


def tensorflow_side(tf, tfs, name, image, num_classes, prefix, version):
    """Build ``name`` in TensorFlow with random weights, save them at ``prefix``; its outputs."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(13)
        logits, end_points = tf_net(tf, tfs, name, tf.constant(image), num_classes)
        rng = np.random.default_rng(13)
        statistics = []
        for variable in tf.compat.v1.global_variables():    # biases and batch norm: non-trivial values
            shape = variable.shape.as_list()
            leaf = variable.op.name.rsplit("/", 1)[-1]
            if leaf == "moving_variance":
                statistics.append(variable.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32)))
            elif leaf in ("moving_mean", "beta", "biases"):
                statistics.append(variable.assign(rng.normal(0.0, 0.1, shape).astype(np.float32)))
            elif leaf == "gamma":
                statistics.append(variable.assign(rng.uniform(0.8, 1.2, shape).astype(np.float32)))
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(statistics)
            outputs = sess.run({"logits": logits, **{f"end_points/{k}": v for k, v in end_points.items()}})
            tf.compat.v1.train.Saver(write_version=version).save(sess, prefix, write_meta_graph=False,
                                                                 write_state=False)
    return outputs


# net -> (image size, TensorFlow's checkpoint format); small class counts keep the files small
# except for the VGGs, whose 1000-class fc8 is part of what a zoo checkpoint restores.
CASES = {"mobilenet_v1": (160, "V2"), "alexnet_v2": (224, "V1"), "overfeat": (231, "V2"), "vgg_16": (224, "V1")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_zoo_net_restored_from_tensorflows_checkpoint_gives_tf_slims_outputs(name, tmp_path):
    """alexnet_v2, overfeat, vgg_16, mobilenet_v1: a TF checkpoint restores, logits and end points as tf_slim's"""
    from conftest import import_tf_slim
    tf, tfs = import_tf_slim()
    tf.compat.v1.disable_eager_execution()
    size, version = CASES[name]
    num_classes = 1000 if name.startswith("vgg") else 11
    image = np.random.default_rng(7).uniform(-1.0, 1.0, (1, size, size, 3)).astype(np.float32)
    prefix = str(tmp_path / f"{name}.ckpt")
    saver_version = {"V1": tf.compat.v1.train.SaverDef.V1, "V2": tf.compat.v1.train.SaverDef.V2}[version]
    theirs = tensorflow_side(tf, tfs, name, image, num_classes, prefix, saver_version)
    assert slim.checkpoint.tensorflow.open_checkpoint(prefix).format == version

    with slim.Graph().as_default(), slim.no_grad():
        network_fn = nets_factory.get_network_fn(name, num_classes=num_classes, is_training=False)
        network_fn(slim.tensor(image))                                   # creates the variables
        restored = slim.assign_from_checkpoint_fn(prefix, slim.get_variables_to_restore())()
        with slim.variable_scope(slim.get_variable_scope(), reuse=True):
            logits, end_points = network_fn(slim.tensor(image))
        assert len(restored.restored) == len(slim.get_variables())

    expected = theirs["logits"]
    scale = np.abs(expected).max()
    assert scale > 1e-3                      # a signal went through the whole net
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-3, atol=1e-4 * scale)
    ours = {f"end_points/{key}": value for key, value in end_points.items()}
    assert sorted(ours) == sorted(k for k in theirs if k.startswith("end_points/"))
    for key, value in ours.items():
        reference = theirs[key]
        assert value.shape == reference.shape, key
        np.testing.assert_allclose(value.numpy(), reference, rtol=1e-3, atol=1e-4 * max(np.abs(reference).max(), 1e-6),
                                   err_msg=key)
