"""Whole networks: build at tiny sizes, shapes, parameter counts, .keras round trips,
ConfigError messages, minimum input length, and a toy two-speaker fit."""

from __future__ import annotations

import dataclasses
import json
import re

import keras
import numpy as np
import pytest
from harness import check_saved_model, random_input

from speaker_tf.config.model import (
    ConformerConfig,
    DenseNetConfig,
    EBlockConfig,
    FCBlockConfig,
    FrontendConfig,
    HeadConfig,
    InBlockConfig,
    ModelConfig,
    TransformerConfig,
)
from speaker_tf.errors import ConfigError
from speaker_tf.models import SpeakerClassifier, SpeakerEncoder, build_classifier, build_encoder, min_samples
from speaker_tf.models.encoder import model_config_from
from speaker_tf.models.transformer import apply_transformer_block

TINY = ModelConfig(
    in_block=InBlockConfig(channels=4, kernel=3),
    e_block=EBlockConfig(channels=(4, 8), res_blocks=(1, 1)),
    fc=FCBlockConfig(width=8),
    embedding_dim=8,
    head=HeadConfig(hidden=8),
    weight_decay=1e-4,
    frontend=FrontendConfig(filters=8, kernel=31, stride=40, n_mels=16, time_masks=1, freq_masks=1),
    densenet=DenseNetConfig(growth=4, kernel=3, layers=(1, 2), stage_growth=()),
    conformer=ConformerConfig(dim=8, layers=1, heads=2, ff_mult=2, conv_kernel=3),
    transformer=TransformerConfig(dim=8, layers=1, heads=2, ff_dim=16),
)
SAMPLES = 4000  # 0.25 s at 16 kHz


def variant(**changes) -> ModelConfig:
    """TINY with dotted-key changes, e.g. variant(**{"frontend.kind": "sinc"})."""
    config = TINY
    for key, value in changes.items():
        *path, leaf = key.split(".")
        sections = [config]
        for part in path:
            sections.append(getattr(sections[-1], part))
        node = dataclasses.replace(sections[-1], **{leaf: value})
        for section, part in zip(reversed(sections[:-1]), reversed(path), strict=True):
            node = dataclasses.replace(section, **{part: node})
        config = node
    return config


NETWORKS = {
    "seresnet_raw": variant(),
    "seresnet_strided": variant(**{"frontend.kind": "strided"}),
    "seresnet_sinc": variant(**{"frontend.kind": "sinc"}),
    "seresnet_logmel_2d": variant(**{"frontend.kind": "logmel"}),
    "densenet": variant(network="densenet"),
    "densenet_per_layer": variant(network="densenet", **{"densenet.downsample": "layer"}),
    "conformer": variant(network="conformer", **{"frontend.kind": "logmel"}),
    "transformer_cls": variant(network="transformer", **{"frontend.kind": "logmel"}),
    "transformer_mean_learned": variant(
        network="transformer",
        **{"frontend.kind": "logmel", "transformer.pooling": "mean", "transformer.positional": "learned"},
    ),
    "transformer_post_ln": variant(
        network="transformer", **{"frontend.kind": "logmel", "transformer.norm": "post"}
    ),
}


def test_tiny_seresnet_parameter_count():
    # in_block conv 3*1*4+4 = 16
    # eblock_1 (4 -> C=4, 1 ResBlock): conv 3*4*4+4 = 52, 1x1 4*4+4 = 20,
    #   ResBlock 2*(3*4*4+4) + 2 BN 2*(4*4) + SE 2*(4*4+4) = 104 + 32 + 40 = 176, SE 40 -> 288; out 4+4 = 8 ch
    # eblock_2 (8 -> C=8, 1 ResBlock): 3*8*8+8 = 200, 72, ResBlock 400 + 64 + 144 = 608, SE 144
    #   -> 1024; out 16 ch
    # fc: (16*8+8) + (8*8+8) = 208
    encoder = build_encoder(TINY, SAMPLES)
    assert encoder.count_params() == 16 + 288 + 1024 + 208
    assert encoder.get_layer("eblock_2_concat").output.shape[-1] == 4 + 4 + 8


def test_default_config_dense_skip_channels_and_names():
    encoder = build_encoder(ModelConfig(), 16000)
    # +Dense: 32 + sum of the ten EBlock channels = 32 + 480 = 512 channels before pooling
    assert (
        encoder.get_layer("eblock_10_concat").output.shape[-1]
        == 32 + sum(ModelConfig().e_block.channels)
        == 512
    )
    names = {layer.name for layer in encoder.layers}
    assert {
        "in_block_conv",
        "eblock_3_resblock_1_se_unit_squeeze",
        "eblock_10_resblock_3_add",
        "embedding",
    } <= names
    assert encoder.input.name == "waveform" and encoder.output.shape == (None, 256)
    assert min_samples(ModelConfig()) == 2**10


