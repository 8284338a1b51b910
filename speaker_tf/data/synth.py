"""The embedded synthetic corpus: espeak-ng voices in VoxCeleb's layout.

Lets every experiment run end to end without downloading VoxCeleb.

Speakers: each one is a random espeak-ng voice variant (pitch base / range,
nine formants' frequency / strength / width, flutter, roughness, voicing,
consonant strength, tone curve, sometimes breathiness and echo), one English
accent (cycled over :data:`~speaker_tf.data.espeak.ACCENTS`), a base speaking
rate and pitch, and a gain. Utterances: one or two sentences of
``sentences.txt``, speed and pitch jittered around the speaker's.

Channel: val and test files always pass through a per-session "room and
microphone" (random spectral tilt + peaking EQ biquad, exponentially decaying
noise reverberation) and get per-file coloured noise at 15-30 dB SNR. Train
sessions get the same treatment with probability 0.3 (so training has seen
some channel variation but most of it is clean). Parameters are recorded per
file in ``meta.json``.

Layout: ``DIR/{train,val,test}/<id>/<session>/<utt>.wav`` (16 kHz mono int16),
``DIR/{val,test}/trials.txt`` (``label enroll test``, paths relative to the
split folder), ``DIR/meta.json``. The split is speaker-disjoint, 200/20/40 of
the default 260 speakers and in proportion otherwise (>= 2 per split).

Determinism: every random choice comes from ``SeedSequence(seed,
spawn_key=(kind, speaker, utterance))``; identical arguments give
byte-identical files whatever the worker count or scheduling.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from functools import lru_cache
from importlib import resources
from itertools import combinations
from pathlib import Path

import numpy as np

from speaker_tf.data import espeak
from speaker_tf.data.audio import default_workers, process_pool, to_int16, write_wav16
from speaker_tf.errors import CorpusError

__all__ = [
    "GENERATOR_VERSION",
    "SAMPLE_RATE",
    "load_sentences",
    "split_sizes",
    "speaker_ids",
    "speaker_voice",
    "make_trials",
    "generate_corpus",
    "ensure_corpus",
]

GENERATOR_VERSION = 1
SAMPLE_RATE = 16000
DEFAULT_SPEAKERS = 260
DEFAULT_UTTERANCES = 20
DEFAULT_SEED = 0
TRIALS_PER_SPLIT = 4000
SESSIONS = 3
TRAIN_CHANNEL_PROBABILITY = 0.3
SPLITS = ("train", "val", "test")
REFERENCE_SENTENCE = "The rainbow appears when sunlight shines through falling drops of water."
# SeedSequence spawn-key kinds: one independent stream per purpose.
_VOICE, _UTTERANCE, _SESSION, _TRIALS = 1, 2, 3, 4


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))


@lru_cache(maxsize=1)
def load_sentences() -> tuple[str, ...]:
    """The packaged sentence list (one plain English sentence per line)."""
    text = resources.files("speaker_tf.data").joinpath("sentences.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


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


def speaker_voice(seed: int, index: int) -> dict:
    """Random voice of speaker ``index``: espeak-ng variant parameters, accent, rate, gain."""
    rng = _rng(seed, _VOICE, index)
    high = rng.random() < 0.5  # roughly "female / child" vs "male" register
    base = int(rng.uniform(150, 230) if high else rng.uniform(65, 135))
    tract = rng.uniform(1.02, 1.22) if high else rng.uniform(0.86, 1.04)  # formant scaling
    formants = []
    for _ in range(9):
        formants.append(
            [
                int(round(100 * tract * rng.normal(1.0, 0.04))),
                int(rng.integers(70, 140)),
                int(rng.integers(70, 170)),
            ]
        )
    params: dict = {
        "pitch": [base, int(base + rng.integers(15, 90))],
        "formants": formants,
        "flutter": int(rng.integers(0, 25)),
        "roughness": int(rng.integers(0, 6)),
        "voicing": int(rng.integers(75, 140)),
        "consonants": [int(rng.integers(70, 130)), int(rng.integers(70, 130))],
        "tone": [
            int(rng.integers(350, 800)),
            int(rng.integers(90, 256)),
            int(rng.integers(1000, 1700)),
            int(rng.integers(90, 256)),
            int(rng.integers(1900, 3000)),
            int(rng.integers(60, 200)),
        ],
    }
    if rng.random() < 0.3:
        params["breath"] = [int(v) for v in rng.integers(0, 45, size=8)]
        params["breathw"] = [int(v) for v in rng.integers(100, 400, size=8)]
    if rng.random() < 0.25:
        params["echo"] = [int(rng.integers(10, 60)), int(rng.integers(5, 25))]
    return {
        "accent": espeak.ACCENTS[index % len(espeak.ACCENTS)],
        "variant": params,
        "speed": int(rng.integers(140, 201)),  # words per minute (espeak -s)
        "pitch_adjust": int(rng.integers(35, 66)),  # espeak -p, 0-99
        "gain_db": round(float(rng.uniform(-14.0, -2.0)), 2),
    }


# ---------------------------------------------------------------- channel


def _peaking_biquad(f0: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Peaking-EQ biquad of R. Bristow-Johnson's "Audio EQ Cookbook"."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return b / den[0], den / den[0]


def _session_channel(rng: np.random.Generator) -> dict:
    return {
        "tilt": round(float(rng.uniform(-0.7, 0.7)), 4),
        "eq_hz": round(float(np.exp(rng.uniform(np.log(200), np.log(4000)))), 1),
        "eq_db": round(float(rng.uniform(-9, 9)), 2),
        "eq_q": round(float(rng.uniform(0.5, 2.5)), 3),
        "rt60_s": round(float(rng.uniform(0.15, 0.5)), 3),
        "drr_db": round(float(rng.uniform(3, 12)), 2),
        "ir_seed": int(rng.integers(2**31)),
    }


def _apply_channel(x: np.ndarray, ch: dict, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import fftconvolve, lfilter

    # Spectral tilt: first-order FIR [1, -tilt] (tilt > 0 brightens, < 0 darkens).
    y = lfilter([1.0, -ch["tilt"]], [1.0], x)
    b, a = _peaking_biquad(ch["eq_hz"], ch["eq_db"], ch["eq_q"], SAMPLE_RATE)
    y = lfilter(b, a, y)
    # Reverberation: direct path + exponentially decaying Gaussian noise tail
    # (60 dB decay over rt60), scaled to the direct-to-reverberant ratio.
    n = max(16, int(ch["rt60_s"] * SAMPLE_RATE))
    t = np.arange(1, n + 1) / SAMPLE_RATE
    decay = np.exp(-np.log(1000.0) * t / ch["rt60_s"])
    tail = np.random.default_rng(ch["ir_seed"]).standard_normal(n) * decay
    tail *= 10 ** (-ch["drr_db"] / 20) / np.sqrt(np.sum(tail**2))
    y = fftconvolve(y, np.concatenate([[1.0], tail]))[: y.shape[0]]
    # Additive noise, low-pass coloured, at the file's SNR.
    colour = ch["noise_colour"]
    noise = lfilter([1 - colour], [1, -colour], rng.standard_normal(y.shape[0]))
    snr = ch["snr_db"]
    p_sig = np.mean(y**2)
    noise *= np.sqrt(p_sig / (np.mean(noise**2) * 10 ** (snr / 10)))
    return y + noise


# ---------------------------------------------------------------- workers


def _voice_name(accent: str, speaker: str) -> str:
    return f"{accent}+{speaker}"


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    x = samples.astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE:
        x = soxr.resample(x, rate, SAMPLE_RATE, quality="HQ")
    return x.astype(np.float64)


def _reference_task(job: dict) -> tuple[str, str, np.ndarray]:
    """Speak the fixed reference sentence at fixed speed/pitch: (speaker, sha1, feature)."""
    from speaker_tf.data.baseline import mfcc

    samples, rate = espeak.synthesize(REFERENCE_SENTENCE, job["voice"], 170, 50, job["data_path"])
    feature = mfcc(_to_16k(samples, rate)).mean(axis=0)
    return job["speaker"], hashlib.sha1(samples.tobytes()).hexdigest(), feature


def _speaker_task(job: dict) -> tuple[dict, float]:
    """Synthesise and write every utterance of one speaker; returns (file meta, seconds)."""
    seed, index, voice = job["seed"], job["index"], job["voice_params"]
    sentences = load_sentences()
    order = _rng(seed, _VOICE, index, 1).permutation(len(sentences))
    channel_p = 1.0 if job["split"] != "train" else TRAIN_CHANNEL_PROBABILITY
    sessions = []
    for s in range(SESSIONS):
        srng = _rng(seed, _SESSION, index, s)
        sessions.append(_session_channel(srng) if srng.random() < channel_p else None)
    files, seconds = {}, 0.0
    gain = 10 ** (voice["gain_db"] / 20)
    for u in range(job["utterances"]):
        rng = _rng(seed, _UTTERANCE, index, u)
        text = sentences[order[u % len(order)]]
        if rng.random() < 0.25:
            text += " " + sentences[order[(u + job["utterances"]) % len(order)]]
        speed = int(voice["speed"] + rng.integers(-12, 13))
        pitch = int(np.clip(voice["pitch_adjust"] + rng.integers(-6, 7), 0, 99))
        samples, rate = espeak.synthesize(text, job["voice"], speed, pitch, job["data_path"])
        x = _to_16k(samples, rate)
        session = u % SESSIONS
        channel = None
        if sessions[session] is not None:
            channel = dict(sessions[session])
            channel["snr_db"] = round(float(rng.uniform(15, 30)), 2)
            channel["noise_colour"] = round(float(rng.uniform(0.0, 0.9)), 3)
            x = _apply_channel(x, channel, rng)
        x = x / max(np.max(np.abs(x)), 1e-9) * gain
        rel = f"{job['speaker']}/s{session}/{u // SESSIONS + 1:05d}.wav"
        write_wav16(Path(job["split_dir"]) / rel, to_int16(x), SAMPLE_RATE)
        seconds += x.shape[0] / SAMPLE_RATE
        files[f"{job['split']}/{rel}"] = {"text": text, "speed": speed, "pitch": pitch, "channel": channel}
    return files, seconds


# ---------------------------------------------------------------- trials


def make_trials(
    utterances: dict[str, list[str]], n_trials: int, rng: np.random.Generator
) -> list[tuple[int, str, str]]:
    """Balanced target / non-target trials without self-pairs or duplicate pairs.

    ``utterances`` maps speaker -> relative paths. Half the trials (capped by
    the number of same-speaker pairs) are targets, as many are non-targets.
    """
    speakers = sorted(utterances)
    flat = [(s, u) for s in speakers for u in utterances[s]]
    spk_of = np.array([speakers.index(s) for s, _ in flat])
    index = {u: i for i, (_, u) in enumerate(flat)}
    targets = [(index[a], index[b]) for s in speakers for a, b in combinations(utterances[s], 2)]
    n_total = len(flat) * (len(flat) - 1) // 2
    n_target = min(n_trials // 2, len(targets), n_total - len(targets))
    pairs = [targets[i] for i in sorted(rng.choice(len(targets), n_target, replace=False))]
    if n_total <= 2_000_000 or n_total - len(targets) <= 4 * n_target:
        i, j = np.triu_indices(len(flat), k=1)
        keep = spk_of[i] != spk_of[j]
        non = np.stack([i[keep], j[keep]], axis=1)
        pairs += [tuple(map(int, non[k])) for k in sorted(rng.choice(len(non), n_target, replace=False))]
    else:
        chosen: set[tuple[int, int]] = set()
        while len(chosen) < n_target:
            i, j = (int(v) for v in rng.integers(len(flat), size=2))
            if spk_of[i] != spk_of[j]:
                chosen.add((min(i, j), max(i, j)))
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


# ---------------------------------------------------------------- driver


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _check_output_dir(out: Path, arguments: dict) -> bool:
    """True when ``out`` already holds this corpus; CorpusError when it holds anything else."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise CorpusError(f"output {str(out)!r} exists and is not a folder")
    if not any(out.iterdir()):
        return False
    meta_path = out / "meta.json"
    marker = out / ".incomplete.json"
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CorpusError(
                f"{str(meta_path)!r} is unreadable ({exc}); refusing to touch {str(out)!r}"
            ) from None
        if meta.get("arguments") == arguments and meta.get("generator_version") == GENERATOR_VERSION:
            return True
        raise CorpusError(
            f"{str(out)!r} already holds a synthetic corpus made with {meta.get('arguments')} "
            f"(generator version {meta.get('generator_version')}); refusing to overwrite it with "
            f"{arguments}: choose another output folder or delete it yourself"
        )
    if marker.is_file():
        try:
            pending = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pending = None
        if pending == {"arguments": arguments, "generator_version": GENERATOR_VERSION}:
            return False  # an interrupted run with the same arguments: regenerate in place
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

    A folder already holding a corpus with the same arguments is reused as is;
    any other non-empty folder is refused. ``_same_voice`` (tests only) gives
    every speaker speaker 0's voice, which the distinct-voice check must catch.
    """
    if utterances < 2:
        raise ValueError(f"--utterances {utterances}: need at least 2 per speaker (target trials)")
    split = speaker_ids(speakers)
    arguments = {"speakers": int(speakers), "utterances": int(utterances), "seed": int(seed)}
    out = Path(out_dir)
    if _check_output_dir(out, arguments):
        if verbose:
            print(f"synth: reused existing corpus {out} ({arguments})")
        return out
    espeak.espeak_binary()
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / ".incomplete.json", {"arguments": arguments, "generator_version": GENERATOR_VERSION})

    ordered = [(name, spk) for name in SPLITS for spk in split[name]]
    voices = {spk: speaker_voice(seed, 0 if _same_voice else i) for i, (_, spk) in enumerate(ordered)}
    with tempfile.TemporaryDirectory(prefix="speaker_tf_espeak_") as tmp:
        jobs = []
        per_copy = espeak.MAX_VARIANTS_PER_COPY
        for shard in range(0, len(ordered), per_copy):
            members = ordered[shard : shard + per_copy]
            data_path = espeak.build_data_copy(
                Path(tmp) / f"copy{shard // per_copy}",
                {spk: espeak.variant_text(spk, voices[spk]["variant"]) for _, spk in members},
            )
            for name, spk in members:
                jobs.append(
                    {
                        "seed": int(seed),
                        "index": int(spk[2:]),
                        "speaker": spk,
                        "split": name,
                        "split_dir": str(out / name),
                        "utterances": int(utterances),
                        "voice": _voice_name(voices[spk]["accent"], spk),
                        "voice_params": voices[spk],
                        "data_path": data_path,
                    }
                )
        n_workers = min(default_workers(workers), len(jobs))
        with process_pool(n_workers) as pool:
            chunk = max(1, len(jobs) // (4 * n_workers))
            _verify_distinct(list(pool.map(_reference_task, jobs, chunksize=chunk)))
            results = list(pool.map(_speaker_task, jobs, chunksize=chunk))

    files: dict[str, dict] = {}
    seconds = 0.0
    for file_meta, secs in results:
        files.update(file_meta)
        seconds += secs
    trial_counts = {}
    for k, name in enumerate(SPLITS[1:], start=1):
        rels = {spk: [] for spk in split[name]}
        for key in files:
            if key.startswith(name + "/"):
                rel = key[len(name) + 1 :]
                rels[rel.split("/")[0]].append(rel)
        trials = make_trials(rels, TRIALS_PER_SPLIT, _rng(seed, _TRIALS, k))
        path = out / name / "trials.txt"
        tmp_path = path.with_name(f".trials.txt.{os.getpid()}.partial")
        tmp_path.write_text("".join(f"{lab} {a} {b}\n" for lab, a, b in trials), encoding="utf-8")
        os.replace(tmp_path, path)
        trial_counts[name] = len(trials)

    meta = {
        "generator": "speaker_tf.data.synth",
        "generator_version": GENERATOR_VERSION,
        "espeak_ng": espeak.espeak_version(),
        "arguments": arguments,
        "sample_rate": SAMPLE_RATE,
        "train_channel_probability": TRAIN_CHANNEL_PROBABILITY,
        "splits": split,
        "trials": trial_counts,
        "speakers": {spk: {"split": name, **voices[spk]} for name, spk in ordered},
        "files": files,
    }
    _write_json(out / "meta.json", meta)
    (out / ".incomplete.json").unlink(missing_ok=True)  # a concurrent identical run may have removed it
    elapsed = time.perf_counter() - start
    if verbose:
        n_files = len(files)
        print(
            f"synth: wrote {n_files} utterances ({seconds / 3600:.2f} h) of {speakers} speakers to {out} "
            f"in {elapsed:.1f} s ({1000 * elapsed / n_files:.1f} ms/utterance, {n_workers} workers); "
            + ", ".join(f"{name} {len(split[name])} speakers" for name in SPLITS)
            + "; trials: "
            + ", ".join(f"{k} {v}" for k, v in trial_counts.items())
        )
    if report_baseline:
        from speaker_tf.data.baseline import baseline_eer

        eer = baseline_eer(out / "test" / "trials.txt", out / "test", workers)
        if verbose:
            print(f"synth: MFCC baseline EER on test trials: {100 * eer:.2f} %")
    return out


def ensure_corpus(
    out_dir: str | os.PathLike,
    speakers: int = DEFAULT_SPEAKERS,
    utterances: int = DEFAULT_UTTERANCES,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
) -> Path:
    """The corpus folder, generated first if it does not exist yet (training calls this)."""
    return generate_corpus(out_dir, speakers, utterances, seed, workers, report_baseline=False)
