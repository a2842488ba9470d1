"""One person, one name (R2.2, R2.3): the stored form of a user name, or why it is refused.

Every path that stores a user name (the directory, invites, accepting one, links) goes through
`stored_form`, so a look-alike is refused the same way everywhere (docs/decisions/016-hostile-input.md).
"""

import unicodedata

MAX_LENGTH = 254  # R2.3, on the stored form
REFUSED_CATEGORIES = {"Cc": "a control character", "Cf": "an invisible or format character",
                      "Cs": "a lone surrogate", "Zl": "a line separator", "Zp": "a paragraph separator"}


class InvalidUserName(ValueError):
    """R2.3 refuses this user name (docs/api.md: 422)."""

    def __init__(self, name: str, why: str):
        super().__init__(f"{name!r} is not a user name this service accepts: {why} (R2.3)")
        self.why = why


def stored_form(name: str) -> str:
    """The name lower-cased, as stored and compared (R2.2); InvalidUserName for what R2.3 refuses."""
    why = _refusal(name)
    if why:
        raise InvalidUserName(name[:300], why)
    return name.lower()


def _refusal(name: str) -> str | None:
    """Why R2.3 refuses the name, or None."""
    for char in name:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            return f"it holds {REFUSED_CATEGORIES[category]} (U+{ord(char):04X})"
        if char.isspace():
            return f"it holds a space (U+{ord(char):04X})"
    lowered = name.lower()
    if len(lowered) != len(name):
        return "lower-casing changes its length"
    if not (unicodedata.is_normalized("NFKC", name) and unicodedata.is_normalized("NFKC", lowered)):
        return "NFKC normalization changes it (fullwidth letters, ligatures, compatibility forms)"
    if len(lowered) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    local, at, domain = lowered.rpartition("@")
    if not at or not local or not domain or "@" in local:
        return "it is not an email address (one @, a name before it and a domain after it)"
    if domain.endswith("."):
        return "its domain ends with a dot"
    return None
