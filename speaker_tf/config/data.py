"""Data configuration: corpus, crops, P x K batches, augmentation (DataPP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class AugmentConfig:
    """DataPP of the original code (reference README), plus the policy of 003.

    Each sample: smoothing with probability `p_smooth` by a Gaussian with
    sigma ~ |N(0, smooth_sigma)|; noise layers added while U < `p_noise`
    ("multi-step"), each with std ~ |N(0, noise_std)| and smoothed with
    probability `p_noise_smooth` (sigma ~ |N(0, noise_smooth_sigma)|);
    gain = 0.1 ** U(0, amplitude_db / 10) as the original computed it, i.e.
    log10(gain) ~ U(-amplitude_db / 10, 0): 0 to -amplitude_db dB of power
    (amplitude_db = 20: gain in [0.01, 1]). Definitions: speaker_tf/data/augment.py.
    """

    enabled: bool = False  # ## 39-41 add the parts, ## 125 turns DataPP on
    noise: bool = True  # ## 39
    amplitude: bool = True  # ## 39
    smoothing: bool = True  # ## 40
    multi_step_noise: bool = True  # ## 41: keep adding noise with p_noise
    max_noise_passes: int = 10  # cap on noise layers per sample (multi-step loop)
    p_smooth: float = 0.5
    smooth_sigma: float = 0.75
    p_noise: float = 0.7
    noise_std: float = 0.01  # 0.025 in early versions
    p_noise_smooth: float = 0.8
    noise_smooth_sigma: float = 1.5
    amplitude_db: float = 20.0  # pp_amplitude
    # "datapp": every part applied with its own probability (the original);
    # "clean_one_two": p_clean untouched, else one or two random parts (003).
    policy: Literal["datapp", "clean_one_two"] = "datapp"
    p_clean: float = 0.1
    p_two: float = 0.5


@dataclass(frozen=True)
class DataConfig:
    # None: the embedded synthetic corpus (generated on first use).
    root: str | None = None
    synth_speakers: int = 260  # embedded corpus size: 200 / 20 / 40 split
    synth_utterances: int = 20
    synth_seed: int = 0
    sample_rate: int = 16000
    crop_seconds: float = 1.0  # random training crop (2.0 before ## 129)
    eval_seconds: float = 2.0  # evaluation crop; 0 = whole utterance
    speakers_per_batch: int = 18  # P
    utterances_per_speaker: int = 4  # K, "group size"
    max_train_speakers: int = 0  # 0 = all (early notes used the first 256 / 512)
    cache: bool = False
    # Packed TFRecord shards of the training files (`speaker-tf pack`): training crops are read
    # from them instead of the WAV files (same batches); "" = read the WAV files.
    records: str = ""
    strict: bool = False  # corpus scans: unreadable files are fatal instead of skipped and counted
    augment: AugmentConfig = field(default_factory=AugmentConfig)
