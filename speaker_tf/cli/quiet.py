"""Quiet TensorFlow's start-up noise for model commands (``--verbose`` keeps it).

TensorFlow prints a dozen lines on import and at device initialisation that read
as failures on an ordinary machine (``E0000 ... failed call to cuInit: UNKNOWN
ERROR (303)`` without a GPU, ``oneDNN custom operations are on``, ``Could not
find cuda drivers``). Two mechanisms are needed, because the lines logged before
``absl::InitializeLog()`` ignore ``TF_CPP_MIN_LOG_LEVEL``
(tensorflow/tensorflow#100442):

- ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it) hides the C++ log lines
  after import, the ``cuInit`` line included; real failures still surface as
  Python exceptions, which the command line prints;
- TensorFlow is imported with file descriptor 2 captured, and the captured text
  is written back to stderr without the lines :func:`is_noise` recognises.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["is_noise", "quiet_tensorflow"]

# C++ log lines, absl format "I0000 00:00:1796194448.019662   21669 port.cc:153] ..." and TF's
# own "2025-09-17 14:44:05.157831: I external/.../cudart_stub.cc:32] ..." (levels I, W, E).
_LOG_LINE = re.compile(
    r"^([IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] \S+:\d+\] )"
)
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # second line of cpu_feature_guard's message
)


def is_noise(line: str) -> bool:
    """True for TensorFlow's start-up log lines (absl/C++ format or the absl preamble)."""
    return bool(_LOG_LINE.match(line)) or line.startswith(_NOISE)


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up noise and lower its Python loggers to ERROR.

    Anything else TensorFlow writes to stderr while importing is passed through.
    A no-op for the capture when TensorFlow is already imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        _import_capturing_stderr()
    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")


def _import_capturing_stderr() -> None:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  (the import is the point)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not is_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
