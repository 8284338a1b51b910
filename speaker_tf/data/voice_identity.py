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
points, hop 256, weighted overlap-add: exact reconstruction at unit gain).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_FFT",
    "HOP",
    "random_identity",
    "lpc",
    "lpc_from_autocorrelation",
    "envelope_curve_db",
    "tilt_curve_db",
    "apply_identity",
]

N_FFT = 512
HOP = 256
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


def lpc_from_autocorrelation(r: np.ndarray) -> np.ndarray:
    """[frames, order + 1] prediction polynomials A (a0 = 1) from autocorrelations
    ``r`` [frames, order + 1] by the Levinson-Durbin recursion, vectorised over frames.

    Silent frames (r0 = 0) get A = 1 (a flat envelope).
    """
    r = np.array(r, dtype=np.float64)
    r[:, 0] *= 1.0 + 1e-6  # white-noise correction keeps the recursion stable
    n, order = r.shape[0], r.shape[1] - 1
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


def lpc(frames: np.ndarray, order: int = LPC_ORDER) -> np.ndarray:
    """LPC polynomials of windowed ``frames`` [n, length] (autocorrelation method)."""
    from scipy.fft import irfft, rfft

    r = irfft(np.abs(rfft(frames, n=2 * frames.shape[1], axis=1)) ** 2, axis=1)[:, : order + 1]
    return lpc_from_autocorrelation(r)


def envelope_curve_db(freqs: np.ndarray, coefficients: list[float], sample_rate: int) -> np.ndarray:
    """Smooth gain in dB: sum_j c_j cos(pi (j + 1) m), m = mel(f) / mel(Nyquist) in [0, 1]."""
    mel = np.log1p(np.asarray(freqs, dtype=np.float64) / 700.0) / np.log1p(sample_rate / 2 / 700.0)
    return sum(c * np.cos(np.pi * (j + 1) * mel) for j, c in enumerate(coefficients))


def tilt_curve_db(freqs: np.ndarray, db_per_octave: float) -> np.ndarray:
    """``db_per_octave * log2(f / 1 kHz)``, constant below 100 Hz."""
    f = np.maximum(np.asarray(freqs, dtype=np.float64), TILT_FLOOR_HZ)
    return db_per_octave * np.log2(f / TILT_REFERENCE_HZ)


def _window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1]  # periodic Hann


def _stft(x: np.ndarray) -> np.ndarray:
    """[frames, N_FFT // 2 + 1] spectra of Hann frames every HOP, N_FFT // 2 zeros before ``x``."""
    from scipy.fft import rfft

    n_frames = x.shape[0] // HOP + N_FFT // HOP
    padded = np.zeros((n_frames - 1) * HOP + N_FFT)
    padded[N_FFT // 2 : N_FFT // 2 + x.shape[0]] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    return rfft(frames * _window(), axis=1)


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    """Weighted overlap-add inverse of :func:`_stft`: sum(w * frame) / sum(w^2), exact at unit gain."""
    from scipy.fft import irfft

    frames = irfft(spec, n=N_FFT, axis=1) * _window()
    out = np.zeros((frames.shape[0] - 1) * HOP + N_FFT)
    norm = np.zeros_like(out)
    step = N_FFT // HOP  # frames p, p + step, ... do not overlap: add them as one block
    for p in range(step):
        block = frames[p::step]
        out[p * HOP : p * HOP + block.size] += block.reshape(-1)
        norm[p * HOP : p * HOP + block.size] += np.tile(_window() ** 2, block.shape[0])
    core = slice(N_FFT // 2, N_FFT // 2 + length)
    return out[core] / np.maximum(norm[core], 1e-12)


def _warp_gain(spec: np.ndarray, warp: float) -> np.ndarray:
    """Per-frame gain E(f / warp) / E(f) from each frame's LPC envelope.

    The autocorrelation is the circular one of the Hann frame (from ``spec``);
    for the 18 lags used it equals the linear one to within the window's
    near-zero edges.
    """
    from scipy.fft import irfft, rfft

    bins = spec.shape[1]
    if warp == 1.0:
        return np.ones(spec.shape)
    a = lpc_from_autocorrelation(irfft(np.abs(spec) ** 2, n=N_FFT, axis=1)[:, : LPC_ORDER + 1])
    log_inv_env = np.log(np.abs(rfft(a, n=N_FFT, axis=1)) + 1e-12)  # log |A| = -log E
    source = np.clip(np.arange(bins) / warp, 0.0, bins - 1)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    w = source - lo
    warped = log_inv_env[:, lo] * (1 - w) + log_inv_env[:, hi] * w
    limit = MAX_WARP_GAIN_DB / 20 * np.log(10)
    return np.exp(np.clip(log_inv_env - warped, -limit, limit))


def apply_identity(x: np.ndarray, sample_rate: int, identity: dict) -> np.ndarray:
    """``x`` (float, mono) through the speaker's warp, envelope perturbation and tilt; same length."""
    x = np.asarray(x, dtype=np.float64)
    spec = _stft(x)
    freqs = np.arange(spec.shape[1]) * sample_rate / N_FFT
    fixed_db = envelope_curve_db(freqs, identity["envelope_db"], sample_rate) + tilt_curve_db(
        freqs, identity["tilt_db_per_octave"]
    )
    gain = _warp_gain(spec, float(identity["warp"])) * 10 ** (fixed_db / 20)
    return _istft(spec * gain, x.shape[0])
