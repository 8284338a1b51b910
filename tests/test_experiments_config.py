"""Experiments: each module derives from its parent, overriding only what its note mentions."""

import re
from pathlib import Path

import pytest

from speaker_tf.config import ExperimentConfig, diff
from speaker_tf.config.experiment import experiment_names, load_experiment
from speaker_tf.errors import ConfigError
from speaker_tf.training import profiles
from speaker_tf.training.trainer import resolve_config

REPO = Path(__file__).resolve().parents[1]
NOTES = REPO / "experiments" / "notes.txt"  # a copy of the reference notes, shipped with the recipes
REFERENCE = REPO.parent / "shared" / "reference" / "001_b8556130fc162371.txt"

# Which words of a note justify overriding a config key (lower case substrings).
KEY_TERMS = {
    "model.res_block.norm": [
        "batchnorm to resblocks",
        "resblock: removed batch norm",
        "batch renorm",
        "removed batch norm",
    ],
    "model.res_block.se": ["seunit to residuals in resblocks"],
    "model.e_block.se": ["seunit to residuals in eblocks", "seunit after first conv"],
    "model.e_block.layout": ["eblock:", "eblocks"],
    "model.e_block.dense_skip": ["skip connection between eblocks"],
    "model.e_block.kernel": ["eblock kernel", "eblock/conv2d kernel"],
    "model.e_block.channels": ["eblocks/channels", "eblock/channels"],
    "model.e_block.res_blocks": ["eblocks/resblocks"],
    "model.in_block.kernel": ["inblock/conv2d kernel"],
    "model.in_block.channels": ["inblock/channels", "inblocks/channels", "inblock: 32"],
    "model.in_block.res_block": ["inblock: removed resblock"],
    "model.fc.residual": ["skip connection to fcblock"],
    "model.fc.layers": ["dense layer in fcblock", "fcblock: act -> dense -> act -> dense"],
    "model.fc.width": ["fcblock/dense1"],
    "model.fc.embedding_norm": ["before embeddings"],
    "model.head.kind": ["outblock:"],
    "model.head.dropout": ["dropout"],
    "model.pooling": ["pooling"],
    "model.activation": ["activation: swish"],
    "model.embedding_dim": ["out-channels"],
    "model.weight_decay": ["generator-wd"],
    "model.network": ["densenet"],
    "model.densenet.layers": ["eblock: 2*16+2*32+64*6"],
    "model.densenet.stage_growth": ["eblock: 2*16+2*32+64*6"],
    "optim.learning_rate": ["learning rate"],
    "optim.decay_steps": ["exponential decay"],
    "optim.decay_rate": ["exponential decay"],
    "train.validation_trials": ["validation set size", "validation size"],
    "data.speakers_per_batch": ["batch size"],
    "data.augment.enabled": ["datapp", "data: added"],
    "data.augment.noise": ["gaussian noise"],
    "data.augment.amplitude": ["random amplitude"],
    "data.augment.smoothing": ["added smoothing"],
    "data.augment.multi_step_noise": ["multi-step noise", "gaussian noise"],
    "data.augment.p_noise_smooth": ["smoothing to noise", "gaussian noise"],
    "data.augment.noise_std": ["randomness", "gaussian noise"],
    "loss.triplet": ["batch_hard", "batch_all", "batch_semi_hard", "batch hard", "batch all"],
    "loss.triplet_soft": ["soft margin"],
    "loss.triplet_margin": ["margin", "without negative distance"],
    "loss.cross_entropy_weight": ["cross entropy", "one-hot labels"],
}


