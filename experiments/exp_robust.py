"""exp_122 for voices it never heard (issue 9): speaker cues a synthesiser cannot fake, channels that tell nothing.

Built on exp_122 (L2 embedding, semi-hard triplet, margin 0.5). A model trained on espeak-ng voices learns the
synthesiser's fine structure and the corpus' channels; this recipe takes both away as cues and widens what a
"speaker" is:

* input: log-mel (40 bands) reduced to 20 cepstra, i.e. the spectral envelope the MFCC baseline scores, without
  the harmonic fine structure of espeak-ng's sources; NO per-utterance mean normalisation, because the long-term
  envelope is the cue the MFCC mean/std baseline wins with on human speech (CMN removes it exactly); instead a
  random smooth EQ per utterance (`tilt_db`, order 2) and SpecAugment (2 time, 2 frequency masks) so that no
  fixed colouring or single band identifies a speaker;
* waveform augmentation (`data.robust`): speed perturbation 0.9 / 1.1 as new speakers (Kaldi / WeSpeaker /
  SpeechBrain recipes), simulated-room reverberation, coloured noise and babble, band limits, EQ, tilt,
  telephone band and G.711 companding;
* loss: exp_122's semi-hard triplet plus a cross-entropy term over the speed-perturbed speakers;
* network: five stride-2 EBlocks (the log-mel input is already 100 frames/s; ten would need 10 s of audio).

Under the `cpu` profile (the default on the embedded corpus) it trains on a larger embedded corpus (400 training
speakers instead of 200) with the profile's budget of 1,000 steps, the same as exp_122's default run.
"""

from experiments.exp_122 import EXPERIMENT as PARENT
from speaker_tf.training.entry import run_experiment

EXPERIMENT = PARENT.derive(
    "exp_robust",
    "exp_122 for unseen voices: envelope cepstra without CMN, random EQ + SpecAugment, "
    "speed / reverb / noise / channel augmentation, + cross-entropy",
    {
        "model.frontend.kind": "logmel",
        "model.frontend.n_mels": 40,
        "model.frontend.mean_norm": False,
        "model.frontend.tilt_db": 3.0,
        "model.frontend.tilt_order": 2,
        "model.frontend.cepstra": 20,
        "model.frontend.time_masks": 2,
        "model.frontend.time_mask_width": 10,
        "model.frontend.freq_masks": 2,
        "model.frontend.freq_mask_width": 4,
        "model.e_block.channels": (48, 48, 64, 64, 64),
        "model.e_block.res_blocks": (2, 3, 3, 3, 3),
        "data.robust.enabled": True,
        "loss.cross_entropy_weight": 1.0,
    },
    profile_overrides={
        "cpu": {
            "data.synth_speakers": 520,  # 400 training speakers (x 3 speeds) instead of 200
        },
        "quick": {"data.robust.rooms": 8},  # a small simulated-room bank keeps the test run under a minute
    },
)

if __name__ == "__main__":
    run_experiment(EXPERIMENT)
