"""The embedded synthetic corpus: espeak-ng voices in VoxCeleb's layout.

Lets every experiment run end to end without downloading VoxCeleb, and gives
each synthetic speaker as much of an identity of its own as espeak-ng allows.

Speakers (:func:`speaker_voice`): a language (English accents read the
packaged sentences; 60+ other languages read numbers, dates and generated
syllables, see :mod:`~speaker_tf.data.synth_text`), a synthesis method
(espeak-ng's formant synthesiser or one of its Klatt glottal sources), a
random voice variant (F0 60-320 Hz and its range, vocal-tract scaling of nine
formants, flutter, roughness, breathiness, voicing, consonants, tone), a
speaking rate, and offline identity transforms of its own (envelope warp,
envelope perturbation, glottal tilt: :mod:`~speaker_tf.data.voice_identity`).

Sessions: every speaker has 3 sessions, each through a DIFFERENT channel
kind of :mod:`~speaker_tf.data.synth_channels` (training included), so that
a channel never identifies a speaker.

Layout: ``DIR/{train,val,test}/<id>/<session>/<utt>.wav`` (16 kHz mono int16),
``DIR/{val,test}/trials.txt`` (``label enroll test``, paths relative to the
split folder), ``DIR/meta.json`` (arguments, every speaker's language /
synthesis / variant / identity / channels, every file's text, channel, noise
and SHA-1, and the corpus digest). The split is speaker-disjoint, 200/20/40 of
the default 260 speakers and in proportion otherwise (>= 2 per split).

Held-out corpus (:func:`generate_heldout_corpus`): ``DIR/test`` only, with
languages, a Klatt glottal source and channel kinds that no training corpus
contains, plus ``DIR/test/trials_same_channel.txt`` whose non-target pairs
share a channel kind.

Determinism: every random choice comes from ``SeedSequence(seed,
spawn_key=(kind, speaker, ...))``; identical arguments give byte-identical
files whatever the worker count or scheduling. Generation is resumable (a
per-speaker completion mark under ``DIR/.progress/``) and a complete corpus
is verified against its ``meta.json`` before reuse; missing or changed files
are regenerated.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import as_completed
from itertools import combinations
from pathlib import Path

import numpy as np

from speaker_tf.data import espeak
from speaker_tf.data.audio import default_workers, process_pool, to_int16, write_wav16
from speaker_tf.data.synth_channels import HELDOUT_CHANNELS, TRAIN_CHANNELS, apply_channel, random_channel
from speaker_tf.data.synth_text import (
    ENGLISH_ACCENTS,
    HELDOUT_LANGUAGES,
    TRAIN_LANGUAGES,
    language,
    load_sentences,
    pseudo_sentence,
    utterance_text,
)
from speaker_tf.data.voice_identity import apply_identity, random_identity
from speaker_tf.errors import AudioError, CorpusError

__all__ = [
    "GENERATOR_VERSION",
    "SAMPLE_RATE",
    "TRAIN_KLATT",
    "HELDOUT_KLATT",
    "load_sentences",
    "split_sizes",
    "speaker_ids",
    "speaker_voice",
    "make_trials",
    "generate_corpus",
    "generate_heldout_corpus",
    "ensure_corpus",
]

GENERATOR_VERSION = 2
SAMPLE_RATE = 16000
DEFAULT_SPEAKERS = 260
DEFAULT_UTTERANCES = 20
DEFAULT_SEED = 0
TRIALS_PER_SPLIT = 4000
SESSIONS = 3
MIN_SECONDS = 1.5  # shorter utterances get a second sentence
SPLITS = ("train", "val", "test")
ENGLISH_PROBABILITY = 0.3  # share of training speakers with an English accent (packaged sentences)
FORMANT_PROBABILITY = 0.4  # share of speakers on the formant synthesiser; the rest on Klatt sources
TRAIN_KLATT: tuple[int, ...] = (1, 2, 3, 5)
HELDOUT_KLATT: tuple[int, ...] = (4,)
REFERENCE_ENGLISH = "The rainbow appears when sunlight shines through falling drops of water."
# SeedSequence spawn-key kinds: one independent stream per purpose; held-out adds _HELDOUT.
_VOICE, _UTTERANCE, _SESSION, _TRIALS, _HELDOUT = 1, 2, 3, 4, 100
_PROGRESS = ".progress"
_MARKER = ".incomplete.json"


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))


def split_sizes(speakers: int) -> tuple[int, int, int]:
    """(train, val, test) speaker counts: 200/20/40 of 260 in proportion, >= 2 each."""
    if speakers < 6:
        raise ValueError(
            f"--speakers {speakers}: the synthetic corpus needs at least 6 speakers "
            "(2 each for train, val and test)"
        )
    val = max(2, round(speakers * 20 / 260))
    test = max(2, round(speakers * 40 / 260))
    return speakers - val - test, val, test


def speaker_ids(speakers: int) -> dict[str, list[str]]:
    """Split -> speaker ids (``id00000`` ...), train first, then val, then test."""
    sizes = split_sizes(speakers)
    ids = [f"id{i:05d}" for i in range(speakers)]
    out, start = {}, 0
    for name, size in zip(SPLITS, sizes, strict=True):
        out[name] = ids[start : start + size]
        start += size
    return out


def speaker_voice(seed: int, index: int, heldout: bool = False) -> dict:
    """Random voice of speaker ``index``: language, synthesis, espeak-ng variant, rate, identity.

    ``heldout`` draws from the held-out languages and Klatt source instead
    (and from an independent random stream).
    """
    rng = _rng(seed, _VOICE + (_HELDOUT if heldout else 0), index)
    if heldout:
        lang = HELDOUT_LANGUAGES[int(rng.integers(len(HELDOUT_LANGUAGES)))]
        klatt = HELDOUT_KLATT[int(rng.integers(len(HELDOUT_KLATT)))]
    else:
        english = [lg.code for lg in ENGLISH_ACCENTS]
        others = [c for c in TRAIN_LANGUAGES if c not in english]
        pool = english if rng.random() < ENGLISH_PROBABILITY else others
        lang = pool[int(rng.integers(len(pool)))]
        klatt = 0 if rng.random() < FORMANT_PROBABILITY else TRAIN_KLATT[int(rng.integers(len(TRAIN_KLATT)))]
    register = rng.choice(3, p=[0.45, 0.45, 0.1])  # low ("male"), high ("female"), child-like
    base = int([rng.uniform(60, 150), rng.uniform(140, 260), rng.uniform(220, 320)][register])
    tract = [rng.uniform(0.88, 1.03), rng.uniform(1.0, 1.16), rng.uniform(1.12, 1.25)][register]
    formants = [
        [
            int(round(100 * tract * rng.normal(1.0, 0.05))),
            int(rng.integers(60, 150)),
            int(rng.integers(60, 200)),
        ]
        for _ in range(9)
    ]
    params: dict = {
        "pitch": [base, int(base + rng.integers(10, 120))],
        "formants": formants,
        "flutter": int(rng.integers(0, 40)),
        "roughness": int(rng.integers(0, 8)),
        "voicing": int(rng.integers(70, 150)),
        "consonants": [int(rng.integers(60, 140)), int(rng.integers(60, 140))],
        "tone": [
            int(rng.integers(350, 800)),
            int(rng.integers(90, 256)),
            int(rng.integers(1000, 1700)),
            int(rng.integers(90, 256)),
            int(rng.integers(1900, 3000)),
            int(rng.integers(60, 200)),
        ],
    }
    if rng.random() < 0.5:
        params["breath"] = [int(v) for v in rng.integers(0, 60, size=8)]
        params["breathw"] = [int(v) for v in rng.integers(100, 400, size=8)]
    if rng.random() < 0.15:
        params["echo"] = [int(rng.integers(10, 60)), int(rng.integers(5, 20))]
    if klatt:
        params["klatt"] = int(klatt)
    return {
        "language": lang,
        "synthesis": f"klatt{klatt}" if klatt else "formant",
        "variant": params,
        "speed": int(rng.integers(120, 231)),  # words per minute (espeak -s)
        "pitch_adjust": int(rng.integers(30, 71)),  # espeak -p, 0-99
        "gain_db": round(float(rng.uniform(-14.0, -2.0)), 2),
        "identity": random_identity(rng),
    }


def _session_channels(seed: int, index: int, heldout: bool) -> list[dict]:
    """One channel per session, of pairwise different kinds."""
    kinds = HELDOUT_CHANNELS if heldout else TRAIN_CHANNELS
    rng = _rng(seed, _SESSION + (_HELDOUT if heldout else 0), index)
    return [random_channel(kinds[k], rng) for k in rng.choice(len(kinds), SESSIONS, replace=False)]


# ---------------------------------------------------------------- workers


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    x = samples.astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE:
        x = soxr.resample(x, rate, SAMPLE_RATE, quality="HQ")
    return x.astype(np.float64)


def _reference_task(job: dict) -> tuple[str, str, np.ndarray]:
    """Speak a fixed text at fixed speed/pitch: (speaker, sha1, MFCC mean)."""
    from speaker_tf.data.baseline import mfcc

    script = language(job["language"]).script
    text = REFERENCE_ENGLISH if script == "english" else pseudo_sentence(script, np.random.default_rng(0))
    samples, rate = espeak.synthesize(text, job["voice"], 170, 50, job["data_path"])
    feature = mfcc(_to_16k(samples, rate)).mean(axis=0)
    return job["speaker"], hashlib.sha1(samples.tobytes()).hexdigest(), feature


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _speaker_task(job: dict) -> str:
    """Synthesise and write every utterance of one speaker, then its completion mark."""
    seed, index, voice = job["seed"], job["index"], job["voice_params"]
    heldout = _HELDOUT if job["heldout"] else 0
    lang = language(voice["language"])
    order = _rng(seed, _VOICE + heldout, index, 1).permutation(len(load_sentences()))
    files = {}
    gain = 10 ** (voice["gain_db"] / 20)
    for u in range(job["utterances"]):
        rng = _rng(seed, _UTTERANCE + heldout, index, u)
        text = utterance_text(lang, rng, order, u)
        speed = int(voice["speed"] + rng.integers(-12, 13))
        pitch = int(np.clip(voice["pitch_adjust"] + rng.integers(-6, 7), 0, 99))
        script = "latin" if lang.script == "english" else lang.script
        try:
            samples, rate = espeak.synthesize(text, job["voice"], speed, pitch, job["data_path"])
        except AudioError:
            # espeak-ng 1.51 crashes on some number strings in some languages (a parser bug,
            # so deterministic): such an utterance says a pseudo-sentence instead.
            text = pseudo_sentence(script, rng)
            samples, rate = espeak.synthesize(text, job["voice"], speed, pitch, job["data_path"])
        if samples.size < MIN_SECONDS * rate:  # too short for a crop: say a second sentence too
            text += " " + pseudo_sentence(script, rng)
            samples, rate = espeak.synthesize(text, job["voice"], speed, pitch, job["data_path"])
        x = apply_identity(_to_16k(samples, rate), SAMPLE_RATE, voice["identity"])
        session = u % SESSIONS
        channel = job["sessions"][session]
        x, noise = apply_channel(x, channel, SAMPLE_RATE, rng)
        x = x / max(np.max(np.abs(x)), 1e-9) * gain
        rel = f"{job['speaker']}/s{session}/{u // SESSIONS + 1:05d}.wav"
        path = Path(job["split_dir"]) / rel
        write_wav16(path, to_int16(x), SAMPLE_RATE)
        files[f"{job['split']}/{rel}"] = {
            "text": text,
            "speed": speed,
            "pitch": pitch,
            "session": session,
            "channel": channel["kind"],
            "noise": noise,
            "bytes": path.stat().st_size,
            "sha1": _sha1(path),
        }
    _write_json(Path(job["progress_dir"]) / f"{job['speaker']}.json", {"files": files})
    return job["speaker"]


# ---------------------------------------------------------------- trials


def make_trials(
    utterances: dict[str, list[str]],
    n_trials: int,
    rng: np.random.Generator,
    groups: dict[str, str] | None = None,
) -> list[tuple[int, str, str]]:
    """Balanced target / non-target trials without self-pairs or duplicate pairs.

    ``utterances`` maps speaker -> relative paths. Half the trials (capped by
    the number of same-speaker pairs) are targets, as many are non-targets.
    ``groups`` (path -> group, e.g. channel kind) restricts non-targets to
    pairs of one group, so that the group cannot tell them from targets.
    """
    speakers = sorted(utterances)
    flat = [(s, u) for s in speakers for u in utterances[s]]
    spk_of = np.array([speakers.index(s) for s, _ in flat])
    names = sorted({groups[u] for _, u in flat}) if groups else []
    grp_of = np.array([names.index(groups[u]) for _, u in flat]) if groups else np.zeros(len(flat), int)
    index = {u: i for i, (_, u) in enumerate(flat)}
    targets = [(index[a], index[b]) for s in speakers for a, b in combinations(utterances[s], 2)]
    i, j = np.triu_indices(len(flat), k=1) if len(flat) <= 2000 else (None, None)
    if i is not None:
        keep = (spk_of[i] != spk_of[j]) & (grp_of[i] == grp_of[j])
        n_non = int(keep.sum())
    else:
        n_non = len(flat) * (len(flat) - 1) // 2 - len(targets)
    n_target = min(n_trials // 2, len(targets), n_non)
    pairs = [targets[k] for k in sorted(rng.choice(len(targets), n_target, replace=False))]
    if i is not None:
        non = np.stack([i[keep], j[keep]], axis=1)
        pairs += [tuple(map(int, non[k])) for k in sorted(rng.choice(len(non), n_target, replace=False))]
    else:
        chosen: set[tuple[int, int]] = set()
        while len(chosen) < n_target:
            a, b = (int(v) for v in rng.integers(len(flat), size=2))
            if spk_of[a] != spk_of[b] and grp_of[a] == grp_of[b]:
                chosen.add((min(a, b), max(a, b)))
        pairs += sorted(chosen)
    swap = rng.random(len(pairs)) < 0.5
    order = rng.permutation(len(pairs))
    trials = []
    for k in order:
        a, b = pairs[k]
        if swap[k]:
            a, b = b, a
        trials.append((int(spk_of[a] == spk_of[b]), flat[a][1], flat[b][1]))
    return trials


# ---------------------------------------------------------------- plan


def _plan(arguments: dict) -> dict:
    """Everything the arguments determine: splits, voices, session channels."""
    seed, heldout = arguments["seed"], bool(arguments.get("heldout"))
    if heldout:
        if arguments["speakers"] < 2:
            raise ValueError(
                f"--speakers {arguments['speakers']}: the held-out corpus needs at least 2 speakers"
            )
        split = {"test": [f"hid{i:05d}" for i in range(arguments["speakers"])]}
    else:
        split = speaker_ids(arguments["speakers"])
    ordered = [(name, spk) for name in split for spk in split[name]]
    voice_of = (lambda i: 0) if arguments.get("_same_voice") else (lambda i: i)
    speakers = {}
    for i, (name, spk) in enumerate(ordered):
        speakers[spk] = {
            "split": name,
            "index": i,
            **speaker_voice(seed, voice_of(i), heldout),
            "sessions": _session_channels(seed, i, heldout),
        }
    return {"arguments": arguments, "heldout": heldout, "splits": split, "speakers": speakers}


def _conditions(heldout: bool) -> dict:
    return {
        "languages": list(HELDOUT_LANGUAGES if heldout else TRAIN_LANGUAGES),
        "synthesis": [f"klatt{k}" for k in HELDOUT_KLATT]
        if heldout
        else ["formant"] + [f"klatt{k}" for k in TRAIN_KLATT],
        "channels": list(HELDOUT_CHANNELS if heldout else TRAIN_CHANNELS),
    }


# ---------------------------------------------------------------- driver


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def corpus_meta(out: str | os.PathLike) -> dict | None:
    """The meta.json of the synthetic corpus in ``out`` (its ``arguments`` say how it was made); None when
    ``out`` holds none; CorpusError naming the file when it is unreadable."""
    meta_path = Path(out) / "meta.json"
    if not meta_path.is_file():
        return None
    meta = _read_json(meta_path)
    if meta is None:
        raise CorpusError(f"{str(meta_path)!r} is unreadable; refusing to touch {str(out)!r}")
    return meta


def _check_output_dir(out: Path, arguments: dict) -> dict | None:
    """The meta.json of ``out`` when it already holds this corpus; None when it is to be
    (re)generated; CorpusError when it holds anything else."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise CorpusError(f"output {str(out)!r} exists and is not a folder")
    if not any(out.iterdir()):
        return None
    meta = corpus_meta(out)
    if meta is not None:
        if meta.get("arguments") == arguments and meta.get("generator_version") == GENERATOR_VERSION:
            return meta
        raise CorpusError(
            f"{str(out)!r} already holds a synthetic corpus made with {meta.get('arguments')} "
            f"(generator version {meta.get('generator_version')}); refusing to overwrite it with "
            f"{arguments} (version {GENERATOR_VERSION}): choose another output folder or delete it yourself"
        )
    if _read_json(out / _MARKER) == {"arguments": arguments, "generator_version": GENERATOR_VERSION}:
        return None  # an interrupted run with the same arguments: continue it in place
    raise CorpusError(
        f"output folder {str(out)!r} is not empty and holds no meta.json of a synthetic corpus; "
        "refusing to overwrite it"
    )


