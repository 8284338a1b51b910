"""Center loss, additive angular margin loss and supervised contrastive loss against
NumPy references, hand-derived values and edge cases."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from speaker_tf.losses import (
    AdditiveAngularMarginLoss,
    CenterLossLayer,
    SupervisedContrastiveLoss,
    additive_angular_margin_loss,
    angular_margin_logits,
    center_loss,
    supervised_contrastive_loss,
)

TOL = dict(rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- center loss
def ref_center_steps(batches, num_classes, dim, decay):
    """Per-class EMA of the batch class means with bias correction; loss of each step
    against the bias-corrected centres after that step's update."""
    m = np.zeros((num_classes, dim))
    t = np.zeros(num_classes)
    step_losses = []
    for x, y in batches:
        for j in np.unique(y):
            m[j] = decay * m[j] + (1 - decay) * x[y == j].mean(axis=0)
            t[j] += 1
        c = np.zeros_like(m)
        for j in range(num_classes):
            if t[j] > 0:
                c[j] = m[j] / (1 - decay ** t[j])
        step_losses.append(np.mean([0.5 * np.sum((x[i] - c[y[i]]) ** 2) for i in range(len(y))]))
    return m, t, c, step_losses


def test_center_layer_ema_matches_numpy():
    rng = np.random.default_rng(0)
    num_classes, dim, decay, weight = 5, 3, 0.9, 0.5
    batches = []
    for _ in range(4):  # class 4 never appears, others sporadically
        y = rng.integers(0, 4, size=6)
        batches.append((rng.normal(size=(6, dim)).astype(np.float32), y))
    layer = CenterLossLayer(num_classes, decay=decay, weight=weight)
    got_losses = []
    for x, y in batches:
        out = layer(x, y, training=True)
        np.testing.assert_array_equal(np.asarray(out), x)  # pass-through
        assert len(layer.losses) == 1
        got_losses.append(float(layer.losses[0]))
    m, t, c, want_losses = ref_center_steps(batches, num_classes, dim, decay)
    np.testing.assert_allclose(np.asarray(layer.ema), m, **TOL)
    np.testing.assert_array_equal(np.asarray(layer.counts), t)
    np.testing.assert_allclose(np.asarray(layer.centers), c, **TOL)
    np.testing.assert_allclose(got_losses, weight * np.array(want_losses), **TOL)
    # Evaluation mode: centres untouched, loss against the current centres.
    x, y = batches[0]
    layer(x, y, training=False)
    np.testing.assert_allclose(np.asarray(layer.ema), m, **TOL)
    want = weight * np.mean([0.5 * np.sum((x[i] - c[y[i]]) ** 2) for i in range(len(y))])
    np.testing.assert_allclose(float(layer.losses[0]), want, **TOL)


def test_center_first_update_is_batch_mean_and_gradient():
    # One update of a class: bias correction makes its centre the batch class mean.
    # 1-D points 1 and 3 of class 0 -> centre 2; loss = mean(0.5*1, 0.5*1) = 0.5.
    x = tf.constant([[1.0], [3.0]])
    y = np.array([0, 0])
    layer = CenterLossLayer(2, decay=0.95)
    layer(x, y, training=True)
    np.testing.assert_allclose(np.asarray(layer.centers), [[2.0], [0.0]], atol=1e-6)
    assert float(layer.losses[0]) == pytest.approx(0.5, abs=1e-6)
    # d/dx mean_i 0.5||x_i - c||^2 = (x_i - c) / B, centres held constant
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = center_loss(x, y, layer.centers)
    np.testing.assert_allclose(tape.gradient(value, x).numpy(), [[-0.5], [0.5]], atol=1e-6)


def test_center_layer_config_and_errors():
    layer = CenterLossLayer(7, decay=0.8, weight=0.01, name="centres")
    clone = CenterLossLayer.from_config(layer.get_config())
    assert (clone.num_classes, clone.decay, clone.weight, clone.name) == (7, 0.8, 0.01, "centres")
    with pytest.raises(ValueError, match="1.5"):
        CenterLossLayer(3, decay=1.5)
    with pytest.raises(ValueError, match="0"):
        CenterLossLayer(0)


