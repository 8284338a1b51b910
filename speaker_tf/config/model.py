"""Model configuration: every architecture of the notes is a value of `ModelConfig`.

Defaults reproduce the original TensorFlow 1 encoder as of the late notes
(## 103-122): raw 16 kHz waveform, InBlock 1x7 -> 32 channels, ten stride-2
EBlocks with +Dense concatenation, Swish pre-activation, SEUnit with r = 1,
average pooling, FCBlock 512 -> embedding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from speaker_tf.config.ranges import ranged

Activation = Literal["relu", "swish", "prelu"]
Norm = Literal["batch", "batch_renorm", "instance", "group", "layer", "none"]
SEPlacement = Literal["after_first_conv", "after_res"]


@dataclass(frozen=True)
class FrontendConfig:
    """How the waveform becomes the input of the first block."""

    # raw: the original, waveform as [time, 1]; strided: one strided conv;
    # sinc: learned band-pass filterbank (SincNet, Ravanelli & Bengio 2018);
    # logmel: log-mel spectrogram (2-D blocks on [time, mel, 1]).
    kind: Literal["raw", "strided", "sinc", "logmel"] = "raw"
    sample_rate: int = ranged(16000, gt=0)  # Hz of the waveform (keep equal to data.sample_rate)
    filters: int = ranged(64, ge=1)  # strided / sinc: number of filters
    kernel: int = ranged(251, ge=1)  # strided / sinc: filter length in samples
    stride: int = ranged(80, ge=1)  # strided / sinc: hop in samples (80 = 200 frames/s)
    n_mels: int = ranged(64, ge=1)  # logmel
    win_ms: float = ranged(25.0, gt=0)  # logmel frame length
    hop_ms: float = ranged(10.0, gt=0)  # logmel hop
    mean_norm: bool = True  # logmel: subtract the per-utterance mean per band
    # > 0: subtract only the mean's smooth part, its first N DCT components across bands (level, tilt,
    # ...), keeping the long-term spectrum's finer envelope (a voice cue that smooth channel EQ leaves)
    mean_norm_smooth: int = ranged(0, ge=0)
    time_masks: int = ranged(0, ge=0)  # SpecAugment masks applied in training only
    time_mask_width: int = ranged(10, ge=0)
    freq_masks: int = ranged(0, ge=0)
    freq_mask_width: int = ranged(8, ge=0)
    # logmel options against synthesiser fine detail and channel colouring
    # (issue 9); each default leaves the front end as it was. Order: log-mel
    # (VTLP warp, CMN / CMVN) -> spectral tilt -> SpecAugment -> cepstra.
    min_freq: float = ranged(20.0, ge=0)  # filterbank band in Hz; max None = Nyquist
    max_freq: float | None = None  # (100 / 4000: the band every channel, telephone too, keeps)
    variance_norm: bool = False  # CMVN: also divide each band by its per-utterance std (needs mean_norm)
    vtlp_warp: float = ranged(0.0, ge=0, lt=1)  # VTLP (Jaitly & Hinton 2013), training: warp ~ U(1 +- w)
    vtlp_boundary_hz: float = ranged(4800.0, gt=0)  # where the piecewise-linear warp bends (their F_hi)
    tilt_db: float = ranged(0.0, ge=0)  # training: random EQ per utterance, coefficients ~ U(+-tilt_db) dB;
    tilt_order: int = ranged(2, ge=1)  # its degree (1 tilt, 2 + curvature); needs mean_norm=false
    cepstra: int = ranged(0, ge=0)  # > 0: DCT-II across bands, keep the first N coefficients (MFCC-like)
    lifter: float = ranged(0.0, ge=0)  # HTK sinusoidal lifter L on the cepstra (0 = none)


@dataclass(frozen=True)
class InBlockConfig:
    channels: int = ranged(32, ge=1)  # ## 19: 64, ## 28: 32
    kernel: int = ranged(7, ge=1)  # ## 14: 1x3 => 1x7
    res_block: bool = False  # ## 26 removed the ResBlock from the InBlock


@dataclass(frozen=True)
class EBlockConfig:
    """Downsampling block; `layout` spells the main path as in the notes.

    Tokens: "act", "conv" (the first is the k-wide strided conv, the second
    the 1x1 bottleneck), "bn" (batch norm, momentum 0.999). One or two
    "conv" tokens. ResBlocks and the SEUnit(s) follow the layout.

    Two convs, although the reference README's main path names one (Swish ->
    1x4 conv stride 2 -> ResBlocks -> SEUnit): the notes spell two in every
    EBlock they write out ("act -> conv -> act -> conv -> ResBlock", ## 20-35),
    ## 11 puts an SEUnit "after first conv", and ## 17 "(unchanged) EBlock:
    removed 1x1 bottleneck layer" tried the one-conv block and reverted it.
    The README's block is ## 17's layout ("act", "conv"); its ## 129-era
    source may have dropped the bottleneck after the notes end.
    """

    channels: tuple[int, ...] = ranged((32, 32, 32, 48, 48, 48, 48, 64, 64, 64), ge=1)  # ## 29/103
    res_blocks: tuple[int, ...] = ranged((0, 1, 1, 2, 2, 2, 3, 3, 3, 3), ge=0)  # ## 27
    kernel: int = ranged(3, ge=1)  # ## 16: 1x4 => 1x3
    stride: int = ranged(2, ge=1)
    layout: tuple[str, ...] = ("act", "conv", "act", "conv")  # ## 33
    # Where SEUnits sit; they combine: "after_res" = on the block output after
    # the ResBlocks (## 10), "after_first_conv" = right after the first conv
    # (## 11 added it on top of ## 10's). () = no SEUnit in the EBlock.
    se: tuple[SEPlacement, ...] = ("after_res",)
    dense_skip: bool = True  # "+Dense": concat the pooled block input


@dataclass(frozen=True)
class ResBlockConfig:
    kernel: int = ranged(3, ge=1)
    norm: Norm = "batch"  # also the norm of model2's dense layers
    se: bool = True  # ## 09


@dataclass(frozen=True)
class FCBlockConfig:
    """act -> dense(width) -> act -> dense(embedding_dim) [+ residual] [-> norm]."""

    width: int = ranged(512, ge=1)  # ## 08 tried 1024
    layers: int = 2  # ## 07 tried 1
    residual: bool = True  # ## 03; applies when width == embedding_dim
    dropout: float = ranged(0.0, ge=0, lt=1)  # before the last dense
    embedding_norm: Literal["none", "batch", "layer", "l2"] = "none"  # ## 119-122


@dataclass(frozen=True)
class HeadConfig:
    """OutBlock: classification head on top of the embedding (## 113-118)."""

    kind: Literal["dense", "act_dense", "dense_act_dense", "act_dense_act_dense", "aam"] = "dense"
    hidden: int = ranged(512, ge=1)
    dropout: float = ranged(0.0, ge=0, lt=1)  # ## 06, ## 117: 0.5, ## 118: 0.9
    aam_scale: float = ranged(30.0, gt=0)  # additive angular margin (ArcFace) head
    aam_margin: float = ranged(0.2, ge=0)


@dataclass(frozen=True)
class DenseNetConfig:
    """model2 (## 15): densely connected pre-activation layers with SE."""

    growth: int = ranged(16, ge=1)  # channels per dense layer when stage_growth is empty
    kernel: int = ranged(7, ge=1)
    layers: tuple[int, ...] = ranged((2, 2, 6), ge=1)  # ## 15: 2*16 + 2*32 + 6*64
    stage_growth: tuple[int, ...] = ranged((16, 32, 64), ge=1)  # per stage; () = `growth` everywhere
    # Where the stride-2 average pooling goes: "stage" = a transition between
    # stages (reference README); "layer" = every dense layer halves time (its
    # conv has stride 2 and its input is pooled before the concatenation), so
    # the ten layers of ## 15 downsample like model1's ten EBlocks.
    downsample: Literal["stage", "layer"] = "stage"


@dataclass(frozen=True)
class ConformerConfig:
    """Conformer (Gulati et al. 2020) on log-mel, as in reference 004."""

    dim: int = ranged(144, ge=1)
    layers: int = ranged(4, ge=1)
    heads: int = ranged(4, ge=1)
    ff_mult: int = ranged(4, ge=1)
    conv_kernel: int = ranged(15, ge=1)
    subsampling: int = ranged(4, ge=1)  # conv2d subsampling factor in time (a power of 2)
    dropout: float = ranged(0.1, ge=0, lt=1)


@dataclass(frozen=True)
class TransformerConfig:
    """Transformer encoder on log-mel, as in reference 000."""

    dim: int = ranged(128, ge=1)
    layers: int = ranged(4, ge=1)
    heads: int = ranged(4, ge=1)
    ff_dim: int = ranged(256, ge=1)
    pooling: Literal["cls", "mean"] = "cls"
    # "pre": x + f(LN(x)) (Xiong et al. 2020); "post": LN(x + f(x)) as in Vaswani et al.
    # 2017 and reference 000's run 3 ("Post Layer Norm").
    norm: Literal["pre", "post"] = "pre"
    subsampling: int = ranged(4, ge=1)  # conv2d subsampling factor (a power of 2; 1 = linear projection only)
    dropout: float = ranged(0.1, ge=0, lt=1)
    positional: Literal["sinusoidal", "learned"] = "sinusoidal"  # sinusoidal takes any length
    # learned table size, frames after subsampling (1024 = 41 s at 4 x 10 ms)
    max_frames: int = ranged(1024, ge=1)


@dataclass(frozen=True)
class ModelConfig:
    # conformer / transformer need frontend.kind="logmel" (they use its
    # n_mels, win_ms, hop_ms, mean_norm, SpecAugment and issue-9 fields).
    network: Literal["seresnet", "densenet", "conformer", "transformer"] = "seresnet"
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    activation: Activation = "swish"  # ## 20
    se_reduction: int = ranged(1, ge=1)  # the original SEUnit had no reduction
    in_block: InBlockConfig = field(default_factory=InBlockConfig)
    e_block: EBlockConfig = field(default_factory=EBlockConfig)
    res_block: ResBlockConfig = field(default_factory=ResBlockConfig)
    # Time pooling of seresnet / densenet / conformer (reference 004's conformer
    # used "attentive_stats"); the transformer uses transformer.pooling.
    pooling: Literal["avg", "max", "stats", "attentive_stats"] = "avg"  # ## 04 tried max
    # seresnet on log-mel (issue 9): also hand the FC block the utterance's long-term spectrum, the time
    # mean of the normalised log-mel (what is left of it after frontend.mean_norm / mean_norm_smooth),
    # batch-normalised and concatenated to the pooled features. The cue the MFCC baseline's means carry.
    long_term_spectrum: bool = False
    fc: FCBlockConfig = field(default_factory=FCBlockConfig)
    embedding_dim: int = ranged(256, ge=1)  # "out-channels" in the notes (## 103: 256)
    head: HeadConfig = field(default_factory=HeadConfig)
    densenet: DenseNetConfig = field(default_factory=DenseNetConfig)
    conformer: ConformerConfig = field(default_factory=ConformerConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    weight_decay: float = ranged(1e-6, ge=0)  # "generator-wd": L2 factor on kernels
