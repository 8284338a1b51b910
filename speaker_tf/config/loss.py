"""Loss configuration: metric-learning and classification terms, with weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class LossConfig:
    triplet: Literal["none", "semihard", "hard", "all"] = "none"  # ## 100+
    triplet_weight: float = 1.0
    triplet_margin: float = 0.5  # the notes' default; <= 0 with "all": ## 128
    triplet_soft: bool = False  # batch-hard soft margin (## 127)
    distance: Literal["L2", "squared-L2", "angular"] = "L2"
    cross_entropy_weight: float = 1.0  # on the OutBlock logits; 0 = no head
    aam_weight: float = 0.0  # additive angular margin softmax on an AAM head
    aam_margin_warmup_steps: int = 0
    supcon_weight: float = 0.0  # supervised contrastive (reference 000)
    supcon_temperature: float = 0.1
    center_weight: float = 0.0  # center loss (Wen et al. 2016)
    center_decay: float = 0.95