def test_center_layer_in_functional_fit_adds_loss_and_saves(tmp_path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 8)
    x = (rng.normal(size=(3, 4))[y] * 2 + rng.normal(size=(24, 4))).astype(np.float32)
    feats = keras.Input((4,))
    labels = keras.Input((), dtype="int32")
    emb = keras.layers.Dense(5)(feats)
    logits = keras.layers.Dense(3)(CenterLossLayer(3, weight=0.1, name="center")(emb, labels))
    model = keras.Model([feats, labels], logits)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    ce_only = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.fit([x, y], y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    layer = model.get_layer("center")
    # unshuffled sorted labels: each batch of 8 holds one class -> 1 update per epoch
    np.testing.assert_array_equal(np.asarray(layer.counts), [2, 2, 2])
    # evaluate() = CE + 0.1 * center loss (centres frozen in evaluation)
    total = model.evaluate([x, y], y, batch_size=24, verbose=0)
    ce = float(ce_only(y, model.predict([x, y], verbose=0)))
    e = keras.Model(feats, emb).predict(x, verbose=0)
    c = np.asarray(layer.centers)
    center = np.mean([0.5 * np.sum((e[i] - c[y[i]]) ** 2) for i in range(len(y))])
    assert center > 0
    np.testing.assert_allclose(total, ce + 0.1 * center, rtol=1e-4)
    path = tmp_path / "center.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        np.asarray(loaded.get_layer("center").centers), np.asarray(layer.centers), **TOL
    )


# --------------------------------------------------------------------------- AAM
def ref_aam(y, cos, s, m):
    """Per-sample ArcFace CE with NumPy; returns (logits, losses)."""
    logits = s * cos.astype(np.float64)
    for i, j in enumerate(y):
        theta = math.acos(float(np.clip(cos[i, j], -1 + 1e-7, 1 - 1e-7)))
        if theta + m <= math.pi:
            logits[i, j] = s * math.cos(theta + m)
        else:  # fallback beyond pi
            logits[i, j] = s * (cos[i, j] - m * math.sin(m))
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return logits, -logp[np.arange(len(y)), y]


def test_aam_margin_zero_is_softmax_ce_on_scaled_cosine():
    rng = np.random.default_rng(0)
    cos = rng.uniform(-0.99, 0.99, size=(6, 5)).astype(np.float32)
    y = rng.integers(0, 5, size=6)
    got = np.asarray(additive_angular_margin_loss(y, cos, scale=30.0, margin=0.0))
    want = keras.losses.sparse_categorical_crossentropy(y, 30.0 * cos, from_logits=True)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("margin", [0.2, 0.5])
def test_aam_target_logit_and_loss_match_numpy(margin):
    rng = np.random.default_rng(1)
    cos = rng.uniform(-1.0, 1.0, size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=8)
    cos[0, y[0]] = -0.99  # acos(-0.99) + m > pi: fallback branch
    cos[1, y[1]] = 0.5  # acos(0.5) = pi/3
    want_logits, want_loss = ref_aam(y, cos, 30.0, margin)
    got_logits = np.asarray(angular_margin_logits(y, cos, 30.0, margin))
    np.testing.assert_allclose(got_logits, want_logits, rtol=1e-5, atol=1e-4)
    assert got_logits[1, y[1]] == pytest.approx(30.0 * math.cos(math.pi / 3 + margin), abs=1e-4)
    assert got_logits[0, y[0]] == pytest.approx(30.0 * (-0.99 - margin * math.sin(margin)), abs=1e-4)
    got = np.asarray(additive_angular_margin_loss(y.reshape(-1, 1), cos, 30.0, margin))
    np.testing.assert_allclose(got, want_loss, rtol=1e-5, atol=1e-4)


def test_aam_gradients_finite_at_unit_cosine():
    cos = tf.constant([[1.0, -1.0, 0.0], [-1.0, 1.0, 1.0]])
    y = np.array([0, 0])
    with tf.GradientTape() as tape:
        tape.watch(cos)
        value = tf.reduce_mean(additive_angular_margin_loss(y, cos, 30.0, 0.3))
    assert np.isfinite(float(value))
    assert np.all(np.isfinite(tape.gradient(value, cos).numpy()))


def test_aam_warmup_ramps_in_graph_and_config_round_trip():
    rng = np.random.default_rng(2)
    cos = rng.uniform(-0.9, 0.9, size=(4, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0])
    loss = AdditiveAngularMarginLoss(scale=10.0, margin=0.4, warmup_steps=4)
    compiled = tf.function(lambda: loss(y, cos))
    for k in range(6):  # call k uses margin 0.4 * min(k / 4, 1)
        want = ref_aam(y, cos, 10.0, 0.4 * min(k / 4, 1.0))[1].mean()
        np.testing.assert_allclose(float(compiled()), want, **TOL)
    config = loss.get_config()
    assert config == {
        "name": "additive_angular_margin_loss",
        "reduction": "sum_over_batch_size",
        "scale": 10.0,
        "margin": 0.4,
        "warmup_steps": 4,
        "step": 4,
    }
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert float(restored(y, cos)) == pytest.approx(float(loss(y, cos)), abs=1e-6)
    plain = AdditiveAngularMarginLoss.from_config(AdditiveAngularMarginLoss().get_config())
    assert plain.step is None and plain.margin == 0.2
    with pytest.raises(ValueError, match="4.0"):
        AdditiveAngularMarginLoss(margin=4.0)


