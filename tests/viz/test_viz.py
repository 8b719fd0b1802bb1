"""slim.viz: DOT text structure, scope collapsing, and an image from each engine."""
import re
import shutil

import numpy as np
import pytest

import minislim as slim
from minislim.nets.vgg import vgg_cifar, vgg_cifar_arg_scope
from minislim.viz import render


def nodes_and_edges(dot: str):
    nodes = dict(re.findall(r"^  (\w+) \[.*label=\"(.*)\"\];$", dot, flags=re.M))
    edges = re.findall(r"^  (\w+) -> (\w+)", dot, flags=re.M)
    return nodes, edges


def test_dot_has_tensors_as_ovals_ops_as_boxes_and_edges_in_data_flow_order():
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    w = slim.tensor([[0.5], [-1.0]], requires_grad=True)
    with slim.variable_scope("layer"):
        y = slim.nn.tanh(x @ w)
    loss = (y * y).sum()
    dot = slim.viz.to_dot(loss)
    nodes, edges = nodes_and_edges(dot)
    ops = [label.split("\\n")[0] for node_id, label in nodes.items() if node_id.startswith("f")]
    assert ops == ["MatMul", "Tanh", "Multiply", "Sum"]
    assert nodes["f0"] == "MatMul\\nlayer" and nodes["f1"] == "Tanh\\nlayer"
    assert re.search(r"f0 \[shape=box", dot) and re.search(r"t0 \[shape=ellipse", dot)
    # every edge goes from a node declared earlier to one declared later (data-flow order)
    order = list(nodes)
    assert all(order.index(a) < order.index(b) for a, b in edges)
    assert ("t0", "f0") in edges and ("t1", "f0") in edges and ("f0", "t2") in edges
    assert dot.startswith("digraph minislim {") and dot.endswith("}")


def test_small_tensors_show_value_and_after_backward_their_gradient():
    x = slim.tensor([3.0], requires_grad=True)
    y = x * x
    assert "grad" not in slim.viz.to_dot(y)
    y.backward()
    nodes, _ = nodes_and_edges(slim.viz.to_dot(y))
    assert nodes["t0"] == "(1,) float32\\nvalue [3.]\\ngrad [6.]"
    big = slim.tensor(np.zeros((3, 4)), requires_grad=True)
    assert nodes_and_edges(slim.viz.to_dot(big.sum()))[0]["t0"] == "(3, 4) float64"


def test_variables_are_shown_by_name_and_quotes_are_escaped():
    v = slim.variable('a"b', shape=[2], initializer=slim.ones_initializer())
    dot = slim.viz.to_dot((v * 2).sum())
    assert 'label="a\\"b\\n(2,) float32\\nvalue [1., 1.]"' in dot


def test_a_leaf_is_a_single_node_and_bad_arguments_are_named():
    nodes, edges = nodes_and_edges(slim.viz.to_dot(slim.tensor([1.0])))
    assert list(nodes) == ["t0"] and edges == []
    with pytest.raises(TypeError, match="expected a minislim Tensor, got ndarray"):
        slim.viz.to_dot(np.zeros(2))
    with pytest.raises(ValueError, match="collapse must be None or 'scope', got 'layers'"):
        slim.viz.to_dot(slim.tensor([1.0]), collapse="layers")
    with pytest.raises(ValueError, match="engine must be"):
        slim.viz.draw(slim.tensor([1.0]), engine="pdf")


def small_vgg_loss():
    images = slim.tensor(np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32))
    with slim.arg_scope(vgg_cifar_arg_scope()):
        logits, _ = vgg_cifar(images, widths=(8, 16), fc_width=16, dropout_keep_prob=0.5)
    slim.losses.sparse_softmax_cross_entropy(logits, np.array([1, 2]))
    return slim.losses.get_total_loss()


