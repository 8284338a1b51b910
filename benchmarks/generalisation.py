"""Generalisation benchmark: exp_122 vs exp_robust vs the MFCC baseline on conditions absent from training.

Usage:
    python benchmarks/generalisation.py [--out runs/generalisation] [--heldout DIR] [--heldout-speakers 120]
                                        [--run exp_122=RUN_DIR ...] [--recipes exp_122 exp_robust]
                                        [--trials NAME=TRIAL_LIST ...]

A name in --recipes that is not an experiment (an ablation) needs its run given with --run NAME=RUN_DIR.

Trains each recipe with its default command (`python -m experiments.NAME --out OUT`) unless a finished run
directory is given with --run, then scores, side by side in one process:

* ``own test``: the run's own test trials (unseen speakers of the corpus it trained on);
* ``held-out``: the held-out generalisation corpus (`speaker-tf synth --heldout`): speakers whose languages,
  synthesis variant and channel types no training corpus contains, generated on first use;
* ``held-out, same channel``: the same speakers, non-targets within one channel type
  (no channel cue);
* one row per ``--trials NAME=TRIAL_LIST``: a trial list of your own (VoxCeleb format, paths relative to
  the list's folder), e.g. recorded speech you hold; the project ships no such speech. Mark its folder with
  an ``EVALUATION_ONLY`` file so that training refuses it.

Each trial list is scored by the encoder (cosine of the mean of 2 s window embeddings, as at the end of a
run), by the MFCC baseline, and by their fusion (weights fitted on the run's own validation trials, saved in
RUN/fusion.json; reported apart: it is not the learned embedding alone). Prints one JSON line per measurement,
then a Markdown table, then a second one: the baseline on its 20 MFCC means alone (the long-term spectral
envelope) and on its 20 standard deviations alone. A third table puts the two systems on each other's footing:
the baseline z-scores its statistics over the trial list's own utterances (an unsupervised adaptation to the
list's domain) and the encoder does not, so each is also scored standardised on the list (`speaker-tf score
--standardise list`) and on REFERENCE_FILES utterances of the run's training corpus (no test statistics).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_RECIPES = ("exp_122", "exp_robust")
HELDOUT_SEED = 1234
# 120 speakers x 10 utterances: the 9 held-out languages x both sexes x several voices each; 60 left the
# speaker sample so small that two runs of one recipe differed by a few points
HELDOUT_SPEAKERS = 120
OWN, HELDOUT, SAME_CHANNEL = "own test", "held-out", "held-out, same channel"  # the rows every run gets
REFERENCE_FILES = 400  # training utterances (evenly spaced in sorted order) whose statistics standardise


def train(name: str, out: Path) -> Path:
    """Run the recipe's default command; return its new run directory."""
    before = set((out / name).glob("*")) if (out / name).is_dir() else set()
    subprocess.run([sys.executable, "-m", f"experiments.{name}", "--out", str(out)], check=True)
    (run_dir,) = set((out / name).glob("*")) - before
    return run_dir


def heldout_corpus(path: Path, speakers: int) -> Path:
    """The held-out corpus at ``path``: one already there is verified and used as it was made (whatever its
    speaker count); otherwise ``speakers`` x 10 utterances with seed HELDOUT_SEED are generated."""
    from speaker_tf.data.synth import corpus_meta, generate_heldout_corpus
    from speaker_tf.errors import CorpusError

    arguments = {"speakers": speakers, "utterances": 10, "seed": HELDOUT_SEED}
    meta = corpus_meta(path)
    if meta is not None:
        made = meta.get("arguments") or {}
        if not made.get("heldout"):
            raise CorpusError(f"--heldout {str(path)!r} holds a corpus that is not a held-out corpus: {made}")
        arguments = {key: made[key] for key in arguments}
        print(f"held-out corpus {path}: reused as made with {arguments}", flush=True)
    return generate_heldout_corpus(path, **arguments, report_baseline=False)


def trial_sets(run_dir: Path, heldout: Path, extra: dict[str, Path]) -> dict[str, tuple[Path, Path]]:
    """name -> (trial list, audio root) for one run."""
    from speaker_tf.config.base import ExperimentConfig
    from speaker_tf.training.splits import resolve_corpus_root

    config = ExperimentConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    own = resolve_corpus_root(config.data) / "test"
    sets = {
        OWN: (own / "trials.txt", own),
        HELDOUT: (heldout / "test" / "trials.txt", heldout / "test"),
        SAME_CHANNEL: (heldout / "test" / "trials_same_channel.txt", heldout / "test"),
    }
    sets.update({name: (path, path.parent) for name, path in extra.items()})
    return sets


