"""tf.data input pipeline: in-graph WAV decoding, crops, P x K batches, DataPP.

Takes plain lists of file paths (16-bit PCM mono WAV) and integer labels; knows
nothing of corpus layouts. Everything after the list of paths runs as graph
ops (no `py_function` / `numpy_function`), so the pipeline parallelises in the
tf.data runtime, can be iterated inside a `tf.function` and can run on tf.data
service workers. One exception: with `data.records` a crop's bytes are sliced out
of its packed shard by one `tf.numpy_function` (speaker_tf/data/records.py).

Choices (documented here once):

* Every utterance is peak-normalised as a whole (divided by its max |x|;
  an all-zero file stays zero), then cropped. A crop's own peak can therefore
  be below 1.
* Crops shorter than the file start at a uniformly random offset (training)
  or at sample 0 (evaluation: the first `eval_seconds`, as the original's
  inference used the first seconds). Files shorter than the crop are
  left-aligned and zero-padded at the end, in training and evaluation.
* Batches: each step draws P distinct speakers uniformly without replacement,
  and for each K utterances from a fresh random permutation of its files
  (permutation position j mod n_files, so a speaker with fewer than K files
  repeats them as evenly as possible: sampling with replacement). Labels come
  grouped: P runs of K equal labels, speakers in random order. The stream is
  infinite; the trainer decides how many steps make an epoch.
* Fewer speakers than P is an error (`ConfigError`, a `ValueError`) that names
  both numbers: silently shrinking batches would change the loss.
* Randomness is stateless: step s uses seed fold_in(seed, s), element e of the
  stream fold_in(seed, e) (crop offset and augmentation), so a seed fixes
  every batch regardless of parallelism, and caching does not change results.
* `config.cache` keeps the decoded corpus in memory (int16, 2 bytes per sample,
  plus each file's peak), decoded once when the dataset is built; crops and
  augmentation are still drawn per step. It is meant for corpora that fit in
  RAM (the embedded synthetic corpus, subsets), not the full VoxCeleb2.
* `config.robust` (the recipes' augmentation, speaker_tf/data/augment/policy.py)
  runs after the crop and before DataPP. Its speed factors multiply the
  speakers: the sampler draws P of the n_speakers x n_factors (speaker,
  factor) pairs, labelled label + factor_index * (max label + 1)
  (`train_classes` gives the head's size); each crop is cut long enough for
  its factor (round(crop x factor) samples) and resampled to the crop.
  Babble noise mixes crops of other speakers' files: all files with
  `config.cache`, else `robust.babble_files` of them decoded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import tensorflow as tf

from speaker_tf.config.data import AugmentConfig, DataConfig
from speaker_tf.data.augment import augment, build_sources, robust_augment, speed_factors
from speaker_tf.data.augment.noise import BabblePool, babble_subset
from speaker_tf.data.augment.speed import change_speed, input_length
from speaker_tf.errors import ConfigError

__all__ = [
    "crop_or_pad",
    "decode_wav",
    "eval_dataset",
    "load_waveform",
    "peak_normalize",
    "train_classes",
    "train_dataset",
]

# Salts deriving independent seed streams from the user's seed.
_SAMPLER, _ELEMENT = 1, 2


def _header_checks(path: tf.Tensor, contents: tf.Tensor) -> list[tf.Operation]:
    """Assertions on the RIFF header, so that files decode_wav rejects (not WAV, not
    16-bit) fail with a message naming the file. The bit depth is read when the
    "fmt " chunk comes first (as every common writer puts it)."""
    header = tf.strings.substr(tf.strings.join([contents, "\0" * 44]), 0, 44)
    is_wav = tf.logical_and(
        tf.equal(tf.strings.substr(header, 0, 4), "RIFF"), tf.equal(tf.strings.substr(header, 8, 4), "WAVE")
    )
    fmt_first = tf.equal(tf.strings.substr(header, 12, 4), "fmt ")
    bits = tf.cast(tf.io.decode_raw(tf.strings.substr(header, 34, 2), tf.uint16)[0], tf.int32)
    return [
        tf.debugging.Assert(is_wav, [tf.strings.join([path, ": not a RIFF/WAVE file"])]),
        tf.debugging.Assert(
            tf.logical_or(tf.logical_not(fmt_first), tf.equal(bits, 16)),
            [tf.strings.join([path, ": ", tf.strings.as_string(bits), "-bit samples, expected 16-bit PCM"])],
        ),
    ]


def decode_wav(path: tf.Tensor | str, sample_rate: int) -> tf.Tensor:
    """Read and decode a 16-bit PCM WAV in the graph: float32 [samples] = int16 / 32768.

    In-graph assertions check the header (RIFF/WAVE, 16-bit), the sample rate
    and that the file is mono; their `InvalidArgumentError` message names the file.
    """
    path = tf.convert_to_tensor(path, tf.string)
    contents = tf.io.read_file(path)
    with tf.control_dependencies(_header_checks(path, contents)):
        audio, rate = tf.audio.decode_wav(contents)
    channels = tf.shape(audio)[1]
    checks = [
        tf.debugging.Assert(
            tf.equal(rate, sample_rate),
            [
                tf.strings.join(
                    [
                        path,
                        ": sample rate ",
                        tf.strings.as_string(rate),
                        " Hz, expected ",
                        str(int(sample_rate)),
                        " Hz",
                    ]
                )
            ],
        ),
        tf.debugging.Assert(
            tf.equal(channels, 1),
            [
                tf.strings.join(
                    [
                        path,
                        ": ",
                        tf.strings.as_string(channels),
                        " channels, expected mono",
                    ]
                )
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(audio[:, 0])


def peak_normalize(waveform: tf.Tensor) -> tf.Tensor:
    """Divide by the max absolute value; silence (all zeros) stays zeros, never NaN."""
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    return tf.math.divide_no_nan(waveform, tf.reduce_max(tf.abs(waveform)))


def load_waveform(path: tf.Tensor | str, sample_rate: int) -> tf.Tensor:
    """Decoded and peak-normalised whole utterance (float32 [samples])."""
    return peak_normalize(decode_wav(path, sample_rate))


def _crop_offset(n: tf.Tensor, length: int, seed: tf.Tensor | None) -> tf.Tensor:
    """Start of the window: uniform in [0, max(n - length, 0)] with a seed, else 0."""
    if seed is None:
        return tf.constant(0, tf.int32)
    return tf.random.stateless_uniform([], seed, 0, tf.maximum(n - length, 0) + 1, dtype=tf.int32)


def _pad_to(window: tf.Tensor, length: int) -> tf.Tensor:
    window = tf.pad(window, [[0, length - tf.shape(window)[0]]])
    return tf.ensure_shape(window, [length])


def crop_or_pad(waveform: tf.Tensor, length: int, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Exactly `length` samples: a window of a longer signal, or the signal zero-padded at the end.

    With `seed` (shape [2]) the window starts at a uniformly random offset in
    [0, n - length]; without, at 0.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    offset = _crop_offset(tf.shape(waveform)[0], length, seed)
    return _pad_to(waveform[offset : offset + length], length)


def _samples(seconds: float, sample_rate: int) -> int:
    return int(round(seconds * sample_rate))


def _check_augment(aug: AugmentConfig) -> None:
    for name in ("p_smooth", "p_noise", "p_noise_smooth", "p_clean", "p_two"):
        value = getattr(aug, name)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"data.augment.{name} must be a probability in [0, 1], got {value!r}")
    for name in ("smooth_sigma", "noise_std", "noise_smooth_sigma", "amplitude_db"):
        value = getattr(aug, name)
        if value < 0:
            raise ConfigError(f"data.augment.{name} must be >= 0, got {value!r}")
    if aug.max_noise_passes < 1:
        raise ConfigError(f"data.augment.max_noise_passes must be >= 1, got {aug.max_noise_passes!r}")
    if aug.policy not in ("datapp", "clean_one_two"):
        raise ConfigError(f"data.augment.policy must be 'datapp' or 'clean_one_two', got {aug.policy!r}")


def train_classes(labels: Sequence[int], config: DataConfig) -> int:
    """Classes of `train_dataset`'s labels: (max label + 1) x the number of speed factors."""
    return (int(np.max(labels)) + 1) * len(speed_factors(config.robust))


