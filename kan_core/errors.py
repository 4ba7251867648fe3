"""One exception family for everything a user can get wrong (caught by the CLI and the studio)."""


class KanStudioError(Exception):
    """Base of all user-facing errors; the message is one line: what happened; what to do."""


class ConfigError(KanStudioError, ValueError):
    """An argument or setting is invalid."""


class DataError(KanStudioError, ValueError):
    """Input data cannot be used as given."""


class TrainingDiverged(KanStudioError, RuntimeError):
    """The loss became NaN/inf; the model holds the last good weights."""

    def __init__(self, message: str, history: object = None):
        super().__init__(message)
        self.history = history


class ModelError(KanStudioError, ValueError):
    """The model is not in a state the operation needs (e.g. edges not snapped yet)."""


class SessionError(KanStudioError, ValueError):
    """A session file cannot be opened (damaged, foreign, newer, or unsafe)."""


def printable(text: object) -> str:
    """User text made safe for one terminal line: control characters (escape sequences, a newline
    that could forge a second `error:` line) written as Python escapes; the rest unchanged."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))
