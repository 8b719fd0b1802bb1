"""arg_scope: TF-Slim's rule table, minislim's qualified-name keys and early errors, explain."""
import pytest

import minislim as slim
from minislim.framework import arg_scope as arg_scope_module


@slim.add_arg_scope
def op_a(inputs, size=1, activation="relu", *, padding="SAME"):
    return {"inputs": inputs, "size": size, "activation": activation, "padding": padding}


@slim.add_arg_scope
def op_b(inputs, size=2, activation=None):
    return {"inputs": inputs, "size": size, "activation": activation}


@slim.add_arg_scope
def op_kw(inputs, **kwargs):
    return kwargs


def plain_op(inputs, size=1):
    return size


# --- TF-Slim's rules ----------------------------------------------------------------------

def test_a_scope_sets_defaults_for_every_listed_op():
    with slim.arg_scope([op_a, op_b], size=5):
        assert op_a(0)["size"] == 5 and op_b(0)["size"] == 5
    assert op_a(0)["size"] == 1 and op_b(0)["size"] == 2


def test_nested_scopes_merge_and_the_inner_value_wins():
    with slim.arg_scope([op_a, op_b], size=5, activation="tanh"):
        with slim.arg_scope([op_a], size=7, padding="VALID"):
            assert op_a(0) == {"inputs": 0, "size": 7, "activation": "tanh", "padding": "VALID"}
            assert op_b(0) == {"inputs": 0, "size": 5, "activation": "tanh"}
        assert op_a(0)["size"] == 5 and op_a(0)["padding"] == "SAME"


def test_a_call_site_keyword_wins_over_every_scope():
    with slim.arg_scope([op_a], size=5):
        with slim.arg_scope([op_a], size=7):
            assert op_a(0, size=9)["size"] == 9
            assert op_a(0, activation=None)["activation"] is None


def test_a_positional_argument_wins_over_the_scope_instead_of_colliding():
    with slim.arg_scope([op_a], size=5, activation="tanh"):
        assert op_a(0, 3) == {"inputs": 0, "size": 3, "activation": "tanh", "padding": "SAME"}


def test_a_saved_scope_is_reentered_and_replaces_the_current_one():
    with slim.arg_scope([op_a], size=5):
        with slim.arg_scope([op_b], activation="elu") as saved:
            pass
    assert saved == {arg_scope_module.arg_scope_func_key(op_a): {"size": 5},
                     arg_scope_module.arg_scope_func_key(op_b): {"activation": "elu"}}
    with slim.arg_scope([op_a], padding="VALID"):
        with slim.arg_scope(saved):
            assert op_a(0)["padding"] == "SAME"  # replaced, not merged
            assert op_a(0)["size"] == 5 and op_b(0)["activation"] == "elu"
        assert op_a(0)["padding"] == "VALID"


def test_a_plain_dict_can_be_entered_too():
    key = slim.arg_scope_func_key(op_a)
    with slim.arg_scope({key: {"size": 4}}):
        assert op_a(0)["size"] == 4


def test_reentering_a_saved_scope_with_kwargs_is_a_value_error():
    with slim.arg_scope([op_a], size=5) as saved:
        pass
    with pytest.raises(ValueError, match="kwargs must be empty"):
        with slim.arg_scope(saved, size=3):
            pass


def test_an_undecorated_op_is_a_value_error():
    with pytest.raises(ValueError, match="plain_op .* is not decorated with @add_arg_scope"):
        with slim.arg_scope([op_a, plain_op], size=2):
            pass


@pytest.mark.parametrize("first", [op_a, "op_a", 3, None, {op_a}])
def test_a_first_argument_that_is_not_a_list_tuple_or_dict_is_a_type_error(first):
    with pytest.raises(TypeError, match="list/tuple or reused scope"):
        with slim.arg_scope(first, size=2):
            pass


def test_a_tuple_of_ops_is_accepted():
    with slim.arg_scope((op_a,), size=6):
        assert op_a(0)["size"] == 6


def test_the_scope_is_restored_when_the_block_raises():
    with slim.arg_scope([op_a], size=5):
        with pytest.raises(ZeroDivisionError):
            with slim.arg_scope([op_a], size=7):
                1 / 0
        assert op_a(0)["size"] == 5
    assert slim.current_arg_scope() == {}


def test_current_arg_scope_and_arg_scoped_arguments():
    key = slim.arg_scope_func_key(op_a)
    assert key == f"{__name__}.op_a"
    with slim.arg_scope([op_a], size=3) as sc:
        assert slim.current_arg_scope() is sc
        assert slim.current_arg_scope()[key] == {"size": 3}
    assert slim.arg_scoped_arguments(op_a) == ("size", "activation", "padding")
    assert slim.has_arg_scope(op_a) and not slim.has_arg_scope(plain_op)
    with pytest.raises(ValueError, match="not decorated"):
        slim.arg_scoped_arguments(plain_op)


