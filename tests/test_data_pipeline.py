"""tf.data pipeline: decoding, normalisation, crops, P x K batches, determinism, errors, no PyFunc.

References are independent: WAV files are written with soundfile from known
int16 arrays, and expected waveforms are those arrays / 32768 (decoding) or
/ their peak (normalisation) computed in NumPy.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from speaker_tf.config.data import AugmentConfig, DataConfig
from speaker_tf.data.pipeline import (
    crop_or_pad,
    decode_wav,
    eval_dataset,
    load_waveform,
    peak_normalize,
    train_dataset,
)

SR = 16000
CROP = 400  # samples: crop_seconds = 0.025


def _write(path, samples: np.ndarray, sr: int = SR) -> str:
    sf.write(str(path), samples, sr, subtype="PCM_16")
    return str(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """5 speakers x 3 files, lengths 100..1500 samples (some shorter than CROP); int16 data kept."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    paths, labels, data = [], [], {}
    for spk in range(5):
        for utt in range(3):
            n = int(rng.integers(100, 1500))
            x = rng.integers(-20000, 20000, n).astype(np.int16)
            p = _write(root / f"s{spk}_u{utt}.wav", x)
            paths.append(p)
            labels.append(10 + 3 * spk)  # arbitrary non-contiguous ints
            data[p] = x
    return paths, labels, data


def _cfg(**kw) -> DataConfig:
    base = dict(crop_seconds=CROP / SR, speakers_per_batch=3, utterances_per_speaker=2)
    base.update(kw)
    return DataConfig(**base)


def _batches(ds: tf.data.Dataset, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy(), y.numpy()) for x, y in ds.take(n)]


def test_decode_matches_soundfile_and_normalisation(tmp_path):
    x = np.array([0, 1, -1, 32767, -32768, 1234, -4321], np.int16)
    p = _write(tmp_path / "a.wav", x)
    got = decode_wav(p, SR).numpy()
    np.testing.assert_array_equal(got, sf.read(p, dtype="int16")[0] / 32768.0)
    norm = load_waveform(p, SR).numpy()
    assert np.max(np.abs(norm)) == 1.0
    np.testing.assert_allclose(norm, x / 32768.0, rtol=1e-6)
    silent = peak_normalize(tf.zeros([50])).numpy()
    assert np.all(silent == 0) and np.all(np.isfinite(silent))
    z = _write(tmp_path / "z.wav", np.zeros(30, np.int16))
    np.testing.assert_array_equal(load_waveform(z, SR).numpy(), np.zeros(30))


def test_crop_or_pad_short_long_and_seeded():
    short = np.arange(1, 11, dtype=np.float32)
    out = crop_or_pad(short, 16).numpy()
    np.testing.assert_array_equal(out[:10], short)  # left-aligned
    np.testing.assert_array_equal(out[10:], 0)
    long = np.arange(1, 101, dtype=np.float32)
    np.testing.assert_array_equal(crop_or_pad(long, 16).numpy(), long[:16])
    starts = set()
    for i in range(20):
        seed = tf.constant([7, i], tf.int64)
        w = crop_or_pad(long, 16, seed=seed).numpy()
        start = int(w[0]) - 1
        np.testing.assert_array_equal(w, long[start : start + 16])  # a contiguous window
        np.testing.assert_array_equal(w, crop_or_pad(long, 16, seed=seed).numpy())
        starts.add(start)
    assert len(starts) > 5 and min(starts) >= 0 and max(starts) <= 84


