"""Shared layer / model test harness.

`run_layer_test` wraps a layer (or an `apply_*` block function) in a
functional model and checks, in a few lines per test:
  * the output shape,
  * get_config / from_config round trip (config equality, and for a layer
    identical outputs with copied weights),
  * `.keras` save / load gives identical outputs,
  * one optimiser step runs, gives a finite loss and changes the weights,
  * optionally the parameter count.
`check_saved_model` does the `.keras` round trip for a whole model.
`tone_corpus` writes a tiny scoring corpus whose "speakers" are tone frequencies.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def random_input(shape: tuple[int, ...], seed: int = 0, dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _as_numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_numpy(v) for v in value]
    return keras.ops.convert_to_numpy(value)


def assert_same_outputs(a: Any, b: Any, atol: float = 1e-6) -> None:
    a, b = _as_numpy(a), _as_numpy(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], atol=atol, rtol=1e-5, err_msg=key)
    else:
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5)


def _shape_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: tuple(v.shape) for k, v in value.items()}
    return tuple(value.shape)


def check_saved_model(model: keras.Model, x: Any, atol: float = 1e-6) -> keras.Model:
    """Save to `.keras`, load back, assert identical inference outputs; return the loaded model."""
    expected = model(x, training=False)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert_same_outputs(expected, loaded(x, training=False), atol=atol)
    return loaded


def check_one_step_fit(model: keras.Model, x: Any, learning_rate: float = 1e-2) -> float:
    """One SGD step on an MSE target; the loss is finite and trainable weights move."""
    y = model(x, training=False)
    target = keras.tree.map_structure(
        lambda v: np.random.default_rng(1).standard_normal(v.shape).astype("float32"), _as_numpy(y)
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse", run_eagerly=True)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, target, batch_size=len(x), epochs=1, verbose=0)
    loss = float(history.history["loss"][-1])
    assert np.isfinite(loss), loss
    if before:
        after = [w.numpy() for w in model.trainable_weights]
        assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True)), (
            "no trainable weight changed"
        )
    return loss


def run_layer_test(
    layer_or_builder: keras.layers.Layer | Callable[[Any], Any],
    input_shape: tuple[int | None, ...],
    expected_output_shape: tuple[int | None, ...] | dict[str, tuple[int | None, ...]],
    *,
    x: np.ndarray | None = None,
    symbolic_shape: tuple[int | None, ...] | None = None,
    expected_num_params: int | None = None,
    fit: bool = True,
    save: bool = True,
    atol: float = 1e-6,
) -> keras.Model:
    """Check a layer or an `apply_*(tensor) -> tensor` builder; return the wrapping model.

    input_shape includes the batch size (a concrete test input is drawn from
    it unless `x` is given); `symbolic_shape` (without batch) overrides the
    Input's shape, e.g. (None, 8) for a variable-length time axis.
    """
    x = random_input(tuple(input_shape)) if x is None else x
    inputs = keras.Input(shape=symbolic_shape or tuple(input_shape[1:]))
    is_layer = isinstance(layer_or_builder, keras.layers.Layer)
    outputs = layer_or_builder(inputs)
    model = keras.Model(inputs, outputs)
    result = model(x, training=False)
    assert _shape_of(result) == expected_output_shape, (_shape_of(result), expected_output_shape)
    if expected_num_params is not None:
        assert model.count_params() == expected_num_params, (model.count_params(), expected_num_params)

    if is_layer:
        layer = layer_or_builder
        config = layer.get_config()
        clone = layer.__class__.from_config(config)
        assert clone.get_config() == config
        clone_model = keras.Model(
            inputs := keras.Input(shape=symbolic_shape or tuple(input_shape[1:])), clone(inputs)
        )
        clone.set_weights(layer.get_weights())
        assert_same_outputs(result, clone_model(x, training=False), atol=atol)
    else:
        clone_model = keras.Model.from_config(model.get_config())
        clone_model.set_weights(model.get_weights())
        assert_same_outputs(result, clone_model(x, training=False), atol=atol)

    if save:
        check_saved_model(model, x, atol=atol)
    if fit and model.trainable_weights:
        check_one_step_fit(model, x)
    return model


def layer_sequence(model: keras.Model, prefix: str = "") -> list[tuple[str, str]]:
    """(name, class name) of the model's layers in graph order, filtered by a name prefix."""
    return [(layer.name, type(layer).__name__) for layer in model.layers if layer.name.startswith(prefix)]


def tone_corpus(root: Any, freqs: tuple[float, ...] = (150.0, 900.0, 3000.0), utterances: int = 2) -> list:
    """One "speaker" per tone frequency, `utterances` noisy sines each (6000, 8000, ... samples at 16 kHz,
    ROOT/id<spk>/s<k>/u.wav); returns every pair of them as trials (label 1 within a frequency)."""
    import soundfile as sf

    from speaker_tf.evaluation.scoring import Trial

    rng = np.random.default_rng(0)
    t = np.arange(6000 + 2000 * utterances) / 16000
    utts = []
    for spk, freq in enumerate(freqs):
        for k in range(utterances):
            rel = f"id{spk}/s{k}/u.wav"
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            n = 6000 + 2000 * k
            wav = 0.5 * np.sin(2 * np.pi * freq * t[:n]) + 0.01 * rng.normal(size=n)
            sf.write(os.path.join(root, rel), wav.astype(np.float32), 16000)
            utts.append((spk, rel))
    return [Trial(int(a[0] == b[0]), a[1], b[1]) for i, a in enumerate(utts) for b in utts[i + 1 :]]
