"""The recipes' augmentation in the pipeline: speed labels, stage probabilities, babble sources,
determinism, no Python callbacks, default off, config errors.

Each speaker of the test corpus is a pure tone of its own frequency, so a crop's
spectrum says which speaker and which speed factor made it.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from speaker_tf.config.base import ExperimentConfig, parse_assignment
from speaker_tf.config.data import AugmentConfig, DataConfig, RobustConfig
from speaker_tf.data.augment import Sources, robust_augment
from speaker_tf.data.augment.policy import check_config, voice_colour_response
from speaker_tf.data.pipeline import train_classes, train_dataset
from speaker_tf.errors import ConfigError

SR = 16000
CROP = 4000  # 0.25 s
TONES = [400.0 * 1.3**s for s in range(6)]  # neighbours 1.3x apart > 1.1 / 0.9
OFF = dict(p_reverb=0.0, p_noise=0.0, p_band=0.0, p_eq=0.0, p_tilt=0.0, p_telephone=0.0, p_codec=0.0)
_PY_OPS = {"PyFunc", "EagerPyFunc", "PyFuncStateless"}


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """6 speakers x 3 files of 0.5-0.8 s: speaker s is a tone at TONES[s] with a random phase."""
    root = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for s, f in enumerate(TONES):
        for u in range(3):
            n = int(rng.integers(8000, 13000))
            x = np.sin(2 * np.pi * f * np.arange(n) / SR + rng.uniform(0, 6.3))
            path = root / f"s{s}_{u}.wav"
            sf.write(path, (x * 20000).astype(np.int16), SR, subtype="PCM_16")
            paths.append(str(path))
            labels.append(s)
    return paths, labels


def _cfg(**robust) -> DataConfig:
    return DataConfig(
        crop_seconds=CROP / SR,
        speakers_per_batch=4,
        utterances_per_speaker=3,
        cache=True,
        robust=RobustConfig(**{"enabled": True, "speed_factors": (1.0,), **OFF, **robust}),
    )


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * SR / len(x))


def _batches(ds, n):
    return [(x.numpy(), y.numpy()) for x, y in ds.take(n)]


def test_speed_perturbation_makes_new_speakers(tones):
    paths, labels = tones
    cfg = _cfg(speed_factors=(1.0, 0.9, 1.1))
    assert train_classes(labels, cfg) == 18 and train_classes(labels, _cfg()) == 6
    seen = Counter()
    for x, y in _batches(train_dataset(paths, labels, cfg, seed=3), 12):
        groups = y.reshape(4, 3)
        assert np.all(groups == groups[:, :1]) and len(set(groups[:, 0])) == 4  # exact P x K
        for row, label in zip(x, y, strict=True):
            speaker, index = label % 6, label // 6
            factor = (1.0, 0.9, 1.1)[index]
            assert _peak_hz(row) == pytest.approx(TONES[speaker] * factor, abs=2 * SR / CROP)
            assert np.max(np.abs(row)) <= 1.05
            seen[index] += 1
    assert set(seen) == {0, 1, 2}
    # One factor only: labels unchanged, every crop at that speed.
    for x, y in _batches(train_dataset(paths, labels, _cfg(speed_factors=(1.1,)), seed=3), 2):
        assert y.max() < 6
        for row, speaker in zip(x, y, strict=True):
            assert _peak_hz(row) == pytest.approx(TONES[speaker] * 1.1, abs=2 * SR / CROP)
    with pytest.raises(ValueError, match="needs labels >= 0"):
        train_dataset(paths, [label - 1 for label in labels], cfg, seed=0)


def test_off_or_all_zero_changes_nothing(tones):
    paths, labels = tones
    base = DataConfig(crop_seconds=CROP / SR, speakers_per_batch=4, utterances_per_speaker=3, cache=True)
    reference = _batches(train_dataset(paths, labels, base, seed=1), 3)
    for robust in (
        RobustConfig(p_reverb=1.0, p_codec=1.0, speed_factors=(1.0, 1.1)),  # enabled=False: ignored
        RobustConfig(enabled=True, speed_factors=(1.0,), **OFF),  # on, but nothing drawn
    ):
        cfg = DataConfig(**{**base.__dict__, "robust": robust})
        for (xa, ya), (xb, yb) in zip(
            reference, _batches(train_dataset(paths, labels, cfg, seed=1), 3), strict=True
        ):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    assert DataConfig().robust.enabled is False


def test_babble_is_other_speakers(tones):
    paths, labels = tones
    cfg = _cfg(
        p_noise=1.0,
        colored_weight=0.0,
        babble_min=2,
        babble_max=2,
        babble_snr_min=-20.0,
        babble_snr_max=-20.0,
    )
    others = 0
    for x, y in _batches(train_dataset(paths, labels, cfg, seed=0), 4):
        for row, label in zip(x, y, strict=True):
            hz = _peak_hz(row)
            nearest = int(np.argmin(np.abs(np.array(TONES) - hz)))
            assert nearest != label and abs(TONES[nearest] - hz) <= 2 * SR / CROP
            others += 1
    assert others == 4 * 12


def _map_seeds(fn, n: int) -> np.ndarray:
    ds = tf.data.Dataset.range(n).map(lambda i: fn(tf.stack([tf.constant(5, tf.int64), i])))
    return next(iter(ds.batch(n))).numpy()


def _stat_tol(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("stage", ["p_codec", "p_telephone", "p_band"])
def test_each_stage_applied_with_its_probability(stage):
    n = 1000
    x = tf.constant(np.sin(np.arange(1024) * 0.3) * 0.5, tf.float32)
    cfg = RobustConfig(**{**OFF, stage: 0.3})
    out = _map_seeds(lambda s: robust_augment(x, s, cfg, Sources(), SR), n)
    changed = np.abs(out - x.numpy()).max(axis=1) > 1e-4
    assert changed.mean() == pytest.approx(0.3, abs=_stat_tol(0.3, n))


def test_noise_kind_drawn_by_weight_and_peak_limited():
    n = 1000
    x = tf.constant(np.sin(np.arange(512) * 0.2) * 0.9, tf.float32)
    cfg = RobustConfig(**{**OFF, "p_noise": 1.0}, colored_weight=1.0, babble_weight=3.0, babble_max=3)
    sources = Sources(other=lambda s: tf.fill([512], 0.5))  # babble: a constant offset
    out = _map_seeds(lambda s: robust_augment(x, s, cfg, sources, SR), n)
    assert np.abs(out).max() <= 1.0 + 1e-6  # scaled back to peak 1 where noise pushed it over
    # Peak scaling multiplies x + noise by c <= 1; babble's residual out - c x is constant.
    c = np.sum(out * x.numpy(), axis=1) / np.sum(x.numpy() ** 2)  # ~ c (noise nearly orthogonal)
    residual = out - c[:, None] * x.numpy()
    babble = np.ptp(residual, axis=1) < 0.05 * np.abs(residual).mean(axis=1)
    assert babble.mean() == pytest.approx(0.75, abs=_stat_tol(0.75, n))


def test_voice_colour_is_one_fixed_filter_per_label():
    """The same filter H_label for every crop of a label whatever the element seed, another one for another
    label; the crop comes out as x convolved with H (checked with a NumPy FFT filter of its own, padded far
    beyond the biquads' decay); peaking bands of +-6 dB stay within 3 x 6 dB."""
    x = tf.constant(np.random.default_rng(0).normal(0.0, 0.01, 2048), tf.float32)  # peak well below 1
    cfg = RobustConfig(**OFF, voice_colour_bands=3, voice_colour_db=6.0)
    seeds = [tf.constant([5, i], tf.int64) for i in (0, 1)]
    a, b = (robust_augment(x, s, cfg, Sources(), SR, label=3).numpy() for s in seeds)
    other = robust_augment(x, seeds[0], cfg, Sources(), SR, label=4).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - other).max() > 0.05 * np.abs(a).max()
    n_fft = 16 * 2048
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SR)
    h = voice_colour_response(tf.constant(freqs, tf.float32), 3, cfg, SR).numpy()
    expected = np.fft.irfft(np.fft.rfft(x.numpy(), n_fft) * h, n_fft)[:2048]
    np.testing.assert_allclose(a, expected, atol=1e-4 * np.abs(expected).max())
    gain_db = 20 * np.log10(np.abs(h))
    assert np.abs(gain_db).max() <= 18.0 + 1e-3 and np.ptp(gain_db) > 1.0
    assert np.array_equal(robust_augment(x, seeds[0], RobustConfig(**OFF), Sources(), SR).numpy(), x.numpy())
    with pytest.raises(ValueError, match="voice_colour_bands > 0 needs the crop's speaker label"):
        robust_augment(x, seeds[0], cfg, Sources(), SR)


