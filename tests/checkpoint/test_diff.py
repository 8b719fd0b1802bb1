"""checkpoint.diff: a dry run of restore that explains mismatches and suggests fixes."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # the rest of the file belongs to variables the selection leaves out: skipped, not unexpected
    assert report.skipped == ["net/conv2/biases", "net/conv2/weights", "net/logits/biases", "net/logits/weights"]
    assert report.unexpected == [] and not report.ok  # a strict restore of the selection would refuse them
    assert "match no variable" in str(report) and "skipped (include/exclude)" in str(report)


def build_with_aux(classes):
    """fc1, a head ``logits`` and a head ``logits_aux``: 'logits' is a prefix of 'logits_aux'."""
    x = slim.tensor(np.ones((2, 4), np.float32))
    net = slim.fully_connected(x, 8, scope="fc1")
    slim.fully_connected(net, classes, scope="logits")
    slim.fully_connected(net, 3, scope="logits_aux")


def pretrained_with_aux(tmp_path):
    """A checkpoint of build_with_aux(3), and a default graph holding build_with_aux(5)."""
    with slim.Graph().as_default():
        build_with_aux(3)
        path = checkpoint.save(tmp_path / "c", slim.get_variables())
        saved = {v.name: v.data.copy() for v in slim.get_variables()}
    build_with_aux(5)
    return path, saved


def restore_following(path, report):
    """Do what the report suggests; return the names assign_from_checkpoint_fn restored."""
    variables = slim.get_variables_to_restore(include=report.include, exclude=report.suggested_exclude)
    return sorted(checkpoint.assign_from_checkpoint_fn(path, variables)().restored)


def test_following_the_suggested_exclude_restores_exactly_what_diff_reported(tmp_path):
    path, saved = pretrained_with_aux(tmp_path)
    for v in slim.get_variables():
        v.data[...] = 0
    report = checkpoint.diff(path)
    assert report.restored == ["fc1/biases", "fc1/weights", "logits_aux/biases", "logits_aux/weights"]
    # 'logits' would also exclude logits_aux (TF's regex-prefix rule): the slash keeps it to the scope
    assert report.suggested_exclude == ["logits/"]
    assert any("exclude=['logits/']" in line for line in report.suggestions)
    assert any("'logits' catches logits_aux" in line for line in report.suggestions)
    assert restore_following(path, report) == report.restored
    values = {v.name: v.data for v in slim.get_variables()}
    for name in report.restored:
        np.testing.assert_array_equal(values[name], saved[name])
    assert not values["logits/weights"].any()  # the new head is left as it was


def test_the_suggested_include_alone_selects_exactly_the_restored_variables(tmp_path):
    path, _ = pretrained_with_aux(tmp_path)
    report = checkpoint.diff(path)
    assert report.suggested_include == ["fc1", "logits_aux"]
    chosen = sorted(v.name for v in slim.get_variables_to_restore(include=report.suggested_include))
    assert chosen == report.restored


def test_a_prefix_pattern_selects_as_get_variables_to_restore_does_and_is_pointed_out(tmp_path):
    path, _ = pretrained_with_aux(tmp_path)
    report = checkpoint.diff(path, exclude=["logit"])
    expected = sorted(v.name for v in slim.get_variables_to_restore(exclude=["logit"]))
    assert expected == ["fc1/biases", "fc1/weights"]
    assert report.restored == expected and report.unmatched_patterns == []
    assert report.skipped == ["logits/biases", "logits/weights", "logits_aux/biases", "logits_aux/weights"]
    assert report.partial_matches == {"logit": report.skipped}
    assert any("'logit' matches by prefix, not by scope" in line for line in report.suggestions)
    assert report.ok is False and report.suggested_exclude == []  # nothing left to fix but the choice
    assert sorted(checkpoint.assign_from_checkpoint_fn(
        path, slim.get_variables_to_restore(exclude=["logit"]))().restored) == report.restored


def test_a_user_pattern_with_a_slash_means_the_scope_only(tmp_path):
    path, _ = pretrained_with_aux(tmp_path)
    report = checkpoint.diff(path, exclude=["logits/"])
    assert report.restored == ["fc1/biases", "fc1/weights", "logits_aux/biases", "logits_aux/weights"]
    assert report.ok is False and report.partial_matches == {}
    scope_and_prefix = checkpoint.diff(path, exclude=["logits"])
    assert scope_and_prefix.restored == ["fc1/biases", "fc1/weights"]
    assert scope_and_prefix.partial_matches == {"logits": ["logits_aux/biases", "logits_aux/weights"]}


def test_the_suggestion_keeps_the_given_include_and_exclude(tmp_path):
    path, _ = pretrained_with_aux(tmp_path)
    report = checkpoint.diff(path, include=["fc1", "logits"], exclude=["fc1/biases"])
    assert report.restored == ["fc1/weights", "logits_aux/biases", "logits_aux/weights"]
    assert report.suggested_exclude == ["fc1/biases", "logits/"]
    assert any("get_variables_to_restore(include=['fc1', 'logits'], exclude=['fc1/biases', 'logits/'])" in line
               for line in report.suggestions)
    assert restore_following(path, report) == report.restored


def test_a_bare_string_pattern_is_refused():
    with pytest.raises(TypeError, match=r"diff: exclude must be a list.*exclude=\['logits'\]"):
        checkpoint.diff("unused", exclude="logits")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "ab", "a_b", "b", "a.b", "axb", "a/c", "a/cd"]), min_size=1, max_size=4, unique=True),
       st.lists(st.sampled_from(["w", "v"]), min_size=1, max_size=2, unique=True),
       st.data())
def test_diff_and_its_suggestions_agree_with_get_variables_to_restore(tmp_path_factory, scopes, leaves, data):
    """Random scopes that are prefixes of one another ('a', 'ab', 'a_b', 'a.b' vs 'axb'), random
    patterns, random changed shapes: diff's selection is get_variables_to_restore's, and its
    suggestions select exactly what it reports as restored."""
    names = [f"{scope}/{leaf}" for scope in scopes for leaf in leaves]
    changed = set(data.draw(st.lists(st.sampled_from(names), unique=True)))
    patterns = ["a", "a/", "ab", "a.b", "a\\.b", "b", "a_", "x"]
    exclude = data.draw(st.none() | st.lists(st.sampled_from(patterns), max_size=2))
    include = data.draw(st.none() | st.lists(st.sampled_from(patterns), min_size=1, max_size=2))
    path = tmp_path_factory.mktemp("ckpt") / "c"
    with slim.Graph().as_default():
        checkpoint.save(path, [slim.variable(n, shape=[1]) for n in names])
    with slim.Graph().as_default(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # patterns that match nothing
        for n in names:
            slim.variable(n, shape=[2 if n in changed else 1])
        report = checkpoint.diff(path.with_suffix(".npz"), include=include, exclude=exclude)
        selected = {v.name for v in slim.get_variables_to_restore(include=include, exclude=exclude)}
        assert set(report.restored) == selected - changed
        assert set(report.skipped) == set(names) - selected
        assert report.unmatched_patterns == [p for p in dict.fromkeys((include or []) + (exclude or []))
                                             if not slim.get_variables(p)]
        if report.suggested_exclude:
            followed = slim.get_variables_to_restore(include=include, exclude=report.suggested_exclude)
            assert sorted(v.name for v in followed) == report.restored
        if report.suggested_include:
            followed = slim.get_variables_to_restore(include=report.suggested_include)
            assert sorted(v.name for v in followed) == report.restored
