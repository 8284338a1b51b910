"""Trial lists, score files, cosine scoring, utterance embedding, score normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.errors import AudioError, CorpusError
from speaker_tf.evaluation.normalization import s_norm, standardise
from speaker_tf.evaluation.scoring import (
    Trial,
    cosine_scores,
    embed_utterances,
    read_score_file,
    read_trials,
    write_score_file,
    write_trials,
)

TRIALS = [
    Trial(1, "id1/s1/a.wav", "id1/s2/b.wav"),
    Trial(0, "id1/s1/a.wav", "id2/s1/c.wav"),
    Trial(0, "id2/s1/c.wav", "id1/s2/b.wav"),
]


def test_read_trials_voxceleb_format(tmp_path):
    p = tmp_path / "trials.txt"
    p.write_text("1 id1/s1/a.wav id1/s2/b.wav\n\n0 id1/s1/a.wav id2/s1/c.wav\n0 id2/s1/c.wav id1/s2/b.wav\n")
    assert read_trials(p) == TRIALS
    q = tmp_path / "again.txt"
    write_trials(q, TRIALS)
    assert read_trials(q) == TRIALS


@pytest.mark.parametrize(
    "bad_line, match",
    [("1 a.wav", "3 fields"), ("2 a.wav b.wav", "label must be 0 or 1"), ("x a.wav b.wav", "label")],
)
def test_malformed_trial_line_names_file_and_line(tmp_path, bad_line, match):
    p = tmp_path / "trials.txt"
    p.write_text(f"1 a.wav b.wav\n0 a.wav c.wav\n{bad_line}\n")
    with pytest.raises(CorpusError, match=match) as info:
        read_trials(p)
    assert f"{p}:3:" in str(info.value)


def test_missing_or_empty_trial_list(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_trials(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(CorpusError, match="no trials"):
        read_trials(tmp_path / "empty.txt")


def test_cosine_scores_match_direct_formula():
    rng = np.random.default_rng(0)
    emb = {u: rng.normal(size=8) for u in ("id1/s1/a.wav", "id1/s2/b.wav", "id2/s1/c.wav")}
    got = cosine_scores(emb, TRIALS)
    for s, t in zip(got, TRIALS, strict=True):
        a, b = emb[t.enroll], emb[t.test]
        assert s == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-12)


def test_missing_embedding_names_the_utterance():
    emb = {"id1/s1/a.wav": np.ones(4), "id1/s2/b.wav": np.ones(4)}
    with pytest.raises(CorpusError, match="id2/s1/c.wav"):
        cosine_scores(emb, TRIALS)


def test_score_file_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=len(TRIALS))
    p = tmp_path / "scores.txt"
    write_score_file(p, scores, TRIALS)
    lines = p.read_text().splitlines()
    assert lines[0].split()[1:] == ["1", "id1/s1/a.wav", "id1/s2/b.wav"]
    s, y = read_score_file(p)
    np.testing.assert_array_equal(s, scores)
    np.testing.assert_array_equal(y, [t.label for t in TRIALS])


@pytest.mark.parametrize(
    "bad_line, match",
    [
        ("abc 1 a b", "not a number"),
        ("0.5 7 a b", "label must be 0 or 1"),
        ("0.5 1 a", "4 fields"),
        ("nan 1 a b", "not finite"),
    ],
)
def test_malformed_score_file_names_file_and_line(tmp_path, bad_line, match):
    p = tmp_path / "scores.txt"
    p.write_text(f"0.1 1 a b\n{bad_line}\n")
    with pytest.raises(CorpusError, match=match) as info:
        read_score_file(p)
    assert f"{p}:2:" in str(info.value)


# ---------------------------------------------------------------- embedding from audio


def _write(path, wav, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wav, sr)


class _Recorder:
    """embed_fn that records batch shapes; embedding = [mean, 1] (per row)."""

    def __init__(self):
        self.shapes = []

    def __call__(self, batch):
        assert batch.dtype == np.float32
        self.shapes.append(batch.shape)
        return np.stack([batch.mean(axis=1), np.ones(batch.shape[0])], axis=1)


def test_embed_utterances_full_length_and_windowed(tmp_path):
    rng = np.random.default_rng(0)
    _write(tmp_path / "a" / "x.wav", 0.1 * rng.normal(size=16000).astype(np.float32))
    _write(tmp_path / "b" / "y.wav", 0.1 * rng.normal(size=17600).astype(np.float32))
    _write(tmp_path / "c" / "z.wav", 0.1 * rng.normal(size=3000).astype(np.float32))
    keys = ["a/x.wav", "b/y.wav", "c/z.wav", "a/x.wav"]

    rec = _Recorder()
    out = embed_utterances(rec, keys, root=tmp_path)
    assert list(out) == ["a/x.wav", "b/y.wav", "c/z.wav"]  # each utterance embedded once
    assert rec.shapes == [(1, 16000), (1, 17600), (1, 3000)]
    for e in out.values():
        assert e.dtype == np.float32 and np.linalg.norm(e) == pytest.approx(1.0, abs=1e-6)

    rec = _Recorder()
    embed_utterances(rec, keys, window_seconds=0.5, hop_seconds=0.25, root=tmp_path)
    # 16000 samples: starts 0, 4000, 8000 cover it exactly; 17600: + an end-aligned window;
    # 3000 samples: shorter than a window, tiled to one window.
    assert rec.shapes == [(3, 8000), (4, 8000), (1, 8000)]


def test_windowed_embedding_is_mean_of_normalised_window_embeddings(tmp_path):
    wav = np.linspace(-0.5, 0.5, 16000).astype(np.float32)
    _write(tmp_path / "u.wav", wav)
    out = embed_utterances(_Recorder(), ["u.wav"], window_seconds=0.5, root=tmp_path)
    wav = sf.read(str(tmp_path / "u.wav"), dtype="float32")[0]
    wav = wav / np.abs(wav).max()  # the whole utterance is peak-normalised, as in training
    wins = [wav[s : s + 8000] for s in (0, 4000, 8000)]  # default hop: half a window
    e = np.array([[w.mean(), 1.0] for w in wins])
    e = (e / np.linalg.norm(e, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(out["u.wav"], e / np.linalg.norm(e), atol=1e-6)


def test_embed_utterances_audio_errors_name_file(tmp_path):
    _write(tmp_path / "rate.wav", np.zeros(800, np.float32), sr=8000)
    _write(tmp_path / "stereo.wav", np.zeros((800, 2), np.float32))
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    for name, match in [
        ("rate.wav", "8000 Hz"),
        ("stereo.wav", "2 channels"),
        ("junk.wav", "unreadable"),
        ("missing.wav", "does not exist"),
    ]:
        with pytest.raises(AudioError, match=match) as info:
            embed_utterances(_Recorder(), [name], root=tmp_path)
        assert name in str(info.value)


# ---------------------------------------------------------------- score normalisation


def _s_norm_brute_force(scores, enroll, test, cohort, top_n):
    def unit(v):
        return v / np.linalg.norm(v)

    out = []
    for s, e, t in zip(scores, enroll, test, strict=True):
        se = np.array([unit(e) @ unit(c) for c in cohort])
        st = np.array([unit(t) @ unit(c) for c in cohort])
        se = np.sort(se)[::-1][:top_n]
        st = np.sort(st)[::-1][:top_n]
        out.append(0.5 * ((s - se.mean()) / se.std() + (s - st.mean()) / st.std()))
    return np.array(out)


@pytest.mark.parametrize("top_n", [None, 5, 2])
def test_s_norm_and_as_norm_match_brute_force(top_n):
    rng = np.random.default_rng(7)
    utts = rng.normal(size=(6, 8))
    idx_e = rng.integers(0, 6, size=20)  # repeated enrolment / test utterances
    idx_t = rng.integers(0, 6, size=20)
    enroll, test = utts[idx_e], utts[idx_t]
    cohort = rng.normal(size=(12, 8))
    scores = rng.normal(size=20)
    got = s_norm(scores, enroll, test, cohort, top_n=top_n)
    want = _s_norm_brute_force(scores, enroll, test, cohort, top_n or len(cohort))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_as_norm_with_full_cohort_equals_s_norm():
    rng = np.random.default_rng(8)
    e, t, c = rng.normal(size=(10, 4)), rng.normal(size=(10, 4)), rng.normal(size=(7, 4))
    s = rng.normal(size=10)
    np.testing.assert_allclose(s_norm(s, e, t, c, top_n=7), s_norm(s, e, t, c), rtol=1e-12)


def test_s_norm_rejects_bad_top_n_and_shapes():
    e = np.ones((3, 4))
    with pytest.raises(ValueError, match="top_n"):
        s_norm(np.zeros(3), e, e, np.eye(4), top_n=5)
    with pytest.raises(ValueError, match="one row per trial"):
        s_norm(np.zeros(2), e, e, np.eye(4))
    with pytest.raises(ValueError, match="dimension"):
        s_norm(np.zeros(3), e, e, np.eye(5))


def test_standardise_matches_a_loop_over_dimensions():
    rng = np.random.default_rng(9)
    emb = rng.normal(size=(6, 3)) * [1.0, 5.0, 0.1] + [2.0, -1.0, 0.0]
    ref = rng.normal(size=(9, 3)) * [2.0, 0.5, 3.0] + [1.0, 4.0, -2.0]
    got = standardise(emb, ref)
    for d in range(3):
        col = ref[:, d]
        mean = sum(col) / len(col)
        std = (sum((v - mean) ** 2 for v in col) / len(col)) ** 0.5  # population std
        for i in range(6):
            assert got[i, d] == pytest.approx((emb[i, d] - mean) / std, rel=1e-12)
    own = standardise(emb, emb)  # a set standardising itself: zero mean, unit std per dimension
    np.testing.assert_allclose(own.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(own.std(axis=0), 1.0, rtol=1e-12)


def test_standardise_constant_dimension_and_errors():
    ref = np.array([[1.0, 3.0], [2.0, 3.0], [3.0, 3.0]])  # dimension 1 constant: centred, not blown to inf
    got = standardise(np.array([[2.0, 3.0]]), ref)
    np.testing.assert_array_equal(got, [[0.0, 0.0]])
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        standardise(np.ones((3, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="reference dimension 3 differs from embedding dimension 2"):
        standardise(np.ones((3, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="reference contains NaN"):
        standardise(np.ones((3, 2)), np.array([[1.0, np.nan], [0.0, 1.0]]))
