"""bench/predict.py runs and prints its tables (tiny settings: a 32x32 image, one repeat, no
PyTorch, no checkpoint written; the figures are meaningless, the script is what is checked)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import predict as predict_bench  # noqa: E402


@pytest.mark.slow
def test_predict_bench_prints_forward_and_memory_tables(capsys):
    results = predict_bench.main(["--image-size", "32", "--repeats", "1", "--no-torch", "--no-load"])
    out = capsys.readouterr().out
    assert "| vgg_16 |" in out and "| weights | 527.8 |" in out
    assert results["forward"]["minislim"] > 0
    assert results["memory"]["weights"] == 138_357_544 * 4     # vgg_16's parameters, float32
