"""Front ends: waveform [batch, samples] -> the first block's input.

raw      the original: the waveform as a 1-channel sequence [B, T, 1].
strided  one learned strided convolution (hop `stride` samples) + activation.
sinc     SincNet (Ravanelli & Bengio 2018): learned band-pass filters
         parameterised by their cut-off frequencies, then log(1 + |x|).
logmel   log-mel spectrogram, per-utterance mean (and variance) normalisation,
         and options against synthesiser detail: VTLP frequency warping
         (Jaitly & Hinton 2013), random spectral tilt, SpecAugment (Park et
         al. 2019) time / frequency masks, all in training only, and
         MFCC-like cepstra (speaker_tf.models.spectral).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from speaker_tf.config.model import FrontendConfig
from speaker_tf.models.blocks import make_activation, make_conv, make_dense
from speaker_tf.models.spectral import Cepstra, RandomSpectralTilt, dct_matrix

VARIANCE_FLOOR = 1e-5  # CMVN: added to each band's variance (a silent band stays 0, not NaN)


def hz_to_mel(hz: Any) -> Any:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: Any) -> Any:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    n_mels: int, fft_length: int, sample_rate: int, min_freq: float, max_freq: float
) -> np.ndarray:
    """[fft_length // 2 + 1, n_mels] triangular filters, equally spaced in mel.

    Triangles are evaluated in the mel domain (as tf.signal's
    linear_to_mel_weight_matrix); the DC bin gets no weight.
    """
    bins = fft_length // 2 + 1
    bin_mel = hz_to_mel(np.linspace(0.0, sample_rate / 2.0, bins))
    edges = np.linspace(hz_to_mel(min_freq), hz_to_mel(max_freq), n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - lower) / (center - lower)
    falling = (upper - bin_mel[:, None]) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0] = 0.0
    return weights.astype(np.float32)


@keras.saving.register_keras_serializable(package="speaker_tf")
class LogMelSpectrogram(keras.layers.Layer):
    """[B, T] waveform -> [B, 1 + T // hop_length, n_mels] log-mel energies.

    Hann window of `win_length` samples inside an `fft_length` FFT, frames
    centred on multiples of the hop (zero padding, so any length >= 1 works),
    log(mel power + epsilon), and with `mean_norm` the per-utterance mean of
    each band subtracted (cepstral-mean-style normalisation, CMN), with
    `variance_norm` also each band divided by its per-utterance standard
    deviation (CMVN). Both remove a stationary channel colouring (a constant
    per-band log gain) and with it the long-term average spectrum. With
    `mean_norm_smooth` = N > 0 only the smooth part of that mean is removed:
    its projection on the first N DCT-II basis vectors across the bands (level,
    tilt, curvature, ... as in cepstra c0..c(N-1)); the finer shape of the
    long-term spectrum (formant-scale envelope, a voice cue) stays. Computes in
    float32 unless given another `dtype` (the FFT needs float32/64, and under
    mixed_float16 the log of small powers would underflow).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_mels: int = 64,
        win_length: int = 400,
        hop_length: int = 160,
        fft_length: int | None = None,
        min_freq: float = 20.0,
        max_freq: float | None = None,
        mean_norm: bool = True,
        epsilon: float = 1e-6,
        variance_norm: bool = False,
        mean_norm_smooth: int = 0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("dtype", "float32")  # also under mixed precision (see class doc)
        super().__init__(**kwargs)
        if variance_norm and not mean_norm:
            raise ValueError("LogMelSpectrogram variance_norm=True needs mean_norm=True (CMVN)")
        smooth = mean_norm_smooth
        if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 0:
            raise ValueError(f"LogMelSpectrogram mean_norm_smooth must be an integer >= 0, got {smooth!r}")
        if smooth and (not mean_norm or variance_norm):
            raise ValueError(
                f"LogMelSpectrogram mean_norm_smooth={smooth!r} needs mean_norm=True and variance_norm=False"
            )
        if mean_norm_smooth > n_mels:
            raise ValueError(
                f"LogMelSpectrogram mean_norm_smooth={mean_norm_smooth!r} exceeds n_mels={n_mels!r}"
            )
        for label, value in (
            ("sample_rate", sample_rate),
            ("n_mels", n_mels),
            ("win_length", win_length),
            ("hop_length", hop_length),
        ):
            if value < 1:
                raise ValueError(f"LogMelSpectrogram {label} must be >= 1, got {value!r}")
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.win_length = win_length
        self.hop_length = hop_length
        self.fft_length = fft_length or 2 ** math.ceil(math.log2(win_length))
        if self.fft_length < win_length:
            raise ValueError(
                f"LogMelSpectrogram fft_length={fft_length!r} is shorter than win_length={win_length!r}"
            )
        self.min_freq = min_freq
        self.max_freq = max_freq
        self.mean_norm = mean_norm
        self.epsilon = epsilon
        self.variance_norm = variance_norm
        self.mean_norm_smooth = mean_norm_smooth
        # [bands, bands] projection on the first N DCT-II basis vectors (orthonormal columns D: D D^T)
        basis = dct_matrix(n_mels, mean_norm_smooth) if mean_norm_smooth else None
        self._smooth = None if basis is None else (basis @ basis.T).astype(np.float32)
        self._filters = mel_filterbank(
            n_mels, self.fft_length, sample_rate, min_freq, max_freq or sample_rate / 2.0
        )

    def power_spectrum(self, waveform: Any) -> Any:
        """[B, T] -> [B, frames, fft_length // 2 + 1] power of the centred Hann-windowed STFT."""
        pad = self.fft_length // 2
        x = ops.pad(waveform, [[0, 0], [pad, pad]])
        real, imag = ops.stft(
            x, self.win_length, self.hop_length, self.fft_length, window="hann", center=False
        )
        return ops.square(real) + ops.square(imag)

    def log_and_normalise(self, mel_power: Any) -> Any:
        """log(mel power + epsilon), then the per-utterance normalisation over time."""
        mel = ops.log(mel_power + self.epsilon)
        if self.mean_norm:
            mean = ops.mean(mel, axis=1, keepdims=True)
            if self._smooth is not None:  # only the smooth part of the long-term spectrum
                mean = ops.matmul(mean, ops.convert_to_tensor(self._smooth))
            mel = mel - mean
        if self.variance_norm:  # CMVN: unit variance per band (mean already removed)
            mel = mel * ops.rsqrt(ops.mean(ops.square(mel), axis=1, keepdims=True) + VARIANCE_FLOOR)
        return mel

    def call(self, waveform: Any) -> Any:
        power = self.power_spectrum(waveform)
        return self.log_and_normalise(ops.matmul(power, ops.convert_to_tensor(self._filters)))

    def frames(self, samples: int) -> int:
        return 1 + samples // self.hop_length

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        samples = input_shape[1]
        return (input_shape[0], None if samples is None else self.frames(samples), self.n_mels)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "n_mels": self.n_mels,
            "win_length": self.win_length,
            "hop_length": self.hop_length,
            "fft_length": self.fft_length,
            "min_freq": self.min_freq,
            "max_freq": self.max_freq,
            "mean_norm": self.mean_norm,
            "epsilon": self.epsilon,
            "variance_norm": self.variance_norm,
            "mean_norm_smooth": self.mean_norm_smooth,
        }


def vtlp_warp(freq: Any, alpha: Any, boundary_hz: float, nyquist: float) -> Any:
    """Piecewise-linear VTLP frequency warp (Jaitly & Hinton 2013).

    f -> alpha f up to the knee boundary_hz * min(alpha, 1) / alpha, then the
    straight line from the knee to (nyquist, nyquist), so [0, nyquist] maps
    onto itself and alpha = 1 is the identity. Works on tensors or arrays
    (`freq` and `alpha` broadcast).
    """
    knee_out = boundary_hz * ops.minimum(alpha, 1.0)
    knee_in = knee_out / alpha
    upper = nyquist - (nyquist - knee_out) / (nyquist - knee_in) * (nyquist - freq)
    return ops.where(freq <= knee_in, alpha * freq, upper)


@keras.saving.register_keras_serializable(package="speaker_tf")
class VtlpLogMelSpectrogram(LogMelSpectrogram):
    """LogMelSpectrogram with vocal tract length perturbation in training.

    VTLP (Jaitly & Hinton 2013) in the feature domain: per utterance a factor
    alpha ~ U(1 - warp, 1 + warp) is drawn and the mel filterbank is evaluated
    on the warped frequency axis, so the energy at f Hz lands in the bands
    around `vtlp_warp(f, alpha)` (alpha > 1 moves formants up, as a shorter
    vocal tract would). At inference, and with warp=0, it is exactly
    LogMelSpectrogram: nothing random reaches an export.
    """

    def __init__(
        self,
        warp: float = 0.1,
        boundary_hz: float = 4800.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= warp < 1.0:
            raise ValueError(f"VtlpLogMelSpectrogram warp must be in [0, 1), got {warp!r}")
        if not 0.0 < boundary_hz < self.sample_rate / 2.0:
            raise ValueError(
                f"VtlpLogMelSpectrogram boundary_hz must be in (0, {self.sample_rate / 2.0}) "
                f"(below Nyquist), got {boundary_hz!r}"
            )
        self.warp = warp
        self.boundary_hz = boundary_hz
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        top = self.max_freq or self.sample_rate / 2.0
        edges = np.linspace(hz_to_mel(self.min_freq), hz_to_mel(top), self.n_mels + 2)
        self._edges = edges.astype(np.float32)

    def warped_filters(self, alpha: Any) -> Any:
        """alpha [B, 1] -> [B, fft_length // 2 + 1, n_mels]: the filterbank on the warped axis."""
        nyquist = self.sample_rate / 2.0
        bins = self.fft_length // 2 + 1
        freq = ops.convert_to_tensor(np.linspace(0.0, nyquist, bins, dtype=np.float32)[None, :])
        warped = vtlp_warp(freq, ops.cast(alpha, "float32"), self.boundary_hz, nyquist)
        mel = ops.expand_dims((2595.0 / math.log(10.0)) * ops.log1p(warped / 700.0), 2)  # [B, bins, 1]
        lower, center, upper = self._edges[:-2], self._edges[1:-1], self._edges[2:]
        rising = (mel - lower) / (center - lower)
        falling = (upper - mel) / (upper - center)
        weights = ops.maximum(0.0, ops.minimum(rising, falling))
        not_dc = np.ones((bins, 1), np.float32)
        not_dc[0] = 0.0  # as mel_filterbank: the DC bin gets no weight
        return weights * not_dc

    def warped(self, waveform: Any, alpha: Any) -> Any:
        """The log-mel features of `waveform` with per-example warp factors alpha [B, 1]."""
        power = self.power_spectrum(waveform)
        return self.log_and_normalise(ops.einsum("btk,bkm->btm", power, self.warped_filters(alpha)))

    def call(self, waveform: Any, training: bool | None = None) -> Any:
        if not training or self.warp == 0.0:
            return super().call(waveform)
        uniform = keras.random.uniform((ops.shape(waveform)[0], 1), seed=self.seed_generator)
        return self.warped(waveform, 1.0 + self.warp * (2.0 * uniform - 1.0))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "warp": self.warp,
            "boundary_hz": self.boundary_hz,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="speaker_tf")
class SpecAugment(keras.layers.Layer):
    """Time and frequency masking (Park et al. 2019) on [B, T, F], training only.

    Each mask has a width drawn uniformly from 0..max width and a uniform
    start, per example; masked values are set to 0 (the mean after mean
    normalisation).
    """

    def __init__(
        self,
        time_masks: int = 0,
        time_mask_width: int = 10,
        freq_masks: int = 0,
        freq_mask_width: int = 8,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for label, value in (
            ("time_masks", time_masks),
            ("time_mask_width", time_mask_width),
            ("freq_masks", freq_masks),
            ("freq_mask_width", freq_mask_width),
        ):
            if value < 0:
                raise ValueError(f"SpecAugment {label} must be >= 0, got {value!r}")
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.freq_masks = freq_masks
        self.freq_mask_width = freq_mask_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _mask(self, x: Any, axis: int, max_width: int) -> Any:
        batch, size = ops.shape(x)[0], ops.shape(x)[axis]
        size_f = ops.cast(size, "float32")
        width = ops.floor(keras.random.uniform((batch, 1), seed=self.seed_generator) * (max_width + 1))
        width = ops.minimum(width, size_f)
        start = ops.floor(keras.random.uniform((batch, 1), seed=self.seed_generator) * (size_f - width + 1))
        index = ops.cast(ops.expand_dims(ops.arange(size), 0), "float32")
        masked = ops.logical_and(index >= start, index < start + width)  # [B, size]
        masked = ops.expand_dims(masked, 2 if axis == 1 else 1)
        return ops.where(masked, ops.zeros_like(x), x)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if not training:
            return x
        for _ in range(self.time_masks):
            x = self._mask(x, 1, self.time_mask_width)
        for _ in range(self.freq_masks):
            x = self._mask(x, 2, self.freq_mask_width)
        return x

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "time_masks": self.time_masks,
            "time_mask_width": self.time_mask_width,
            "freq_masks": self.freq_masks,
            "freq_mask_width": self.freq_mask_width,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="speaker_tf")
class SincConv1D(keras.layers.Layer):
    """SincNet band-pass filterbank (Ravanelli & Bengio 2018) on [B, T, 1].

    Filter i passes [low_i, high_i] Hz: h[n] = (sin(2 pi high n) - sin(2 pi
    low n)) / (pi n) (n in seconds, centred), Hamming-windowed and divided by
    2 (high - low). Only the two cut-offs per filter are learned; they start
    mel-spaced between 30 Hz and Nyquist. low = min_low_hz + |low_|,
    high = clip(low + min_band_hz + |band_|, min_low_hz, sample_rate / 2).
    Computes in float32 unless given another `dtype` (cut-offs of thousands
    of Hz times seconds lose too much precision in float16).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        sample_rate: int = 16000,
        min_low_hz: float = 50.0,
        min_band_hz: float = 50.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("dtype", "float32")  # also under mixed precision (see class doc)
        super().__init__(**kwargs)
        if filters < 1:
            raise ValueError(f"SincConv1D filters must be >= 1, got {filters!r}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"SincConv1D kernel_size must be odd (symmetric filters), got {kernel_size!r}")
        if strides < 1:
            raise ValueError(f"SincConv1D strides must be >= 1, got {strides!r}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.sample_rate = sample_rate
        self.min_low_hz = min_low_hz
        self.min_band_hz = min_band_hz

    def build(self, input_shape: tuple) -> None:
        if input_shape[-1] not in (1, None):
            raise ValueError(f"SincConv1D expects one input channel, got shape {tuple(input_shape)!r}")
        high = self.sample_rate / 2.0 - (self.min_low_hz + self.min_band_hz)
        edges = mel_to_hz(np.linspace(hz_to_mel(30.0), hz_to_mel(high), self.filters + 1))
        self.low_hz = self.add_weight(shape=(self.filters,), initializer="zeros", name="low_hz")
        self.band_hz = self.add_weight(shape=(self.filters,), initializer="zeros", name="band_hz")
        self.low_hz.assign((edges[:-1] - self.min_low_hz).astype(np.float32))
        self.band_hz.assign(np.diff(edges).astype(np.float32))
        half = (self.kernel_size - 1) / 2.0
        self._time = ((np.arange(self.kernel_size) - half) / self.sample_rate).astype(np.float32)
        self._window = np.hamming(self.kernel_size).astype(np.float32)

    def kernel(self) -> Any:
        """The current filters, [kernel_size, 1, filters]."""
        low = self.min_low_hz + ops.abs(self.low_hz)
        high = ops.clip(
            low + self.min_band_hz + ops.abs(self.band_hz), self.min_low_hz, self.sample_rate / 2.0
        )
        t = ops.expand_dims(ops.convert_to_tensor(self._time), 1)  # [K, 1]
        centre = ops.abs(t) < 1e-12
        safe_t = ops.where(centre, ops.ones_like(t), t)
        two_pi_t = 2.0 * math.pi * safe_t
        band_pass = (ops.sin(two_pi_t * high) - ops.sin(two_pi_t * low)) / (math.pi * safe_t)
        band_pass = ops.where(centre, 2.0 * (high - low), band_pass)  # limit at n = 0
        band_pass = band_pass * ops.expand_dims(ops.convert_to_tensor(self._window), 1) / (2.0 * (high - low))
        return ops.expand_dims(band_pass, 1)

    def call(self, x: Any) -> Any:
        return ops.conv(x, ops.cast(self.kernel(), x.dtype), strides=self.strides, padding="same")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else -(-steps // self.strides), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "sample_rate": self.sample_rate,
            "min_low_hz": self.min_low_hz,
            "min_band_hz": self.min_band_hz,
        }


@keras.saving.register_keras_serializable(package="speaker_tf")
class LogCompression(keras.layers.Layer):
    """log(1 + |x|): compresses filterbank outputs into log-magnitudes."""

    def call(self, x: Any) -> Any:
        return ops.log1p(ops.abs(x))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


def window_samples(frontend: FrontendConfig) -> tuple[int, int]:
    """(win_length, hop_length) in samples of the log-mel front end."""
    win = max(1, round(frontend.win_ms * frontend.sample_rate / 1000.0))
    hop = max(1, round(frontend.hop_ms * frontend.sample_rate / 1000.0))
    return win, hop


def feature_bands(frontend: FrontendConfig) -> int:
    """Width of the log-mel front end's output: the cepstra kept, else n_mels."""
    return frontend.cepstra or frontend.n_mels


def apply_log_mel(waveform: Any, frontend: FrontendConfig, *, name: str = "frontend") -> Any:
    """[B, T] -> [B, frames, feature_bands(frontend)]; augmentation in training only.

    log-mel (VTLP warp in training, CMN / CMVN) -> random spectral tilt ->
    SpecAugment -> cepstra, each layer present only when its option is on.
    """
    win, hop = window_samples(frontend)
    log_mel = dict(
        sample_rate=frontend.sample_rate,
        n_mels=frontend.n_mels,
        win_length=win,
        hop_length=hop,
        min_freq=frontend.min_freq,
        max_freq=frontend.max_freq,
        mean_norm=frontend.mean_norm,
        variance_norm=frontend.variance_norm,
        mean_norm_smooth=frontend.mean_norm_smooth,
        name=f"{name}_log_mel",
    )
    if frontend.vtlp_warp:
        x = VtlpLogMelSpectrogram(warp=frontend.vtlp_warp, boundary_hz=frontend.vtlp_boundary_hz, **log_mel)(
            waveform
        )
    else:
        x = LogMelSpectrogram(**log_mel)(waveform)
    if frontend.tilt_db:
        x = RandomSpectralTilt(frontend.tilt_db, frontend.tilt_order, name=f"{name}_spectral_tilt")(x)
    if frontend.time_masks or frontend.freq_masks:
        x = SpecAugment(
            time_masks=frontend.time_masks,
            time_mask_width=frontend.time_mask_width,
            freq_masks=frontend.freq_masks,
            freq_mask_width=frontend.freq_mask_width,
            name=f"{name}_spec_augment",
        )(x)
    if frontend.cepstra:
        x = Cepstra(frontend.cepstra, frontend.lifter, name=f"{name}_cepstra")(x)
    return x


def apply_frontend(
    waveform: Any,
    frontend: FrontendConfig,
    *,
    activation: str,
    weight_decay: float = 0.0,
    name: str = "frontend",
) -> tuple[Any, int]:
    """Waveform [B, T] -> (features, rank): [B, T', C] (rank 1) or [B, T', mel, 1] (rank 2)."""
    if frontend.kind == "logmel":
        x = apply_log_mel(waveform, frontend, name=name)
        return keras.layers.Reshape((-1, feature_bands(frontend), 1), name=f"{name}_to_image")(x), 2
    x = keras.layers.Reshape((-1, 1), name=f"{name}_to_sequence")(waveform)
    if frontend.kind == "strided":
        x = make_conv(
            frontend.filters,
            frontend.kernel,
            rank=1,
            strides=frontend.stride,
            weight_decay=weight_decay,
            name=f"{name}_conv",
        )(x)
        x = make_activation(activation, rank=1, name=f"{name}_act")(x)
    elif frontend.kind == "sinc":
        x = SincConv1D(
            frontend.filters,
            frontend.kernel,
            strides=frontend.stride,
            sample_rate=frontend.sample_rate,
            name=f"{name}_sinc_conv",
        )(x)
        x = LogCompression(name=f"{name}_log_compression")(x)
    return x, 1


def frontend_hop(frontend: FrontendConfig) -> int:
    """Samples per frame of the front end's output (1 for raw)."""
    if frontend.kind == "logmel":
        return window_samples(frontend)[1]
    if frontend.kind in ("strided", "sinc"):
        return frontend.stride
    return 1


def apply_conv_subsampling(
    x: Any, *, factor: int, dim: int, weight_decay: float = 0.0, name: str = "subsampling"
) -> Any:
    """Log-mel [B, T, mel] -> [B, ceil(T / factor), dim].

    log2(factor) Conv2D 3x3 stride-2 ReLU layers with `dim` channels (the
    Conformer's convolution subsampling, Gulati et al. 2020), the mel and
    channel axes flattened, then a linear projection to `dim`. factor 1: the
    projection alone (linear subsampling-free front end).
    """
    steps = int(round(math.log2(factor))) if factor >= 1 else -1
    if steps < 0 or 2**steps != factor:
        raise ValueError(f"subsampling factor must be a power of 2, got {factor!r}")
    if steps:
        mel = int(x.shape[-1])
        x = keras.layers.Reshape((-1, mel, 1), name=f"{name}_to_image")(x)
        for i in range(1, steps + 1):
            x = make_conv(
                dim,
                3,
                rank=2,
                strides=2,
                activation="relu",
                weight_decay=weight_decay,
                name=f"{name}_conv{i}",
            )(x)
        x = keras.layers.Reshape((-1, int(x.shape[2]) * dim), name=f"{name}_flatten")(x)
    return make_dense(dim, weight_decay=weight_decay, name=f"{name}_projection")(x)
