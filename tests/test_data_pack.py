"""`speaker-tf pack` and the TFRecord source of the training pipeline."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaker_tf.config.data import AugmentConfig, DataConfig
from speaker_tf.data.corpus import read_corpus
from speaker_tf.data.pack import pack_corpus, plan_shards
from speaker_tf.data.pipeline import train_dataset
from speaker_tf.data.records import PackIndex, read_pcm, read_records
from speaker_tf.errors import CorpusError

SHARD_MB = 0.5  # about 3 tiny-corpus utterances per shard


@pytest.fixture(scope="module")
def packed(tiny_corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packed") / "pack"
    pack_corpus(tiny_corpus, out, shard_mb=SHARD_MB, workers=1, verbose=False)
    return out


def _train(tiny_corpus: Path):
    return sorted(read_corpus(tiny_corpus / "train", verbose=False), key=lambda u: u.relpath)


def test_plan_shards_fills_each_shard_up_to_the_size():
    assert plan_shards([4, 4, 4, 10, 1, 1], 8) == [(0, 2), (2, 3), (3, 4), (4, 6)]
    assert plan_shards([], 8) == []
    with pytest.raises(ValueError, match="shard size must be positive"):
        plan_shards([1], 0)


def test_records_hold_every_training_utterance_exactly(tiny_corpus, packed):
    utterances = _train(tiny_corpus)
    index = json.loads((packed / "index.json").read_text())
    speakers = sorted({u.speaker for u in utterances})
    assert [s["name"] for s in index["speakers"]] == speakers
    assert [s["utterances"] for s in index["speakers"]] == [
        sum(u.speaker == s for u in utterances) for s in speakers
    ]
    assert index["utterances"] == len(utterances) == sum(s["utterances"] for s in index["shards"])
    assert len(index["shards"]) > 2  # the size limit split the corpus
    for shard in index["shards"]:
        assert (packed / shard["file"]).stat().st_size == shard["bytes"]
    records = {r["utterance"].decode(): r for r in read_records(packed).as_numpy_iterator()}
    assert sorted(records) == [u.relpath for u in utterances]
    for u in utterances:
        pcm, rate = sf.read(u.path, dtype="int16")
        np.testing.assert_array_equal(records[u.relpath]["pcm"], pcm)
        assert records[u.relpath]["speaker"] == speakers.index(u.speaker) and rate == index["sample_rate"]
    assert index["samples"] == sum(len(r["pcm"]) for r in records.values())
    assert not list(packed.glob("*.tmp"))


def test_pack_resumes_only_missing_shards(tiny_corpus, packed, tmp_path):
    out = tmp_path / "pack"
    shutil.copytree(packed, out)
    kept = out / "shard-00000.tfrecord"
    before = kept.stat().st_mtime_ns
    (out / "shard-00001.tsv").unlink()  # as if killed after the shard, before its table
    (out / "shard-00002.tfrecord").unlink()
    (out / "shard-00002.tsv").unlink()
    (out / "shard-00002.tfrecord.tmp").write_bytes(b"half")  # left by a killed writer
    (out / "index.json").unlink()
    report = pack_corpus(tiny_corpus, out, shard_mb=SHARD_MB, workers=1, verbose=False)
    assert report.written == 2 and report.shards == len(list(packed.glob("*.tfrecord")))
    assert kept.stat().st_mtime_ns == before
    assert not list(out.glob("*.tmp"))
    for name in ("shard-00001.tfrecord", "shard-00002.tfrecord", "shard-00002.tsv", "index.json"):
        assert (out / name).read_bytes() == (packed / name).read_bytes(), name


def test_pack_refuses_another_corpus_in_the_same_folder(tiny_corpus, packed, tmp_path):
    out = tmp_path / "pack"
    shutil.copytree(packed, out)
    with pytest.raises(CorpusError, match="holds a pack of a different corpus or shard size"):
        pack_corpus(tiny_corpus, out, shard_mb=1.0, workers=1, verbose=False)
    with pytest.raises(CorpusError, match="is inside the corpus"):
        pack_corpus(tiny_corpus, tiny_corpus / "packed", workers=1, verbose=False)


def test_pack_refuses_evaluation_only_speech(tmp_path):
    """A folder marked EVALUATION_ONLY (speech kept for scoring) is not packed into training shards, nor
    is any folder below it; the error names the marker file and nothing is written."""
    from speaker_tf.data.corpus import EVALUATION_ONLY

    src = tmp_path / "engines" / "test" / "spk" / "a.wav"
    src.parent.mkdir(parents=True)
    sf.write(src, np.zeros(1600, np.int16), 16000, subtype="PCM_16")
    marker = tmp_path / "engines" / EVALUATION_ONLY
    marker.write_text("test speech\n")
    named = f"evaluation-only speech \\(marked by '{re.escape(str(marker))}'"
    for corpus in (tmp_path / "engines", tmp_path / "engines" / "test"):
        with pytest.raises(CorpusError, match=named):
            pack_corpus(corpus, tmp_path / "out", workers=1, verbose=False)
    assert not (tmp_path / "out").exists()
    marker.unlink()
    assert pack_corpus(tmp_path / "engines", tmp_path / "out", workers=1, verbose=False).utterances == 1


def test_pack_names_a_file_that_is_not_16_bit(tmp_path):
    src = tmp_path / "corpus" / "spk" / "a.wav"
    src.parent.mkdir(parents=True)
    sf.write(src, np.zeros(1600, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(CorpusError, match=r"a\.wav: FLOAT, 1 channel\(s\), 16000 Hz; pack needs 16-bit"):
        pack_corpus(tmp_path / "corpus", tmp_path / "out", workers=1, verbose=False)


def _config(packed: Path | None, augment: bool = False) -> DataConfig:
    return DataConfig(
        speakers_per_batch=3,
        utterances_per_speaker=2,
        crop_seconds=0.5,
        records=str(packed) if packed else "",
        augment=AugmentConfig(enabled=augment),
    )


def _batches(dataset, n: int):
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(n)]


@pytest.mark.parametrize("augment", [False, True])
def test_shards_give_the_wav_paths_batches(tiny_corpus, packed, augment):
    utterances = _train(tiny_corpus)
    paths = [str(u.path) for u in utterances]
    labels = [sorted({v.speaker for v in utterances}).index(u.speaker) for u in utterances]
    wav = _batches(train_dataset(paths, labels, _config(None, augment), seed=3), 4)
    records = _batches(train_dataset(paths, labels, _config(packed, augment), seed=3), 4)
    for (xw, yw), (xr, yr) in zip(wav, records, strict=True):
        np.testing.assert_array_equal(yr, yw)  # the same speakers, grouped K at a time
        np.testing.assert_array_equal(xr, xw)  # the same crops of the same utterances


def test_shards_give_crops_of_the_labelled_utterances(tiny_corpus, packed):
    """Each crop is a window of an utterance of its label's speaker, scaled by that utterance's peak."""
    utterances = _train(tiny_corpus)
    speakers = sorted({u.speaker for u in utterances})
    paths = [str(u.path) for u in utterances]
    labels = [speakers.index(u.speaker) for u in utterances]
    audio = [sf.read(p, dtype="int16")[0].astype(np.float64) for p in paths]
    for x, y in _batches(train_dataset(paths, labels, _config(packed), seed=5), 3):
        assert np.all(y.reshape(3, 2) == y.reshape(3, 2)[:, :1]) and len(set(y)) == 3
        for crop, label in zip(x, y, strict=True):
            found = False
            for wav, lab in zip(audio, labels, strict=True):
                if lab != label:
                    continue
                scaled = np.round(crop * np.abs(wav).max()).astype(np.int64)
                n = min(len(wav), len(crop))
                starts = np.flatnonzero(wav[: len(wav) - n + 1] == scaled[0])
                found |= any(np.array_equal(wav[s : s + n], scaled[:n]) for s in starts)
            assert found


def test_per_worker_shards_split_each_global_batch(packed, tiny_corpus):
    utterances = _train(tiny_corpus)
    paths = [str(u.path) for u in utterances]
    labels = [int(u.speaker[-1]) for u in utterances]
    config = dataclasses.replace(_config(packed), speakers_per_batch=2)
    whole = _batches(train_dataset(paths, labels, config, seed=1), 2)
    parts = [_batches(train_dataset(paths, labels, config, 1, i, 2), 2) for i in range(2)]
    for step, (x, y) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([p[step][0] for p in parts]), x)
        np.testing.assert_array_equal(np.concatenate([p[step][1] for p in parts]), y)
    with pytest.raises(ValueError, match="does not split evenly into 3 input pipelines"):
        train_dataset(paths, labels, config, 1, 0, 3)


def test_a_training_file_missing_from_the_pack_is_named(packed, tmp_path):
    with pytest.raises(CorpusError, match=r"'/elsewhere/x/y/z\.wav' is not in the packed corpus"):
        PackIndex.load(packed).locate(["/elsewhere/x/y/z.wav"])
    with pytest.raises(CorpusError, match="is not a packed corpus: no index.json"):
        PackIndex.load(tmp_path)


def test_a_stream_started_at_a_step_continues_the_whole_stream(packed, tiny_corpus):
    utterances = _train(tiny_corpus)
    paths = [str(u.path) for u in utterances]
    labels = [int(u.speaker[-1]) for u in utterances]
    whole = _batches(train_dataset(paths, labels, _config(packed), seed=2), 3)
    resumed = _batches(train_dataset(paths, labels, _config(packed), 2, start_step=2), 1)
    np.testing.assert_array_equal(resumed[0][0], whole[2][0])
    np.testing.assert_array_equal(resumed[0][1], whole[2][1])


def test_pack_command(tiny_corpus, tmp_path, capsys):
    from speaker_tf.cli.main import main

    out = tmp_path / "pack"
    assert main(["pack", str(tiny_corpus), str(out), "--workers", "1", "--shard-mb", "100"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert len(index["shards"]) == 1 and index["utterances"] == len(_train(tiny_corpus))
    assert "16 utterances of 4 speakers in 1 shards" in capsys.readouterr().out
    assert main(["pack", str(tmp_path / "missing"), str(out)]) == 2
    assert "does not exist or is not a folder" in capsys.readouterr().err


HOLE = 3 * 2**30 + 1  # 3 GiB (+1: an odd offset, as a PCM field inside a record can be)


def _proc_read_bytes() -> int:
    """Bytes this process has read through read()-like system calls (memory-mapped page-ins excluded)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.fixture(scope="module")
