"""What the synthetic speakers say: languages of espeak-ng and text each can pronounce.

espeak-ng 1.51 ships ~130 languages. :data:`LANGUAGES` lists those whose
voice honours a voice variant and which read numbers and the generated
syllables without complaint (checked one by one: ``be`` lacks its full
dictionary, ``hi`` fails with "Unknown phoneme table", ``tk`` and ``cv`` read
no digits, ``kl`` crashes on dates, British English as ``en-gb`` ignores
variants). Each language is
either a training language or a held-out one (:data:`HELDOUT_LANGUAGES`),
never both, so that a held-out corpus measures speech in languages no
training corpus contains.

Text per utterance (:func:`utterance_text`): English accents read the
packaged ``sentences.txt`` (80 %) or numbers; every other language reads
numbers, digit strings and dates in the language (espeak-ng expands them
with the language's own number rules) or a pseudo-sentence made of
consonant-vowel syllables of the language's script.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = [
    "Language",
    "LANGUAGES",
    "ENGLISH_ACCENTS",
    "TRAIN_LANGUAGES",
    "HELDOUT_LANGUAGES",
    "language",
    "load_sentences",
    "number_text",
    "pseudo_sentence",
    "utterance_text",
]


@dataclass(frozen=True)
class Language:
    """One espeak-ng language: voice name for ``-v``, its file under ``lang/``, its script."""

    code: str
    lang_file: str
    script: str  # "english" (packaged sentences) or a key of _SYLLABLES / "hangul"


def _lat(*codes_files: str) -> list[Language]:
    return [Language(c.split("=")[0], c.split("=")[1], "latin") for c in codes_files]


# English accents shipped with espeak-ng 1.50+ (lang/gmw/en*); "en" is British
# English ("en-gb+variant" silently ignores the variant in espeak-ng 1.51).
ENGLISH_ACCENTS: tuple[Language, ...] = tuple(
    Language(code, f"gmw/{file}", "english")
    for code, file in (
        ("en-us", "en-US"),
        ("en", "en"),
        ("en-gb-scotland", "en-GB-scotland"),
        ("en-gb-x-rp", "en-GB-x-rp"),
        ("en-029", "en-029"),
        ("en-gb-x-gbclan", "en-GB-x-gbclan"),
        ("en-gb-x-gbcwmd", "en-GB-x-gbcwmd"),
        ("en-us-nyc", "en-US-nyc"),
    )
)

_OTHER: tuple[Language, ...] = tuple(
    _lat(
        "af=gmw/af",
        "an=roa/an",
        "az=trk/az",
        "bs=zls/bs",
        "ca=roa/ca",
        "cs=zlw/cs",
        "cy=cel/cy",
        "da=gmq/da",
        "de=gmw/de",
        "eo=art/eo",
        "es=roa/es",
        "es-419=roa/es-419",
        "et=urj/et",
        "eu=eu",
        "fi=urj/fi",
        "fr=roa/fr",
        "fr-be=roa/fr-BE",
        "ga=cel/ga",
        "gd=cel/gd",
        "gn=sai/gn",
        "haw=map/haw",
        "hr=zls/hr",
        "ht=roa/ht",
        "hu=urj/hu",
        "ia=art/ia",
        "id=poz/id",
        "io=art/io",
        "is=gmq/is",
        "it=roa/it",
        "jbo=art/jbo",
        "kl=esx/kl",
        "la=itc/la",
        "lb=gmw/lb",
        "lfn=art/lfn",
        "lt=bat/lt",
        "lv=bat/lv",
        "mi=poz/mi",
        "ms=poz/ms",
        "mt=sem/mt",
        "nb=gmq/nb",
        "nl=gmw/nl",
        "om=cus/om",
        "pap=roa/pap",
        "pl=zlw/pl",
        "pt=roa/pt",
        "pt-br=roa/pt-BR",
        "qu=qu",
        "ro=roa/ro",
        "sk=zlw/sk",
        "sl=zls/sl",
        "sq=ine/sq",
        "sv=gmq/sv",
        "sw=bnt/sw",
        "tn=bnt/tn",
        "tr=trk/tr",
        "uz=trk/uz",
        "vi=aav/vi",
    )  # fmt: skip
    + [
        Language(code, file, "cyrillic")
        for code, file in (
            ("ba", "trk/ba"),
            ("bg", "zls/bg"),
            ("kk", "trk/kk"),
            ("ky", "trk/ky"),
            ("mk", "zls/mk"),
            ("ru", "zle/ru"),
            ("sr", "zls/sr"),
            ("tt", "trk/tt"),
            ("uk", "zle/uk"),
        )  # fmt: skip
    ]
    + [
        Language("el", "grk/el", "greek"),
        Language("hy", "ine/hy", "armenian"),
        Language("ka", "ccs/ka", "georgian"),
        Language("mr", "inc/mr", "devanagari"),
        Language("ne", "inc/ne", "devanagari"),
        Language("ja", "jpx/ja", "kana"),
        Language("ko", "ko", "hangul"),
    ]
)

LANGUAGES: tuple[Language, ...] = ENGLISH_ACCENTS + _OTHER

# Held out of every training corpus (all splits): four language families and
# four scripts that training lacks entirely (Finno-Ugric is kept in training
# through Estonian only; Georgian, Korean and Devanagari scripts not at all).
HELDOUT_LANGUAGES: tuple[str, ...] = ("fi", "hu", "sw", "tn", "vi", "ka", "ko", "mr", "ne")
TRAIN_LANGUAGES: tuple[str, ...] = tuple(lg.code for lg in LANGUAGES if lg.code not in HELDOUT_LANGUAGES)

_SYLLABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "latin": (tuple("bdfgklmnpstv"), tuple("aeiou")),
    "cyrillic": (tuple("бдгклмнпрств"), tuple("аеиоу")),
    "greek": (tuple("βδγκλμνπρστ"), ("α", "ε", "ι", "ο", "ου")),
    "armenian": (tuple("բդգկլմնպռստվ"), ("ա", "ե", "ի", "օ", "ու")),
    "georgian": (tuple("ბდგკლმნპრსტვ"), tuple("აეიოუ")),
    "devanagari": (tuple("कगतदनपबमरलस"), ("ा", "ि", "ी", "ु", "े", "ो", "")),
    "kana": (tuple("かきくけこさしすせそたてとなにぬねのまみむめもらりるれろ"), ("",)),
}
# Hangul syllable blocks U+AC00 + (19 initials x 21 medials) x 28 finals, no final.
_HANGUL = tuple(
    chr(0xAC00 + (i * 21 + m) * 28) for i in (0, 2, 3, 5, 6, 7, 9, 11, 12, 18) for m in (0, 4, 8, 13, 20)
)

_BY_CODE = {lg.code: lg for lg in LANGUAGES}


def language(code: str) -> Language:
    """The :class:`Language` of an espeak-ng voice code, ValueError naming unknown codes."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown synthetic-corpus language {code!r}") from None


