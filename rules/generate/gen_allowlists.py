#!/usr/bin/env python3
"""Generates the framework allowlists in rules/policy/ from the real libraries.

For each library (numpy, torch, scikit-learn, pandas, scipy, joblib) it builds
a wide set of representative benign objects - arrays of every dtype, tensors,
whole nn modules, optimizers and schedulers, every scikit-learn estimator
fitted on toy data, DataFrames with every index and extension type, every
scipy.sparse format, joblib dumps - serialises them the way users do
(pickle.dumps at protocols 2-5, torch.save in zip and legacy formats,
joblib.dump), and loads its own output back through a recording unpickler
whose find_class notes every (module, qualname) the loader imports. Only these
recorded names are allowed: exact qualnames, never a module wildcard. Each
name gets the kind the loader uses it as: `class` for types (constructed,
given BUILD state), `func` for callables that rebuild objects, `const` for
other values.

Loading is safe here: the generator only ever loads pickles it has just
written from benign objects.

Every scikit-learn estimator class (sklearn.utils.all_estimators) is also
allowed as a class even when fitting it on toy data failed, since a user's
pickle may hold any of them.

Outputs rules/policy/<lib>-allow.txt. Names that newer library versions
write (numpy 2's numpy._core, pandas 2/3, torch 2, scikit-learn 1.x) are kept
by hand in rules/policy/modern-allow.txt; numpy.core.* names recorded here
are also written under numpy._core.*, where numpy 2 keeps the same objects.

Run: /usr/bin/python3 rules/generate/gen_allowlists.py   (Debian 12 with
python3-numpy, python3-torch, python3-sklearn, python3-pandas, python3-scipy,
python3-joblib installed). Takes about a minute.
"""

import _compat_pickle
import collections
import datetime
import io
import os
import pickle
import sys
import types
import warnings

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "policy")
SEEN = collections.defaultdict(set)  # library -> {(module, name, kind)}
CURRENT = ["?"]


def kind_of(obj):
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "func"
    return "const"


class Recorder(pickle._Unpickler):
    """The pure-Python unpickler, noting every global it resolves."""

    def find_class(self, module, name):
        obj = super().find_class(module, name)
        m, n = module, name
        if self.proto < 3 and self.fix_imports:
            if (m, n) in _compat_pickle.NAME_MAPPING:
                m, n = _compat_pickle.NAME_MAPPING[(m, n)]
            elif m in _compat_pickle.IMPORT_MAPPING:
                m = _compat_pickle.IMPORT_MAPPING[m]
        SEEN[CURRENT[0]].add((m, n, kind_of(obj)))
        return obj


recording_pickle = types.ModuleType("recording_pickle")
recording_pickle.Unpickler = Recorder
recording_pickle.load = lambda f, **kw: Recorder(f, **kw).load()
recording_pickle.__name__ = "pickle"


def roundtrip(lib, obj, protocols=(2, 3, 4, 5)):
    CURRENT[0] = lib
    for p in protocols:
        try:
            data = pickle.dumps(obj, protocol=p)
        except Exception:
            continue
        Recorder(io.BytesIO(data)).load()


# ---- numpy ------------------------------------------------------------------

def numpy_objects():
    import numpy as np
    dtypes = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "g",
              "c8", "c16", "G", "M8[ns]", "M8[D]", "m8[s]", "U7", "S5", "V8", "O"]
    objs = []
    for d in dtypes:
        a = np.zeros(3, dtype=d)
        objs += [a, a[0], np.dtype(d), a.reshape(3, 1), np.asfortranarray(a.reshape(3, 1))]
    objs.append(np.zeros(2, dtype=[("a", "i4"), ("b", "f8", (2,)), ("c", "O")]))
    objs.append(np.array([1, "x", None], dtype=object))
    objs.append(np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]))
    objs.append(np.rec.array([(1, 2.0)], dtype=[("x", "i4"), ("y", "f8")]))
    objs.append(np.matrix([[1, 2], [3, 4]]))
    objs.append(np.random.RandomState(0))
    objs.append(np.random.default_rng(0))
    objs.append(np.random.SeedSequence(1))
    for bg in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"):
        objs.append(getattr(np.random, bg)(0))
    objs += [np.float64(1.5), np.int64(3), np.bool_(True), np.str_("s"), np.bytes_(b"b"),
             np.datetime64("2020-01-01"), np.timedelta64(5, "s"), np.void(b"ab"),
             np.longdouble(1), np.clongdouble(1j)]
    # scalar types themselves: estimators keep them as parameters (dtype=np.float32)
    objs += [t for t in set(np.sctypeDict.values()) if isinstance(t, type)]
    return objs