def _speaker_table(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted distinct labels [S], file indices per speaker padded with -1 [S, M], counts [S])."""
    speakers, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    table = np.full((len(speakers), int(counts.max())), -1, dtype=np.int32)
    fill = np.zeros(len(speakers), dtype=np.int64)
    for i, s in enumerate(inverse):
        table[s, fill[s]] = i
        fill[s] += 1
    return speakers.astype(np.int32), table, counts.astype(np.int32)


def _decode_all(paths: Sequence[str], sample_rate: int) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Decode every file once (in-graph, parallel): flat int16 samples, int64 offsets [N + 1], peaks [N]."""
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(list(paths), tf.string)).map(
        lambda p: tf.cast(tf.round(decode_wav(p, sample_rate) * 32768.0), tf.int16),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    chunks = list(ds.as_numpy_iterator())
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    peaks = np.array([np.abs(c.astype(np.int32)).max() if len(c) else 0 for c in chunks], np.float32)
    return tf.constant(flat), tf.constant(offsets), tf.constant(peaks)


def _shard_rows(batch: int, shard_index: int, num_shards: int) -> slice:
    """The rows of a global batch that input pipeline `shard_index` of `num_shards` produces."""
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ValueError(f"shard_index must be in [0, num_shards), got {shard_index} of {num_shards}")
    if batch % num_shards:
        raise ConfigError(
            f"the P x K batch of {batch} does not split evenly into {num_shards} input pipelines"
        )
    size = batch // num_shards
    return slice(shard_index * size, (shard_index + 1) * size)


def train_dataset(
    paths: Sequence[str],
    labels: Sequence[int],
    config: DataConfig,
    seed: int,
    shard_index: int = 0,
    num_shards: int = 1,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Infinite stream of P x K batches: (waveforms float32 [P*K, crop], labels int32 [P*K]).

    P = `config.speakers_per_batch` distinct speakers, K =
    `config.utterances_per_speaker` utterances each, labels grouped; random
    crops of `config.crop_seconds`; the recipes' augmentation when
    `config.robust.enabled` (labels then go up to `train_classes`), DataPP
    when `config.augment.enabled`. The same `seed` gives the same batches.
    With `num_shards` > 1 (one input pipeline per worker) the stream holds
    only rows [i * B / n, (i + 1) * B / n) of every global batch (i =
    `shard_index`), and only those are read: the shards of a step
    concatenated are the single-pipeline batch. `start_step` = s starts the
    stream at batch s without computing the earlier ones (a resumed run).
    """
    paths = [str(p) for p in paths]
    label_arr = np.asarray(labels)
    if len(paths) == 0:
        raise ValueError("train_dataset needs at least one file, got an empty list of paths")
    if label_arr.shape != (len(paths),):
        raise ValueError(
            f"labels must be a flat list as long as paths ({len(paths)}), got shape {label_arr.shape}"
        )
    if not np.issubdtype(label_arr.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {label_arr.dtype}")
    if label_arr.min() < np.iinfo(np.int32).min or label_arr.max() > np.iinfo(np.int32).max:
        raise ValueError("labels must fit in int32")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be a non-negative 64-bit integer, got {seed!r}")
    if not 0 <= int(start_step) < 2**62:
        raise ValueError(f"start_step must be a non-negative integer, got {start_step!r}")
    p_count, k_count = config.speakers_per_batch, config.utterances_per_speaker
    if p_count < 2:
        raise ConfigError(f"data.speakers_per_batch must be >= 2 (a batch needs negatives), got {p_count}")
    if k_count < 1:
        raise ConfigError(f"data.utterances_per_speaker must be >= 1, got {k_count}")
    crop = _samples(config.crop_seconds, config.sample_rate)
    if crop < 1:
        raise ConfigError(f"data.crop_seconds must give at least one sample, got {config.crop_seconds!r}")
    speakers, table, counts = _speaker_table(label_arr)
    if len(speakers) < p_count:
        raise ConfigError(
            f"the training corpus has {len(speakers)} speaker(s) but data.speakers_per_batch (P) is "
            f"{p_count}: a P x K batch needs at least P distinct speakers; lower P or add speakers"
        )
    if config.augment.enabled:
        _check_augment(config.augment)
    factors = speed_factors(config.robust)
    if len(factors) > 1 and label_arr.min() < 0:
        raise ValueError("speed perturbation (data.robust.speed_factors) needs labels >= 0")
    label_offset = int(label_arr.max()) + 1  # speed factor i: label + i * label_offset
    window = max(input_length(crop, f) for f in factors)  # = crop without speed perturbation

    batch = p_count * k_count
    rows = _shard_rows(batch, shard_index, num_shards)
    n_speakers, max_files = table.shape
    speakers_t = tf.constant(speakers)
    table_t = tf.constant(table)
    counts_t = tf.constant(counts)
    base = tf.constant([int(seed), 0], tf.int64)
    sampler_seed = tf.random.experimental.stateless_fold_in(base, _SAMPLER)
    element_seed = tf.random.experimental.stateless_fold_in(base, _ELEMENT)

    def sample_step(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        s = tf.random.experimental.stateless_fold_in(sampler_seed, step)
        keys = tf.random.stateless_uniform(
            [n_speakers * len(factors)], tf.random.experimental.stateless_fold_in(s, 0)
        )
        pairs = tf.argsort(keys)[:p_count]  # P distinct (speaker, speed factor) pairs
        chosen, factor_index = pairs % n_speakers, pairs // n_speakers
        n_files = tf.gather(counts_t, chosen)  # [P]
        file_keys = tf.random.stateless_uniform(
            [p_count, max_files], tf.random.experimental.stateless_fold_in(s, 1)
        )
        valid = tf.range(max_files)[None, :] < n_files[:, None]
        perm = tf.argsort(tf.where(valid, file_keys, 2.0), axis=1)  # valid files first, shuffled
        position = tf.range(k_count)[None, :] % n_files[:, None]  # [P, K]
        column = tf.gather(perm, position, batch_dims=1)
        files = tf.gather(tf.gather(table_t, chosen), column, batch_dims=1)
        batch_labels = tf.repeat(tf.gather(speakers_t, chosen) + factor_index * label_offset, k_count)
        element = step * batch + tf.range(batch, dtype=tf.int64)
        return (
            tf.reshape(files, [batch])[rows],
            batch_labels[rows],
            element[rows],
            tf.repeat(factor_index, k_count)[rows],
            tf.repeat(chosen, k_count)[rows],
        )

    # Each example: crop the decoded utterance, then divide the crop by the whole
    # utterance's peak (same values as normalising first, without touching
    # the samples outside the crop).
    if config.records:  # packed TFRecord shards: read each crop from its shard, same values
        from speaker_tf.data.records import crop_loader

        load_crop = crop_loader(config.records, paths, window, config.sample_rate)
    elif config.cache:
        flat, offsets, peaks = _decode_all(paths, config.sample_rate)

        def load_crop(index: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
            start = offsets[index]
            n = tf.cast(offsets[index + 1] - start, tf.int32)
            offset = _crop_offset(n, window, seed)
            end = start + tf.cast(tf.minimum(offset + window, n), tf.int64)
            samples = tf.cast(flat[start + tf.cast(offset, tf.int64) : end], tf.float32)
            return tf.math.divide_no_nan(_pad_to(samples, window), peaks[index])
    else:
        paths_t = tf.constant(paths, tf.string)

        def load_crop(index: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
            raw = decode_wav(paths_t[index], config.sample_rate)
            peak = tf.reduce_max(tf.abs(raw))
            return tf.math.divide_no_nan(crop_or_pad(raw, window, seed), peak)

    sources, pool = None, None
    if config.robust.enabled:
        robust = config.robust
        sources = build_sources(robust, config.sample_rate)  # validates the section first
        if robust.p_noise > 0 and robust.babble_weight > 0:  # babble: other speakers' utterances
            speaker_rows = np.searchsorted(speakers, label_arr)
            if config.cache:
                pool = BabblePool(flat, offsets, peaks, speaker_rows)
            else:
                subset = babble_subset(speaker_rows, robust.babble_files, seed)
                decoded = _decode_all([paths[i] for i in subset], config.sample_rate)
                pool = BabblePool(*decoded, speaker_rows[subset])

    def speed(x: tf.Tensor, factor_index: tf.Tensor) -> tf.Tensor:
        def branch(f: float):
            if f == 1.0:
                return lambda: x[:crop]
            return lambda: change_speed(x[: input_length(crop, f)], f, crop)

        return tf.ensure_shape(tf.switch_case(factor_index, [branch(f) for f in factors]), [crop])

    def make_example(
        index: tf.Tensor, label: tf.Tensor, element: tf.Tensor, factor_index: tf.Tensor, row: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        e = tf.random.experimental.stateless_fold_in(element_seed, element)
        x = load_crop(index, tf.random.experimental.stateless_fold_in(e, 0))
        if factors != (1.0,):
            x = speed(x, factor_index)
        if sources is not None:
            own = replace(sources, other=(lambda s: pool.draw(s, row, crop)) if pool else None)
            x = robust_augment(
                x,
                tf.random.experimental.stateless_fold_in(e, 2),
                config.robust,
                own,
                config.sample_rate,
                label=label,
            )
            x = tf.ensure_shape(x, [crop])
        if config.augment.enabled:
            x = augment(x, tf.random.experimental.stateless_fold_in(e, 1), config.augment)
            x = tf.ensure_shape(x, [crop])
        return x, label

    # The step indices come from `range`, not `counter` (a scan whose state each tf.data service
    # worker would restart): a tf.data service splits a range, one step per split (service.py).
    return (
        tf.data.Dataset.range(int(start_step), 2**63 - 1)
        .map(sample_step)
        .unbatch()
        .map(make_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(rows.stop - rows.start, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def eval_dataset(
    paths: Sequence[str],
    config: DataConfig,
    batch_size: int = 32,
    with_lengths: bool = False,
) -> tf.data.Dataset:
    """Waveforms of `paths` in order, batched: float32 [B, T] (or (waveforms, lengths int32 [B])).

    T = `config.eval_seconds` of samples (the first ones; short files
    zero-padded at the end), or the whole utterance when eval_seconds == 0:
    then batch_size must be 1 unless `with_lengths` (batches are zero-padded to
    their longest file, and lengths say how many samples are real).
    Deterministic; cached after the first pass when `config.cache`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    whole = config.eval_seconds == 0
    if config.eval_seconds < 0:
        raise ConfigError(
            f"data.eval_seconds must be >= 0 (0 = whole utterance), got {config.eval_seconds!r}"
        )
    if whole and batch_size > 1 and not with_lengths:
        raise ValueError(
            f"data.eval_seconds = 0 (whole utterances) with batch_size {batch_size} would zero-pad "
            "utterances to the longest in the batch; use batch_size=1 or with_lengths=True"
        )
    length = _samples(config.eval_seconds, config.sample_rate)
    if not whole and length < 1:
        raise ConfigError(f"data.eval_seconds must give at least one sample, got {config.eval_seconds!r}")

    def load(path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = load_waveform(path, config.sample_rate)
        n = tf.shape(x)[0]
        if whole:
            return x, n
        return crop_or_pad(x, length), tf.minimum(n, length)

    ds = tf.data.Dataset.from_tensor_slices(tf.constant([str(p) for p in paths], tf.string))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if config.cache:
        ds = ds.cache()
    if whole:
        ds = ds.padded_batch(batch_size, padded_shapes=([None], []))
    else:
        ds = ds.batch(batch_size)
    if not with_lengths:
        ds = ds.map(lambda x, n: x)
    return ds.prefetch(tf.data.AUTOTUNE)