def _verify_distinct(references: list[tuple[str, str, np.ndarray]]) -> None:
    """CorpusError naming speakers whose reference audio is identical or nearly so."""
    by_hash: dict[str, list[str]] = {}
    for speaker, digest, _ in references:
        by_hash.setdefault(digest, []).append(speaker)
    same = [group for group in by_hash.values() if len(group) > 1]
    if same:
        shown = "; ".join(", ".join(g[:6]) + (" ..." if len(g) > 6 else "") for g in same[:5])
        raise CorpusError(
            f"voice check failed: {sum(len(g) for g in same)} speakers produce byte-identical "
            f"audio for the same sentence (espeak-ng ignored their voice variants?): {shown}"
        )
    feats = np.stack([f for _, _, f in references])
    d = np.sqrt(((feats[:, None, :] - feats[None, :, :]) ** 2).sum(-1))
    d[np.diag_indices_from(d)] = np.inf
    i, j = np.unravel_index(np.argmin(d), d.shape)
    if d[i, j] < 1e-3:
        raise CorpusError(
            f"voice check failed: speakers {references[i][0]} and {references[j][0]} sound the same "
            f"(MFCC distance {d[i, j]:.2e})"
        )


def _mark_is_valid(out: Path, mark: dict | None) -> bool:
    if not mark or "files" not in mark:
        return False
    for rel, info in mark["files"].items():
        path = out / rel
        if not path.is_file() or path.stat().st_size != info.get("bytes"):
            return False
    return True