@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_network_builds_round_trips_and_takes_any_length(name):
    config = NETWORKS[name]
    encoder = build_encoder(config, SAMPLES)
    classifier = build_classifier(encoder, config, num_speakers=3)
    x = random_input((2, SAMPLES))
    out = classifier(x)
    assert tuple(out["embedding"].shape) == (2, 8) and tuple(out["logits"].shape) == (2, 3)
    loaded = check_saved_model(classifier, x)
    assert isinstance(loaded.encoder, SpeakerEncoder) and loaded.config == config
    assert loaded.encoder.config == config and loaded.encoder.crop_samples == SAMPLES
    # the encoder alone (what an export carries) has no head
    assert not any(layer.name.startswith("out_block") for layer in encoder.layers)
    check_saved_model(encoder, x)
    # variable length, down to the minimum
    for samples in (SAMPLES + 777, min_samples(config)):
        emb = encoder(random_input((1, samples)))
        assert tuple(emb.shape) == (1, 8) and np.all(np.isfinite(emb))


@pytest.mark.parametrize("pooling", ["avg", "max", "stats", "attentive_stats"])
def test_every_pooling(pooling):
    encoder = build_encoder(variant(pooling=pooling), SAMPLES)
    # pooled width: 16 channels, doubled by the statistics poolings
    assert encoder.get_layer("fc_block_dense1").kernel.shape[0] == (32 if "stats" in pooling else 16)
    assert tuple(encoder(random_input((2, SAMPLES))).shape) == (2, 8)


@pytest.mark.parametrize("kind", ["dense", "act_dense", "dense_act_dense", "act_dense_act_dense", "aam"])
def test_every_head(kind):
    config = variant(**{"head.kind": kind, "head.dropout": 0.5})
    classifier = build_classifier(build_encoder(config, SAMPLES), config, 5)
    logits = np.asarray(classifier(random_input((2, SAMPLES)))["logits"])
    assert logits.shape == (2, 5)
    if kind == "aam":
        assert np.all(np.abs(logits) <= 1 + 1e-6)


@pytest.mark.parametrize("norm", ["batch", "batch_renorm", "instance", "group", "layer", "none"])
def test_every_norm(norm):
    encoder = build_encoder(variant(**{"res_block.norm": norm}), SAMPLES)
    assert np.all(np.isfinite(encoder(random_input((2, SAMPLES)), training=True)))


@pytest.mark.parametrize("activation", ["relu", "swish", "prelu"])
def test_every_activation(activation):
    encoder = build_encoder(variant(activation=activation), SAMPLES)
    assert np.all(np.isfinite(encoder(random_input((2, SAMPLES)))))


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "l2"])
def test_embedding_norms_on_attention_networks(norm):
    config = variant(network="transformer", **{"frontend.kind": "logmel", "fc.embedding_norm": norm})
    emb = np.asarray(build_encoder(config, SAMPLES)(random_input((2, SAMPLES))))
    if norm == "l2":
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_transformer_block_layer_norm_placement(norm):
    # post-LN ends each sublayer with a LayerNorm (fresh: gamma 1, beta 0), so every output row
    # has mean 0 and variance 1; pre-LN ends with the residual add, which keeps the input's scale
    inputs = keras.Input((6, 8))
    block = apply_transformer_block(
        inputs, dim=8, heads=2, ff_dim=16, dropout=0.0, activation="relu", norm=norm
    )
    out = keras.ops.convert_to_numpy(keras.Model(inputs, block)(3.0 + 5.0 * random_input((2, 6, 8))))
    normalised = np.allclose(out.mean(-1), 0, atol=1e-4) and np.allclose(out.var(-1), 1, atol=1e-2)
    assert normalised == (norm == "post")


def test_min_samples_arithmetic():
    # raw: 2 stride-2 EBlocks -> 4 samples; strided hop 40: (4 - 1) * 40 + 1 = 121 (ceil(121 / 40) = 4 frames)
    assert min_samples(TINY) == 4
    assert min_samples(NETWORKS["seresnet_strided"]) == 121
    # log-mel hop 160: 1 + T // 160 >= 4 frames -> T >= 480
    assert min_samples(NETWORKS["seresnet_logmel_2d"]) == 480
    assert min_samples(NETWORKS["conformer"]) == 480  # subsampling 4
    # densenet (1, 2): one transition between stages -> 2; per-layer downsampling: 2 ** 3 = 8
    assert min_samples(NETWORKS["densenet"]) == 2
    assert min_samples(NETWORKS["densenet_per_layer"]) == 8