def test_train_batches_structure_and_content(corpus):
    paths, labels, data = corpus
    cfg = _cfg()
    ds = train_dataset(paths, labels, cfg, seed=3)
    p, k = cfg.speakers_per_batch, cfg.utterances_per_speaker
    assert ds.element_spec[0].shape == (p * k, CROP) and ds.element_spec[0].dtype == tf.float32
    assert ds.element_spec[1].shape == (p * k,) and ds.element_spec[1].dtype == tf.int32
    by_label = {}
    for path, lab in zip(paths, labels, strict=True):
        by_label.setdefault(lab, []).append(data[path] / float(np.max(np.abs(data[path].astype(np.int32)))))
    seen = set()
    for x, y in _batches(ds, 12):
        assert x.shape == (p * k, CROP)
        groups = y.reshape(p, k)
        assert np.all(groups == groups[:, :1]), "labels grouped in runs of K"
        assert len(set(groups[:, 0])) == p, "P distinct speakers"
        assert Counter(y.tolist()) == {lab: k for lab in groups[:, 0]}
        seen.update(y.tolist())
        for row, lab in zip(x, y, strict=True):
            # Each row is a window of one of its speaker's normalised files (zero-padded if short).
            ok = False
            for ref in by_label[lab]:
                if len(ref) <= CROP:
                    padded = np.concatenate([ref, np.zeros(CROP - len(ref))])
                    ok |= np.allclose(row, padded, atol=1e-6)
                    if ok:
                        assert np.max(np.abs(row)) == pytest.approx(1.0)
                else:
                    hits = np.flatnonzero(np.abs(ref[: len(ref) - CROP + 1] - row[0]) < 1e-6)
                    ok |= any(np.allclose(ref[h : h + CROP], row, atol=1e-6) for h in hits)
                if ok:
                    break
            assert ok, f"row of label {lab} is not a crop of any of its files"
    assert seen == set(labels), "all speakers sampled over 12 batches"


def test_determinism_cache_and_seeds(corpus):
    paths, labels, _ = corpus
    aug = AugmentConfig(enabled=True)
    a = _batches(train_dataset(paths, labels, _cfg(augment=aug), seed=5), 3)
    b = _batches(train_dataset(paths, labels, _cfg(augment=aug), seed=5), 3)
    c = _batches(train_dataset(paths, labels, _cfg(augment=aug, cache=True), seed=5), 3)
    d = _batches(train_dataset(paths, labels, _cfg(augment=aug), seed=6), 3)
    for (xa, ya), (xb, yb), (xc, yc) in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xc)  # cache changes nothing but speed
        np.testing.assert_array_equal(ya, yc)
    assert any(not np.array_equal(xa, xd) for (xa, _), (xd, _) in zip(a, d, strict=True))
    # Successive batches of one stream differ (the crop varies even with the cache).
    assert not np.array_equal(c[0][0], c[1][0])


def test_speaker_with_fewer_than_k_files_repeats_evenly(tmp_path):
    rng = np.random.default_rng(1)
    paths, labels, arrays = [], [], []
    for spk, n_files in enumerate((2, 2, 5)):
        for u in range(n_files):
            x = rng.integers(-9000, 9000, 50).astype(np.int16)
            paths.append(_write(tmp_path / f"{spk}_{u}.wav", x))
            labels.append(spk)
            arrays.append(x / float(np.max(np.abs(x.astype(np.int32)))))
    cfg = _cfg(speakers_per_batch=3, utterances_per_speaker=4, crop_seconds=64 / SR)
    for x, y in _batches(train_dataset(paths, labels, cfg, seed=0), 4):
        for spk in (0, 1):
            rows = x[y == spk][:, :50]
            ids = [int(np.argmin([np.abs(r - a).max() for a in arrays])) for r in rows]
            assert sorted(Counter(ids).values()) == [2, 2]  # 2 files, K = 4: each twice
        rows = x[y == 2][:, :50]
        ids = [int(np.argmin([np.abs(r - a).max() for a in arrays])) for r in rows]
        assert len(set(ids)) == 4  # enough files: no repeats


def test_too_few_speakers_errors(corpus):
    paths, labels, _ = corpus
    with pytest.raises(ValueError, match=r"5 speaker\(s\).*\(P\) is 6"):
        train_dataset(paths, labels, _cfg(speakers_per_batch=6), seed=0)
    with pytest.raises(ValueError, match=r"1 speaker\(s\).*\(P\) is 3"):
        train_dataset(paths[:3], [1, 1, 1], _cfg(), seed=0)
    with pytest.raises(ValueError, match="speakers_per_batch must be >= 2"):
        train_dataset(paths, labels, _cfg(speakers_per_batch=1), seed=0)
    with pytest.raises(ValueError, match="as long as paths"):
        train_dataset(paths, labels[:-1], _cfg(), seed=0)


