"""Better BibTeX citekeys: finding ``@keys`` in text and reading their parts.

A default Better BibTeX key is ``auth.lower + shorttitle(3,3) + year`` with an
optional ``a``/``b``… suffix for clashes: ``pfeifferModularDeepLearning2023``
is author ``pfeiffer``, title words ``Modular Deep Learning``, year 2023.
"""

from __future__ import annotations

import re

__all__ = ["CITEKEY_PATTERN", "find_citekeys", "is_safe_key"]

# Pandoc/BBT citation syntax: '@' then a key of word characters and a few
# punctuation marks BBT allows inside keys (not at the end, so a trailing
# full stop or colon in prose is not swallowed). The look-behind stops e-mail
# addresses (name@host) from counting as citations.
CITEKEY_PATTERN = re.compile(r"(?<![\w@.])@([A-Za-z_][\w]*(?:[:.\-/+][\w]+)*)")

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_][\w:.\-+]{0,199}$")


def find_citekeys(text: str) -> list[str]:
    """Every ``@citekey`` in ``text``, in order of appearance, duplicates kept."""
    return [m.group(1) for m in CITEKEY_PATTERN.finditer(text)]


def is_safe_key(key: str) -> bool:
    """True for a key that can name a file: no path separators, no '..', no NUL, bounded length."""
    return bool(_SAFE_KEY.match(key)) and ".." not in key