def test_model_config_round_trips_through_json():
    config = NETWORKS["transformer_mean_learned"]
    assert model_config_from(json.loads(json.dumps(dataclasses.asdict(config)))) == config
    encoder = SpeakerEncoder.from_config(json.loads(json.dumps(build_encoder(config).get_config())))
    assert encoder.config == config


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"e_block.res_blocks": (1,) * 9, "e_block.channels": (4,) * 10},
            "model.e_block.res_blocks has 9 entries but model.e_block.channels has 10",
        ),
        (
            {"e_block.channels": (4, -8)},
            "model.e_block.channels=(4, -8) (entry -8) is out of range: it must be >= 1",
        ),
        ({"in_block.channels": 0}, "model.in_block.channels=0"),
        (
            {"e_block.layout": ("act", "conv", "gelu")},
            "model.e_block.layout=('act', 'conv', 'gelu') has unknown token 'gelu'",
        ),
        ({"e_block.se": ("before",)}, "model.e_block.se=('before',) has unknown placement 'before'"),
        ({"frontend.kind": "sinc", "frontend.kernel": 250}, "model.frontend.kernel=250 must be odd"),
        ({"frontend.kind": "mfcc"}, "model.frontend.kind='mfcc'"),
        ({"network": "conformer"}, "model.frontend.kind='raw': model.network='conformer' runs on log-mel"),
        (
            {"network": "conformer", "frontend.kind": "logmel", "conformer.dim": 10, "conformer.heads": 4},
            "model.conformer.dim=10 must be divisible by model.conformer.heads=4",
        ),
        (
            {"network": "transformer", "frontend.kind": "logmel", "transformer.subsampling": 3},
            "model.transformer.subsampling=3 must be a power of 2",
        ),
        (
            {"network": "densenet", "densenet.stage_growth": (4, 8, 16)},
            "model.densenet.stage_growth has 3 entries but model.densenet.layers has 2",
        ),
        ({"fc.dropout": 1.0}, "model.fc.dropout=1.0 is out of range: it must be in [0, 1)"),
        ({"head.dropout": -0.5}, "model.head.dropout=-0.5 is out of range: it must be in [0, 1)"),
        ({"e_block.kernel": "3"}, "model.e_block.kernel='3' must be a number >= 1"),
        ({"head.kind": "arcface"}, "model.head.kind='arcface'"),
        ({"res_block.norm": "weight"}, "model.res_block.norm='weight'"),
        ({"activation": "gelu"}, "model.activation='gelu'"),
        ({"weight_decay": -1.0}, "model.weight_decay=-1.0"),
    ],
)
def test_config_errors_name_key_and_value(changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_encoder(variant(**changes), SAMPLES)


def test_crop_too_short_for_the_strides():
    config = variant(**{"e_block.channels": (4,) * 10, "e_block.res_blocks": (0,) * 10})
    message = (
        "crop_samples=1000 is too short: 10 stride-2 EBlocks (model.e_block.channels) "
        "with model.frontend.kind='raw' need at least 1024 samples"
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_encoder(config, 1000)
    build_encoder(config, 1024)
    with pytest.raises(
        ConfigError, match=re.escape("model.transformer.max_frames=4 is shorter than the 7 frames")
    ):
        # 1 + 4000 // 160 = 26 frames -> ceil(26 / 4) = 7 after subsampling
        build_encoder(
            variant(
                **{
                    "network": "transformer",
                    "frontend.kind": "logmel",
                    "transformer.positional": "learned",
                    "transformer.max_frames": 4,
                }
            ),
            SAMPLES,
        )


def toy_speakers(n_per_speaker: int, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two "speakers": sines at 300 Hz and 1200 Hz, random phase and gain, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 16000
    labels = np.repeat([0, 1], n_per_speaker)
    freqs = np.where(labels == 0, 300.0, 1200.0)
    phase = rng.uniform(0, 2 * np.pi, len(labels))
    x = rng.uniform(0.3, 1.0, (len(labels), 1)) * np.sin(2 * np.pi * freqs[:, None] * t + phase[:, None])
    x = x + 0.1 * rng.standard_normal(x.shape)
    return x.astype("float32"), labels.astype("int32")


def test_toy_two_speaker_problem_is_learned():
    keras.utils.set_random_seed(0)
    # statistics pooling: the std of the frame features carries the band energy of a zero-mean sine
    config = variant(
        pooling="stats",
        **{"e_block.channels": (8, 8, 8), "e_block.res_blocks": (0, 1, 0), "res_block.norm": "none"},
    )
    x, y = toy_speakers(8, 2000, seed=0)
    classifier = build_classifier(build_encoder(config, 2000), config, 2)
    assert isinstance(classifier, SpeakerClassifier)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
    )
    history = classifier.fit(x, {"logits": y}, batch_size=16, epochs=20, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    x_test, y_test = toy_speakers(8, 2000, seed=1)
    accuracy = np.mean(np.argmax(classifier(x_test)["logits"], axis=1) == y_test)
    assert accuracy >= 0.9, accuracy


@pytest.mark.parametrize("name", ["seresnet_sinc", "conformer"])
def test_mixed_precision_keeps_front_end_and_outputs_float32(name):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        config = NETWORKS[name]
        classifier = build_classifier(build_encoder(config, SAMPLES), config, 3)
        out = classifier(random_input((2, SAMPLES)), training=True)
        front = classifier.encoder.layers[1 if name == "conformer" else 2]
        assert (
            type(front).__name__ in ("LogMelSpectrogram", "SincConv1D") and front.compute_dtype == "float32"
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    for value in out.values():
        assert value.dtype == "float32" and np.all(np.isfinite(value))
