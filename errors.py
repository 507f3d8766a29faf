"""Errors the engine raises; processing/ turns them into QgsProcessingException.

Kept outside geo/ and models/ so both can raise them without importing each other.
"""


class GeoVLError(Exception):
    """Base class: the message is a sentence for the user (what is wrong, what to do)."""


class InputError(GeoVLError):
    """A parameter or input dataset the user can fix."""


class ModelError(GeoVLError):
    """A model that cannot be found, loaded or used for the requested task."""


class Cancelled(GeoVLError):
    """The user cancelled the run; nothing was written."""
