"""`pack`: a prepared corpus as sharded TFRecords, for input pipelines that outgrow one file per example.

Layout of OUT:

- ``shard-00000.tfrecord`` ...: TFRecord files of about `shard_mb` MB (default 128: the
  training pipeline reads a crop's bytes only, wherever it lies, `speaker_tf.data.records`). One
  `tf.train.Example` per utterance: ``pcm`` (bytes, int16 little-endian samples),
  ``speaker`` (int64, index into the speaker table), ``utterance`` (bytes, the
  path relative to the packed folder), ``sample_rate`` (int64). Readable in order
  with `tf.data.TFRecordDataset` (see `speaker_tf.data.records.read_records`).
- ``shard-00000.tsv`` ...: per shard, one line per utterance: utterance, speaker
  index, byte offset of its PCM inside the shard file, samples, peak |sample|.
  The offsets let the training pipeline read a crop directly (random access), so
  P x K sampling over shards draws exactly the batches the WAV path draws.
- ``plan.json``: which utterances go to which shard (fixed on the first run).
- ``index.json`` (written last): format, sample rate, speaker table with counts,
  shards with their counts and sizes, totals.

Parallel (one process per shard), resumable (a shard whose .tsv exists is done;
the .tsv is renamed into place after its shard), never half-written: each file is
written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from speaker_tf.data.audio import default_workers, process_pool
from speaker_tf.data.corpus import Utterance, read_corpus, refuse_evaluation_only
from speaker_tf.errors import CorpusError

__all__ = ["FORMAT", "INDEX_FILE", "PackReport", "pack_corpus", "plan_shards"]

FORMAT = "speaker_tf.pack/1"
INDEX_FILE = "index.json"
PLAN_FILE = "plan.json"
PathLike = str | os.PathLike


@dataclass
class PackReport:
    shards: int
    written: int  # shards written by this run (the others were already complete)
    utterances: int
    speakers: int
    bytes: int

    def summary(self) -> str:
        return (
            f"{self.utterances} utterances of {self.speakers} speakers in {self.shards} shards "
            f"({self.bytes / 1e6:.1f} MB; {self.written} written now, "
            f"{self.shards - self.written} already done)"
        )


def shard_name(index: int) -> str:
    return f"shard-{index:05d}"


def plan_shards(sizes: Sequence[int], shard_bytes: int) -> list[tuple[int, int]]:
    """Consecutive [start, end) ranges of utterances holding about `shard_bytes` each (at least one)."""
    if shard_bytes < 1:
        raise ValueError(f"shard size must be positive, got {shard_bytes} bytes")
    ranges, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        if total and total + size > shard_bytes:
            ranges.append((start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        ranges.append((start, len(sizes)))
    return ranges


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _pack_shard(job: tuple[str, list[tuple[str, str, int]], int]) -> dict:
    """Write one shard (+ its .tsv) from [(wav path, relpath, speaker index)]; returns its summary."""
    import numpy as np
    import soundfile as sf
    import tensorflow as tf

    out_stem, items, sample_rate = job
    shard, table = Path(out_stem + ".tfrecord"), Path(out_stem + ".tsv")
    tmp = shard.with_name(shard.name + ".tmp")
    rows, offset, samples_total = [], 0, 0
    with tf.io.TFRecordWriter(str(tmp)) as writer:
        for path, relpath, speaker in items:
            info = sf.info(path)
            if (info.subtype, info.channels, info.samplerate) != ("PCM_16", 1, sample_rate):
                raise CorpusError(
                    f"{path}: {info.subtype}, {info.channels} channel(s), {info.samplerate} Hz; pack needs "
                    f"16-bit mono WAV at {sample_rate} Hz (convert with: speaker-tf prepare SRC DST)"
                )
            pcm = sf.read(path, dtype="int16", always_2d=False)[0].astype("<i2")
            data = pcm.tobytes()
            feature = {
                "pcm": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
                "speaker": tf.train.Feature(int64_list=tf.train.Int64List(value=[speaker])),
                "utterance": tf.train.Feature(bytes_list=tf.train.BytesList(value=[relpath.encode()])),
                "sample_rate": tf.train.Feature(int64_list=tf.train.Int64List(value=[sample_rate])),
            }
            record = tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            # TFRecord framing: u64 length, u32 crc, payload, u32 crc. The PCM bytes are one
            # contiguous field of the payload; they are the longest field, so find() is exact.
            at = record.find(data) if data else 0
            peak = int(np.abs(pcm.astype(np.int32)).max()) if len(pcm) else 0
            rows.append(f"{relpath}\t{speaker}\t{offset + 12 + at}\t{len(pcm)}\t{peak}\n")
            writer.write(record)
            offset += 16 + len(record)
            samples_total += len(pcm)
    os.replace(tmp, shard)
    _write_atomic(table, "".join(rows))
    return {"file": shard.name, "utterances": len(items), "bytes": offset, "samples": samples_total}


def _corpus_folder(src: Path) -> Path:
    """A corpus with splits packs its train/ split (validation and test stay WAV trees)."""
    return src / "train" if (src / "train").is_dir() else src


def _plan_fingerprint(utterances: list[Utterance], ranges: list[tuple[int, int]]) -> str:
    digest = hashlib.sha256()
    for utt in utterances:
        digest.update(utt.relpath.encode() + b"\0")
    digest.update(json.dumps(ranges).encode())
    return digest.hexdigest()


def pack_corpus(
    src: PathLike,
    out: PathLike,
    shard_mb: float = 128.0,
    workers: int | None = None,
    sample_rate: int = 16000,
    verbose: bool = True,
) -> PackReport:
    """Pack the 16-bit mono WAV corpus `src` (its train/ split if it has one) into `out`."""
    src_dir, out_dir = Path(src).resolve(), Path(out).resolve()
    if not src_dir.is_dir():
        raise CorpusError(f"corpus {str(src)!r} does not exist or is not a folder")
    refuse_evaluation_only(src, "corpus")  # packed shards are training input
    if out_dir == src_dir or src_dir in out_dir.parents:
        raise CorpusError(
            f"output {str(out)!r} is inside the corpus {str(src)!r}; choose a folder outside it"
        )
    folder = _corpus_folder(src_dir)
    corpus = read_corpus(folder, strict=True, verbose=False)
    utterances = sorted(corpus, key=lambda u: u.relpath)
    if not utterances:
        raise CorpusError(f"no audio files under {str(folder)!r}")
    non_wav = [u.relpath for u in utterances if u.path.suffix.lower() != ".wav"]
    if non_wav:
        raise CorpusError(
            f"pack reads 16-bit WAV; {str(folder)!r} holds {non_wav[0]!r} (and {len(non_wav) - 1} more): "
            "convert first with: speaker-tf prepare SRC DST"
        )
    speakers = sorted({u.speaker for u in utterances})
    speaker_index = {s: i for i, s in enumerate(speakers)}
    ranges = plan_shards([u.path.stat().st_size for u in utterances], int(shard_mb * 1e6))
    plan = {
        "format": FORMAT,
        "source": str(folder),
        "fingerprint": _plan_fingerprint(utterances, ranges),
        "shards": len(ranges),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_path = out_dir / PLAN_FILE
    if plan_path.is_file():
        old = json.loads(plan_path.read_text(encoding="utf-8"))
        if old.get("fingerprint") != plan["fingerprint"]:
            raise CorpusError(
                f"{str(out)!r} holds a pack of a different corpus or shard size ({old.get('source')!r}, "
                f"{old.get('shards')} shards); use a new output folder"
            )
    else:
        _write_atomic(plan_path, json.dumps(plan, indent=2) + "\n")

    jobs, done = [], {}
    for i, (start, end) in enumerate(ranges):
        stem = out_dir / shard_name(i)
        if Path(str(stem) + ".tsv").is_file() and Path(str(stem) + ".tfrecord").is_file():
            done[i] = None
            continue
        items = [(str(u.path), u.relpath, speaker_index[u.speaker]) for u in utterances[start:end]]
        jobs.append((i, (str(stem), items, int(sample_rate))))
    if jobs:
        with process_pool(min(len(jobs), default_workers(workers))) as pool:
            for (i, _), summary in zip(jobs, pool.map(_pack_shard, [j for _, j in jobs]), strict=True):
                done[i] = summary
    shards = []
    for i in range(len(ranges)):
        shards.append(done[i] or _summarise_existing(out_dir, i))
    counts = [0] * len(speakers)
    for u in utterances:
        counts[speaker_index[u.speaker]] += 1
    index = {
        "format": FORMAT,
        "source": str(folder),
        "sample_rate": int(sample_rate),
        "utterances": len(utterances),
        "samples": sum(s["samples"] for s in shards),
        "bytes": sum(s["bytes"] for s in shards),
        "speakers": [{"name": s, "utterances": c} for s, c in zip(speakers, counts, strict=True)],
        "shards": shards,
    }
    _write_atomic(out_dir / INDEX_FILE, json.dumps(index, indent=1) + "\n")
    report = PackReport(len(ranges), len(jobs), len(utterances), len(speakers), index["bytes"])
    if verbose:
        print(f"pack {src} -> {out}: {report.summary()}")
    return report


def _summarise_existing(out_dir: Path, i: int) -> dict:
    """The summary of a shard written by an earlier run, from its .tsv and file size."""
    stem = out_dir / shard_name(i)
    lines = Path(str(stem) + ".tsv").read_text(encoding="utf-8").splitlines()
    return {
        "file": stem.name + ".tfrecord",
        "utterances": len(lines),
        "bytes": Path(str(stem) + ".tfrecord").stat().st_size,
        "samples": sum(int(line.split("\t")[3]) for line in lines),
    }
