"""Building blocks of the SE-ResNet family (experiment notes 001).

Every block is an `apply_*(x, ..., name=...)` function on functional-API
tensors. Layer names are prefixed with the block path, e.g.
`eblock_3_resblock_1_se_unit_squeeze` (Keras 3 layer names cannot contain
"/"), so `model.summary()` and TensorBoard read like the notes.

`rank` is the number of spatial axes: 1 for [batch, time, channels] (the
original's 1xK convolutions over a waveform), 2 for [batch, time, mel,
channels] (log-mel front end: KxK kernels, stride 2 on both axes), 0 for
vectors [batch, features].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from speaker_tf.errors import ConfigError
from speaker_tf.models.layers import L2Normalize

ACTIVATIONS = ("relu", "swish", "prelu")
NORMS = ("batch", "batch_renorm", "instance", "group", "layer", "none")
EBLOCK_TOKENS = ("act", "conv", "bn")
SE_PLACEMENTS = ("after_first_conv", "after_res")  # EBlock SEUnits: ## 11, ## 10
# The original's batch-norm decay (tf.contrib.layers.batch_norm decay=0.999).
BATCH_NORM_MOMENTUM = 0.999
GROUP_NORM_CHANNELS = 16  # "group" norm: C / 16 groups (reference README)


def regularizer(weight_decay: float) -> keras.regularizers.Regularizer | None:
    """L2 on kernels ("generator-wd"); None when the factor is 0."""
    return keras.regularizers.L2(weight_decay) if weight_decay > 0 else None


def make_conv(
    filters: int,
    kernel: int,
    *,
    rank: int,
    name: str,
    strides: int = 1,
    weight_decay: float = 0.0,
    activation: str | None = None,
) -> keras.layers.Layer:
    """Conv1D (1xK over time) or Conv2D (KxK over time x mel), 'same' padding."""
    cls = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}.get(rank)
    if cls is None:
        raise ValueError(f"convolution rank must be 1 or 2, got {rank!r}")
    return cls(
        filters,
        kernel,
        strides=strides,
        padding="same",
        activation=activation,
        kernel_regularizer=regularizer(weight_decay),
        name=name,
    )


def make_dense(
    units: int, *, name: str, weight_decay: float = 0.0, activation: str | None = None
) -> keras.layers.Dense:
    return keras.layers.Dense(
        units, activation=activation, kernel_regularizer=regularizer(weight_decay), name=name
    )


def make_activation(kind: str, *, rank: int, name: str) -> keras.layers.Layer:
    """relu / swish / prelu; PReLU slopes are shared across time (and mel)."""
    if kind == "prelu":
        shared = list(range(1, rank + 1)) or None
        return keras.layers.PReLU(shared_axes=shared, name=name)
    if kind in ("relu", "swish"):
        return keras.layers.Activation(kind, name=name)
    raise ConfigError(f"model.activation={kind!r} is not one of {', '.join(map(repr, ACTIVATIONS))}")


def group_count(channels: int) -> int:
    """C / 16 groups, rounded down to a divisor of C (at least 1)."""
    groups = max(1, channels // GROUP_NORM_CHANNELS)
    while channels % groups:
        groups -= 1
    return groups


def make_norm(kind: str, channels: int, *, name: str) -> keras.layers.Layer | None:
    """A normalisation layer over the channel axis (last); None for "none".

    instance = GroupNormalization with one group per channel (statistics over
    time per example and channel); group = C/16 groups; batch_renorm = batch
    renormalisation (Ioffe 2017), which Keras 3 supports as
    `BatchNormalization(renorm=True)`.
    """
    if kind == "none":
        return None
    if kind == "batch":
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=name)
    if kind == "batch_renorm":
        return keras.layers.BatchNormalization(
            momentum=BATCH_NORM_MOMENTUM, renorm=True, renorm_momentum=BATCH_NORM_MOMENTUM, name=name
        )
    if kind == "instance":
        return keras.layers.GroupNormalization(groups=channels, name=name)
    if kind == "group":
        return keras.layers.GroupNormalization(groups=group_count(channels), name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name)
    raise ConfigError(f"model.res_block.norm={kind!r} is not one of {', '.join(map(repr, NORMS))}")


def apply_norm(x: Any, kind: str, *, name: str) -> Any:
    layer = make_norm(kind, int(x.shape[-1]), name=name)
    return x if layer is None else layer(x)


def apply_se_unit(
    x: Any, *, rank: int, reduction: int = 1, weight_decay: float = 0.0, name: str = "se_unit"
) -> Any:
    """Squeeze-and-excitation (Hu et al. 2018): x * sigmoid(W2 relu(W1 mean(x))).

    The original used no reduction (r = 1): hidden width C / r.
    """
    channels = int(x.shape[-1])
    pool = {1: keras.layers.GlobalAveragePooling1D, 2: keras.layers.GlobalAveragePooling2D}[rank]
    s = pool(keepdims=True, name=f"{name}_pool")(x)
    s = make_dense(
        max(1, channels // reduction), activation="relu", weight_decay=weight_decay, name=f"{name}_squeeze"
    )(s)
    s = make_dense(channels, activation="sigmoid", weight_decay=weight_decay, name=f"{name}_excite")(s)
    return keras.layers.Multiply(name=f"{name}_scale")([x, s])


def apply_res_block(
    x: Any,
    *,
    kernel: int,
    norm: str,
    activation: str,
    se: bool,
    rank: int,
    se_reduction: int = 1,
    weight_decay: float = 0.0,
    name: str = "resblock",
) -> Any:
    """[norm] -> act -> conv k -> [norm] -> act -> conv k (linear) -> [SEUnit] -> + x."""
    channels = int(x.shape[-1])
    y = x
    for i in (1, 2):
        y = apply_norm(y, norm, name=f"{name}_norm{i}")
        y = make_activation(activation, rank=rank, name=f"{name}_act{i}")(y)
        y = make_conv(channels, kernel, rank=rank, weight_decay=weight_decay, name=f"{name}_conv{i}")(y)
    if se:
        y = apply_se_unit(
            y, rank=rank, reduction=se_reduction, weight_decay=weight_decay, name=f"{name}_se_unit"
        )
    return keras.layers.Add(name=f"{name}_add")([x, y])


def apply_in_block(
    x: Any,
    *,
    channels: int,
    kernel: int,
    rank: int,
    res_block: dict[str, Any] | None = None,
    weight_decay: float = 0.0,
    name: str = "in_block",
) -> Any:
    """One linear conv (1x7 -> 32 channels in the original) [+ a ResBlock].

    `res_block`: keyword arguments of `apply_res_block` (without x / rank /
    name), or None for no ResBlock (## 26).
    """
    x = make_conv(channels, kernel, rank=rank, weight_decay=weight_decay, name=f"{name}_conv")(x)
    if res_block is not None:
        x = apply_res_block(x, rank=rank, weight_decay=weight_decay, name=f"{name}_resblock", **res_block)
    return x


def check_layout(layout: Sequence[str], key: str = "model.e_block.layout") -> None:
    """Tokens must be act / conv / bn with one or two convs (strided, then 1x1)."""
    unknown = [t for t in layout if t not in EBLOCK_TOKENS]
    if unknown:
        raise ConfigError(
            f"{key}={tuple(layout)!r} has unknown token {unknown[0]!r}; "
            f"tokens are {', '.join(map(repr, EBLOCK_TOKENS))}"
        )
    convs = list(layout).count("conv")
    if convs not in (1, 2):
        raise ConfigError(
            f"{key}={tuple(layout)!r} has {convs} 'conv' tokens; it needs 1 (strided conv only, ## 17) "
            "or 2 (strided conv then 1x1 bottleneck)"
        )


def check_se_placements(se: Sequence[str], key: str = "model.e_block.se") -> None:
    """Each placement at most once, each one of SE_PLACEMENTS."""
    if isinstance(se, str):
        raise ConfigError(f"{key}={se!r} must be a list of placements, e.g. [{se!r}]")
    for placement in se:
        if placement not in SE_PLACEMENTS:
            raise ConfigError(
                f"{key}={tuple(se)!r} has unknown placement {placement!r}; "
                f"placements are {', '.join(map(repr, SE_PLACEMENTS))}"
            )
    if len(set(se)) != len(se):
        raise ConfigError(f"{key}={tuple(se)!r} names a placement twice")


def apply_e_block(
    x: Any,
    *,
    channels: int,
    res_blocks: int,
    kernel: int,
    stride: int,
    layout: Sequence[str],
    se: Sequence[str],
    dense_skip: bool,
    activation: str,
    res_block: dict[str, Any],
    rank: int,
    se_reduction: int = 1,
    weight_decay: float = 0.0,
    name: str = "eblock",
) -> Any:
    """Downsampling block of the notes.

    main path = `layout` over (kxk conv stride s -> C, 1x1 bottleneck -> C),
    e.g. ("act", "conv", "act", "conv") is pre-activation (## 33),
    ("conv", "act", "conv", "act") post-activation (## 22), "bn" a batch norm
    (## 34, 35); then `res_blocks` ResBlocks. SEUnits go where `se` says, any
    combination of "after_first_conv" (## 11, layers `{name}_conv1_se_unit_*`)
    and "after_res" (## 10, on the output of the ResBlocks, `{name}_se_unit_*`).
    dense_skip ("+Dense"): the block input, average-pooled with the same
    stride, concatenated to the output (channels in + C).
    """
    check_layout(layout)
    check_se_placements(se)
    inputs = x
    conv_index = 0
    counts = {"act": 0, "bn": 0}
    for token in layout:
        if token == "conv":
            conv_index += 1
            size, strides = (kernel, stride) if conv_index == 1 else (1, 1)
            x = make_conv(
                channels,
                size,
                rank=rank,
                strides=strides,
                weight_decay=weight_decay,
                name=f"{name}_conv{conv_index}",
            )(x)
            if conv_index == 1 and "after_first_conv" in se:
                x = apply_se_unit(
                    x,
                    rank=rank,
                    reduction=se_reduction,
                    weight_decay=weight_decay,
                    name=f"{name}_conv1_se_unit",
                )
        else:
            counts[token] += 1
            label = f"{name}_{token}{counts[token]}"
            if token == "act":
                x = make_activation(activation, rank=rank, name=label)(x)
            else:
                x = apply_norm(x, "batch", name=label)
    for i in range(1, res_blocks + 1):
        x = apply_res_block(
            x,
            rank=rank,
            se_reduction=se_reduction,
            weight_decay=weight_decay,
            name=f"{name}_resblock_{i}",
            **res_block,
        )
    if "after_res" in se:
        x = apply_se_unit(
            x, rank=rank, reduction=se_reduction, weight_decay=weight_decay, name=f"{name}_se_unit"
        )
    if dense_skip:
        pool = {1: keras.layers.AveragePooling1D, 2: keras.layers.AveragePooling2D}[rank]
        skip = pool(pool_size=stride, strides=stride, padding="same", name=f"{name}_skip_pool")(inputs)
        x = keras.layers.Concatenate(axis=-1, name=f"{name}_concat")([skip, x])
    return x


def apply_embedding_norm(x: Any, kind: str, *, name: str = "embedding_norm") -> Any:
    """none / batch / layer / l2 on the embedding (## 119-122)."""
    if kind == "none":
        return x
    if kind == "batch":
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=name)(x)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=name)(x)
    if kind == "l2":
        return L2Normalize(dtype="float32", name=name)(x)
    raise ConfigError(f"model.fc.embedding_norm={kind!r} is not one of 'none', 'batch', 'layer', 'l2'")


def apply_fc_block(
    x: Any,
    *,
    width: int,
    embedding_dim: int,
    layers: int,
    residual: bool,
    dropout: float,
    activation: str,
    embedding_norm: str,
    weight_decay: float = 0.0,
    name: str = "fc_block",
) -> Any:
    """act -> dense(width) -> act -> [dropout] -> dense(embedding_dim) [+ hidden] [-> norm].

    The residual (## 03) adds the hidden layer to the output when
    width == embedding_dim. layers=1 (## 07): act -> [dropout] -> dense.
    """
    if layers not in (1, 2):
        raise ConfigError(f"model.fc.layers={layers!r} must be 1 or 2")
    hidden = None
    if layers == 2:
        x = make_activation(activation, rank=0, name=f"{name}_act1")(x)
        x = hidden = make_dense(width, weight_decay=weight_decay, name=f"{name}_dense1")(x)
    x = make_activation(activation, rank=0, name=f"{name}_act{layers}")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = make_dense(embedding_dim, weight_decay=weight_decay, name=f"{name}_dense{layers}")(x)
    if hidden is not None and residual and width == embedding_dim:
        x = keras.layers.Add(name=f"{name}_add")([hidden, x])
    return apply_embedding_norm(x, embedding_norm, name=f"{name}_embedding_norm")


def apply_self_attention(x: Any, heads: int, dim: int, dropout: float, weight_decay: float, name: str) -> Any:
    """Multi-head self-attention (dim // heads per head) and its dropout: `{name}_mhsa[_dropout]`.

    Shared by the Conformer and Transformer blocks.
    """
    y = keras.layers.MultiHeadAttention(
        heads,
        dim // heads,
        dropout=dropout,
        kernel_regularizer=regularizer(weight_decay),
        name=f"{name}_mhsa",
    )(x, x)
    return keras.layers.Dropout(dropout, name=f"{name}_mhsa_dropout")(y)
