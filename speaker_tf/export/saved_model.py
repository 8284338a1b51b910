"""SavedModel export of a speaker encoder for a stock TensorFlow Serving image.

``export_encoder`` writes ``EXPORT_BASE/NAME/<version>/`` with these signatures
(all inputs at ``sample_rate`` = 16 kHz, every embedding L2-normalised):

============== ============================================== ===========================================
signature      inputs                                         outputs
============== ============================================== ===========================================
serving_default ``waveform`` float32 [batch, samples]         ``embedding`` float32 [batch, D]
embed_wav      ``wav`` string [batch] (WAV file bytes)        ``embedding`` float32 [batch, D]
embed_utterances ``waveform`` float32 [batch, samples],       ``embedding`` float32 [batch, D]
               ``length`` int32 [batch] (valid samples/row)
verify         ``waveform_a``, ``waveform_b`` float32         ``score`` float32 [batch] (cosine),
               [batch, samples_a], [batch, samples_b]         ``accept`` bool [batch] (score >= threshold)
metadata       ``unused`` float32 [any] (send e.g. ``[0]``)   ``threshold``, ``val_eer`` float32 scalars;
                                                              ``sample_rate``, ``min_samples``,
                                                              ``window_samples``, ``hop_samples``,
                                                              ``embedding_dim`` int32 scalars
============== ============================================== ===========================================

Clients send raw samples: every signature applies the training input
normalisation itself (each row divided by its peak absolute value; a row whose
peak is below 1e-9 is left as is, as ``speaker_tf.data.audio.peak_normalise``)
and zero-pads rows shorter than ``min_samples``. ``serving_default`` and
``verify`` embed each row whole. ``embed_wav`` and ``embed_utterances`` embed
an utterance longer than ``window_samples`` as the mean of the embeddings of
windows starting every ``hop_samples`` (plus one window ending at the last
sample when the hops do not reach it), each window normalised on its own
exactly as a ``serving_default`` row, then re-L2-normalise the mean; a shorter
utterance is embedded whole. ``embed_wav`` decodes 16-bit PCM WAV in the graph,
averages its channels and fails (InvalidArgument) unless it is at
``sample_rate``.

How a client reads the decision threshold and the validation EER:
TF Serving: Predict on signature ``metadata`` (``{"signature_name": "metadata",
"inputs": {"unused": [0]}}`` over REST). Python: ``m = tf.saved_model.load(dir)``
then ``m.threshold[0].numpy()`` / ``m.val_eer[0].numpy()`` (restored
tf.Variables) or ``m.signatures["metadata"](unused=tf.zeros([1]))``. Without
TensorFlow: ``assets.extra/speaker_tf.json``. ``verify`` reads the same
``threshold`` variable.

The encoder is exported with the weights it holds: training saves
``encoder.keras`` with the EMA weights already swapped in, so an export of a
run directory serves the EMA model without anything to do here.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speaker_tf.errors import ExportError
from speaker_tf.export.layout import (
    METADATA_FILE,
    SIGNATURES,
    check_model_name,
    compute_model_id,
    existing_versions,
    next_version,
)

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["export_encoder", "load_run_encoder", "serving_functions", "PEAK_EPS", "WINDOW_CHUNK"]

PEAK_EPS = 1e-9  # same guard as speaker_tf.data.audio.peak_normalise
WINDOW_CHUNK = 32  # windows embedded per encoder call in the long-audio path (bounds memory)


def load_run_encoder(run_dir: str | os.PathLike) -> tuple[keras.Model, dict[str, Any]]:
    """The encoder of a training run and the metadata the export needs.

    Reads ``RUN_DIR/encoder.keras`` (saved with EMA weights applied) and
    ``RUN_DIR/metrics.json`` (``eer_threshold``, ``val_eer``, ``min_samples``);
    ``config.json`` is passed along when present.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise ExportError(f"run directory {str(run)!r} does not exist")
    model_path = run / "encoder.keras"
    metrics_path = run / "metrics.json"
    for needed in (model_path, metrics_path):
        if not needed.is_file():
            raise ExportError(f"run directory {str(run)!r} has no {needed.name} (expected {str(needed)!r})")
    try:
        metrics = json.loads(metrics_path.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{str(metrics_path)!r} is not valid JSON: {exc}") from None
    missing = [k for k in ("eer_threshold", "val_eer", "min_samples") if k not in metrics]
    if missing:
        raise ExportError(f"{str(metrics_path)!r} lacks key(s) {', '.join(missing)}")
    metadata: dict[str, Any] = {
        "threshold": float(metrics["eer_threshold"]),
        "val_eer": float(metrics["val_eer"]),
        "min_samples": int(metrics["min_samples"]),
        "run_dir": str(run.resolve()),
    }
    config_path = run / "config.json"
    if config_path.is_file():
        try:
            metadata["config"] = json.loads(config_path.read_text())
        except (OSError, ValueError) as exc:
            raise ExportError(f"{str(config_path)!r} is not valid JSON: {exc}") from None
        sample_rate = (
            metadata["config"].get("data", {}).get("sample_rate")
            if isinstance(metadata["config"], dict)
            else None
        )
        if sample_rate:
            metadata["sample_rate"] = int(sample_rate)

    import keras

    for module in ("speaker_tf.models", "speaker_tf.losses"):  # register custom layers
        try:
            __import__(module)
        except ImportError:
            pass
    try:
        encoder = keras.saving.load_model(str(model_path), compile=False)
    except Exception as exc:  # unknown layer, corrupt zip, version mismatch
        raise ExportError(f"cannot load {str(model_path)!r}: {exc}") from None
    return encoder, metadata


def _build_archive(
    encoder: keras.Model,
    *,
    threshold: float,
    val_eer: float,
    min_samples: int,
    window_samples: int,
    hop_samples: int,
    sample_rate: int,
):
    """An ExportArchive holding the encoder and the five signatures, its size D, and the
    signatures as callable functions by name (``ExportedModel`` uses them in memory for a run)."""
    import keras
    import tensorflow as tf

    dim = encoder.output_shape[-1]
    if not isinstance(dim, int):
        raise ExportError(f"encoder output shape {encoder.output_shape} has no static embedding size")

    threshold_var = tf.Variable(float(threshold), dtype=tf.float32, trainable=False, name="threshold")
    val_eer_var = tf.Variable(float(val_eer), dtype=tf.float32, trainable=False, name="val_eer")
    # Sizes are graph constants (int32 resource variables are awkward on GPU servers);
    # the metadata signature and speaker_tf.json expose them.
    min_c = tf.constant(int(min_samples), tf.int32)
    window_c = tf.constant(int(window_samples), tf.int32)
    hop_c = tf.constant(int(hop_samples), tf.int32)

    # Traced once and called by every signature: the encoder graph is built (and stored) once.
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)], autograph=False)
    def embed_batch(x):
        """Rows of raw samples -> L2-normalised embeddings, as in training."""
        x = tf.cast(x, tf.float32)
        peak = tf.reduce_max(tf.abs(x), axis=-1, keepdims=True)
        peak = tf.where(peak >= PEAK_EPS, peak, tf.ones_like(peak))
        x = x / peak
        short = tf.maximum(min_c - tf.shape(x)[1], 0)
        x = tf.pad(x, [[0, 0], [0, short]])
        e = tf.cast(encoder(x, training=False), tf.float32)
        return tf.math.l2_normalize(e, axis=-1)

    def embed_one(x):
        """One utterance [samples] -> [D]: whole if short, else mean of windows."""
        n = tf.shape(x)[0]

        def whole():
            return embed_batch(x[tf.newaxis, :])[0]

        def windowed():
            starts = tf.range(0, n - window_c + 1, hop_c)
            last = n - window_c
            starts = tf.cond(starts[-1] < last, lambda: tf.concat([starts, [last]], axis=0), lambda: starts)
            count = tf.shape(starts)[0]

            def body(i, total):
                chunk = starts[i : i + WINDOW_CHUNK]
                frames = tf.gather(x, chunk[:, tf.newaxis] + tf.range(window_c)[tf.newaxis, :])
                return i + WINDOW_CHUNK, total + tf.reduce_sum(embed_batch(frames), axis=0)

            _, total = tf.while_loop(
                lambda i, total: i < count, body, (tf.constant(0), tf.zeros([dim], tf.float32))
            )
            return tf.math.l2_normalize(total / tf.cast(count, tf.float32))

        return tf.cond(n > window_c, windowed, whole)

    out_spec = tf.TensorSpec([dim], tf.float32)

    @tf.function(autograph=False)
    def serving_default(waveform):
        return {"embedding": embed_batch(waveform)}

    @tf.function(autograph=False)
    def embed_wav(wav):
        def decode_and_embed(data):
            audio, rate = tf.audio.decode_wav(data)
            check = tf.debugging.assert_equal(
                rate,
                tf.constant(int(sample_rate), tf.int32),
                message=f"embed_wav expects {int(sample_rate)} Hz WAV",
            )
            with tf.control_dependencies([check]):
                mono = tf.reduce_mean(audio, axis=1)
            return embed_one(mono)

        return {"embedding": tf.map_fn(decode_and_embed, wav, fn_output_signature=out_spec)}

    @tf.function(autograph=False)
    def embed_utterances(waveform, length):
        total = tf.shape(waveform)[1]
        length = tf.clip_by_value(tf.cast(length, tf.int32), 0, total)

        def one(args):
            row, n = args
            return embed_one(row[:n])

        return {"embedding": tf.map_fn(one, (waveform, length), fn_output_signature=out_spec)}

    @tf.function(autograph=False)
    def verify(waveform_a, waveform_b):
        score = tf.reduce_sum(embed_batch(waveform_a) * embed_batch(waveform_b), axis=-1)
        return {"score": score, "accept": score >= threshold_var}

    @tf.function(autograph=False)
    def metadata(unused):
        del unused
        return {
            "threshold": tf.identity(threshold_var),
            "val_eer": tf.identity(val_eer_var),
            "sample_rate": tf.constant(int(sample_rate), tf.int32),
            "min_samples": tf.identity(min_c),
            "window_samples": tf.identity(window_c),
            "hop_samples": tf.identity(hop_c),
            "embedding_dim": tf.constant(int(dim), tf.int32),
        }

    archive = keras.export.ExportArchive()
    endpoints = {}
    # Not archive.track(encoder): the endpoints capture its variables already, and tracking
    # walks the whole Keras object graph at save time (tens of seconds for the real encoder)
    # for lookup tables a speaker encoder does not have.
    # serving_default first: ExportArchive also aliases the first endpoint as the default.
    endpoints["serving_default"] = archive.add_endpoint(
        "serving_default", serving_default, [tf.TensorSpec([None, None], tf.float32, "waveform")]
    )
    endpoints["embed_wav"] = archive.add_endpoint(
        "embed_wav", embed_wav, [tf.TensorSpec([None], tf.string, "wav")]
    )
    endpoints["embed_utterances"] = archive.add_endpoint(
        "embed_utterances",
        embed_utterances,
        [tf.TensorSpec([None, None], tf.float32, "waveform"), tf.TensorSpec([None], tf.int32, "length")],
    )
    endpoints["verify"] = archive.add_endpoint(
        "verify",
        verify,
        [
            tf.TensorSpec([None, None], tf.float32, "waveform_a"),
            tf.TensorSpec([None, None], tf.float32, "waveform_b"),
        ],
    )
    endpoints["metadata"] = archive.add_endpoint(
        "metadata", metadata, [tf.TensorSpec([None], tf.float32, "unused")]
    )
    archive.add_variable_collection("threshold", [threshold_var])
    archive.add_variable_collection("val_eer", [val_eer_var])
    return archive, dim, endpoints


