"""Per-speaker identity transforms for synthetic voices, applied offline.

espeak-ng's voice variants scale one voice's formants and pitch globally, so
its speakers share one vocal tract and one glottal source. Each synthetic
speaker therefore gets three fixed transforms of its own (drawn once per
speaker by :func:`random_identity`, applied to every utterance of it):

- **envelope warp** (VTLP-like): the spectral envelope is moved along the
  frequency axis by ``warp`` (a resonance at F ends up at ``warp * F``), as a
  longer / shorter vocal tract would (Jaitly & Hinton, "Vocal Tract Length
  Perturbation (VTLP) improves speech recognition", 2013, warp the filterbank;
  here the warp is applied to the signal). Only the envelope moves: per STFT
  frame the gain is ``E(f / warp) / E(f)`` with ``E`` the frame's LPC envelope
  (order 18, autocorrelation method), so the harmonics and F0 stay in place;
- **envelope perturbation**: a smooth random gain curve over the mel axis
  (a few cosine components, a few dB), a fixed "vocal-tract colour";
- **glottal-source tilt**: the spectral slope changes by ``tilt`` dB per
  octave (pressed voices are brighter, breathy ones darker), flat below 100 Hz.

All three are one real, non-negative gain per STFT bin (Hann window, 512
points, hop 128: overlap-add reconstructs the input exactly at unit gain).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_FFT",
    "HOP",
    "random_identity",
    "lpc",
    "envelope_curve_db",
    "tilt_curve_db",
    "apply_identity",
]

N_FFT = 512
HOP = 128
LPC_ORDER = 18
MAX_WARP_GAIN_DB = 20.0  # the envelope ratio is clipped to +-20 dB (LPC valleys are unreliable)
TILT_FLOOR_HZ = 100.0
TILT_REFERENCE_HZ = 1000.0


def random_identity(rng: np.random.Generator) -> dict:
    """One speaker's transform parameters (JSON-ready)."""
    return {
        "warp": round(float(rng.uniform(0.85, 1.15)), 4),
        "envelope_db": [round(float(c), 3) for c in rng.normal(0.0, 1.5, size=6)],
        "tilt_db_per_octave": round(float(rng.uniform(-3.0, 3.0)), 3),
    }


def lpc(frames: np.ndarray, order: int = LPC_ORDER) -> np.ndarray:
    """[frames, order + 1] prediction polynomials A (a0 = 1) by Levinson-Durbin, vectorised.

    ``frames`` are windowed [n, length]. Silent frames get A = 1 (flat envelope).
    """
    spec = np.fft.rfft(frames, n=2 * frames.shape[1], axis=1)
    r = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, : order + 1]
    r[:, 0] *= 1.0 + 1e-6  # white-noise correction keeps the recursion stable
    n = frames.shape[0]
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    live = err > 1e-12
    err[~live] = 1.0
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("nj,nj->n", a[:, 1:i], r[:, i - 1 : 0 : -1])
        k = np.where(live, -acc / err, 0.0)
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        err = err * (1.0 - k**2)
    return a


def envelope_curve_db(freqs: np.ndarray, coefficients: list[float], sample_rate: int) -> np.ndarray:
    """Smooth gain in dB: sum_j c_j cos(pi (j + 1) m), m = mel(f) / mel(Nyquist) in [0, 1]."""
    mel = np.log1p(np.asarray(freqs, dtype=np.float64) / 700.0) / np.log1p(sample_rate / 2 / 700.0)
    return sum(c * np.cos(np.pi * (j + 1) * mel) for j, c in enumerate(coefficients))


def tilt_curve_db(freqs: np.ndarray, db_per_octave: float) -> np.ndarray:
    """``db_per_octave * log2(f / 1 kHz)``, constant below 100 Hz."""
    f = np.maximum(np.asarray(freqs, dtype=np.float64), TILT_FLOOR_HZ)
    return db_per_octave * np.log2(f / TILT_REFERENCE_HZ)


def _warp_gain(frames: np.ndarray, warp: float, freqs: np.ndarray) -> np.ndarray:
    """Per-frame gain E(f / warp) / E(f) from each frame's LPC envelope."""
    if warp == 1.0:
        return np.ones((frames.shape[0], freqs.shape[0]))
    a = lpc(frames)
    log_inv_env = np.log(np.abs(np.fft.rfft(a, n=N_FFT, axis=1)) + 1e-12)  # log |A| = -log E
    source = np.clip(freqs / warp, 0.0, freqs[-1]) / freqs[-1] * (freqs.shape[0] - 1)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, freqs.shape[0] - 1)
    w = source - lo
    warped = log_inv_env[:, lo] * (1 - w) + log_inv_env[:, hi] * w
    limit = MAX_WARP_GAIN_DB / 20 * np.log(10)
    return np.exp(np.clip(log_inv_env - warped, -limit, limit))


def apply_identity(x: np.ndarray, sample_rate: int, identity: dict) -> np.ndarray:
    """``x`` (float, mono) through the speaker's warp, envelope perturbation and tilt; same length."""
    from scipy.signal import istft, stft

    x = np.asarray(x, dtype=np.float64)
    freqs, _, spec = stft(x, fs=sample_rate, window="hann", nperseg=N_FFT, noverlap=N_FFT - HOP)
    # Frames exactly as stft cut them (zero-padded by N_FFT / 2 at both ends), for the LPC envelope.
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2 + N_FFT))
    starts = np.arange(spec.shape[1]) * HOP
    frames = padded[starts[:, None] + np.arange(N_FFT)[None, :]] * np.hanning(N_FFT + 1)[:-1]
    fixed_db = envelope_curve_db(freqs, identity["envelope_db"], sample_rate) + tilt_curve_db(
        freqs, identity["tilt_db_per_octave"]
    )
    gain = _warp_gain(frames, float(identity["warp"]), freqs) * 10 ** (fixed_db / 20)
    _, y = istft(spec * gain.T, fs=sample_rate, window="hann", nperseg=N_FFT, noverlap=N_FFT - HOP)
    return y[: x.shape[0]]
