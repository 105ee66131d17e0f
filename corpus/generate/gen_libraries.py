#!/usr/bin/env python3
"""Writes corpus/libraries/: benign raw pickles written by the real libraries.

What users really pickle with Debian 12's numpy, scikit-learn, pandas, scipy
and torch: fitted estimators and pipelines, the tutorial bundle (model +
scaler + feature names + metadata), DataFrames with every column type,
sparse matrices, and training checkpoints with model, optimizer, scheduler
and RNG states (torch, numpy and Python's random), pickled at protocols 2 to
5 with pickle.dumps. torch tensors pickled this way carry their storages as
nested torch.storage._load_from_bytes pickles in torch's legacy format.

Every file must come out clean (the test suite checks corpus/libraries/
manifest.jsonl). Container formats (torch.save zips, joblib, npz) are not
here: they come with the container readers.

Run: /usr/bin/python3 corpus/generate/gen_libraries.py
"""

import collections
import datetime
import json
import os
import pickle
import random
import sys
import warnings

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libraries")
SAMPLES = []


def write(lib, name, obj, protocols=(2, 4, 5)):
    os.makedirs(os.path.join(OUT, lib), exist_ok=True)
    for p in protocols:
        rel = "%s/%s_p%d.pkl" % (lib, name, p)
        with open(os.path.join(OUT, rel), "wb") as f:
            f.write(pickle.dumps(obj, protocol=p))
        SAMPLES.append({"file": rel, "expect": "clean", "names": [],
                        "family": "fp: " + lib, "note": "pickle.dumps(%s) at protocol %d" % (name, p)})


def numpy_samples():
    import numpy as np
    rng = np.random.RandomState(0)
    write("numpy", "arrays", {"f": rng.rand(4, 3), "i": np.arange(6, dtype="i4"),
                              "b": np.array([True, False]), "dt": np.array(["2020-01-01"], "M8[D]"),
                              "s": np.array(["ab", "c"]), "o": np.array([1, "x", None], object),
                              "rec": np.zeros(2, [("a", "i4"), ("b", "f8")])})
    write("numpy", "rng_states", [np.random.RandomState(1), np.random.default_rng(2),
                                  np.random.get_state()])


def sklearn_samples():
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingRegressor, IsolationForest, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.RandomState(0)
    X, y, yr = rng.rand(60, 4), np.array([0, 1, 2] * 20), rng.rand(60)
    models = {
        "logreg": LogisticRegression().fit(X, y), "ridge": Ridge().fit(X, yr),
        "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
        "gbr": GradientBoostingRegressor(n_estimators=3, max_depth=2).fit(X, yr),
        "iforest": IsolationForest(n_estimators=3, random_state=0).fit(X),
        "svc": SVC(probability=True, random_state=0).fit(X, y), "kmeans": KMeans(3, n_init=2).fit(X),
        "pca": PCA(2).fit(X), "tree": DecisionTreeClassifier(max_depth=3).fit(X, y),
        "knn": KNeighborsClassifier(3).fit(X, y),
        "mlp": MLPClassifier((5,), max_iter=20, random_state=0).fit(X, y),
        "onehot": OneHotEncoder().fit([["a"], ["b"]]),
        "tfidf": TfidfVectorizer().fit(["the cat sat", "a dog ran", "the bird"]),
        "pipeline": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y),
    }
    for name, m in models.items():
        write("sklearn", name, m, (4,))
    bundle = {"model": models["forest"], "scaler": StandardScaler().fit(X),
              "feature_names": ["a", "b", "c", "d"],
              "metadata": {"version": "1.0", "trained_at": datetime.datetime(2026, 1, 2),
                           "metrics": collections.OrderedDict(acc=0.9)}}
    write("sklearn", "tutorial_bundle", bundle)


def pandas_samples():
    import pandas as pd
    df = pd.DataFrame({
        "i": [1, 2, 3], "f": [1.0, None, 2.5], "s": ["a", None, "c"],
        "dt": pd.date_range("2020", periods=3), "tz": pd.date_range("2020", periods=3, tz="UTC"),
        "td": pd.to_timedelta([1, 2, 3], unit="s"), "cat": pd.Categorical(["x", "y", "x"]),
        "I64": pd.array([1, None, 3], dtype="Int64"), "str": pd.array(["a", None, "b"], "string"),
        "p": pd.period_range("2020", periods=3, freq="M"), "sp": pd.arrays.SparseArray([0, 1, 0]),
    }, index=pd.Index(["r1", "r2", "r3"], name="row"))
    write("pandas", "frame", df)
    write("pandas", "series_multiindex",
          pd.Series([1, 2], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])))


def scipy_samples():
    import numpy as np
    import scipy.sparse as sp
    m = np.eye(4)
    write("scipy", "sparse", [sp.csr_matrix(m), sp.csc_matrix(m), sp.coo_matrix(m),
                              sp.lil_matrix(m), sp.dok_matrix(m), sp.bsr_matrix(m)])


def torch_samples():
    import numpy as np
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.ones(1, 4)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, 10)
    checkpoint = {"epoch": 3, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": opt.state_dict(), "scheduler": sched.state_dict(),
                  "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                          "python": random.getstate()}}
    write("torch", "training_checkpoint", checkpoint)
    write("torch", "state_dict", model.state_dict())
    write("torch", "whole_model", model, (2, 4))


def main():
    numpy_samples()
    sklearn_samples()
    pandas_samples()
    scipy_samples()
    torch_samples()
    with open(os.path.join(OUT, "manifest.jsonl"), "w") as f:
        for s in sorted(SAMPLES, key=lambda s: s["file"]):
            f.write(json.dumps(s) + "\n")
    print("wrote %d samples to %s" % (len(SAMPLES), OUT))


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