# ---- torch --------------------------------------------------------------------

def torch_objects():
    import torch
    import torch.nn as nn
    objs = []
    for dt in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
               torch.complex128, torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64,
               torch.bool):
        t = torch.zeros(2, 3, dtype=dt)
        objs += [t, t[0], dt]
    objs += [nn.Parameter(torch.ones(2)), torch.Size([2, 3]), torch.device("cpu"),
             torch.ones(4).to_sparse(), torch.eye(3).to_sparse_csr(),
             torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8),
             torch.quantize_per_channel(torch.ones(2, 2), torch.tensor([0.1, 0.2]),
                                        torch.tensor([0, 0]), 0, torch.quint8),
             torch.get_rng_state(), torch.channels_last, torch.strided, torch.sparse_coo]
    # every nn layer that builds with simple arguments, alone and in a model
    layers = []
    for name in dir(nn.modules):
        cls = getattr(nn.modules, name)
        if not isinstance(cls, type) or not issubclass(cls, nn.Module):
            continue
        for args in ((), (4,), (4, 4), (4, 4, 3), (1, 4, 4)):
            try:
                layers.append(cls(*args))
                break
            except Exception:
                continue
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 4), nn.LayerNorm(4), nn.Dropout(0.1))
    objs += layers + [model, model.state_dict()]
    # optimizers with state, and their schedulers
    for name in dir(torch.optim):
        cls = getattr(torch.optim, name)
        if not isinstance(cls, type) or not issubclass(cls, torch.optim.Optimizer) or \
                cls is torch.optim.Optimizer:
            continue
        p = nn.Parameter(torch.ones(2))
        try:
            opt = cls([p], lr=0.1)
            p.grad = torch.ones(2)
            opt.step()
        except Exception:
            continue
        objs += [opt.state_dict(), opt]
    sched = torch.optim.lr_scheduler
    base = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    for factory in (lambda o: sched.StepLR(o, 1), lambda o: sched.MultiStepLR(o, [1]),
                    lambda o: sched.ExponentialLR(o, 0.9), lambda o: sched.CosineAnnealingLR(o, 3),
                    lambda o: sched.ReduceLROnPlateau(o), lambda o: sched.OneCycleLR(o, 1.0, 10),
                    lambda o: sched.CyclicLR(o, 0.01, 0.1), lambda o: sched.LinearLR(o),
                    lambda o: sched.ConstantLR(o), lambda o: sched.PolynomialLR(o),
                    lambda o: sched.CosineAnnealingWarmRestarts(o, 2)):
        try:
            sch = factory(base)
            objs += [sch.state_dict(), sch]
        except Exception:
            pass
    return objs


def torch_save_all(objs):
    import torch
    CURRENT[0] = "torch"
    for zipped in (True, False):
        for o in objs:
            buf = io.BytesIO()
            try:
                torch.save(o, buf, _use_new_zipfile_serialization=zipped)
            except Exception:
                continue
            buf.seek(0)
            torch.load(buf, pickle_module=recording_pickle)


# ---- scikit-learn ---------------------------------------------------------------