def test_eval_order_crops_and_whole(corpus):
    paths, _, data = corpus
    cfg = _cfg(eval_seconds=600 / SR)
    got = np.concatenate([b.numpy() for b in eval_dataset(paths, cfg, batch_size=4)])
    assert got.shape == (len(paths), 600)
    for row, p in zip(got, paths, strict=True):  # in order, first 600 samples of the normalised file
        ref = data[p] / float(np.max(np.abs(data[p].astype(np.int32))))
        m = min(600, len(ref))
        np.testing.assert_allclose(row[:m], ref[:m], atol=1e-6)
        np.testing.assert_array_equal(row[m:], 0)
    whole = _cfg(eval_seconds=0.0)
    singles = [b.numpy() for b in eval_dataset(paths, whole, batch_size=1)]
    assert [s.shape for s in singles] == [(1, len(data[p])) for p in paths]
    batches = list(eval_dataset(paths, whole, batch_size=4, with_lengths=True))
    lengths = np.concatenate([n.numpy() for _, n in batches])
    assert lengths.tolist() == [len(data[p]) for p in paths]
    for (x, n), i in zip(batches, range(0, len(paths), 4), strict=True):
        for j, length in enumerate(n.numpy()):
            np.testing.assert_allclose(x.numpy()[j, :length], singles[i + j][0], atol=0)
            assert np.all(x.numpy()[j, length:] == 0)
    with pytest.raises(ValueError, match="with_lengths"):
        eval_dataset(paths, whole, batch_size=4)


def test_wrong_rate_and_stereo_errors_name_the_file(tmp_path, corpus):
    bad_rate = _write(tmp_path / "rate8k.wav", np.ones(100, np.int16), sr=8000)
    stereo = _write(tmp_path / "stereo.wav", np.ones((100, 2), np.int16))
    for path, what in ((bad_rate, "sample rate 8000 Hz, expected 16000"), (stereo, "2 channels")):
        with pytest.raises(tf.errors.InvalidArgumentError) as err:
            decode_wav(path, SR)
        assert path in str(err.value) and what in str(err.value)
        with pytest.raises(tf.errors.InvalidArgumentError) as err:  # through tf.data too
            list(eval_dataset([path], _cfg(), batch_size=1))
        assert path in str(err.value) and what in str(err.value)
    pcm24 = str(tmp_path / "deep.wav")
    sf.write(pcm24, np.zeros(100), SR, subtype="PCM_24")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    for path, what in ((pcm24, "24-bit samples, expected 16-bit PCM"), (str(text), "not a RIFF/WAVE file")):
        with pytest.raises(tf.errors.InvalidArgumentError) as err:
            decode_wav(path, SR)
        assert path in str(err.value) and what in str(err.value)
    paths, labels, _ = corpus
    ds = train_dataset(paths + [stereo] * 3, labels + [99] * 3, _cfg(speakers_per_batch=6), seed=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="stereo.wav"):
        list(ds.take(1))


_PY_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


def _op_types(ds: tf.data.Dataset) -> set[str]:
    """Op types of the dataset's whole graph, including every function it calls (map bodies, loops)."""
    graph = tf.compat.v1.GraphDef.FromString(ds._as_serialized_graph().numpy())
    ops = {node.op for node in graph.node}
    for fn in graph.library.function:
        ops.update(node.op for node in fn.node_def)
    return ops


def test_no_python_callbacks_in_the_graph(corpus):
    """Proves: no PyFunc op in the serialized dataset graph (map bodies, conds, while loops
    all live in its function library), and the pipeline iterates inside a tf.function."""
    paths, labels, _ = corpus
    for cfg in (
        _cfg(augment=AugmentConfig(enabled=True)),
        _cfg(augment=AugmentConfig(enabled=True, policy="clean_one_two"), cache=True),
    ):
        ds = train_dataset(paths, labels, cfg, seed=0)
        ops = _op_types(ds)
        assert {"DecodeWav", "ReadFile"} & ops or cfg.cache  # the walk sees the map bodies
        assert "StatelessWhile" in ops or "While" in ops  # ... and the noise loop inside them
        assert not ops & _PY_OPS
    assert not _op_types(eval_dataset(paths, _cfg(), batch_size=2)) & _PY_OPS
    # Positive control: the same walk finds a py_function.
    control = tf.data.Dataset.range(3).map(lambda i: tf.py_function(lambda v: v, [i], tf.int64))
    assert _op_types(control) & _PY_OPS

    ds = train_dataset(paths, labels, _cfg(augment=AugmentConfig(enabled=True)), seed=0)

    @tf.function
    def total(dataset: tf.data.Dataset) -> tf.Tensor:
        acc = tf.constant(0.0)
        for x, _ in dataset.take(2):
            acc += tf.reduce_sum(tf.abs(x))
        return acc

    assert float(total(ds)) > 0