def _say(verbose: bool, text: str) -> None:
    if verbose:
        print(f"synth: {text}", flush=True)


def _synthesise(
    out: Path, plan: dict, todo: list[str], workers: int | None, verbose: bool, check_voices: bool
) -> int:
    """Generate the speakers ``todo`` (resumable, with progress); returns the worker count."""
    progress = out / _PROGRESS
    progress.mkdir(parents=True, exist_ok=True)
    done = [spk for spk in todo if _mark_is_valid(out, _read_json(progress / f"{spk}.json"))]
    if done:
        _say(verbose, f"resuming: {len(done)} of {len(todo)} speakers were already complete")
    pending = set(todo) - set(done)
    check = list(todo) if check_voices else []
    needed = [spk for spk in plan["speakers"] if spk in set(check) | pending]
    n_workers = min(default_workers(workers), max(1, len(needed)))
    if not needed:
        return n_workers
    import scipy.fft  # noqa: F401  imported once here, inherited by forked workers
    import scipy.signal  # noqa: F401
    import soxr  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="speaker_tf_espeak_") as tmp:
        jobs = {}
        per_copy = espeak.MAX_VARIANTS_PER_COPY
        for shard in range(0, len(needed), per_copy):
            members = needed[shard : shard + per_copy]
            voices = {spk: plan["speakers"][spk] for spk in members}
            data_path = espeak.build_data_copy(
                Path(tmp) / f"copy{shard // per_copy}",
                {spk: espeak.variant_text(spk, v["variant"]) for spk, v in voices.items()},
                {"gmw/en"} | {language(v["language"]).lang_file for v in voices.values()},
            )
            for spk, v in voices.items():
                jobs[spk] = {
                    "seed": int(plan["arguments"]["seed"]),
                    "heldout": plan["heldout"],
                    "index": v["index"],
                    "speaker": spk,
                    "split": v["split"],
                    "split_dir": str(out / v["split"]),
                    "progress_dir": str(progress),
                    "utterances": int(plan["arguments"]["utterances"]),
                    "language": v["language"],
                    "voice": f"{v['language']}+{spk}",
                    "voice_params": v,
                    "sessions": v["sessions"],
                    "data_path": data_path,
                }
        with process_pool(n_workers) as pool:
            if check:
                chunk = max(1, len(check) // (4 * n_workers))
                _say(verbose, f"checking that {len(check)} voices differ ...")
                _verify_distinct(list(pool.map(_reference_task, [jobs[s] for s in check], chunksize=chunk)))
            _run_with_progress(pool, [jobs[s] for s in needed if s in pending], verbose)
    return n_workers


def _run_with_progress(pool, jobs: list[dict], verbose: bool) -> None:
    start = last = time.perf_counter()
    futures = [pool.submit(_speaker_task, job) for job in jobs]
    for n, future in enumerate(as_completed(futures), start=1):
        future.result()
        now = time.perf_counter()
        if verbose and (now - last >= 5.0 or n == len(jobs)):
            last = now
            left = (now - start) / n * (len(jobs) - n)
            _say(
                True,
                f"{n}/{len(jobs)} speakers ({100 * n / len(jobs):.0f} %), "
                f"{now - start:.0f} s, about {left:.0f} s left",
            )


def _collect_files(out: Path, plan: dict) -> dict[str, dict]:
    files: dict[str, dict] = {}
    for spk in plan["speakers"]:
        mark = _read_json(out / _PROGRESS / f"{spk}.json")
        if not _mark_is_valid(out, mark):
            raise CorpusError(f"speaker {spk} of {str(out)!r} did not complete (no valid completion mark)")
        files.update(mark["files"])
    return files


def _trial_lists(plan: dict, files: dict[str, dict]) -> dict[str, str]:
    """Relative path -> text of every trial list the plan asks for."""
    seed = plan["arguments"]["seed"]
    lists = {}
    for k, name in enumerate(plan["splits"], start=1):
        if name == "train":
            continue
        rels = {spk: [] for spk in plan["splits"][name]}
        for key in files:
            if key.startswith(name + "/"):
                rel = key[len(name) + 1 :]
                rels[rel.split("/")[0]].append(rel)
        kinds = [("trials.txt", None)]
        if plan["heldout"]:
            kinds.append(
                (
                    "trials_same_channel.txt",
                    {r: files[f"{name}/{r}"]["channel"] for v in rels.values() for r in v},
                )
            )
        for j, (fname, groups) in enumerate(kinds):
            rng = _rng(seed, _TRIALS + (_HELDOUT if plan["heldout"] else 0), k, j)
            trials = make_trials(rels, TRIALS_PER_SPLIT, rng, groups)
            lists[f"{name}/{fname}"] = "".join(f"{lab} {a} {b}\n" for lab, a, b in trials)
    return lists


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _digest(files: dict[str, dict], trial_sha1: dict[str, str]) -> str:
    lines = [f"{rel} {info['sha1']}\n" for rel, info in sorted(files.items())]
    lines += [f"{rel} {sha}\n" for rel, sha in sorted(trial_sha1.items())]
    return hashlib.sha1("".join(lines).encode()).hexdigest()


def _finish(out: Path, plan: dict) -> dict:
    """Trial lists and meta.json from the completion marks; removes the marks."""
    files = _collect_files(out, plan)
    trial_sha1, trial_counts = {}, {}
    for rel, text in _trial_lists(plan, files).items():
        _write_text(out / rel, text)
        trial_sha1[rel] = hashlib.sha1(text.encode()).hexdigest()
        trial_counts[rel] = text.count("\n")
    arguments = {k: v for k, v in plan["arguments"].items() if not k.startswith("_")}
    meta = {
        "generator": "speaker_tf.data.synth",
        "generator_version": GENERATOR_VERSION,
        "espeak_ng": espeak.espeak_version(),
        "arguments": arguments,
        "kind": "heldout" if plan["heldout"] else "training",
        "sample_rate": SAMPLE_RATE,
        "conditions": _conditions(plan["heldout"]),
        "splits": plan["splits"],
        "trials": trial_counts,
        "trials_sha1": trial_sha1,
        "speakers": {
            spk: {k: v for k, v in info.items() if k != "index"} for spk, info in plan["speakers"].items()
        },
        "files": files,
        "digest": _digest(files, trial_sha1),
    }
    _write_json(out / "meta.json", meta)
    shutil.rmtree(out / _PROGRESS, ignore_errors=True)
    (out / _MARKER).unlink(missing_ok=True)  # a concurrent identical run may have removed it
    return meta


def _damaged(out: Path, meta: dict) -> tuple[list[str], list[str]]:
    """(audio files missing or changed, trial lists missing or changed) of a corpus; CorpusError
    for audio files the generator did not write."""
    bad = []
    for rel, info in meta["files"].items():
        path = out / rel
        if not path.is_file() or path.stat().st_size != info["bytes"] or _sha1(path) != info["sha1"]:
            bad.append(rel)
    bad_trials = [
        rel
        for rel, sha in meta["trials_sha1"].items()
        if not (out / rel).is_file() or _sha1(out / rel) != sha
    ]
    extra = sorted(
        p.relative_to(out).as_posix()
        for split in meta["splits"]
        for p in (out / split).rglob("*.wav")
        if p.relative_to(out).as_posix() not in meta["files"]
    )
    if extra:
        raise CorpusError(
            f"{str(out)!r} holds {len(extra)} audio files its meta.json does not list (e.g. {extra[0]!r}); "
            "move them out of the synthetic corpus"
        )
    return bad, bad_trials


def _reuse(out: Path, plan: dict, meta: dict, workers: int | None, verbose: bool) -> None:
    """Verify a complete corpus against meta.json; regenerate what is missing or changed."""
    bad, bad_trials = _damaged(out, meta)
    if not bad and not bad_trials:
        _say(
            verbose,
            f"reused existing corpus {out} "
            f"({len(meta['files'])} files verified, digest {meta['digest'][:12]})",
        )
        return
    if meta.get("espeak_ng") != espeak.espeak_version():
        raise CorpusError(
            f"{str(out)!r} lacks {len(bad)} of its files (e.g. {(bad + bad_trials)[0]!r}) and was made with "
            f"{meta.get('espeak_ng')!r}, not the installed {espeak.espeak_version()!r}, which cannot "
            "regenerate them identically: delete the folder and generate it again"
        )
    speakers = sorted({rel.split("/")[1] for rel in bad})
    shown = ", ".join(bad[:3] + bad_trials[:3])
    _say(
        verbose,
        f"{out} is missing or has changed {len(bad) + len(bad_trials)} files ({shown}); regenerating them",
    )
    _write_json(out / _MARKER, {"arguments": meta["arguments"], "generator_version": GENERATOR_VERSION})
    _synthesise(out, plan, speakers, workers, verbose, check_voices=False)
    for spk in plan["speakers"]:
        if spk not in speakers:
            mine = {rel: info for rel, info in meta["files"].items() if rel.split("/")[1] == spk}
            _write_json(out / _PROGRESS / f"{spk}.json", {"files": mine})
    repaired = _finish(out, plan)
    if repaired["digest"] != meta["digest"]:
        raise CorpusError(f"regenerated files of {str(out)!r} differ from its recorded digest")
    _say(verbose, f"repaired {out} ({len(bad)} audio files, {len(bad_trials)} trial lists); digest verified")


def _generate(out_dir, arguments: dict, workers, report_baseline: bool, verbose: bool) -> Path:
    if arguments["utterances"] < 2:
        raise ValueError(
            f"--utterances {arguments['utterances']}: need at least 2 per speaker (target trials)"
        )
    plan = _plan(arguments)
    public = {k: v for k, v in arguments.items() if not k.startswith("_")}
    out = Path(out_dir)
    meta = _check_output_dir(out, public)
    if meta is not None:
        _reuse(out, plan, meta, workers, verbose)
        return out
    espeak.espeak_binary()
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / _MARKER, {"arguments": public, "generator_version": GENERATOR_VERSION})
    n_speakers = len(plan["speakers"])
    n_utts = n_speakers * arguments["utterances"]
    _say(verbose, f"generating {n_speakers} speakers x {arguments['utterances']} utterances into {out} ...")
    n_workers = _synthesise(out, plan, list(plan["speakers"]), workers, verbose, check_voices=True)
    meta = _finish(out, plan)
    elapsed = time.perf_counter() - start
    seconds = sum(v["bytes"] - 44 for v in meta["files"].values()) / 2 / SAMPLE_RATE
    _say(
        verbose,
        f"wrote {n_utts} utterances ({seconds / 3600:.2f} h) of {n_speakers} speakers to {out} "
        f"in {elapsed:.1f} s ({1000 * elapsed / n_utts:.1f} ms/utterance, {n_workers} workers); "
        + ", ".join(f"{name} {len(ids)} speakers" for name, ids in plan["splits"].items())
        + "; trials: "
        + ", ".join(f"{k} {v}" for k, v in meta["trials"].items()),
    )
    if report_baseline:
        from speaker_tf.data.baseline import baseline_eer

        for rel in meta["trials"]:
            if rel.startswith("test/"):
                eer = baseline_eer(out / rel, out / "test", workers)
                _say(verbose, f"MFCC baseline EER on {rel}: {100 * eer:.2f} %")
    return out


