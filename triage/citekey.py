"""Better BibTeX citekeys: finding ``@keys`` in text and reading their parts.

A default Better BibTeX key is ``auth.lower + shorttitle(3,3) + year`` with an
optional ``a``/``b``… suffix for clashes: ``pfeifferModularDeepLearning2023``
is author ``pfeiffer``, title words ``Modular Deep Learning``, year 2023.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "CITEKEY_PATTERN",
    "find_citekeys",
    "is_safe_key",
    "has_citekey_shape",
    "KeyParts",
    "parse_bbt_key",
    "bbt_key",
    "bbt_suffix",
    "family_name",
    "title_words",
    "ascii_fold",
]

# Pandoc/BBT citation syntax: '@' then a key of word characters and a few
# punctuation marks BBT allows inside keys (not at the end, so a trailing
# full stop or colon in prose is not swallowed). The look-behind stops e-mail
# addresses (name@host) from counting as citations, and an escaped ``\@``, as
# in Pandoc: markdown's way of writing a literal at sign (``entries.markdown_text``).
CITEKEY_PATTERN = re.compile(r"(?<![\w@.\\])@([A-Za-z_][\w]*(?:[:.\-/+][\w]+)*)")

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_][\w:.\-+]{0,199}$")


def find_citekeys(text: str) -> list[str]:
    """Every ``@citekey`` in ``text``, in order of appearance, duplicates kept."""
    return [m.group(1) for m in CITEKEY_PATTERN.finditer(text)]


_YEAR_IN_KEY = re.compile(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)")


def has_citekey_shape(key: str) -> bool:
    """True when ``key`` looks like a Better BibTeX key by itself: it carries a year.

    Every pattern readers use puts one in (``pfeifferModularDeepLearning2023``,
    ``goldsmith1987automatic``, ``Smith_2020_Foo``); a handle or a word
    (``@karpathy``, ``@param``) does not.  A key without a year still counts
    where the library or the state knows it: that is the caller's check.
    """
    return bool(_YEAR_IN_KEY.search(key.lstrip("@")))


def is_safe_key(key: str) -> bool:
    """True for a key that can name a file: no path separators, no '..', no NUL, bounded length."""
    return bool(_SAFE_KEY.match(key)) and ".." not in key


# -- the Better BibTeX default pattern: auth.lower + shorttitle(3,3) + year -----------------

# Better BibTeX's shorttitle skips function words; these are the ones English titles use.
SKIP_WORDS = frozenset(
    """a an the and or nor but yet so for of in on at to from by with without within via vs versus into onto upon
    over under about above across after against along among amid around as before behind below beneath beside
    besides between beyond despite down during except inside like near off out per since than through throughout
    till toward towards until unto up""".split()  # noqa: SIM905 - a word list reads better as words
)

_BBT_KEY = re.compile(
    r"^(?P<author>[a-z]+)(?P<title>(?:[A-Z0-9][A-Za-z0-9]*)+?)(?P<year>(?:1[5-9]|20)\d\d)(?P<suffix>[a-z]{0,2})$"
)
# Camel-case pieces: an acronym (ending before a Capitalised word or a digit), a Capitalised word, digits.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z][a-z]+|[A-Z]|\d+[a-z]*|[a-z]+")


class KeyParts(NamedTuple):
    """The parts of a default-pattern Better BibTeX key."""

    author: str
    title_words: list[str]
    year: int
    suffix: str


def parse_bbt_key(key: str) -> KeyParts | None:
    """Split a default-pattern Better BibTeX key, or ``None`` when the key does not follow it.

    ``pfeifferModularDeepLearning2023`` -> ``('pfeiffer', ['Modular', 'Deep', 'Learning'], 2023, '')``.
    The key keeps no word boundaries inside a word, so camel-case pieces beyond
    three are merged into the first word (``WaveNetGenerativeModel`` ->
    ``WaveNet``, ``Generative``, ``Model``; ``HighResolutionImageSynthesis`` ->
    ``HighResolution``, ``Image``, ``Synthesis``), which is right for the common
    case of a product name or hyphenated word leading the title.
    """
    m = _BBT_KEY.match(key.lstrip("@"))
    if not m:
        return None
    pieces = _CAMEL.findall(m.group("title"))
    if not pieces:
        return None
    while len(pieces) > 3:
        pieces[0:2] = [pieces[0] + pieces[1]]
    return KeyParts(m.group("author"), pieces, int(m.group("year")), m.group("suffix"))


def ascii_fold(text: str) -> str:
    """``Rønnow`` -> ``Ronnow``: accents and a few special letters folded to ASCII, as Better BibTeX does."""
    for a, b in (("ø", "o"), ("Ø", "O"), ("ł", "l"), ("Ł", "L"), ("ß", "ss"), ("æ", "ae"), ("Æ", "AE"), ("đ", "d")):
        text = text.replace(a, b)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))


def family_name(author: str) -> str:
    """Lower-case ASCII family name with particles kept (``van den Oord, Aäron`` -> ``vandenoord``).

    Accepts ``Family, Given`` or ``Given Family`` (arXiv prints the latter).
    """
    if "," in author:
        family = author.split(",")[0]
    else:
        words = author.split()
        # 'Aaron van den Oord': the family name starts at the first lower-case particle.
        start = next((i for i, w in enumerate(words[:-1]) if w[:1].islower()), len(words) - 1)
        family = " ".join(words[start:]) if words else ""
    return re.sub(r"[^a-z]", "", ascii_fold(family).lower())


def title_words(title: str) -> list[str]:
    """The title's words as Better BibTeX's shorttitle sees them: hyphens joined, function words dropped."""
    words = re.findall(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*", ascii_fold(title))
    words = [re.sub(r"[-'’]", "", w) for w in words]
    return [w for w in words if w.lower() not in SKIP_WORDS]


def bbt_key(authors: list[str], title: str, year: int | None) -> str:
    """A default-pattern Better BibTeX key for a paper (``pfeifferModularDeepLearning2023``)."""
    family = (family_name(authors[0]) if authors else "") or "anon"
    short = "".join(w[0].upper() + w[1:] for w in title_words(title)[:3])
    return f"{family}{short}{year or ''}"


def bbt_suffix(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa: Better BibTeX's disambiguation suffixes."""
    return chr(ord("a") + n - 1) if n <= 26 else chr(ord("a") + (n - 1) // 26 - 1) + chr(ord("a") + (n - 1) % 26)