def test_aam_warmup_survives_fit_and_keras_save(tmp_path):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(3), 8)
    x = (rng.normal(size=(3, 4))[y] * 2 + rng.normal(size=(24, 4))).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.UnitNormalization(),
            keras.layers.Dense(3, use_bias=False, kernel_constraint=keras.constraints.UnitNorm(0)),
        ]
    )
    model.compile(optimizer="adam", loss=AdditiveAngularMarginLoss(margin=0.2, warmup_steps=100))
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert float(model.loss.step) == 6.0  # 3 train batches x 2 epochs
    path = tmp_path / "aam.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, AdditiveAngularMarginLoss)
    assert float(loaded.loss.step) == 6.0


# --------------------------------------------------------------------------- SupCon
def ref_supcon(y, x, tau):
    z = x.astype(np.float64)
    z = z / np.sqrt(np.maximum((z**2).sum(axis=1, keepdims=True), 1e-12))
    b = len(y)
    per_anchor = []
    for i in range(b):
        positives = [p for p in range(b) if p != i and y[p] == y[i]]
        if not positives:
            continue
        denom = sum(math.exp(z[i] @ z[a] / tau) for a in range(b) if a != i)
        per_anchor.append(-np.mean([math.log(math.exp(z[i] @ z[p] / tau) / denom) for p in positives]))
    return float(np.mean(per_anchor)) if per_anchor else 0.0


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_supcon_matches_reference(tau):
    rng = np.random.default_rng(int(tau * 10))
    for _ in range(6):
        b = int(rng.integers(2, 21))
        y = rng.integers(0, int(rng.integers(1, 6)), size=b)
        x = rng.normal(size=(b, int(rng.integers(2, 9)))).astype(np.float32)
        got = float(supervised_contrastive_loss(y, x, tau))
        np.testing.assert_allclose(got, ref_supcon(y, x, tau), **TOL)


def test_supcon_by_hand_and_edge_cases():
    # z1 = z2 = (1, 0) (label a), z3 = (0, 1) (label b), tau = 1: anchors 1 and 2 each
    # have one positive (sim 1) and one negative (sim 0): -log(e / (e + 1)) =
    # log(1 + e^-1) = 0.31326; anchor 3 has no positive and is left out.
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    got = float(supervised_contrastive_loss(np.array([0, 0, 1]), x, 1.0))
    assert got == pytest.approx(math.log1p(math.exp(-1.0)), rel=1e-6)
    # no positive pair at all -> 0; finite values and gradients for duplicates,
    # zero vectors and a single sample
    cases = [
        (np.array([0, 1, 2]), x),
        (np.array([0, 0, 1, 1]), np.zeros((4, 3), np.float32)),
        (np.array([4]), np.ones((1, 3), np.float32)),
        (np.array([0, 0, 0]), np.ones((3, 2), np.float32)),
    ]
    for y, emb in cases:
        e = tf.constant(emb)
        with tf.GradientTape() as tape:
            tape.watch(e)
            value = supervised_contrastive_loss(y, e, 0.1)
        assert np.isfinite(float(value))
        assert np.all(np.isfinite(tape.gradient(value, e).numpy()))
    assert float(supervised_contrastive_loss(np.array([0, 1, 2]), x)) == 0.0


def test_supcon_class_round_trip():
    rng = np.random.default_rng(9)
    y, x = rng.integers(0, 3, size=10), rng.normal(size=(10, 4)).astype(np.float32)
    loss = SupervisedContrastiveLoss(temperature=0.2)
    assert loss.get_config()["temperature"] == 0.2
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    clone = SupervisedContrastiveLoss.from_config(loss.get_config())
    assert float(restored(y, x)) == pytest.approx(float(loss(y, x)), abs=1e-7)
    assert float(clone(y, x)) == pytest.approx(float(loss(y, x)), abs=1e-7)
    with pytest.raises(ValueError, match="-1"):
        SupervisedContrastiveLoss(temperature=-1)
