"""The skeletons are .py files that ship with the package and run as a notebook cell runs them."""
import configparser
import fnmatch
from pathlib import Path

from minislim.exercises import EXERCISES, Exercise, get, names
from minislim.exercises.student_code import FOLDER, run_skeleton, shipped_skeleton, skeleton_file

REPO = Path(__file__).resolve().parents[2]


def test_every_exercise_has_its_skeleton_file_and_every_file_an_exercise():
    assert sorted(p.stem for p in FOLDER.glob("*.py")) == sorted(names())
    for name in names():
        assert get(name).skeleton == shipped_skeleton(name)


def test_package_data_patterns_cover_the_skeleton_files():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["minislim.exercises"].split(",")]
    for path in FOLDER.glob("*.py"):
        assert any(fnmatch.fnmatch(f"skeletons/{path.name}", p) for p in patterns), path.name


def test_the_student_sees_the_code_after_the_files_imports():
    text = skeleton_file("conv2d").read_text()
    assert "import minislim as slim" in text
    assert "import" not in shipped_skeleton("conv2d").splitlines()[0]
    assert shipped_skeleton("conv2d").startswith("class Conv2D(slim.Function):")


def test_a_shipped_skeleton_runs_as_its_file_so_tracebacks_point_into_it():
    sigmoid = EXERCISES["sigmoid"].skeleton_class()
    assert sigmoid.backward.__code__.co_filename == str(skeleton_file("sigmoid"))


def test_a_skeleton_given_as_a_string_runs_after_the_notebook_imports():
    exercise = Exercise(name="sigmoid_v2", title="t", task="t", class_name="Twice", input_names=("x",),
                        reference=lambda x: 2 * x, make_inputs=lambda rng: [rng.standard_normal(3)], hint="",
                        skeleton="class Twice(slim.Function):\n    def forward(self, x):\n        return np.multiply(x, 2)\n")
    twice = exercise.skeleton_class()
    assert twice.forward.__code__.co_filename == "<skeleton of sigmoid_v2>"
    assert run_skeleton("sigmoid_v2", exercise.skeleton, "Twice") is not twice  # a new class each run
