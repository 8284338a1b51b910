"""Data configuration: corpus, crops, P x K batches, augmentation (DataPP, recipes')."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from speaker_tf.config.ranges import PROBABILITY, ranged


@dataclass(frozen=True)
class AugmentConfig:
    """DataPP of the original code (reference README), plus the policy of 003.

    Each sample: smoothing with probability `p_smooth` by a Gaussian with
    sigma ~ |N(0, smooth_sigma)|; noise layers added while U < `p_noise`
    ("multi-step"), each with std ~ |N(0, noise_std)| and smoothed with
    probability `p_noise_smooth` (sigma ~ |N(0, noise_smooth_sigma)|);
    gain = 0.1 ** U(0, amplitude_db / 10) as the original computed it, i.e.
    log10(gain) ~ U(-amplitude_db / 10, 0): 0 to -amplitude_db dB of power
    (amplitude_db = 20: gain in [0.01, 1]). Definitions: speaker_tf/data/augment/datapp.py.
    """

    enabled: bool = False  # ## 39-41 add the parts, ## 125 turns DataPP on
    noise: bool = True  # ## 39
    amplitude: bool = True  # ## 39
    smoothing: bool = True  # ## 40
    multi_step_noise: bool = True  # ## 41: keep adding noise with p_noise
    max_noise_passes: int = ranged(10, ge=1)  # cap on noise layers per sample (multi-step loop)
    p_smooth: float = ranged(0.5, **PROBABILITY)
    smooth_sigma: float = ranged(0.75, ge=0)
    p_noise: float = ranged(0.7, **PROBABILITY)
    noise_std: float = ranged(0.01, ge=0)  # 0.025 in early versions
    p_noise_smooth: float = ranged(0.8, **PROBABILITY)
    noise_smooth_sigma: float = ranged(1.5, ge=0)
    amplitude_db: float = ranged(20.0, ge=0)  # pp_amplitude
    # "datapp": every part applied with its own probability (the original);
    # "clean_one_two": p_clean untouched, else one or two random parts (003).
    policy: Literal["datapp", "clean_one_two"] = "datapp"
    p_clean: float = ranged(0.1, **PROBABILITY)
    p_two: float = ranged(0.5, **PROBABILITY)


@dataclass(frozen=True)
class RobustConfig:
    """Waveform augmentation of the Kaldi / WeSpeaker / SpeechBrain recipes (issue 9), off by default.

    Applied in the graph to each training crop, after the crop and before DataPP,
    in a fixed order: speed -> reverberation -> additive noise -> channel
    (band limit, EQ, tilt) -> telephone band -> companding. Each stage is drawn
    with its own probability. Definitions: speaker_tf/data/augment/ (one
    module per kind; policy.py composes them).
    """

    enabled: bool = False
    # Speed perturbation: factor i (its position here) turns speaker label l into
    # l + i * n_speakers (a new speaker, as Kaldi / WeSpeaker / SpeechBrain do), so
    # the head has len(speed_factors) x n_speakers classes. Put 1.0 first so the
    # original speakers keep their labels; (1.0,) = off. Each in [0.5, 2.0].
    speed_factors: tuple[float, ...] = (1.0, 0.9, 1.1)
    # Reverberation: convolution with a room impulse response (RIR), in [0, 1].
    p_reverb: float = 0.4
    rir_folder: str | None = None  # a folder of RIRs (e.g. RIRS_NOISES); None = simulated rooms
    rooms: int = 200  # simulated rooms (image-source method, pyroomacoustics) when rir_folder is None
    room_seed: int = 0  # the simulated bank is a function of this seed (and the fields below)
    rt60_min: float = 0.15  # seconds, simulated rooms' reverberation time range
    rt60_max: float = 0.8
    rir_seconds: float = 0.5  # RIRs cut to this length (> 0)
    max_rirs: int = 1000  # at most this many RIRs loaded from rir_folder (a seeded subset)
    rir_cache: str | None = None  # folder of the simulated bank; None = $SPEAKER_TF_DATA or ./data
    # Additive noise, in [0, 1]; the kind is drawn with these relative weights (>= 0).
    p_noise: float = 0.5
    colored_weight: float = 1.0  # Gaussian noise with power ~ f ** -slope
    babble_weight: float = 1.0  # the sum of babble_min..babble_max other speakers' utterances
    folder_weight: float = 1.0  # a random segment of a file of noise_folder (ignored without one)
    noise_slope_min: float = 0.0  # 0 white, 1 pink, 2 brown; drawn uniformly in [min, max]
    noise_slope_max: float = 2.0
    snr_min: float = 0.0  # dB, coloured and folder noise (Kaldi MUSAN noise: 0-15)
    snr_max: float = 15.0
    babble_snr_min: float = 13.0  # dB (Kaldi MUSAN babble: 13-20)
    babble_snr_max: float = 20.0
    babble_min: int = 3  # other speakers' utterances in a babble, U{babble_min..babble_max}, >= 1
    babble_max: int = 7
    babble_files: int = 500  # training files decoded once for babble without data.cache (all with it)
    noise_folder: str | None = None  # noise recordings (e.g. musan/noise); None = no folder noise
    max_noise_files: int = 200  # at most this many noise files loaded (a seeded subset, room_seed)
    noise_seconds: float = 10.0  # each noise file's first seconds kept in memory (> 0)
    # Channel: band limit, EQ and tilt drawn independently (probabilities in [0, 1]), one filter.
    p_band: float = 0.3  # band limit: low cut ~ U[low_cut_min, low_cut_max] Hz, high cut ~ U[high_cut_*]
    low_cut_min: float = 0.0
    low_cut_max: float = 400.0  # < high_cut_min
    high_cut_min: float = 2500.0
    high_cut_max: float = 7500.0  # < sample_rate / 2
    p_eq: float = 0.3  # eq_bands peaking biquads: gain U[-eq_gain_db, eq_gain_db], Q log-U[eq_q_*]
    eq_bands: int = 3
    eq_gain_db: float = 10.0
    eq_q_min: float = 0.5
    eq_q_max: float = 4.0
    p_tilt: float = 0.3  # spectral tilt U[-tilt_db, tilt_db] dB per octave around 1 kHz
    tilt_db: float = 3.0
    p_telephone: float = 0.2  # 300-3400 Hz band, down to 8 kHz, G.711 there, and back
    p_codec: float = 0.2  # 8-bit G.711 companding: mu-law or A-law (half each)
    # Voice colour (0 = off): every training label, speed-perturbed ones too, gets a fixed filter of its own
    # for all its crops, before the room: voice_colour_bands peaking biquads at log-U[150 Hz, 0.4 x sample
    # rate], gain U[-voice_colour_db, voice_colour_db], Q log-U[eq_q_min, eq_q_max], drawn from (room_seed,
    # label): a stable long-term spectral shape per speaker, which recorded voices have and espeak-ng's lack.
    voice_colour_bands: int = 0
    voice_colour_db: float = 6.0


@dataclass(frozen=True)
class DataConfig:
    # None: the embedded synthetic corpus (generated on first use).
    root: str | None = None
    synth_speakers: int = ranged(260, ge=6)  # embedded corpus: 200 / 20 / 40 split, >= 2 each
    synth_utterances: int = ranged(20, ge=2)
    synth_seed: int = 0
    sample_rate: int = ranged(16000, gt=0)
    crop_seconds: float = ranged(1.0, gt=0)  # random training crop (2.0 before ## 129)
    eval_seconds: float = ranged(2.0, ge=0)  # evaluation crop; 0 = whole utterance
    speakers_per_batch: int = ranged(18, ge=2)  # P
    utterances_per_speaker: int = ranged(4, ge=1)  # K, "group size"
    max_train_speakers: int = ranged(0, ge=0)  # 0 = all (early notes used the first 256 / 512)
    cache: bool = False
    # Packed TFRecord shards of the training files (`speaker-tf pack`): training crops are read
    # from them instead of the WAV files (same batches; not with train.data_service); "" = read the WAV files.
    records: str = ""
    strict: bool = False  # corpus scans: unreadable files are fatal instead of skipped and counted
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    robust: RobustConfig = field(default_factory=RobustConfig)  # recipes' augmentation (issue 9), off
