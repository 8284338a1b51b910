"""SE-ResNet blocks: shapes, hand-computed parameter counts, layouts as the notes describe."""

from __future__ import annotations

import re
from functools import partial

import keras
import numpy as np
import pytest
from harness import layer_sequence, random_input, run_layer_test

from speaker_tf.errors import ConfigError
from speaker_tf.models.blocks import (
    apply_e_block,
    apply_fc_block,
    apply_in_block,
    apply_res_block,
    apply_se_unit,
    group_count,
    make_norm,
)

RES = {"kernel": 3, "norm": "batch", "activation": "swish", "se": True}


def eblock(
    layout=("act", "conv", "act", "conv"), se=("after_res",), res_blocks=0, dense_skip=True, rank=1, **kw
):
    return partial(
        apply_e_block,
        channels=8,
        res_blocks=res_blocks,
        kernel=3,
        stride=2,
        layout=layout,
        se=se,
        dense_skip=dense_skip,
        activation="swish",
        res_block=RES,
        rank=rank,
        name="eblock_1",
        **kw,
    )


def main_path(model: keras.Model) -> list[str]:
    """Class names of the layout layers (act / conv / bn tokens) in graph order."""
    return [
        cls
        for name, cls in layer_sequence(model, "eblock_1_")
        if re.fullmatch(r"eblock_1_(act|conv|bn)\d", name)
    ]


def test_se_unit_shape_params_and_round_trip():
    # C=8, r=1: squeeze 8*8+8 + excite 8*8+8 = 144
    run_layer_test(partial(apply_se_unit, rank=1), (2, 10, 8), (2, 10, 8), expected_num_params=144)
    # C=8, r=2: 8*4+4 + 4*8+8 = 76; 2-D map [T, mel, C]
    run_layer_test(
        partial(apply_se_unit, rank=2, reduction=2),
        (2, 6, 4, 8),
        (2, 6, 4, 8),
        expected_num_params=76,
        fit=False,
    )