def test_collapse_scope_draws_one_box_per_layer_with_its_variables():
    loss = small_vgg_loss()
    full = slim.viz.to_dot(loss)
    dot = slim.viz.to_dot(loss, collapse="scope")
    nodes, edges = nodes_and_edges(dot)
    layer_boxes = {label.split("\\n")[0]: label for label in nodes.values() if label.startswith("vgg_cifar/")}
    assert list(layer_boxes) == ["vgg_cifar/conv1/conv1_1", "vgg_cifar/conv1/conv1_2", "vgg_cifar/pool1",
                                 "vgg_cifar/conv2/conv2_1", "vgg_cifar/conv2/conv2_2", "vgg_cifar/pool2",
                                 "vgg_cifar/flatten", "vgg_cifar/fc1", "vgg_cifar/dropout1", "vgg_cifar/logits"]
    conv = layer_boxes["vgg_cifar/conv2/conv2_1"].split("\\n")
    assert conv[1] == "Conv2D BatchNormTraining ReLU" and "+ weight decay" in conv
    assert "weights (3, 3, 8, 16)" in conv and "BatchNorm/beta (16,)" in conv
    assert layer_boxes["vgg_cifar/logits"].split("\\n")[2:] == ["+ weight decay", "weights (16, 10)", "biases (10,)"]
    # the layers are chained by edges labelled with the activation shapes
    ids = {label.split("\\n")[0]: node_id for node_id, label in nodes.items()}
    assert re.search(rf"{ids['vgg_cifar/pool1']} -> {ids['vgg_cifar/conv2/conv2_1']} "
                     r"\[label=\"\(2, 16, 16, 8\)\"", dot)
    assert len(nodes) < 40 < full.count("shape=box")  # a page, not hundreds of boxes
    assert ("l0", ids["vgg_cifar/conv1/conv1_1"]) in edges  # the images feed the first layer


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_draw_with_graphviz_makes_an_svg(tmp_path, capsys):
    drawing = slim.viz.draw(small_vgg_loss(), collapse="scope")
    assert "drawn by Graphviz's dot" in capsys.readouterr().out
    assert drawing.engine == "graphviz" and drawing.svg.lstrip().startswith("<?xml")
    assert "<svg" in drawing.svg and "vgg_cifar/conv1/conv1_1" in drawing.svg
    assert drawing._repr_svg_() == drawing.svg
    path = drawing.save(str(tmp_path / "vgg.svg"))
    assert open(path).read() == drawing.svg


def test_draw_with_matplotlib_makes_a_png_and_an_svg(tmp_path):
    pytest.importorskip("matplotlib")
    x = slim.tensor([1.0, 2.0], requires_grad=True)
    loss = (slim.nn.exp(x) * x).sum()
    loss.backward()
    drawing = slim.viz.draw(loss, engine="matplotlib")
    assert drawing.engine == "matplotlib" and drawing.svg is None
    png = drawing.save(str(tmp_path / "g.png"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert drawing._repr_png_()[:4] == b"\x89PNG"
    svg = open(drawing.save(str(tmp_path / "g.svg"))).read()
    assert "<svg" in svg


def test_without_graphviz_draw_falls_back_to_matplotlib_and_says_how_to_get_graphviz(monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    loss = small_vgg_loss()
    drawing = slim.viz.draw(loss, collapse="scope")
    out = capsys.readouterr().out
    assert drawing.engine == "matplotlib"
    assert "Graphviz's dot program was not found, so matplotlib drew this" in out and "apt-get install graphviz" in out
    with pytest.raises(RuntimeError, match="engine='graphviz' needs Graphviz's dot program"):
        slim.viz.draw(loss, engine="graphviz")


def test_layered_layout_puts_every_node_below_its_parents():
    loss = small_vgg_loss()
    picture = slim.viz.picture(loss, collapse="scope")
    positions = render.layered_layout(picture)
    assert set(positions) == {node.id for node in picture.nodes}
    assert all(positions[a][1] < positions[b][1] for a, b, _ in picture.edges)


def test_a_long_edge_runs_through_a_waypoint_in_every_layer_it_crosses():
    # the weight decay terms join the loss many layers below their layer: each gets a lane
    loss = small_vgg_loss()
    picture = slim.viz.picture(loss, collapse="scope")
    positions, routes = render.layout_with_routes(picture)
    assert len(routes) == len(picture.edges)
    assert any(len(route) > 2 for route in routes)
    for (source, target, _), route in zip(picture.edges, routes):
        assert (route[0], route[-1]) == (source, target)
        assert [positions[i][1] for i in route] == list(range(positions[source][1], positions[target][1] + 1))
    by_layer = {}
    for node_id, (x, layer) in positions.items():
        by_layer.setdefault(layer, []).append(x)
    assert all(len(set(xs)) == len(xs) for xs in by_layer.values()), "two things at one place"
