"""speaker_tf: a Keras 3 / TensorFlow toolkit for speaker recognition."""

__version__ = "0.1.0"
