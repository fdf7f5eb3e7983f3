"""Readers of the user's own data: every format round-trips, every bad file is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from samplescope.data import UserData, read_data

RNG = np.random.default_rng(0)


def _frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "color": rng.choice(["red", "green", "blue"], n),
            "member": rng.random(n) > 0.5,
            "species": rng.choice(["cat", "dog", "emu"], n),
        }
    )


# --- tabular ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".tsv"])
def test_table_round_trip(tmp_path, suffix):
    df = _frame()
    path = tmp_path / f"animals{suffix}"
    if suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    d = read_data(path, label="species")
    assert isinstance(d, UserData) and d.kind == "tabular" and len(d) == len(df)
    assert d.class_names == ["cat", "dog", "emu"]
    assert list(d.label_names(d.split.y)) == df["species"].tolist()  # mapped back
    assert d.feature_names == ["age", "color=blue", "color=green", "color=red", "member"]
    assert d.input_shape == (5,)
    x = d.split.x
    enc = d.encoding["numeric"]["age"]
    np.testing.assert_allclose(x[:, 0] * enc["std"] + enc["mean"], df["age"], rtol=1e-5)
    onehot = x[:, 1:4]
    np.testing.assert_array_equal(onehot.sum(1), 1.0)
    levels = np.array(d.encoding["categorical"]["color"])
    assert (levels[onehot.argmax(1)] == df["color"].to_numpy()).all()
    assert d.encoding["categorical"]["color"] == ["blue", "green", "red"]
    assert d.sample_view(3) == dict(df[["age", "color", "member", "species"]].iloc[3].items())
    np.testing.assert_array_equal(d.split.sample_id, np.arange(len(df)))


def test_table_default_label_features_and_ids(tmp_path):
    df = _frame().rename(columns={"species": "Label"})
    df.insert(0, "sample_id", np.arange(100, 100 + len(df)))
    df.to_csv(tmp_path / "t.csv", index=False)
    d = read_data(tmp_path / "t.csv")
    assert d.label_column == "Label"
    np.testing.assert_array_equal(d.split.sample_id, df["sample_id"])
    d2 = read_data(tmp_path / "t.csv", features=["age"])
    assert d2.feature_names == ["age"] and d2.input_shape == (1,)


def test_integer_labels_are_mapped_to_0_c(tmp_path):
    df = pd.DataFrame({"f": np.arange(10.0), "y": [3, 7] * 5})
    df.to_csv(tmp_path / "t.csv", index=False)
    d = read_data(tmp_path / "t.csv", label="y")
    assert d.class_names == ["3", "7"] and set(d.split.y) == {0, 1}


def test_table_errors_name_the_problem(tmp_path):
    df = _frame()
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(ValueError, match=r"label: no column 'kind' in t.csv; columns: \['age'"):
        read_data(tmp_path / "t.csv", label="kind")
    with pytest.raises(ValueError, match=r"label: no label column given.*'species'"):
        read_data(tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"features: no columns \['nope'\]"):
        read_data(tmp_path / "t.csv", label="species", features=["age", "nope"])
    bad = df.copy()
    bad.loc[[2, 5], "age"] = np.nan
    bad.loc[7, "age"] = np.inf
    bad.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(
        ValueError, match=r"column 'age' of nan.csv has NaN/inf in 3 rows \(rows 2, 5, 7\)"
    ):
        read_data(tmp_path / "nan.csv", label="species")
    one = df.assign(species="cat")
    one.to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(
        ValueError, match=r"label: column 'species' of one.csv: a single class 'cat'"
    ):
        read_data(tmp_path / "one.csv", label="species")
    miss = df.copy()
    miss.loc[4, "species"] = None
    miss.to_csv(tmp_path / "miss.csv", index=False)
    with pytest.raises(ValueError, match=r"1 missing labels \(rows \[4\]\)"):
        read_data(tmp_path / "miss.csv", label="species")
    cat = df.copy()
    cat.loc[1, "color"] = None
    cat.to_csv(tmp_path / "cat.csv", index=False)
    with pytest.raises(ValueError, match=r"categorical column 'color' of cat.csv has missing"):
        read_data(tmp_path / "cat.csv", label="species")
    ids = pd.DataFrame({"name": [f"n{i}" for i in range(60)], "y": [0, 1] * 30})
    ids.to_csv(tmp_path / "ids.csv", index=False)
    with pytest.raises(ValueError, match=r"'name' of ids.csv has 60 distinct values"):
        read_data(tmp_path / "ids.csv")
    (tmp_path / "empty.csv").write_text("a,y\n")
    with pytest.raises(ValueError, match=r"source: .*empty.csv has no rows"):
        read_data(tmp_path / "empty.csv")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"source: cannot read .*broken.parquet"):
        read_data(tmp_path / "broken.parquet")
    reg = pd.DataFrame({"f": np.arange(6.0), "y": [0.5, 1.0] * 3})
    reg.to_csv(tmp_path / "reg.csv", index=False)
    with pytest.raises(ValueError, match=r"non-integral"):
        read_data(tmp_path / "reg.csv")


# --- arrays -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("xname", "yname"), [("x", "y"), ("X", "labels"), ("images", "targets")])
def test_npz_round_trip(tmp_path, xname, yname):
    x = RNG.random((20, 6)).astype(np.float32)
    y = np.array(["b", "a"] * 10)
    np.savez(tmp_path / "d.npz", **{xname: x, yname: y})
    d = read_data(tmp_path / "d.npz")
    assert d.kind == "array" and d.class_names == ["a", "b"] and d.label_column == yname
    np.testing.assert_array_equal(d.split.x, x)
    assert list(d.label_names(d.split.y)) == y.tolist()
    assert d.sample_view(0) == pytest.approx({f"feature_{j}": float(x[0, j]) for j in range(6)})


def test_npz_builtin_layout_gives_a_test_split_and_images(tmp_path):
    xtr = RNG.integers(0, 256, (12, 5, 5), dtype=np.uint8)
    xte = RNG.integers(0, 256, (4, 5, 5), dtype=np.uint8)
    np.savez(
        tmp_path / "m.npz", x_train=xtr, y_train=np.arange(12) % 3, x_test=xte, y_test=[0, 1, 2, 0]
    )
    d = read_data(tmp_path / "m.npz")
    assert d.kind == "image" and d.input_shape == (1, 5, 5) and len(d.test) == 4
    np.testing.assert_allclose(d.split.x[:, 0], xtr / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d.test.y, [0, 1, 2, 0])
    assert set(d.split.sample_id).isdisjoint(d.test.sample_id)
    assert d.sample_view(1).shape == (5, 5)
    ds = d.as_dataset()
    assert len(ds.test) == 4


def test_npz_channels_last_and_label_name(tmp_path):
    x = RNG.random((8, 4, 4, 3)).astype(np.float32)
    np.savez(tmp_path / "c.npz", x=x, y=np.zeros(8), kind=np.arange(8) % 2)
    d = read_data(tmp_path / "c.npz", label="kind")
    assert d.input_shape == (3, 4, 4)
    np.testing.assert_array_equal(d.split.x, np.moveaxis(x, 3, 1))
    assert d.sample_view(0).shape == (4, 4, 3)


def test_npy_with_labels(tmp_path):
    x = RNG.random((10, 3))
    np.save(tmp_path / "feats.npy", x)
    y = np.array([1, 2] * 5)
    np.save(tmp_path / "my_labels.npy", y)
    d = read_data(tmp_path / "feats.npy", label=tmp_path / "my_labels.npy")
    np.testing.assert_allclose(d.split.x, x, rtol=1e-6)
    assert d.class_names == ["1", "2"]
    np.save(tmp_path / "feats_labels.npy", y)
    assert read_data(tmp_path / "feats.npy").class_names == ["1", "2"]  # the sibling file


def test_array_errors(tmp_path):
    np.save(tmp_path / "alone.npy", RNG.random((5, 2)))
    with pytest.raises(ValueError, match=r"label: alone.npy holds inputs only"):
        read_data(tmp_path / "alone.npy")
    np.save(tmp_path / "short.npy", np.arange(4))
    with pytest.raises(ValueError, match=r"label: short.npy: expected 5 labels"):
        read_data(tmp_path / "alone.npy", label=tmp_path / "short.npy")
    x = RNG.random((6, 2))
    x[1, 0] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=[0, 1] * 3)
    with pytest.raises(
        ValueError, match=r"array 'x' of nan.npz: NaN/inf in 1 samples \(rows \[1\]\)"
    ):
        read_data(tmp_path / "nan.npz")
    np.savez(tmp_path / "noy.npz", x=x)
    with pytest.raises(ValueError, match=r"label: .*noy.npz has no labels array.*\['x'\]"):
        read_data(tmp_path / "noy.npz")
    np.savez(tmp_path / "nox.npz", y=[0, 1])
    with pytest.raises(ValueError, match=r"source: .*nox.npz has no inputs array"):
        read_data(tmp_path / "nox.npz")
    np.savez(tmp_path / "one.npz", x=RNG.random((4, 2)), y=[2, 2, 2, 2])
    with pytest.raises(ValueError, match=r"a single class '2'"):
        read_data(tmp_path / "one.npz")


# --- image folders ----------------------------------------------------------------------------


def _save(path, arr, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode=mode).save(path)


def test_image_folder_round_trip(tmp_path):
    root = tmp_path / "imgs"
    arrays = {}
    for c in ("cat", "dog"):
        for i in range(3):
            a = RNG.integers(0, 256, (6, 5), dtype=np.uint8)
            _save(root / c / f"{i}.png", a, "L")
            arrays[(c, i)] = a
    (root / ".DS_Store").write_text("x")  # hidden: skipped
    (root / "cat" / ".hidden.png").write_text("x")
    d = read_data(root)
    assert d.kind == "image" and d.class_names == ["cat", "dog"] and d.input_shape == (1, 6, 5)
    np.testing.assert_array_equal(d.split.y, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(d.split.x[4, 0], arrays[("dog", 1)] / 255.0, rtol=1e-6)
    assert d.files[4].endswith("dog/1.png")
    assert d.sample_view(4).shape == (6, 5) and d.split.x.min() >= 0 and d.split.x.max() <= 1


def test_image_folder_majority_mode_and_size(tmp_path):
    root = tmp_path / "mixed"
    for i in range(3):
        _save(root / "a" / f"{i}.png", RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8), "RGB")
    _save(root / "b" / "0.jpg", RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8), "RGB")
    _save(root / "b" / "gray.png", np.full((4, 6), 200, np.uint8), "L")  # gray and 6x4
    d = read_data(root)
    assert d.input_shape == (3, 8, 8)
    assert (
        d.encoding["mode"] == "RGB" and d.encoding["converted"] == 1 and d.encoding["resized"] == 1
    )
    g = d.split.x[d.files.index(str(root / "b" / "gray.png"))]
    np.testing.assert_allclose(g, 200 / 255.0, atol=1e-6)  # replicated to 3 channels, resized
    assert d.sample_view(0).shape == (8, 8, 3)


def test_image_folder_errors(tmp_path):
    root = tmp_path / "r"
    _save(root / "a" / "0.png", np.zeros((4, 4), np.uint8), "L")
    with pytest.raises(ValueError, match=r"a single class folder 'a'"):
        read_data(root)
    (root / "b").mkdir()
    with pytest.raises(ValueError, match=r"class folder .*b' has no images"):
        read_data(root)
    (root / "b" / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"notes.txt' is not an image file"):
        read_data(root)
    (root / "b" / "notes.txt").unlink()
    (root / "b" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ValueError, match=r"cannot read the image .*broken.png"):
        read_data(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"has no class sub-folders"):
        read_data(empty)
    flat = tmp_path / "flat"
    _save(flat / "0.png", np.zeros((4, 4), np.uint8), "L")
    with pytest.raises(ValueError, match=r"holds images directly"):
        read_data(flat)


# --- sources ----------------------------------------------------------------------------------


def test_builtin_and_bad_sources(tmp_path):
    d = read_data("digits")
    assert d.kind == "builtin" and d.num_classes == 10 and len(d.test) == 450
    with pytest.raises(ValueError, match=r"label: only for files"):
        read_data("digits", label="y")
    with pytest.raises(ValueError, match=r"source: no such file or folder"):
        read_data(tmp_path / "missing.csv")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"source: unknown suffix '.xlsx'"):
        read_data(tmp_path / "d.xlsx")
    with pytest.raises(ValueError, match=r"source: expected a path"):
        read_data(3)
    with pytest.raises(ValueError, match=r"features: expected a list of column names"):
        read_data(tmp_path / "d.xlsx", features="age")
