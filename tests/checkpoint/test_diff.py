"""checkpoint.diff: a dry run of restore that explains mismatches and suggests fixes."""
import numpy as np

import minislim as slim
from minislim import checkpoint


def build(top="net", classes=3):
    with slim.variable_scope(top):
        for layer, shape in (("conv1", [2, 2]), ("conv2", [2, 2]), ("logits", [2, classes])):
            with slim.variable_scope(layer):
                slim.model_variable("weights", shape=shape)
                slim.model_variable("biases", shape=shape[-1:])
    return slim.get_variables()


def test_a_matching_checkpoint_is_ok_and_restores_every_row(tmp_path):
    path = checkpoint.save(tmp_path / "c", build())
    report = checkpoint.diff(path, slim.get_variables())
    assert report.ok and len(report.restored) == 6 and not report.suggestions
    table = str(report)
    assert "6 to restore, 0 missing" in table
    assert table.count(" restore ") == 6 and "net/conv2/biases" in table


def test_a_new_head_suggests_excluding_its_scope(tmp_path):
    path = checkpoint.save(tmp_path / "c", build(classes=3))
    slim.reset_default_graph()
    build(classes=10)
    report = checkpoint.diff(path)  # None: the default graph's variables
    assert not report.ok
    assert [name for name, _, _ in report.shape_mismatch] == ["net/logits/weights", "net/logits/biases"]
    assert report.suggested_exclude == ["net/logits"]
    assert any("get_variables_to_restore(exclude=['net/logits'])" in line for line in report.suggestions)
    assert "SHAPE differs" in str(report) and "[2, 3] float32" in str(report)
    # following the suggestion works
    checkpoint.assign_from_checkpoint_fn(path, slim.get_variables_to_restore(exclude=report.suggested_exclude))()


def test_a_renamed_top_scope_is_recognised(tmp_path):
    path = checkpoint.save(tmp_path / "c", build(top="vgg_16"))
    values = {v.name: v.data.copy() for v in slim.get_variables()}
    slim.reset_default_graph()
    variables = build(top="my_vgg")
    report = checkpoint.diff(path, variables)
    assert len(report.missing) == 6 and len(report.unexpected) == 6
    assert report.renames == {"vgg_16": "my_vgg"}
    assert any("var_list={v.name.replace('my_vgg/', 'vgg_16/', 1): v for v in variables}" in line
               for line in report.suggestions)
    renamed = {v.name.replace("my_vgg/", "vgg_16/", 1): v for v in variables}
    checkpoint.restore(path, renamed)
    np.testing.assert_array_equal(variables[0].data, values["vgg_16/conv1/weights"])


def test_patterns_that_match_nothing_are_reported_and_selection_is_previewed(tmp_path):
    path = checkpoint.save(tmp_path / "c", build())
    report = checkpoint.diff(path, include=["net/conv1", "net/cnov2"], exclude=["net/nothing"])
    assert report.unmatched_patterns == ["net/cnov2", "net/nothing"]
    assert report.restored == ["net/conv1/biases", "net/conv1/weights"]
    assert len(report.unexpected) == 4  # the rest of the file: a strict restore would refuse it
    assert "match no variable" in str(report)
