"""Reverberation: convolution with room impulse responses (RIRs) from a bank.

The bank is either simulated shoebox rooms (the image-source method of Allen &
Berkley, J. Acoust. Soc. Am. 65 (1979), computed by pyroomacoustics; wall
absorption from the target RT60 by Sabine's formula), generated once from a
seed and cached as a .npy file, or the RIRs of a user's folder (e.g.
RIRS_NOISES). Every RIR in a bank starts at its direct-path peak (so
reverberation does not delay the speech), is cut to `rir_seconds` and scaled
to unit energy (sum of squares 1, as WeSpeaker and SpeechBrain normalise), and
the reverberant crop is the first n samples of the full convolution.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from speaker_tf.config.data import RobustConfig
from speaker_tf.data.augment.folders import read_audio
from speaker_tf.data.augment.ops import fft_length
from speaker_tf.errors import CorpusError

__all__ = [
    "SIMULATOR_VERSION",
    "bank_path",
    "normalize_rir",
    "reverberate",
    "rir_bank",
    "simulate_rooms",
    "stack_rirs",
]

# Bump when simulate_rooms changes what it makes: the cache file name carries it.
SIMULATOR_VERSION = 1
# Shoebox rooms: length and width U[3, 10] m, height U[2.5, 4] m; source and
# microphone at least 0.5 m from every wall, heights in [1, 2] m.
ROOM_SIZE = ((3.0, 10.0), (3.0, 10.0), (2.5, 4.0))
WALL_MARGIN = 0.5
# Image-source order cap: the order Sabine asks for (up to ~100 at RT60 0.8 s)
# costs seconds per room; at 40 the energy of a 0.5 s RIR after its first
# 0.1 s is within 2 % of order 69's (measured on 8 rooms of RT60 0.8 s), in
# 0.17 s per room instead of 1.3 s.
MAX_IMAGE_ORDER = 40


def normalize_rir(rir: np.ndarray, length: int) -> np.ndarray:
    """From the direct-path peak (max |h|) on, cut or zero-padded to `length`, unit energy."""
    rir = np.asarray(rir, dtype=np.float64)
    rir = rir[int(np.argmax(np.abs(rir))) :][:length]
    rir = np.pad(rir, (0, length - len(rir)))
    energy = np.sqrt(np.sum(rir**2))
    if not energy > 0:
        raise ValueError("an impulse response of zeros cannot be normalised")
    return (rir / energy).astype(np.float32)


def stack_rirs(rirs: list[np.ndarray], length: int) -> np.ndarray:
    """[R, length] bank of normalised RIRs."""
    return np.stack([normalize_rir(r, length) for r in rirs])


def _room(rng: np.random.Generator, rt60: float, sample_rate: int, max_order: int):
    import pyroomacoustics as pra

    while True:
        size = np.array([rng.uniform(lo, hi) for lo, hi in ROOM_SIZE])
        try:
            absorption, order = pra.inverse_sabine(rt60, size)
        except ValueError:  # this RT60 is impossible in so large a room: draw another
            continue
        room = pra.ShoeBox(
            size,
            fs=sample_rate,
            materials=pra.Material(absorption),
            max_order=int(min(order, max_order)),
            air_absorption=False,
        )

        def point(height: tuple[float, float], size=size) -> list[float]:
            low = min(height[0], size[2] - WALL_MARGIN)
            high = min(height[1], size[2] - WALL_MARGIN)
            xy = [rng.uniform(WALL_MARGIN, s - WALL_MARGIN) for s in size[:2]]
            return [*xy, rng.uniform(low, high)]

        room.add_source(point((1.0, 2.0)))
        room.add_microphone(point((1.0, 2.0)))
        return room


def simulate_rooms(
    rooms: int, seed: int, sample_rate: int, rt60_min: float, rt60_max: float, seconds: float
) -> np.ndarray:
    """[rooms, seconds * sample_rate] normalised RIRs of random shoebox rooms; deterministic in `seed`.

    RT60 ~ U[rt60_min, rt60_max]; image order at most MAX_IMAGE_ORDER.
    """
    if rooms < 1:
        raise ValueError(f"data.robust.rooms must be >= 1, got {rooms}")
    if not 0 < rt60_min <= rt60_max:
        raise ValueError(f"need 0 < data.robust.rt60_min <= rt60_max, got {rt60_min}, {rt60_max}")
    length = max(1, int(round(seconds * sample_rate)))
    rng = np.random.default_rng(seed)
    rirs = []
    for _ in range(rooms):
        rt60 = rng.uniform(rt60_min, rt60_max)
        room = _room(rng, rt60, sample_rate, MAX_IMAGE_ORDER)
        room.compute_rir()
        rirs.append(room.rir[0][0])
    return stack_rirs(rirs, length)


def bank_path(config: RobustConfig, sample_rate: int) -> Path:
    """Cache file of the simulated bank: its name is a digest of every parameter that shapes it."""
    base = Path(config.rir_cache or os.environ.get("SPEAKER_TF_DATA", "data"))  # as the corpus (splits.py)
    key = (
        f"v{SIMULATOR_VERSION} rooms={config.rooms} seed={config.room_seed} rt60={config.rt60_min},"
        f"{config.rt60_max} seconds={config.rir_seconds} rate={sample_rate}"
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return base / "rirs" / f"rooms{config.rooms}_seed{config.room_seed}_{digest}.npy"


def _simulated_bank(config: RobustConfig, sample_rate: int) -> np.ndarray:
    path = bank_path(config, sample_rate)
    length = max(1, int(round(config.rir_seconds * sample_rate)))
    if path.exists():
        try:
            bank = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise CorpusError(
                f"RIR bank {str(path)!r} is unreadable ({error}); delete it to rebuild"
            ) from None
        if bank.shape != (config.rooms, length) or bank.dtype != np.float32:
            raise CorpusError(
                f"RIR bank {str(path)!r} has shape {bank.shape} {bank.dtype}, expected "
                f"({config.rooms}, {length}) float32; delete it to rebuild"
            )
        return bank
    print(f"simulating {config.rooms} rooms for reverberation into {path} ...", flush=True)
    bank = simulate_rooms(
        config.rooms, config.room_seed, sample_rate, config.rt60_min, config.rt60_max, config.rir_seconds
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    np.save(partial, bank)
    os.replace(partial, path)  # whole file or none; same content whoever writes it
    return bank


def rir_bank(config: RobustConfig, sample_rate: int) -> np.ndarray:
    """[R, L] float32 bank: `rir_folder`'s RIRs when given, else the cached simulated rooms."""
    if config.rir_folder is None:
        return _simulated_bank(config, sample_rate)
    length = max(1, int(round(config.rir_seconds * sample_rate)))
    # Read a little past the cut: the RIR starts at its peak, which may come late.
    rirs = read_audio(
        config.rir_folder,
        "RIR",
        sample_rate,
        config.max_rirs,
        config.rir_seconds + 1.0,
        seed=config.room_seed,
        skip_noise_names=True,
    )
    return stack_rirs(rirs, length)


def reverberate(x: tf.Tensor, rir: tf.Tensor) -> tf.Tensor:
    """The first len(x) samples of the full convolution x * rir (by FFT)."""
    x = tf.convert_to_tensor(x, tf.float32)
    rir = tf.convert_to_tensor(rir, tf.float32)
    n = tf.shape(x)[0]
    n_fft = fft_length(n + tf.shape(rir)[0] - 1)
    spectrum = tf.signal.rfft(x, n_fft[None]) * tf.signal.rfft(rir, n_fft[None])
    return tf.reshape(tf.signal.irfft(spectrum, n_fft[None])[:n], tf.shape(x))