@lru_cache(maxsize=1)
def load_sentences() -> tuple[str, ...]:
    """The packaged sentence list (one plain English sentence per line)."""
    text = resources.files("speaker_tf.data").joinpath("sentences.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def number_text(rng: np.random.Generator) -> str:
    """Numbers as people read them out: a digit string, a count, a year and a date."""
    parts = []
    for kind in rng.permutation(4)[: int(rng.integers(1, 3))]:
        if kind == 0:
            parts.append(" ".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(4, 8)))))
        elif kind == 1:
            parts.append(str(int(rng.integers(2, 10_000))))
        elif kind == 2:
            parts.append(str(int(rng.integers(1900, 2031))))
        else:
            parts.append(
                f"{int(rng.integers(1, 29))}.{int(rng.integers(1, 13))}.{int(rng.integers(1950, 2031))}"
            )
    return ". ".join(parts) + "."


def pseudo_sentence(script: str, rng: np.random.Generator) -> str:
    """4-8 words of 1-3 consonant-vowel syllables of ``script``, with a comma or a question."""
    if script == "hangul":
        syllables = _HANGUL
    else:
        consonants, vowels = _SYLLABLES[script]
        syllables = tuple(c + v for c in consonants for v in vowels)
    n_words = int(rng.integers(4, 9))
    words = [
        "".join(syllables[k] for k in rng.integers(0, len(syllables), size=int(rng.integers(1, 4))))
        for _ in range(n_words)
    ]
    if n_words > 5 and rng.random() < 0.5:
        words[int(rng.integers(2, n_words - 2))] += ","
    return " ".join(words) + ("?" if rng.random() < 0.2 else ".")


def utterance_text(lang: Language, rng: np.random.Generator, sentence_order: np.ndarray, u: int) -> str:
    """Text of utterance ``u`` of a speaker of ``lang``; ``sentence_order`` permutes sentences.txt."""
    if lang.script == "english":
        if rng.random() < 0.2:
            return number_text(rng)
        sentences = load_sentences()
        text = sentences[sentence_order[u % len(sentence_order)]]
        if rng.random() < 0.25:
            text += " " + sentences[sentence_order[(u + 1 + len(sentence_order) // 2) % len(sentence_order)]]
        return text
    if rng.random() < 0.5:
        return number_text(rng)
    return pseudo_sentence(lang.script, rng)