def note_sections() -> dict[str, str]:
    """Note id ("01.1", "122") -> the note's text, lower case."""
    text = NOTES.read_text(encoding="utf-8")
    parts = re.split(r"^## ([\d.]+)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1].lower() for i in range(1, len(parts), 2)}


NAMES = experiment_names()
NOTE_CHILDREN = [n for n in NAMES if load_experiment(n).note and load_experiment(n).parent]


def test_shipped_notes_are_the_reference_notes():
    if REFERENCE.is_file():  # the reference folder sits beside a development checkout
        assert NOTES.read_bytes() == REFERENCE.read_bytes()
    assert "## 122" in NOTES.read_text(encoding="utf-8")


def test_every_note_has_a_module():
    notes = set(note_sections())
    modules = {load_experiment(name).note for name in NAMES}
    assert notes - modules == set()
    assert {"exp_01_1", "exp_122", "exp_128"} <= set(NAMES)


@pytest.mark.parametrize("name", NOTE_CHILDREN)
def test_overrides_only_keys_the_note_mentions(name):
    experiment = load_experiment(name)
    text = note_sections()[experiment.note]
    for key in experiment.overrides:
        if key in experiment.implied:
            assert len(experiment.implied[key]) > 20, f"{name}: give a reason for {key}"
            continue
        terms = KEY_TERMS.get(key)
        assert terms is not None, f"{name} overrides {key}, which no note term maps to"
        assert any(t in text for t in terms), (
            f"{name} overrides {key} but note ## {experiment.note} says: {text!r}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_config_is_parent_plus_overrides(name):
    experiment = load_experiment(name)
    parent = load_experiment(experiment.parent).config if experiment.parent else ExperimentConfig()
    changed = diff(parent, experiment.config)
    assert set(changed) <= set(experiment.overrides)
    assert experiment.config.name == name
    assert experiment.change.strip(), name


def test_docstring_quotes_the_note():
    for name in NAMES:
        module = __import__(f"experiments.{name}", fromlist=["EXPERIMENT"])
        experiment = module.EXPERIMENT
        if experiment.note:
            assert module.__doc__.startswith(f"## {experiment.note}"), name


# Pairs of modules whose notes differ only in what is not configuration.
SAME_CONFIG = {
    frozenset({"exp_20", "exp_24"}): "## 24 reruns ## 20's EBlock; ## 12 had already set validation to 256",
    frozenset({"exp_21", "exp_25"}): "## 25 reruns ## 21's EBlock and improved logging",
    frozenset({"exp_22", "exp_23"}): "## 23 repeats ## 22's EBlock; ## 12 had already set validation to 256",
    frozenset({"exp_30", "exp_31"}): "## 31 fixed logging only",
    frozenset({"exp_109", "exp_112"}): "## 112 is an empty entry",
}


def test_modules_whose_notes_differ_build_different_configs():
    notes = note_sections()
    seen: dict[str, str] = {}
    for name in NAMES:
        experiment = load_experiment(name)
        text = experiment.config.override({"name": "any"}).to_json()
        other = seen.setdefault(text, name)
        if other == name:
            continue
        assert notes.get(experiment.note) == notes.get(load_experiment(other).note) or (
            frozenset({name, other}) in SAME_CONFIG
        ), f"{name} builds the same config as {other} although their notes differ"


def test_outblock_dropout_does_not_leak_into_the_new_outblock():
    # ## 06's dropout sat before the old OutBlock; ## 113 redefines the OutBlock without it
    assert load_experiment("exp_06").config.model.head.dropout == 0.5
    assert load_experiment("exp_113").config.model.head.dropout == 0.0
    assert load_experiment("exp_116").config.model.head.dropout == 0.0
    assert load_experiment("exp_122").config.model.head.dropout == 0.0
    assert load_experiment("exp_117").config.model.head.dropout == 0.5
    assert load_experiment("exp_118").config.model.head.dropout == 0.9


def test_flagship_is_l2_semihard_without_cross_entropy():
    config = load_experiment("exp_122").config
    assert config.model.fc.embedding_norm == "l2"
    assert config.loss.triplet == "semihard"
    assert config.loss.triplet_margin == 0.5
    assert config.loss.cross_entropy_weight == 0.0
    assert load_experiment("exp_123").config.loss.cross_entropy_weight == 1.0


def test_unchanged_entries_are_reverted():
    # ## 11 is "(unchanged)": ## 12 builds on ## 10, so it keeps only the SEUnit after the ResBlocks.
    assert load_experiment("exp_10").config.model.e_block.se == ("after_res",)
    assert load_experiment("exp_11").config.model.e_block.se == ("after_first_conv", "after_res")
    assert load_experiment("exp_12").config.model.e_block.se == ("after_res",)
    assert load_experiment("exp_12").parent == "exp_10"


def test_retrained_entries_warm_start():
    assert load_experiment("exp_110").warm_start == "exp_106"
    assert load_experiment("exp_111").warm_start == "exp_105"


def test_unknown_experiment_lists_close_matches():
    with pytest.raises(ConfigError, match="exp_122"):
        load_experiment("exp_1222")


def test_override_errors_name_key_and_value():
    config = ExperimentConfig()
    with pytest.raises(ConfigError, match=r"embeding_norm.*did you mean model\.fc\.embedding_norm"):
        config.override({"model.fc.embeding_norm": "l2"})
    with pytest.raises(ConfigError, match=r"'l3'"):
        config.override({"model.fc.embedding_norm": "l3"})
    with pytest.raises(ConfigError, match=r"optim\.learning_rate='fast'"):
        config.override({"optim.learning_rate": "fast"})
    with pytest.raises(ConfigError, match=r"train\.epochs=1\.5"):
        config.override({"train.epochs": 1.5})


def test_override_coerces_ints_and_lists():
    config = ExperimentConfig().override({"optim.learning_rate": 1, "model.e_block.channels": [8, 8]})
    assert config.optim.learning_rate == 1.0 and isinstance(config.optim.learning_rate, float)
    assert config.model.e_block.channels == (8, 8)


def test_config_json_round_trip():
    config = load_experiment("exp_122").config
    assert ExperimentConfig.from_dict(config.to_dict()) == config


REFERENCE_004 = REPO.parent / "shared" / "reference" / "004_0d06692b963ab960.txt"


def test_conformer_aam_takes_reference_004s_best_trial():
    config = load_experiment("exp_conformer_aam").config
    best = {"angular_scale": 48.1487167638507, "angular_margin": 0.3564995169427794}
    if REFERENCE_004.is_file():  # the values as the document prints them
        text = REFERENCE_004.read_text(encoding="utf-8")
        assert all(repr(value) in text for value in best.values()) and "'emb_size': 2048" in text
    # three significant figures, as the module's docstring says
    assert config.model.head.aam_scale == float(f"{best['angular_scale']:.3g}") == 48.1
    assert config.model.head.aam_margin == float(f"{best['angular_margin']:.3g}") == 0.356
    assert config.optim.learning_rate == float(f"{0.0009063493305418668:.3g}") == 9.06e-4
    assert resolve_config(load_experiment("exp_conformer_aam"), profile="full").model.embedding_dim == 2048


def test_cpu_profile_says_what_it_changes_and_why(capsys):
    config = resolve_config(load_experiment("exp_conformer_aam"), profile="cpu")
    assert config.model.embedding_dim == 256
    profiles.announce(config)
    assert "model.embedding_dim: 2048 -> 256  (a smaller embedding" in capsys.readouterr().out
    config = resolve_config(load_experiment("exp_122"), profile="cpu")
    assert config.optim.ema == 0.0 and config.loss.cross_entropy_weight == 0.5
    profiles.announce(config)
    out = capsys.readouterr().out
    assert "optim.ema: 0.999 -> 0.0  (weight EMA off" in out
    assert "loss.cross_entropy_weight: 0.0 -> 0.5  (an added softmax term" in out


def test_transformer_supcon_follows_reference_000():
    config = load_experiment("exp_transformer_supcon").config
    assert config.model.transformer.norm == "post"  # run 3: "Post Layer Norm"
    assert config.data.speakers_per_batch * config.data.utterances_per_speaker == 128  # K x C
    assert config.optim.global_clipnorm == 1.0 and config.optim.clipnorm == 0.0


def test_late_series_trains_512_speakers_with_weight_ema():
    early = load_experiment("exp_41").config
    assert (early.data.max_train_speakers, early.optim.ema) == (256, 0.0)
    for name in ("exp_100", "exp_116", "exp_122", "exp_128"):
        config = load_experiment(name).config
        assert (config.data.max_train_speakers, config.optim.ema) == (512, 0.999), name


def test_reference_003_policy_has_its_experiment():
    experiment = load_experiment("exp_policy_003")
    assert experiment.parent == "exp_125"  # the kept entry that added DataPP
    augment = experiment.config.data.augment
    assert augment.enabled and augment.policy == "clean_one_two"
    assert (augment.p_clean, augment.p_two) == (0.1, 0.5)  # 003: p_no_aug .1, p_two_aug .5
    assert set(diff(load_experiment("exp_125").config, experiment.config)) == {"data.augment.policy"}


def test_eblock_layouts_are_the_ones_the_notes_spell():
    # "EBlock: act -> conv -> act -> conv -> ResBlock -> SEUnit +Dense" (## 20-35): the tokens before
    # "ResBlock" are the module's layout. Every spelled layout has two convs: the strided 1xk conv
    # and the 1x1 bottleneck whose removal ## 17 tried and reverted "(unchanged)".
    spelled = {}
    for note, text in note_sections().items():
        match = re.search(r"eblock: ((?:(?:bn|act|conv) -> )+)resblock", text)
        if match:
            spelled[note] = tuple(match.group(1).removesuffix(" -> ").split(" -> "))
    assert {"20", "21", "22", "23", "24", "25", "26", "33", "34", "35"} <= set(spelled)
    by_note = {load_experiment(name).note: load_experiment(name).config for name in NAMES}
    for note, layout in spelled.items():
        assert by_note[note].model.e_block.layout == layout, note
        assert layout.count("conv") == 2, note
    assert "removed 1x1 bottleneck layer" in note_sections()["17"]
    assert by_note["17"].model.e_block.layout == ("act", "conv")
    assert by_note["16"].model.e_block.layout == ("act", "conv", "act", "conv")


def test_eblock_kernel_is_4_until_16_makes_it_3():
    kernels = {load_experiment(n).note: load_experiment(n).config.model.e_block.kernel for n in NAMES}
    order = [load_experiment(name).note for name in NAMES if load_experiment(name).note]
    before_14 = order[: order.index("14")]
    assert {kernels[n] for n in before_14} == {4}
    assert kernels["14"] == 7  # "EBlock/conv2d kernel: 1x4 => 1x7", tried, then ## 16 from 1x4 to 1x3
    assert {kernels[n] for n in order[order.index("16") :]} == {3}