def sparse_pack(tmp_path_factory):
    """A pack whose one shard starts with a 3 GiB hole (a sparse file: no disk, no data written),
    then the PCM of 3 speakers x 2 utterances; the same utterances as WAV files."""
    root = tmp_path_factory.mktemp("sparse")
    rng = np.random.default_rng(7)
    paths, labels, rows, pcm_blobs = [], [], [], []
    offset = HOLE
    for spk in range(3):
        for utt in range(2):
            pcm = rng.integers(-20000, 20000, int(rng.integers(4000, 12000)), dtype=np.int16)
            relpath = f"spk{spk}/utt{utt}.wav"
            path = root / "wav" / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, pcm, 16000, subtype="PCM_16")
            paths.append(str(path))
            labels.append(spk)
            peak = int(np.abs(pcm.astype(np.int32)).max())
            rows.append(f"{relpath}\t{spk}\t{offset}\t{len(pcm)}\t{peak}\n")
            pcm_blobs.append(pcm.astype("<i2").tobytes())
            offset += 2 * len(pcm)
    pack = root / "pack"
    pack.mkdir()
    with open(pack / "shard-00000.tfrecord", "wb") as shard:
        shard.seek(HOLE)
        shard.write(b"".join(pcm_blobs))
    (pack / "shard-00000.tsv").write_text("".join(rows))
    index = {
        "format": "speaker_tf.pack/1",
        "sample_rate": 16000,
        "speakers": [{"name": f"spk{s}", "utterances": 2} for s in range(3)],
        "shards": [{"file": "shard-00000.tfrecord", "utterances": 6, "bytes": offset}],
    }
    (pack / "index.json").write_text(json.dumps(index))
    return pack, paths, labels