# (run, audio root) -> utterance -> embedding, and file -> MFCC statistics: trial lists that share files
# (the two held-out lists) embed each file once
_EMBEDDINGS: dict[tuple[Path, Path], dict[str, np.ndarray]] = {}
_MFCC: dict[str, np.ndarray] = {}
_EMBEDDERS: dict[Path, object] = {}
_REFERENCE: dict[Path, tuple[np.ndarray, np.ndarray]] = {}  # run -> (encoder, MFCC) training statistics rows


def reference(run_dir: Path, embed) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings and raw MFCC statistics of REFERENCE_FILES training utterances of the run's corpus."""
    from speaker_tf.config.base import ExperimentConfig
    from speaker_tf.data.audio import AUDIO_EXTENSIONS
    from speaker_tf.data.baseline import utterance_embeddings
    from speaker_tf.evaluation.scoring import embed_utterances
    from speaker_tf.training.splits import resolve_corpus_root

    if run_dir not in _REFERENCE:
        config = ExperimentConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
        train = resolve_corpus_root(config.data) / "train"
        files = sorted(str(f) for f in train.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS)
        files = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, REFERENCE_FILES).astype(int))]
        found = embed_utterances(embed, files, window_seconds=config.data.eval_seconds or None)
        _REFERENCE[run_dir] = np.stack([found[f] for f in files]), utterance_embeddings(files)
    return _REFERENCE[run_dir]


def measure(run_dir: Path, trials_path: Path, root: Path) -> dict[str, float]:
    from speaker_tf.data.baseline import score_trials
    from speaker_tf.evaluation.embedder import load_embedder
    from speaker_tf.evaluation.fusion import load_fusion
    from speaker_tf.evaluation.metrics import verification_report
    from speaker_tf.evaluation.normalization import standardise
    from speaker_tf.evaluation.scoring import cosine_scores, embed_utterances, read_trials, trial_utterances

    config = json.loads((run_dir / "config.json").read_text())
    trials = read_trials(trials_path)
    labels = np.array([t.label for t in trials])
    if run_dir not in _EMBEDDERS:
        _EMBEDDERS[run_dir] = load_embedder(run_dir / "encoder.keras")
    embed = _EMBEDDERS[run_dir]
    embeddings = _EMBEDDINGS.setdefault((run_dir, root), {})
    missing = [u for u in trial_utterances(trials) if u not in embeddings]
    if missing:
        embeddings.update(
            embed_utterances(embed, missing, window_seconds=config["data"]["eval_seconds"] or None, root=root)
        )
    learned = cosine_scores(embeddings, trials)
    baseline = score_trials(trials, root, cache=_MFCC)
    utts = trial_utterances(trials)
    own = np.stack([embeddings[u] for u in utts])
    train_embeddings, train_mfcc = reference(run_dir, embed)
    footing = {
        "model_standardised_list": cosine_scores(dict(zip(utts, standardise(own, own), strict=True)), trials),
        "model_standardised_train": cosine_scores(
            dict(zip(utts, standardise(own, train_embeddings), strict=True)), trials
        ),
        "baseline_standardised_train": score_trials(trials, root, cache=_MFCC, reference=train_mfcc),
    }
    fused = load_fusion(run_dir).apply(learned, baseline)
    out = {}
    for system, scores in (("model", learned), ("baseline", baseline), ("fused", fused)):
        report = verification_report(scores, labels)
        out[f"{system}_eer"] = 100 * report["eer"]
        out[f"{system}_min_dcf_p01"] = report["min_dcf_p01"]
    for name, scores in footing.items():
        out[f"{name}_eer"] = 100 * verification_report(scores, labels)["eer"]
    out["n_trials"] = len(trials)
    # what the baseline's score rests on: its 20 means (the long-term spectral envelope, which a channel
    # colours) or its 20 standard deviations (how the envelope moves)
    for part, dims in (("mean", slice(0, 20)), ("std", slice(20, 40))):
        out[f"baseline_{part}_only_eer"] = (
            100 * verification_report(score_trials(trials, root, cache=_MFCC, dims=dims), labels)["eer"]
        )
    return out


