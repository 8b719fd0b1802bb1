"""bench/predict.py runs and prints its tables (tiny settings: a 32x32 image, one repeat, no
PyTorch; the figures are meaningless, the script is what is checked). Its loading benchmark
runs on the small checkpoints TensorFlow wrote (tests/fixtures/tf/), V1 and V2."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import predict as predict_bench  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tf")


@pytest.mark.slow
def test_predict_bench_prints_forward_and_memory_tables(capsys, tmp_path):
    out_file = tmp_path / "predict.jsonl"
    results = predict_bench.main(["--image-size", "32", "--repeats", "1", "--no-torch", "--no-load", "--no-rss",
                                  "--out", str(out_file)])
    out = capsys.readouterr().out
    assert "| vgg_16 |" in out and "| weights | 527.8 |" in out
    assert results["forward"]["minislim"] > 0
    assert results["memory"]["weights"] == 138_357_544 * 4     # vgg_16's parameters, float32
    assert json.loads(out_file.read_text())["memory"]["weights"] == 138_357_544 * 4


@pytest.mark.parametrize("name, files", [("tiny_v2.ckpt", ["tiny_v2.ckpt.index", "tiny_v2.ckpt.data-00000-of-00001"]),
                                         ("tiny_v1.ckpt", ["tiny_v1.ckpt"])])
def test_load_benchmark_reads_every_file_of_a_tensorflow_checkpoint(name, files):
    prefix = os.path.join(FIXTURES, name)
    assert predict_bench.checkpoint_files(prefix) == [os.path.join(FIXTURES, f) for f in files]
    times = predict_bench.load_times(prefix, repeats=1)
    assert times["bytes"] == sum(os.path.getsize(os.path.join(FIXTURES, f)) for f in files)
    assert times["format"] == name[5:7].upper() and times["raw bytes"] > 0
    assert any(key.startswith("read_all (") for key in times)


def test_cold_load_evicts_the_files_before_every_run(monkeypatch):
    evicted = []
    monkeypatch.setattr(predict_bench, "evict", lambda paths: evicted.append(list(paths)))
    prefix = os.path.join(FIXTURES, "tiny_v1.ckpt")
    times = predict_bench.load_times(prefix, repeats=2, cold=True)
    assert times["source"].startswith("disk")
    runs = 2 * (1 + 2)        # (warm-up + 2 repeats) x (raw bytes, raw in pieces, read_all), no fastcrc
    assert evicted[:runs] == [[prefix]] * runs and len(evicted) >= runs


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform")
def test_evict_leaves_the_file_readable_and_unchanged(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 64)
    predict_bench.evict([str(path)])
    assert path.read_bytes() == bytes(range(256)) * 64