def generate_corpus(
    out_dir: str | os.PathLike,
    speakers: int = DEFAULT_SPEAKERS,
    utterances: int = DEFAULT_UTTERANCES,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    report_baseline: bool = True,
    verbose: bool = True,
    _same_voice: bool = False,
) -> Path:
    """Generate the synthetic corpus into ``out_dir`` (see the module docstring); returns it.

    A folder holding a corpus with the same arguments is verified and reused
    (missing / changed files regenerated); a folder of an interrupted run with
    the same arguments is continued; any other non-empty folder is refused.
    ``_same_voice`` (tests only) gives every speaker speaker 0's voice, which
    the distinct-voice check must catch.
    """
    arguments = {"speakers": int(speakers), "utterances": int(utterances), "seed": int(seed)}
    if _same_voice:
        arguments["_same_voice"] = True
    return _generate(out_dir, arguments, workers, report_baseline, verbose)


def generate_heldout_corpus(
    out_dir: str | os.PathLike,
    speakers: int = 60,
    utterances: int = 10,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    report_baseline: bool = True,
    verbose: bool = True,
) -> Path:
    """A test-only corpus (``DIR/test/...``, ``trials.txt``, ``trials_same_channel.txt``)
    whose languages, Klatt glottal source and channel kinds no training corpus contains."""
    arguments = {"heldout": True, "speakers": int(speakers), "utterances": int(utterances), "seed": int(seed)}
    return _generate(out_dir, arguments, workers, report_baseline, verbose)


def ensure_corpus(
    out_dir: str | os.PathLike,
    speakers: int = DEFAULT_SPEAKERS,
    utterances: int = DEFAULT_UTTERANCES,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
) -> Path:
    """The corpus folder, generated first if it does not exist yet (training calls this)."""
    return generate_corpus(out_dir, speakers, utterances, seed, workers, report_baseline=False)