def sklearn_objects():
    import numpy as np
    from sklearn.utils import all_estimators
    rng = np.random.RandomState(0)
    X = rng.rand(40, 4)
    Xpos = np.abs(X)
    yc = np.array([0, 1] * 20)
    yr = rng.rand(40)
    texts = ["the cat sat", "a dog ran", "the bird flew", "cats and dogs"] * 10
    objs, classes = [], []
    # loss and link objects that fitted estimators hold (sklearn >= 1.1)
    import sklearn._loss.link
    import sklearn._loss.loss
    import sklearn.neural_network._stochastic_optimizers as sto
    for mod in (sklearn._loss.loss, sklearn._loss.link, sto):
        classes += [c for c in vars(mod).values()
                    if isinstance(c, type) and c.__module__ == mod.__name__]
    for name, cls in all_estimators():
        classes.append(cls)
        try:
            est = cls()
        except Exception:
            continue
        objs.append(est)
        for args in ((X, yc), (X, yr), (X,), (Xpos, yc), (texts,), (yc,)):
            try:
                est.fit(*args)
                objs.append(est)
                break
            except Exception:
                continue
    return objs, classes


# ---- pandas -----------------------------------------------------------------------

def pandas_objects():
    import numpy as np
    import pandas as pd
    idx = [pd.RangeIndex(3), pd.Index([1, 2, 3]), pd.Index(["a", "b", "c"]),
           pd.Index([1.5, 2.5, 3.5]), pd.date_range("2020", periods=3),
           pd.date_range("2020", periods=3, tz="UTC"), pd.timedelta_range("1D", periods=3),
           pd.period_range("2020", periods=3, freq="M"), pd.CategoricalIndex(["a", "b", "a"]),
           pd.interval_range(0, 3), pd.MultiIndex.from_tuples([(1, "a"), (2, "b"), (3, "c")]),
           pd.Index([True, False, True])]
    frames = []
    for i in idx:
        frames.append(pd.DataFrame({"x": [1, 2, 3]}, index=i))
    df = pd.DataFrame({
        "i": [1, 2, 3], "f": [1.0, 2.0, None], "s": ["a", "b", None], "b": [True, False, True],
        "dt": pd.to_datetime(["2020-01-01", "2020-01-02", None]),
        "tz": pd.date_range("2020", periods=3, tz="Europe/Paris"),
        "td": pd.to_timedelta([1, 2, 3], unit="s"), "cat": pd.Categorical(["a", "b", "a"]),
        "p": pd.period_range("2020", periods=3, freq="D"), "iv": pd.interval_range(0, 3),
        "I64": pd.array([1, None, 3], dtype="Int64"), "bool": pd.array([True, None, False]),
        "str": pd.array(["a", None, "c"], dtype="string"), "F64": pd.array([1.5, None, 2.5],
                                                                              dtype="Float64"),
        "sp": pd.arrays.SparseArray([0, 0, 1]), "obj": [object.__new__(object) and 1, "x", None],
    })
    import dateutil.tz
    import pytz
    objs = frames + [df, df["i"], df["cat"], df.T, pd.Series([1, 2], name="s"),
                     pd.Timestamp("2020-01-01", tz=pytz.timezone("Europe/Paris")),
                     pd.Timestamp("2020-01-01", tz=dateutil.tz.tzutc()),
                     pd.Timestamp("2020-01-01", tz=dateutil.tz.gettz("Europe/Paris")),
                     pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-01", tz="UTC"),
                     pd.Timedelta("1D"), pd.Period("2020-01", "M"), pd.Interval(0, 1),
                     pd.NaT, pd.NA, pd.offsets.Day(2), pd.offsets.MonthEnd(), pd.offsets.BDay(),
                     pd.offsets.Week(weekday=1), pd.CategoricalDtype(["a", "b"]),
                     pd.DatetimeTZDtype(tz="UTC"), pd.PeriodDtype("D"), pd.IntervalDtype("int64"),
                     pd.SparseDtype("int64"), pd.StringDtype(), pd.Int64Dtype(),
                     pd.BooleanDtype(), pd.Float64Dtype(), np.array([pd.Timestamp("2020")])]
    return objs


# ---- scipy ---------------------------------------------------------------------------

