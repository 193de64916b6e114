"""The project's exceptions: each one carries a message a person can act on.

The CLI and the web chat turn these into one line (or one chat message); nothing else
should reach a user as a traceback.
"""


class RagError(Exception):
    """Base class for errors the user can do something about."""


class InputError(RagError):
    """Input the user can fix (a question, a setting, a file or option given to a command).

    A separate base so the CLI tells "change what you typed" (exit 2) from "the system
    failed" (exit 1) without listing every such class.
    """


class QuestionError(InputError, ValueError):
    """The question cannot be asked as typed (empty, blank or too long)."""


class SettingsError(InputError):
    """A setting has a bad value; the message names the variable and the fix."""


class IndexNotReadyError(RagError):
    """There is no index to answer from yet."""


class StoreUnavailableError(RagError):
    """The vector store (a Chroma server) cannot be reached."""


class IndexLockedError(RagError):
    """Another `rag index` is already refreshing this index."""


class ModelFileError(RagError):
    """The packaged embedding model is missing or not the file we tested."""


class LLMUnavailableError(RagError):
    """The configured LLM endpoint failed; callers fall back to the offline answer."""