def test_se_unit_scales_by_sigmoid_of_squeeze():
    x = random_input((2, 5, 3))
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, apply_se_unit(inputs, rank=1, name="se"))
    w1, b1 = model.get_layer("se_squeeze").get_weights()
    w2, b2 = model.get_layer("se_excite").get_weights()
    s = np.maximum(x.mean(axis=1, keepdims=True) @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(model(x), x / (1 + np.exp(-s)), rtol=1e-5, atol=1e-6)


def test_res_block_params_and_residual():
    # C=8, k=3: 2 convs (3*8*8+8) = 400, 2 batch norms 4*8 = 64 (gamma, beta, moving mean/var), SE 144 -> 608
    run_layer_test(partial(apply_res_block, rank=1, **RES), (2, 12, 8), (2, 12, 8), expected_num_params=608)
    # without norm and SE: 400
    model = run_layer_test(
        partial(apply_res_block, rank=1, kernel=3, norm="none", activation="relu", se=False),
        (2, 12, 8),
        (2, 12, 8),
        expected_num_params=400,
        save=False,
        fit=False,
    )
    # zero the last conv: the block is the identity (the residual add)
    conv2 = model.get_layer("resblock_conv2")
    conv2.set_weights([np.zeros_like(w) for w in conv2.get_weights()])
    x = random_input((2, 12, 8))
    np.testing.assert_allclose(model(x), x, atol=1e-6)


@pytest.mark.parametrize("norm", ["batch", "batch_renorm", "instance", "group", "layer", "none"])
def test_res_block_every_norm(norm):
    model = run_layer_test(
        partial(apply_res_block, rank=1, kernel=3, norm=norm, activation="relu", se=False),
        (2, 8, 32),
        (2, 8, 32),
        save=norm in ("batch_renorm", "group"),
        fit=norm == "batch_renorm",
    )
    layers = {name: layer for name, layer in ((lay.name, lay) for lay in model.layers)}
    norm_layer = layers.get("resblock_norm1")
    if norm == "none":
        assert norm_layer is None
    elif norm in ("batch", "batch_renorm"):
        assert norm_layer.momentum == 0.999 and norm_layer.renorm == (norm == "batch_renorm")
    elif norm == "instance":
        assert norm_layer.groups == 32  # one group per channel
    elif norm == "group":
        assert norm_layer.groups == 2  # C / 16
    else:
        assert isinstance(norm_layer, keras.layers.LayerNormalization)


def test_group_count_divides_channels():
    assert [group_count(c) for c in (8, 16, 32, 48, 64, 40)] == [1, 1, 2, 3, 4, 2]
    with pytest.raises(ConfigError, match="model.res_block.norm='weight'"):
        make_norm("weight", 8, name="n")


@pytest.mark.parametrize("activation", ["relu", "swish", "prelu"])
def test_res_block_every_activation(activation):
    model = run_layer_test(
        partial(apply_res_block, rank=1, kernel=3, norm="none", activation=activation, se=False),
        (2, 8, 4),
        (2, 8, 4),
        save=activation == "prelu",
        fit=activation == "prelu",
    )
    if activation == "prelu":  # slopes shared over time: one per channel
        assert model.get_layer("resblock_act1").get_weights()[0].shape == (1, 4)


def test_in_block_linear_conv_and_optional_res_block():
    # 1x7 conv 1 -> 4 channels: 7*1*4+4 = 32 parameters, no activation
    model = run_layer_test(
        partial(apply_in_block, channels=4, kernel=7, rank=1), (2, 20, 1), (2, 20, 4), expected_num_params=32
    )
    assert model.get_layer("in_block_conv").activation.__name__ == "linear"
    # + ResBlock (C=4, k=3, BN, SE): 2*(3*4*4+4) + 2*16 + 2*(4*4+4) = 104 + 32 + 40 = 176
    run_layer_test(
        partial(apply_in_block, channels=4, kernel=7, rank=1, res_block=RES),
        (2, 20, 1),
        (2, 20, 4),
        expected_num_params=32 + 176,
        save=False,
        fit=False,
    )


def test_e_block_params_and_dense_skip_channels():
    # in 4 -> C=8: strided conv 3*4*8+8 = 104, 1x1 bottleneck 8*8+8 = 72, SE 144 -> 320;
    # +Dense concatenates the pooled 4 input channels: 4 + 8 = 12, time 16 -> 8
    model = run_layer_test(
        eblock(), (2, 16, 4), (2, 8, 12), symbolic_shape=(None, 4), expected_num_params=320
    )
    assert model.get_layer("eblock_1_conv1").strides == (2,)
    assert model.get_layer("eblock_1_conv1").kernel_size == (3,)
    assert model.get_layer("eblock_1_conv2").kernel_size == (1,)
    # the skip is the block input average-pooled with the same stride
    x = random_input((2, 16, 4))
    np.testing.assert_allclose(model(x)[..., :4], x.reshape(2, 8, 2, 4).mean(axis=2), atol=1e-6)
    # odd length: 'same' padding keeps ceil(T / 2) frames on both paths
    assert tuple(model(random_input((2, 15, 4))).shape) == (2, 8, 12)


def test_e_block_without_dense_skip_and_with_res_blocks():
    # + 2 ResBlocks (C=8) of 608 each
    run_layer_test(
        eblock(dense_skip=False, res_blocks=2),
        (2, 16, 4),
        (2, 8, 8),
        expected_num_params=320 + 2 * 608,
        fit=False,
    )


@pytest.mark.parametrize(
    "layout, expected",
    [
        (
            ("act", "conv", "act", "conv"),
            ["Activation", "Conv1D", "Activation", "Conv1D"],
        ),  # ## 33 pre-activation
        (
            ("conv", "act", "conv", "act"),
            ["Conv1D", "Activation", "Conv1D", "Activation"],
        ),  # ## 22 post-activation
        (
            ("act", "conv", "act", "conv", "act"),
            ["Activation", "Conv1D", "Activation", "Conv1D", "Activation"],
        ),  # ## 21
        (
            ("bn", "act", "conv", "act", "conv"),
            ["BatchNormalization", "Activation", "Conv1D", "Activation", "Conv1D"],
        ),
        (
            ("act", "conv", "bn", "act", "conv"),
            ["Activation", "Conv1D", "BatchNormalization", "Activation", "Conv1D"],
        ),
        (("act", "conv"), ["Activation", "Conv1D"]),  # ## 17 no bottleneck
    ],
)
def test_e_block_layouts_change_the_graph(layout, expected):
    inputs = keras.Input((16, 4))
    model = keras.Model(inputs, eblock(layout=layout)(inputs))
    assert main_path(model) == expected
    # the layer feeding the ResBlocks / SEUnit is the last token of the layout
    se_input = model.get_layer("eblock_1_se_unit_pool").input
    assert type(se_input._keras_history.operation).__name__ == expected[-1]


def test_e_block_bottleneck_removal_drops_a_conv():
    inputs = keras.Input((16, 4))
    with_bottleneck = keras.Model(inputs, eblock()(inputs))
    inputs = keras.Input((16, 4))
    without = keras.Model(inputs, eblock(layout=("act", "conv"))(inputs))
    assert with_bottleneck.count_params() - without.count_params() == 8 * 8 + 8
    # a bn token adds 4 * C parameters (gamma, beta, moving mean, moving variance)
    inputs = keras.Input((16, 4))
    with_bn = keras.Model(inputs, eblock(layout=("act", "conv", "bn", "act", "conv"))(inputs))
    assert with_bn.count_params() - with_bottleneck.count_params() == 4 * 8


def se_model(se, res_blocks=1):
    inputs = keras.Input((16, 4))
    return keras.Model(inputs, eblock(se=se, res_blocks=res_blocks)(inputs))


def test_e_block_se_placements():
    order = [name for name, _ in layer_sequence(se_model(("after_first_conv",)), "eblock_1_")]
    assert (
        order.index("eblock_1_conv1")
        < order.index("eblock_1_conv1_se_unit_scale")
        < order.index("eblock_1_act2")
    )
    assert "eblock_1_se_unit_scale" not in order
    order = [name for name, _ in layer_sequence(se_model(("after_res",)), "eblock_1_")]
    assert order.index("eblock_1_resblock_1_add") < order.index("eblock_1_se_unit_scale")
    assert "eblock_1_conv1_se_unit_scale" not in order
    # no SEUnit: strided conv 104 + 1x1 72 (no ResBlock)
    assert se_model((), res_blocks=0).count_params() == 104 + 72


def test_e_block_se_placements_combine():
    # ## 11 "added SEUnit after first conv": on top of ## 10's, not instead of it
    both = se_model(("after_first_conv", "after_res"))
    order = [name for name, _ in layer_sequence(both, "eblock_1_")]
    assert order.index("eblock_1_conv1") < order.index("eblock_1_conv1_se_unit_scale")
    assert order.index("eblock_1_conv1_se_unit_scale") < order.index("eblock_1_act2")
    assert order.index("eblock_1_resblock_1_add") < order.index("eblock_1_se_unit_scale")
    # each SEUnit on C=8 channels with r=1 has 144 parameters
    assert both.count_params() - se_model(("after_res",)).count_params() == 144
    assert both.count_params() - se_model(()).count_params() == 2 * 144


@pytest.mark.parametrize(
    "se, message",
    [
        ("after_res", "must be a list of placements"),
        (("after_res", "after_res"), "names a placement twice"),
        (("before",), "unknown placement 'before'"),
    ],
)
def test_e_block_bad_se_placements(se, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        eblock(se=se)(keras.Input((16, 4)))


def test_e_block_2d_on_log_mel():
    # [T=16, mel=8, 1]: 3x3 stride 2 on both axes; conv 3*3*1*8+8 = 80, 1x1 8*8+8 = 72, SE 144
    model = run_layer_test(
        eblock(rank=2), (2, 16, 8, 1), (2, 8, 4, 9), expected_num_params=80 + 72 + 144, fit=False
    )
    assert model.get_layer("eblock_1_conv1").strides == (2, 2)


@pytest.mark.parametrize(
    "layout, message",
    [
        (("act", "conv", "relu"), "unknown token 'relu'"),
        (("act", "act"), "has 0 'conv' tokens"),
        (("conv", "conv", "conv"), "has 3 'conv' tokens"),
    ],
)
def test_e_block_bad_layout(layout, message):
    with pytest.raises(
        ConfigError, match=re.escape(f"model.e_block.layout={layout!r}") + ".*" + re.escape(message)
    ):
        eblock(layout=layout)(keras.Input((16, 4)))


def fc(**kw):
    args = dict(
        width=8,
        embedding_dim=8,
        layers=2,
        residual=True,
        dropout=0.0,
        activation="swish",
        embedding_norm="none",
    )
    return partial(apply_fc_block, **{**args, **kw})


def test_fc_block_params_residual_and_variants():
    # 12 -> 8 -> 8: (12*8+8) + (8*8+8) = 176; residual adds the hidden layer
    model = run_layer_test(fc(), (4, 12), (4, 8), expected_num_params=176)
    names = [name for name, _ in layer_sequence(model, "fc_block_")]
    assert names == ["fc_block_act1", "fc_block_dense1", "fc_block_act2", "fc_block_dense2", "fc_block_add"]
    # no residual when width != embedding_dim
    model = run_layer_test(
        fc(width=6), (4, 12), (4, 8), expected_num_params=(12 * 6 + 6) + (6 * 8 + 8), save=False, fit=False
    )
    assert "fc_block_add" not in [n for n, _ in layer_sequence(model)]
    # layers=1 (## 07): act -> dense(embedding), 12*8+8 = 104
    model = run_layer_test(fc(layers=1), (4, 12), (4, 8), expected_num_params=104, save=False, fit=False)
    assert [n for n, _ in layer_sequence(model, "fc_block_")] == ["fc_block_act1", "fc_block_dense1"]
    # dropout (## 06) sits right before the last dense
    model = run_layer_test(fc(dropout=0.5), (4, 12), (4, 8), save=False, fit=False)
    names = [n for n, _ in layer_sequence(model, "fc_block_")]
    assert names.index("fc_block_dropout") == names.index("fc_block_dense2") - 1
    with pytest.raises(ConfigError, match="model.fc.layers=3"):
        fc(layers=3)(keras.Input((12,)))


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "l2"])
def test_fc_block_embedding_norms(norm):
    # batch adds 4*8 = 32 parameters, layer 2*8 = 16
    extra = {"none": 0, "batch": 32, "layer": 16, "l2": 0}[norm]
    model = run_layer_test(
        fc(embedding_norm=norm),
        (4, 12),
        (4, 8),
        expected_num_params=176 + extra,
        save=norm == "l2",
        fit=norm == "l2",
    )
    out = np.asarray(model(random_input((4, 12)), training=False))
    if norm == "l2":
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    if norm == "layer":
        np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-5)
