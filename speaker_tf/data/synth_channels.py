"""Recording channels of the synthetic corpus: one kind per session, applied offline.

Every session of every speaker (training included) goes through a channel,
and the sessions of one speaker through different kinds, so that a channel
never identifies a speaker. Training kinds (:data:`TRAIN_CHANNELS`):

- ``room``: reverberation (direct path + exponentially decaying noise tail,
  RT60 0.2-0.8 s, direct-to-reverberant ratio 0-12 dB) and a mild tilt;
- ``eq``: first-order spectral tilt and two peaking-EQ biquads (+-10 dB);
- ``noise``: coloured (low- to high-pass) noise at 5-20 dB SNR;
- ``telephone``: 300-3400 Hz band, 8 kHz sampling, 8-bit mu-law (G.711);
- ``codec``: a mild perceptual-codec imitation: low-pass at 5.5-7.5 kHz and
  STFT bins more than 30-45 dB below their frame's peak set to zero.

Held-out kinds (:data:`HELDOUT_CHANNELS`, only in the held-out corpus):

- ``distortion``: an overdriven cheap microphone: 150-5000 Hz band, tanh
  soft clipping with drive 3-10;
- ``muffled``: speech through a wall or cloth: 2nd-order low-pass at
  1.2-2.5 kHz, 20-30 dB SNR;
- ``voip``: 200-3200 Hz at 8 kHz, 8-bit A-law, 20 ms packets lost at 3-8 %.

Every file also gets coloured background noise (30-45 dB SNR, 5-20 dB for
``noise``) drawn per file.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TRAIN_CHANNELS",
    "HELDOUT_CHANNELS",
    "random_channel",
    "apply_channel",
    "channel_transform",
    "peaking_biquad",
    "mu_law",
    "a_law",
]

TRAIN_CHANNELS: tuple[str, ...] = ("room", "eq", "noise", "telephone", "codec")
HELDOUT_CHANNELS: tuple[str, ...] = ("distortion", "muffled", "voip")


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_channel(kind: str, rng: np.random.Generator) -> dict:
    """Session parameters of a channel ``kind`` (JSON-ready; ValueError for unknown kinds)."""
    r = lambda lo, hi, nd=3: round(float(rng.uniform(lo, hi)), nd)  # noqa: E731
    if kind == "room":
        params = {
            "rt60_s": r(0.2, 0.8),
            "drr_db": r(0.0, 12.0),
            "tilt": r(-0.4, 0.4),
            "ir_seed": int(rng.integers(2**31)),
        }
    elif kind == "eq":
        params = {
            "tilt": r(-0.8, 0.8),
            "eq": [[round(_log_uniform(rng, 150, 6000), 1), r(-10, 10), r(0.5, 3.0)] for _ in range(2)],
        }
    elif kind == "noise":
        params = {"snr_range_db": [5.0, 20.0]}
    elif kind == "telephone":
        params = {"low_hz": r(250, 350, 1), "high_hz": r(3200, 3500, 1)}
    elif kind == "codec":
        params = {"cutoff_hz": r(5500, 7500, 1), "floor_db": r(30, 45, 2)}
    elif kind == "distortion":
        params = {"drive": r(3.0, 10.0)}
    elif kind == "muffled":
        params = {"cutoff_hz": r(1200, 2500, 1), "snr_range_db": [20.0, 30.0]}
    elif kind == "voip":
        params = {"loss": r(0.03, 0.08), "loss_seed": int(rng.integers(2**31))}
    else:
        raise ValueError(f"unknown channel kind {kind!r}; known: {TRAIN_CHANNELS + HELDOUT_CHANNELS}")
    return {"kind": kind, **params}


def peaking_biquad(f0: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Peaking-EQ biquad of R. Bristow-Johnson's "Audio EQ Cookbook"."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return b / den[0], den / den[0]


def mu_law(x: np.ndarray, bits: int = 8, mu: float = 255.0) -> np.ndarray:
    """Compress with mu-law, quantise to ``bits``, expand (ITU-T G.711 mu-law curve)."""
    x = np.clip(x, -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    levels = 2 ** (bits - 1) - 1  # sign + 7 bits: codes -127..127
    y = np.round(y * levels) / levels
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def a_law(x: np.ndarray, bits: int = 8, a: float = 87.6) -> np.ndarray:
    """Compress with A-law, quantise to ``bits``, expand (ITU-T G.711 A-law curve)."""
    x = np.clip(x, -1.0, 1.0)
    ax = np.abs(x)
    small = ax < 1 / a
    y = np.where(small, a * ax, 1 + np.log(np.maximum(a * ax, 1.0))) / (1 + np.log(a))
    levels = 2 ** (bits - 1) - 1  # sign + 7 bits: codes -127..127
    y = np.round(y * levels) / levels
    big = y >= 1 / (1 + np.log(a))
    out = np.where(big, np.exp(y * (1 + np.log(a)) - 1) / a, y * (1 + np.log(a)) / a)
    return np.sign(x) * out


def _butter(x: np.ndarray, sr: int, low: float | None, high: float | None, order: int = 4) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    if low and high:
        sos = butter(order, [low, high], btype="bandpass", fs=sr, output="sos")
    elif high:
        sos = butter(order, high, btype="lowpass", fs=sr, output="sos")
    else:
        sos = butter(order, low, btype="highpass", fs=sr, output="sos")
    return sosfilt(sos, x)


def _narrowband(x: np.ndarray, sr: int, low: float, high: float, law) -> np.ndarray:
    """Band-limit, resample to 8 kHz, companding quantisation, back to ``sr``."""
    import soxr

    y = _butter(x, sr, low, high)
    peak = max(float(np.max(np.abs(y))), 1e-9)
    y8 = law(soxr.resample(y / peak * 0.9, sr, 8000, quality="HQ")) * peak / 0.9
    return soxr.resample(y8, 8000, sr, quality="HQ")[: x.shape[0]]


def _room(x: np.ndarray, ch: dict, sr: int) -> np.ndarray:
    from scipy.signal import fftconvolve, lfilter

    y = lfilter([1.0, -ch["tilt"]], [1.0], x)
    n = max(16, int(ch["rt60_s"] * sr))
    t = np.arange(1, n + 1) / sr
    tail = np.random.default_rng(ch["ir_seed"]).standard_normal(n) * np.exp(
        -np.log(1000.0) * t / ch["rt60_s"]
    )
    tail *= 10 ** (-ch["drr_db"] / 20) / np.sqrt(np.sum(tail**2))
    return fftconvolve(y, np.concatenate([[1.0], tail]))[: y.shape[0]]


def _codec(x: np.ndarray, ch: dict, sr: int) -> np.ndarray:
    from scipy.signal import istft, stft

    y = _butter(x, sr, None, ch["cutoff_hz"], order=6)
    _, _, spec = stft(y, fs=sr, nperseg=512, noverlap=384)
    mag = np.abs(spec)
    floor = mag.max(axis=0, keepdims=True) * 10 ** (-ch["floor_db"] / 20)
    _, out = istft(np.where(mag >= floor, spec, 0.0), fs=sr, nperseg=512, noverlap=384)
    return out[: x.shape[0]]


def _packet_loss(x: np.ndarray, ch: dict, sr: int) -> np.ndarray:
    packet = sr // 50
    n = -(-x.shape[0] // packet)
    lost = np.random.default_rng(ch["loss_seed"]).random(n) < ch["loss"]
    return x * np.repeat(~lost, packet)[: x.shape[0]]


def channel_transform(x: np.ndarray, ch: dict, sr: int) -> np.ndarray:
    """``x`` through the session channel ``ch`` (without the per-file noise)."""
    from scipy.signal import butter, lfilter, sosfilt

    kind = ch["kind"]
    if kind == "room":
        return _room(x, ch, sr)
    if kind == "eq":
        y = lfilter([1.0, -ch["tilt"]], [1.0], x)
        for f0, gain, q in ch["eq"]:
            y = lfilter(*peaking_biquad(f0, gain, q, sr), y)
        return y
    if kind == "noise":
        return x
    if kind == "telephone":
        return _narrowband(x, sr, ch["low_hz"], ch["high_hz"], mu_law)
    if kind == "codec":
        return _codec(x, ch, sr)
    if kind == "distortion":
        y = _butter(x, sr, 150.0, 5000.0, order=2)
        y = y / max(float(np.max(np.abs(y))), 1e-9)
        return np.tanh(ch["drive"] * y) / np.tanh(ch["drive"])
    if kind == "muffled":
        return sosfilt(butter(2, ch["cutoff_hz"], fs=sr, output="sos"), x)
    if kind == "voip":
        return _packet_loss(_narrowband(x, sr, 200.0, 3200.0, a_law), ch, sr)
    raise ValueError(f"unknown channel kind {kind!r}")


def apply_channel(x: np.ndarray, ch: dict, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """``x`` through session channel ``ch`` plus per-file coloured noise; (audio, file noise params)."""
    from scipy.signal import lfilter

    y = channel_transform(np.asarray(x, dtype=np.float64), ch, sr)
    lo, hi = ch.get("snr_range_db", (30.0, 45.0))
    snr = round(float(rng.uniform(lo, hi)), 2)
    colour = round(float(rng.uniform(-0.5, 0.95)), 3)  # < 0: bright, > 0: dark noise
    noise = lfilter([1.0], [1.0, -colour], rng.standard_normal(y.shape[0]))
    noise *= np.sqrt(np.mean(y**2) / (np.mean(noise**2) * 10 ** (snr / 10)))
    return y + noise, {"snr_db": snr, "noise_colour": colour}