def test_a_scope_entered_twice_restores_correctly():
    block = slim.arg_scope([op_a], size=8)
    for _ in range(2):
        with block:
            assert op_a(0)["size"] == 8
        assert op_a(0)["size"] == 1


def test_the_decorated_function_keeps_its_name_and_docs():
    assert op_a.__name__ == "op_a" and op_a.__wrapped__.__name__ == "op_a"


# --- minislim's improvements --------------------------------------------------------------

def test_an_unknown_keyword_is_reported_when_the_scope_is_entered():
    with pytest.raises(TypeError, match=r"op_a \(.*op_a\) has no argument 'activaton'; did you mean 'activation'"):
        with slim.arg_scope([op_a, op_b], activaton="relu"):
            pass
    with pytest.raises(TypeError, match="op_b .* has no argument 'padding'"):
        with slim.arg_scope([op_a, op_b], padding="VALID"):  # op_a has it, op_b does not
            pass
    assert slim.current_arg_scope() == {}


def test_an_op_with_var_keywords_accepts_any_keyword():
    with slim.arg_scope([op_kw], anything=1):
        assert op_kw(0) == {"anything": 1}


def make_op(source: str):
    """Define a function as a notebook cell would: module __main__-like, same qualname."""
    namespace = {"slim": slim, "__name__": "notebook_cell"}
    exec(source, namespace)
    return namespace["my_layer"]


def test_a_scope_still_applies_after_the_op_is_redefined_by_a_notebook_rerun():
    cell = "@slim.add_arg_scope\ndef my_layer(x, width=1):\n    return ('v1', width)\n"
    first = make_op(cell)
    with slim.arg_scope([first], width=32) as saved:
        pass
    second = make_op(cell.replace("v1", "v2"))  # the cell is run again
    assert second is not first
    with slim.arg_scope(saved):
        assert second(0) == ("v2", 32)
    with slim.arg_scope([first], width=64):  # a scope naming the old function object
        assert second(0) == ("v2", 64)


def test_a_redefinition_with_new_arguments_is_checked_against_the_new_signature():
    make_op("@slim.add_arg_scope\ndef my_layer(x, width=1):\n    return width\n")
    second = make_op("@slim.add_arg_scope\ndef my_layer(x, depth=1):\n    return depth\n")
    with pytest.raises(TypeError, match="no argument 'width'"):
        with slim.arg_scope([second], width=3):
            pass


# --- explain_arg_scope --------------------------------------------------------------------

def test_explain_arg_scope_names_who_set_each_argument(capsys):
    with slim.arg_scope([op_a, op_b], activation="tanh"):
        with slim.arg_scope([op_a], size=7, padding="VALID"):
            report = slim.explain_arg_scope(op_a, "x", padding="SAME")
    out = capsys.readouterr().out
    assert report["inputs"] == ("x", "call site")
    assert report["size"][0] == 7 and report["size"][1].startswith("arg_scope at test_arg_scope.py:")
    assert "(depth 2)" in report["size"][1] and "(depth 1)" in report["activation"][1]
    assert report["padding"][0] == "SAME"
    assert report["padding"][1].startswith("call site (overrides arg_scope at test_arg_scope.py:")
    assert "op_a" in out and "size" in out and "<- default" not in out.split("activation")[1].split("\n")[0]


def test_explain_arg_scope_reports_defaults_and_missing_arguments(capsys):
    report = slim.explain_arg_scope(op_b)
    assert report == {"inputs": (None, "missing"), "size": (2, "default"), "activation": (None, "default")}
    assert "<required, not given>" in capsys.readouterr().out


def test_explain_arg_scope_shows_where_a_saved_scope_came_from(capsys):
    def my_arg_scope():
        with slim.arg_scope([op_b], size=11) as sc:
            return sc

    with slim.arg_scope(my_arg_scope()):
        report = slim.explain_arg_scope(op_b, 0)
    assert report["size"][0] == 11 and "(my_arg_scope)" in report["size"][1]


def test_explain_arg_scope_rejects_an_undecorated_op():
    with pytest.raises(ValueError, match="not decorated"):
        slim.explain_arg_scope(plain_op)


def test_one_block_object_nested_in_itself_restores_the_stack():
    block = slim.arg_scope([op_a], size=8)
    with block:
        with block:
            assert op_a(0)["size"] == 8
        assert op_a(0)["size"] == 8
    assert slim.current_arg_scope() == {}