def machine() -> dict[str, str]:
    import tensorflow as tf

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpu": cpu, "tensorflow": tf.__version__, "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/generalisation"))
    parser.add_argument(
        "--heldout",
        type=Path,
        default=None,
        help="held-out corpus (used as made if there, generated if missing)",
    )
    parser.add_argument(
        "--heldout-speakers",
        type=int,
        default=HELDOUT_SPEAKERS,
        help="speakers in a generated held-out corpus",
    )
    parser.add_argument("--recipes", nargs="+", default=list(DEFAULT_RECIPES))
    parser.add_argument(
        "--trials",
        action="append",
        default=[],
        metavar="NAME=TRIAL_LIST",
        help="a further trial list of your own, scored as row NAME (audio paths relative to its folder)",
    )
    parser.add_argument(
        "--run", action="append", default=[], metavar="NAME=RUN_DIR", help="use a finished run"
    )
    args = parser.parse_args()

    given = dict(item.split("=", 1) for item in args.run)
    unknown = sorted(set(given) - set(args.recipes))
    if unknown:
        parser.error(f"--run names {', '.join(unknown)} are not among --recipes {' '.join(args.recipes)}")
    extra = {}
    for item in args.trials:
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).is_file():
            parser.error(f"--trials {item!r}: expected NAME=TRIAL_LIST with an existing trial list file")
        if name in (OWN, HELDOUT, SAME_CHANNEL) or name in extra:
            parser.error(f"--trials {item!r}: the row name {name!r} is already taken")
        extra[name] = Path(path)
    from speaker_tf.errors import CorpusError

    try:
        heldout = heldout_corpus(
            args.heldout or args.out / f"heldout_seed{HELDOUT_SEED}_{args.heldout_speakers}spk",
            args.heldout_speakers,
        )
    except CorpusError as exc:
        parser.error(str(exc))
    runs = {}
    for name in args.recipes:
        started = time.perf_counter()
        runs[name] = Path(given[name]) if name in given else train(name, args.out)
        print(json.dumps({"recipe": name, "run": str(runs[name]), "train_s": time.perf_counter() - started}))

    info = machine()
    results: dict[tuple[str, str], dict[str, float]] = {}
    for name, run_dir in runs.items():
        for set_name, (trials_path, root) in trial_sets(run_dir, heldout, extra).items():
            results[name, set_name] = measure(run_dir, trials_path, root)
            print(
                json.dumps({"recipe": name, "trials": set_name, **results[name, set_name], **info}),
                flush=True,
            )

    names = list(runs)
    print()
    print(
        "| trials | "
        + " | ".join(f"{n} EER %" for n in names)
        + " | MFCC baseline EER % | "
        + " | ".join(f"{n} + MFCC fused EER %" for n in names)
        + " |"
    )
    print("|---" * (2 + 2 * len(names)) + "|")
    for set_name in dict.fromkeys(s for _, s in results):
        row = [results[n, set_name] for n in names]
        # "own test" differs per recipe when the recipes train on different corpora: show each baseline
        baselines = sorted({f"{r['baseline_eer']:.2f}" for r in row})
        print(
            f"| {set_name} | "
            + " | ".join(f"{r['model_eer']:.2f}" for r in row)
            + f" | {' / '.join(baselines)} | "
            + " | ".join(f"{r['fused_eer']:.2f}" for r in row)
            + " |"
        )
    print()
    print("| trials | MFCC baseline EER % | its 20 means alone | its 20 standard deviations alone |")
    print("|---|---|---|---|")
    for set_name in dict.fromkeys(s for _, s in results):
        r = results[names[0], set_name]
        print(
            f"| {set_name} | {r['baseline_eer']:.2f} | {r['baseline_mean_only_eer']:.2f} "
            f"| {r['baseline_std_only_eer']:.2f} |"
        )
    print()
    print(
        "| recipe | trials | encoder EER % | standardised on the list | on training utterances "
        "| MFCC baseline (standardised on the list) | baseline standardised on training utterances |"
    )
    print("|---|---|---|---|---|---|---|")
    for (name, set_name), r in results.items():
        print(
            f"| {name} | {set_name} | {r['model_eer']:.2f} | {r['model_standardised_list_eer']:.2f} "
            f"| {r['model_standardised_train_eer']:.2f} | {r['baseline_eer']:.2f} "
            f"| {r['baseline_standardised_train_eer']:.2f} |"
        )


if __name__ == "__main__":
    main()