def scipy_objects():
    import numpy as np
    import scipy.sparse as sp
    m = np.eye(3)
    objs = []
    for f in ("csr", "csc", "coo", "bsr", "dia", "dok", "lil"):
        objs.append(getattr(sp, f + "_matrix")(m))
        arr = getattr(sp, f + "_array", None)
        if arr:
            objs.append(arr(m))
    return objs


# ---- joblib ----------------------------------------------------------------------------

def joblib_all():
    import joblib
    import joblib.numpy_pickle as jnp
    import numpy as np
    CURRENT[0] = "joblib"
    orig = jnp.NumpyUnpickler.find_class

    def find_class(self, module, name):
        obj = orig(self, module, name)
        SEEN["joblib"].add((module, name, kind_of(obj)))
        return obj

    jnp.NumpyUnpickler.find_class = find_class
    obj = {"a": np.arange(5), "b": [np.zeros((2, 2), dtype="f4")], "c": np.array(["x"], dtype=object)}
    for compress in (0, 3, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)):
        buf = io.BytesIO()
        joblib.dump(obj, buf, compress=compress)
        buf.seek(0)
        joblib.load(buf)
    jnp.NumpyUnpickler.find_class = orig


# ---- output -------------------------------------------------------------------------------

HEADER = """# pklscan allowlist for {lib}: generated by rules/generate/gen_allowlists.py
# from {lib} {version} (Debian 12) by pickling representative objects and
# recording every global the loader imports. Do not edit: regenerate.
# Format as in stdlib-allow.txt: module qualname kind.
"""


def write(lib, version, entries):
    path = os.path.join(OUT, lib + "-allow.txt")
    with open(path, "w") as f:
        f.write(HEADER.format(lib=lib, version=version))
        for m, n, k in sorted(entries):
            f.write("%s %s %s\n" % (m, n, k))
    print("%-8s %4d names -> %s" % (lib, len(entries), os.path.relpath(path)))


def own(entries, prefixes):
    return {e for e in entries if e[0].split(".")[0] in prefixes}


def main():
    import joblib
    import numpy
    import pandas
    import scipy
    import sklearn
    import torch

    for o in numpy_objects():
        roundtrip("numpy", o)
    objs, sk_classes = sklearn_objects()
    for o in objs:
        roundtrip("sklearn", o)
    for o in pandas_objects():
        roundtrip("pandas", o)
    for o in scipy_objects():
        roundtrip("scipy", o)
    tobjs = torch_objects()
    for o in tobjs:
        roundtrip("torch", o)
    torch_save_all(tobjs)
    joblib_all()

    everything = set().union(*SEEN.values())
    numpy_names = own(everything, {"numpy"})
    # numpy 2 keeps numpy.core's objects under numpy._core
    numpy_names |= {("numpy._core" + m[len("numpy.core"):], n, k)
                    for m, n, k in numpy_names if m.startswith("numpy.core")}
    write("numpy", numpy.__version__, numpy_names)
    # torch's own find_class answers '*Storage' names without the base
    # class: they appear in every checkpoint's persistent ids
    storages = {("torch", n, "class") for n in dir(torch)
                if n.endswith("Storage") and isinstance(getattr(torch, n), type)}
    write("torch", torch.__version__, own(everything, {"torch"}) | storages)
    sk = own(everything, {"sklearn"})
    sk |= {(c.__module__, c.__qualname__, "class") for c in sk_classes}
    write("sklearn", sklearn.__version__, sk)
    # pandas pickles time zones through pytz and dateutil
    write("pandas", pandas.__version__, own(everything, {"pandas", "pytz", "dateutil"}))
    write("scipy", scipy.__version__, own(everything, {"scipy"}))
    write("joblib", joblib.__version__, own(everything, {"joblib"}))
    others = sorted(e for e in everything
                    if e[0].split(".")[0] not in {"numpy", "torch", "sklearn", "pandas", "pytz",
                                                  "dateutil", "scipy", "joblib"})
    print("standard-library names the libraries used (must be in stdlib-allow.txt):")
    for m, n, k in others:
        print("   ", m, n, k)


if __name__ == "__main__":
    main()
