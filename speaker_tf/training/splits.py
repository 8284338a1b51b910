"""Where the training files and the validation / test trials of a run come from."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speaker_tf.config.data import DataConfig
from speaker_tf.data.corpus import Corpus, read_corpus, refuse_evaluation_only
from speaker_tf.errors import CorpusError
from speaker_tf.evaluation.scoring import Trial

TRIALS_FILE = "trials.txt"
SPEAKERS_FILE = "speakers.json"  # in the run directory: which speakers trained, validated, tested
HELD_OUT_FRACTION = 0.1  # of speakers, for each of val and test, when a corpus has no splits


@dataclass(frozen=True)
class Split:
    """The audio of one evaluation split: trials with paths relative to `root`."""

    root: Path
    trials: list[Trial]
    speakers: tuple[str, ...] = ()  # every speaker of the split (not only those in the trials)


@dataclass(frozen=True)
class RunData:
    train_paths: list[str]
    train_labels: list[int]
    speakers: list[str]  # label i is speakers[i]
    val: Split
    test: Split
    corpus_root: Path
    corpus_speakers: int  # training speakers in the corpus, before data.max_train_speakers

    def describe(self) -> str:
        """One line for the run's log; says when data.max_train_speakers left speakers out."""
        kept = len(self.speakers)  # the cap itself, when it left any out
        speakers = f"{kept} speakers"
        if self.corpus_speakers > kept:
            speakers = f"the first {kept} of its {self.corpus_speakers} training speakers"
            speakers += f": max_train_speakers={kept}"
        return f"{self.corpus_root} ({len(self.train_paths)} training files, {speakers})"


def default_corpus_dir(config: DataConfig) -> Path:
    """Where the embedded corpus is generated: $SPEAKER_TF_DATA or ./data."""
    from speaker_tf.data.synth import GENERATOR_VERSION

    base = Path(os.environ.get("SPEAKER_TF_DATA", "data"))
    # The generator version is part of the name: a corpus of an older generator is kept, not refused.
    name = f"synth_v{GENERATOR_VERSION}_{config.synth_speakers}x{config.synth_utterances}"
    return base / f"{name}_seed{config.synth_seed}"


def resolve_corpus_root(config: DataConfig) -> Path:
    """The corpus root, generating the embedded corpus on first use."""
    if config.root:
        root = Path(config.root)
        if not root.is_dir():
            raise CorpusError(f"data root {str(root)!r} does not exist or is not a folder")
        refuse_evaluation_only(root, "data root")
        return root
    from speaker_tf.data.synth import ensure_corpus

    return ensure_corpus(
        default_corpus_dir(config), config.synth_speakers, config.synth_utterances, config.synth_seed
    )


def load_run_data(config: DataConfig, n_trials: int, seed: int) -> RunData:
    """Training files and trials: from train/ val/ test/ splits, or held out by speaker."""
    root = resolve_corpus_root(config)
    if (root / "train").is_dir():
        train = read_corpus(root / "train", strict=config.strict)
        val = _split_with_trials(root / "val", n_trials, seed)
        test = _split_with_trials(root / "test", n_trials, seed + 1)
    else:
        train, val, test = _hold_out_speakers(read_corpus(root, strict=config.strict), n_trials, seed)
    train.require_speakers(2, "training")
    check_training_format(train, config.sample_rate)
    speakers = train.speakers()
    corpus_speakers = len(speakers)
    if config.max_train_speakers:
        speakers = speakers[: config.max_train_speakers]
    index = {s: i for i, s in enumerate(speakers)}
    kept = [u for u in train if u.speaker in index]
    return RunData(
        train_paths=[str(u.path) for u in kept],
        train_labels=[index[u.speaker] for u in kept],
        speakers=speakers,
        val=val,
        test=test,
        corpus_root=root,
        corpus_speakers=corpus_speakers,
    )


def write_speakers(data: RunData, folder: Path) -> Path:
    """`speakers.json` in `folder`: the training, validation and test speakers of the run.

    On a single-folder corpus the validation and test speakers are drawn at
    random (seeded); this records which, so a later evaluation can use the same.
    """
    record = {
        "corpus": str(data.corpus_root),
        "train": list(data.speakers),
        "val": {"root": str(data.val.root), "speakers": list(data.val.speakers)},
        "test": {"root": str(data.test.root), "speakers": list(data.test.speakers)},
    }
    path = Path(folder) / SPEAKERS_FILE
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def check_training_format(corpus: Corpus, sample_rate: int) -> None:
    """The pipeline decodes 16-bit mono WAV in the graph: name the files that are not, up front."""
    import soundfile as sf

    bad = []
    for utt in corpus:
        info = sf.info(str(utt.path))
        if (info.format, info.subtype, info.channels, info.samplerate) != ("WAV", "PCM_16", 1, sample_rate):
            bad.append(
                f"{utt.relpath} ({info.format} {info.subtype}, {info.channels} ch, {info.samplerate} Hz)"
            )
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CorpusError(
            f"training needs 16-bit mono WAV at {sample_rate} Hz; in {str(corpus.root)!r}: "
            f"{'; '.join(bad[:3])}{more}. Convert with: speaker-tf prepare SRC DST"
        )


def _split_with_trials(folder: Path, n_trials: int, seed: int) -> Split:
    if not folder.is_dir():
        raise CorpusError(f"corpus split {str(folder)!r} is missing (expected train/, val/ and test/)")
    trials_path = folder / TRIALS_FILE
    if trials_path.is_file():
        from speaker_tf.data.corpus import read_trial_list

        trials = list(read_trial_list(trials_path, folder))
        speakers = sorted({u.split("/")[0] for t in trials for u in (t.enroll, t.test)})
        return Split(folder, trials, tuple(speakers))
    corpus = read_corpus(folder, verbose=False)
    return Split(folder, _make_trials(corpus, n_trials, seed), tuple(corpus.speakers()))


def _hold_out_speakers(corpus: Corpus, n_trials: int, seed: int) -> tuple[Corpus, Split, Split]:
    """Speaker-disjoint train / val / test from one folder of speakers."""
    speakers = corpus.speakers()
    n_held = max(2, int(round(HELD_OUT_FRACTION * len(speakers))))
    if len(speakers) < 2 * n_held + 2:
        raise CorpusError(
            f"corpus {str(corpus.root)!r} has {len(speakers)} speakers; holding out val and test "
            f"speakers needs at least {2 * n_held + 2}"
        )
    order = np.random.default_rng(seed).permutation(len(speakers))
    val_speakers = {speakers[i] for i in order[:n_held]}
    test_speakers = {speakers[i] for i in order[n_held : 2 * n_held]}

    def subset(names: set[str]) -> Corpus:
        return Corpus(corpus.root, [u for u in corpus if u.speaker in names])

    train = subset(set(speakers) - val_speakers - test_speakers)
    val = Split(corpus.root, _make_trials(subset(val_speakers), n_trials, seed), tuple(sorted(val_speakers)))
    test = Split(
        corpus.root, _make_trials(subset(test_speakers), n_trials, seed + 1), tuple(sorted(test_speakers))
    )
    return train, val, test


def _make_trials(corpus: Corpus, n_trials: int, seed: int) -> list[Trial]:
    from speaker_tf.data.synth import make_trials

    corpus.require_speakers(2, "building trials")
    by_speaker = {s: [u.relpath for u in us] for s, us in corpus.by_speaker().items()}
    rows = make_trials(by_speaker, n_trials, np.random.default_rng(seed))
    return [Trial(label, a, b) for label, a, b in rows]
