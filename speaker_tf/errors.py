"""Exception types that the command line turns into one-line errors."""


class SpeakerTfError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""


class AudioError(SpeakerTfError):
    """An audio file is unreadable, empty, non-finite, or otherwise unusable."""


class CorpusError(SpeakerTfError):
    """A corpus folder or trial list is malformed or unusable for the task."""


class ConfigError(SpeakerTfError, ValueError):
    """A configuration key or value is unknown or impossible."""


class ExportError(SpeakerTfError):
    """An export folder is missing, incomplete, or would be overwritten."""


class OutputExistsError(SpeakerTfError, FileExistsError):
    """An output file exists and overwriting it was not asked for."""