def serving_functions(
    encoder: keras.Model,
    *,
    threshold: float,
    val_eer: float,
    min_samples: int,
    window_seconds: float = 2.0,
    hop_seconds: float = 1.0,
    sample_rate: int = 16000,
) -> dict[str, Any]:
    """The export's five signatures as in-memory functions, nothing written to disk.

    What ``export_encoder`` would save, callable by signature name with the same
    keyword inputs (``ExportedModel`` serves a training run this way). The window
    is widened to ``min_samples`` when shorter.
    """
    window_samples = max(int(round(window_seconds * sample_rate)), int(min_samples))
    _, _, endpoints = _build_archive(
        encoder,
        threshold=threshold,
        val_eer=val_eer,
        min_samples=int(min_samples),
        window_samples=window_samples,
        hop_samples=min(int(round(hop_seconds * sample_rate)), window_samples),
        sample_rate=sample_rate,
    )
    return endpoints


def export_encoder(
    encoder: keras.Model,
    export_base: str | os.PathLike,
    name: str,
    version: int | None = None,
    *,
    threshold: float,
    val_eer: float,
    min_samples: int,
    window_seconds: float = 2.0,
    hop_seconds: float = 1.0,
    sample_rate: int = 16000,
    extra_metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``export_base/name/<version>/`` for TF Serving and return that folder.

    ``version`` None takes the largest existing version + 1 (1 for a new
    model). An existing version is never overwritten (ExportError). The export
    is assembled in a hidden temporary folder beside it and renamed into place,
    so a server watching ``export_base/name`` never sees a half-written version
    and a failed export leaves nothing behind.
    """
    check_model_name(name)
    if version is not None and (isinstance(version, bool) or int(version) != version or version < 1):
        raise ValueError(f"version must be an integer >= 1, got {version!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    window_samples = int(round(window_seconds * sample_rate))
    hop_samples = int(round(hop_seconds * sample_rate))
    if window_samples < 1 or hop_samples < 1:
        raise ValueError(
            f"window_seconds and hop_seconds must be positive, got {window_seconds}, {hop_seconds}"
        )
    if hop_samples > window_samples:
        raise ValueError(f"hop_seconds ({hop_seconds}) must not exceed window_seconds ({window_seconds})")
    if int(min_samples) < 1:
        raise ValueError(f"min_samples must be >= 1, got {min_samples}")
    if int(min_samples) > window_samples:
        raise ValueError(
            f"window_seconds ({window_seconds}) is shorter than the encoder's minimum "
            f"of {min_samples} samples"
        )

    model_dir = Path(export_base) / name
    if version is None:
        version = next_version(model_dir)
    target = model_dir / str(int(version))
    if target.exists():
        raise ExportError(
            f"export {str(target)!r} already exists (versions present: {existing_versions(model_dir)}); "
            "choose another --version or omit it to take the next one"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / f".tmp-{int(version)}-{uuid.uuid4().hex[:8]}"
    try:
        archive, dim, _ = _build_archive(
            encoder,
            threshold=threshold,
            val_eer=val_eer,
            min_samples=int(min_samples),
            window_samples=window_samples,
            hop_samples=hop_samples,
            sample_rate=sample_rate,
        )
        # Custom gradients stay saved (TF's default): without them every tf.saved_model.load
        # warns about "unsaved custom gradients", although skipping them saves ~1/3 of the time.
        archive.write_out(str(tmp), verbose=False)
        info: dict[str, Any] = {
            "format": "speaker_tf.export/1",
            "name": name,
            "version": int(version),
            "model_id": compute_model_id(tmp),
            "threshold": float(threshold),
            "val_eer": float(val_eer),
            "sample_rate": int(sample_rate),
            "min_samples": int(min_samples),
            "window_samples": window_samples,
            "hop_samples": hop_samples,
            "embedding_dim": int(dim),
            "signatures": list(SIGNATURES),
            "peak_normalisation": "inside the graph (clients send raw samples)",
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        if extra_metadata:
            info.update({k: v for k, v in extra_metadata.items() if k not in info})
        from speaker_tf.export.warmup import write_warmup_requests

        write_warmup_requests(tmp, info)
        (tmp / METADATA_FILE).write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
        if target.exists():  # another exporter took this version meanwhile
            raise ExportError(f"export {str(target)!r} already exists; not overwritten")
        try:
            os.rename(tmp, target)
        except OSError as exc:
            raise ExportError(f"cannot move the export into {str(target)!r}: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