@pytest.mark.skipif(not Path("/proc/self/io").is_file(), reason="needs Linux /proc/self/io")
def test_crops_past_a_3_gib_offset_read_only_their_bytes(sparse_pack):
    """The crops lie 3 GiB into their shard: they equal the WAV path's crops value for value, and
    the reader does not read through the shard to get there (`FixedLengthRecordDataset` with
    `header_bytes`, the previous reader, read the 3 GiB before each crop)."""
    pack, paths, labels = sparse_pack
    config = dataclasses.replace(_config(pack), speakers_per_batch=2, utterances_per_speaker=2)
    wav = _batches(train_dataset(paths, labels, dataclasses.replace(config, records=""), seed=4), 3)
    before = _proc_read_bytes()
    records = _batches(train_dataset(paths, labels, config, seed=4), 3)
    read = _proc_read_bytes() - before
    assert read < 64 * 2**20, f"read {read} bytes for 12 crops"  # index, tables, libraries: not 3 GiB
    for (xw, yw), (xr, yr) in zip(wav, records, strict=True):
        np.testing.assert_array_equal(yr, yw)
        np.testing.assert_array_equal(xr, xw)


def test_read_pcm_returns_the_samples_at_a_large_odd_offset_and_names_a_short_shard(sparse_pack, tmp_path):
    pack, paths, _ = sparse_pack
    shard = str(pack / "shard-00000.tfrecord")
    first = sf.read(paths[0], dtype="int16")[0]
    np.testing.assert_array_equal(read_pcm(shard, HOLE, len(first)), first)
    np.testing.assert_array_equal(read_pcm(shard, HOLE + 2 * 10, 5), first[10:15])
    assert read_pcm(shard, HOLE, 0).shape == (0,)
    size = (pack / "shard-00000.tfrecord").stat().st_size
    with pytest.raises(CorpusError, match=rf"shard '.*shard-00000\.tfrecord' has {size} bytes, a crop needs"):
        read_pcm(shard, size - 2, 2)


def test_a_shard_that_changed_after_packing_is_named(sparse_pack, tmp_path):
    pack, paths, labels = sparse_pack
    copy = tmp_path / "pack"
    copy.mkdir()
    for name in ("index.json", "shard-00000.tsv"):
        shutil.copy(pack / name, copy / name)
    with open(copy / "shard-00000.tfrecord", "wb") as shard:
        shard.truncate(HOLE)  # the hole only: the PCM after it is gone
    config = dataclasses.replace(_config(copy), speakers_per_batch=2)
    with pytest.raises(CorpusError, match=rf"shard '.*shard-00000\.tfrecord' has {HOLE} bytes, index.json"):
        train_dataset(paths, labels, config, seed=0)
    (copy / "shard-00000.tfrecord").unlink()
    with pytest.raises(CorpusError, match=r"shard '.*shard-00000\.tfrecord' is missing"):
        train_dataset(paths, labels, config, seed=0)