def test_voice_colour_follows_the_pipelines_labels(tones):
    """In the pipeline a speaker's tone is scaled by |H_label| at its frequency (the speed-perturbed labels
    having filters of their own), where that cuts; where it boosts past peak 1 the crop is scaled back."""
    paths, labels = tones
    factors = (1.0, 1.1)
    off, on = _cfg(speed_factors=factors), _cfg(speed_factors=factors, voice_colour_bands=2)
    checked = set()
    for (x0, y0), (x1, y1) in zip(
        _batches(train_dataset(paths, labels, off, seed=2), 6),
        _batches(train_dataset(paths, labels, on, seed=2), 6),
        strict=True,
    ):
        np.testing.assert_array_equal(y0, y1)
        middle = slice(CROP // 4, 3 * CROP // 4)  # away from the filter's start-up transient
        for row0, row1, label in zip(x0, x1, y1, strict=True):
            hz = TONES[label % 6] * factors[label // 6]
            h = float(np.abs(voice_colour_response(tf.constant([hz], tf.float32), label, on.robust, SR))[0])
            gain = float(np.sqrt(np.mean(row1[middle] ** 2) / np.mean(row0[middle] ** 2)))
            if h < 0.95:
                assert gain == pytest.approx(h, rel=0.02), (label, hz)
                checked.add(int(label))
            else:
                assert gain <= h * 1.02  # the boost, then at most scaled back down
    assert len(checked) >= 2  # cuts of several labels seen and matched


@pytest.mark.slow  # two pipelines with every stage: ~10 s idle, far more on a busy machine
def test_everything_on_deterministic_finite_graph_only(tones, tmp_path):
    paths, labels = tones
    noise_dir = tmp_path / "musan" / "noise"
    noise_dir.mkdir(parents=True)
    sf.write(noise_dir / "hum.wav", np.sin(np.arange(3000) * 0.05), 8000)
    robust = RobustConfig(
        enabled=True, rooms=2, rir_seconds=0.1, rir_cache=str(tmp_path), noise_folder=str(noise_dir)
    )
    robust = RobustConfig(**{**robust.__dict__, **{k: 0.5 for k in OFF}})
    cfg = DataConfig(**{**_cfg().__dict__, "robust": robust, "augment": AugmentConfig(enabled=True)})
    a = train_dataset(paths, labels, cfg, seed=4)
    batches = _batches(a, 3)
    for (xa, ya), (xb, yb) in zip(
        batches, _batches(train_dataset(paths, labels, cfg, seed=4), 3), strict=True
    ):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert all(x.shape == (12, CROP) and np.all(np.isfinite(x)) for x, _ in batches)
    assert max(y.max() for _, y in batches) < 18 and len({r.tobytes() for r in batches[0][0]}) == 12
    graph = tf.compat.v1.GraphDef.FromString(a._as_serialized_graph().numpy())
    ops = {node.op for node in graph.node}
    for fn in graph.library.function:
        ops.update(node.op for node in fn.node_def)
    assert "RFFT" in ops and not ops & _PY_OPS


def test_config_errors_and_overrides():
    with pytest.raises(ConfigError, match=r"data.robust.speed_factors: 3.0 is outside \[0.5, 2.0\]"):
        check_config(RobustConfig(speed_factors=(1.0, 3.0)), SR)
    with pytest.raises(ConfigError, match="repeated factors"):
        check_config(RobustConfig(speed_factors=(1.0, 1.0)), SR)
    with pytest.raises(ConfigError, match=r"data.robust.p_reverb must be a probability in \[0, 1\], got 1.5"):
        check_config(RobustConfig(p_reverb=1.5), SR)
    with pytest.raises(ConfigError, match=r"high_cut_max < sample_rate / 2 \(4000 Hz\)"):
        check_config(RobustConfig(), 8000)
    with pytest.raises(ConfigError, match="need 1 <= data.robust.babble_min <= babble_max, got 5, 3"):
        check_config(RobustConfig(babble_min=5, babble_max=3), SR)
    with pytest.raises(ConfigError, match="data.robust.voice_colour_bands must be >= 0, got -1"):
        check_config(RobustConfig(voice_colour_bands=-1), SR)
    with pytest.raises(ConfigError, match="data.robust.voice_colour_db must be >= 0, got -2.0"):
        check_config(RobustConfig(voice_colour_db=-2.0), SR)
    config = ExperimentConfig().override(
        dict([parse_assignment("data.robust.speed_factors=[1.0, 0.9, 1.1]"), ("data.robust.enabled", True)])
    )
    assert config.data.robust.speed_factors == (1.0, 0.9, 1.1) and config.data.robust.enabled
