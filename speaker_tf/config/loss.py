"""Loss configuration: metric-learning and classification terms, with weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from speaker_tf.config.ranges import ranged


@dataclass(frozen=True)
class LossConfig:
    triplet: Literal["none", "semihard", "hard", "all"] = "none"  # ## 100+
    triplet_weight: float = ranged(1.0, ge=0)
    triplet_margin: float = 0.5  # the notes' default; <= 0 with "all": ## 128
    triplet_soft: bool = False  # batch-hard soft margin (## 127)
    distance: Literal["L2", "squared-L2", "angular"] = "L2"
    cross_entropy_weight: float = ranged(1.0, ge=0)  # on the OutBlock logits; 0 = no head
    aam_weight: float = ranged(0.0, ge=0)  # additive angular margin softmax on an AAM head
    aam_margin_warmup_steps: int = ranged(0, ge=0)
    supcon_weight: float = ranged(0.0, ge=0)  # supervised contrastive (reference 000)
    supcon_temperature: float = ranged(0.1, gt=0)
    center_weight: float = ranged(0.0, ge=0)  # center loss (Wen et al. 2016)
    center_decay: float = ranged(0.95, ge=0, lt=1)
