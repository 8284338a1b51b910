"""Reading packed TFRecord shards (`speaker_tf.data.pack`): random-access crops and sequential records.

The training pipeline's P x K sampler picks utterance indices; with `data.records`
set, a crop of utterance i is read straight from its shard (the bytes of the crop
only, at the offset the pack index stores) instead of decoding a WAV file. The
crop offset, padding and peak normalisation (by the whole utterance's stored
peak) are the WAV path's, so the same seed gives the same batches, value for value.

Cost: the crop's bytes are sliced out of a read-only memory map of its shard
(`np.memmap`, opened once per process and shard; the `OPEN_SHARDS` most recently
used stay open), inside one `tf.numpy_function`: a crop costs its own bytes
whatever its offset, so shards can be large (pack default 128 MB). Everything
around that call (sampling, crop offset, scaling, padding) stays in the graph.
A Python callback cannot run on tf.data service workers, so `train.data_service`
refuses `data.records` (speaker_tf/data/service.py).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import tensorflow as tf

from speaker_tf.data.pack import FORMAT, INDEX_FILE
from speaker_tf.errors import CorpusError

__all__ = ["OPEN_SHARDS", "PackIndex", "crop_loader", "read_pcm", "read_records"]

# Shard memory maps kept open per process (least recently used closed first): each holds a
# file descriptor, and VoxCeleb2 packs into ~2,000 shards of 128 MB, more than the usual
# soft limit of 1,024 open files.
OPEN_SHARDS = 256


@dataclass(frozen=True)
class PackIndex:
    """The utterances of a pack: shard file, PCM byte offset, samples and peak of each."""

    root: Path
    sample_rate: int
    speakers: list[str]
    shard_files: list[str]
    shard_bytes: list[int]
    rows: dict[str, tuple[int, int, int, int]]  # relpath -> (shard, offset, samples, peak)

    @classmethod
    def load(cls, root: str | Path) -> "PackIndex":
        root = Path(root)
        path = root / INDEX_FILE
        if not path.is_file():
            raise CorpusError(f"{str(root)!r} is not a packed corpus: no {INDEX_FILE} (run speaker-tf pack)")
        index = json.loads(path.read_text(encoding="utf-8"))
        if index.get("format") != FORMAT:
            raise CorpusError(f"{str(path)!r} has format {index.get('format')!r}, expected {FORMAT!r}")
        rows = {}
        for shard, entry in enumerate(index["shards"]):
            table = root / entry["file"].replace(".tfrecord", ".tsv")
            for line in table.read_text(encoding="utf-8").splitlines():
                relpath, _, offset, samples, peak = line.split("\t")
                rows[relpath] = (shard, int(offset), int(samples), int(peak))
        return cls(
            root,
            int(index["sample_rate"]),
            [s["name"] for s in index["speakers"]],
            [str(root / s["file"]) for s in index["shards"]],
            [int(s["bytes"]) for s in index["shards"]],
            rows,
        )

    def locate(self, paths: Sequence[str]) -> np.ndarray:
        """[N, 4] int64 (shard, offset, samples, peak) of each path, matched by its trailing components."""
        depth = {len(PurePosixPath(k).parts) for k in self.rows}
        out = np.zeros((len(paths), 4), np.int64)
        for i, path in enumerate(paths):
            parts = Path(path).parts
            row = next(
                (self.rows[k] for d in sorted(depth) if (k := "/".join(parts[-d:])) in self.rows), None
            )
            if row is None:
                raise CorpusError(f"{path!r} is not in the packed corpus {str(self.root)!r}")
            out[i] = row
        return out


@functools.lru_cache(maxsize=OPEN_SHARDS)
def _shard_map(path: str) -> np.memmap:
    return np.memmap(path, dtype=np.uint8, mode="r")


def read_pcm(path: str, byte_offset: int, samples: int) -> np.ndarray:
    """int16 [samples] little-endian PCM at `byte_offset` of the shard `path` (reads those bytes only)."""
    if samples <= 0:
        return np.zeros(0, np.int16)
    data = _shard_map(path)
    end = byte_offset + 2 * samples
    if byte_offset < 0 or end > len(data):
        raise CorpusError(
            f"shard {path!r} has {len(data)} bytes, a crop needs bytes [{byte_offset}, {end}): "
            "the shard is truncated or was rewritten after its index (pack again into a new folder)"
        )
    return np.frombuffer(data, dtype="<i2", count=samples, offset=byte_offset).astype(np.int16)


def crop_loader(root: str | Path, paths: Sequence[str], crop: int, sample_rate: int):
    """`load_crop(index, seed) -> float32 [crop]` reading utterance `paths[index]` from the shards."""
    from speaker_tf.data.pipeline import _crop_offset, _pad_to

    index = PackIndex.load(root)
    if index.sample_rate != sample_rate:
        raise CorpusError(
            f"packed corpus {str(root)!r} is at {index.sample_rate} Hz, data.sample_rate is {sample_rate}"
        )
    table = tf.constant(index.locate(paths))
    for file, size in zip(index.shard_files, index.shard_bytes, strict=True):
        actual = os.path.getsize(file) if os.path.isfile(file) else None
        if actual != size:
            found = "is missing" if actual is None else f"has {actual} bytes"
            raise CorpusError(f"shard {file!r} {found}, index.json says {size} bytes (pack again)")
    files = list(index.shard_files)

    def read(shard: np.int64, byte_offset: np.int64, samples: np.int64) -> np.ndarray:
        return read_pcm(files[int(shard)], int(byte_offset), int(samples))

    def load_crop(i: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        shard, offset, samples, peak = tf.unstack(table[i])
        n = tf.cast(samples, tf.int32)
        start = _crop_offset(n, crop, seed)
        length = tf.minimum(n - start, crop)  # = min(n, crop): start <= max(n - crop, 0)
        pcm = tf.numpy_function(
            read,
            [shard, offset + 2 * tf.cast(start, tf.int64), tf.cast(length, tf.int64)],
            tf.int16,
            stateful=False,  # the same arguments read the same bytes
            name="read_shard_crop",
        )
        pcm = tf.ensure_shape(pcm, [None])
        window = tf.cast(pcm, tf.float32) / 32768.0  # as tf.audio.decode_wav scales
        return tf.math.divide_no_nan(_pad_to(window, crop), tf.cast(peak, tf.float32) / 32768.0)

    return load_crop


def read_records(root: str | Path) -> tf.data.Dataset:
    """Every packed utterance in shard order.

    Elements: {"pcm": int16 [samples], "speaker": int64, "utterance": string}.
    """
    index = PackIndex.load(root)
    spec = {
        "pcm": tf.io.FixedLenFeature([], tf.string),
        "speaker": tf.io.FixedLenFeature([], tf.int64),
        "utterance": tf.io.FixedLenFeature([], tf.string),
    }

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        example["pcm"] = tf.io.decode_raw(example["pcm"], tf.int16, little_endian=True)
        return example

    return tf.data.TFRecordDataset(index.shard_files).map(parse)
