"""The LLM critic's prompt templates: files in ``prompts/``, validated on load.

Templates are markdown files shipped in the ``prompts`` package (read with
``importlib.resources``); a folder passed to ``load_templates`` overrides them,
file by file.  ``judge.md`` and ``revise.md`` hold two parts, each under its own
exact heading line, ``## system`` and ``## user``; ``meta_principles.md`` is a
fragment that ``revise.md`` includes.

One placeholder syntax: ``{{name}}``.  Loading checks every template against the
placeholders its caller fills in: an unknown one (a typo) or a missing one is a
``ConfigError`` naming the file, so a broken template fails before any call is
paid for.  Rendering is a single pass, so text inserted into a placeholder (the
untrusted paper, say) is never scanned for placeholders itself.

``PROMPT_VERSION`` is derived from the shipped files' contents (and the code
revision of how they are filled in): editing a prompt invalidates cached verdicts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from triage.errors import ConfigError

__all__ = [
    "FENCE_TAG",
    "DRAFT_TAG",
    "PLACEHOLDERS",
    "PROMPT_VERSION",
    "Template",
    "fence_untrusted",
    "load_templates",
    "parse_template",
    "prompt_version",
]

FENCE_TAG = "paper_untrusted"
"""The tag that fences paper text as data; shared by the templates (as ``{{fence_tag}}``), the code and the tests."""

DRAFT_TAG = "draft_untrusted"
"""The tag that fences the judge's draft in the revision prompt (``{{draft_tag}}``): it repeats paper text."""

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "judge": frozenset({"fence_tag", "principles", "paper"}),
    "revise": frozenset({"fence_tag", "draft_tag", "meta_principles", "principles", "paper", "draft"}),
    "meta_principles": frozenset(),
}
"""Every template and exactly the placeholders it must use."""

_TWO_PART = {"judge", "revise"}
# Bump when the code that fills the templates changes meaning (fencing, schemas).
_CODE_REVISION = "2"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_BRACES = re.compile(r"\{\{|\}\}")
_FENCE_RE = re.compile(r"<\s*/?\s*(?:" + FENCE_TAG + "|" + DRAFT_TAG + r")[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Template:
    """A validated template: its system and user parts (``system`` is empty for fragments)."""

    name: str
    system: str
    user: str
    source: str = ""

    def render(self, **values: str) -> tuple[str, str]:
        """The system and user messages with every placeholder filled in, in one pass."""
        missing = PLACEHOLDERS[self.name] - values.keys()
        if missing:
            raise ConfigError(f"template {self.name!r} rendered without {', '.join(sorted(missing))}")

        def fill(part: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], part)

        return fill(self.system), fill(self.user)

    @property
    def text(self) -> str:
        """The fragment's text (for templates without parts, such as ``meta_principles``)."""
        return self.user


def parse_template(name: str, text: str, source: str = "") -> Template:
    """Split and validate one template; ConfigError lists every problem with its line."""
    if name not in PLACEHOLDERS:
        raise ConfigError(f"unknown prompt template {name!r}", hint=f"templates are {', '.join(sorted(PLACEHOLDERS))}")
    where = source or f"{name}.md"
    errors: list[str] = []
    used: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        for m in _PLACEHOLDER.finditer(line):
            ph = m.group(1)
            used.add(ph)
            if ph not in PLACEHOLDERS[name]:
                allowed = ", ".join("{{" + p + "}}" for p in sorted(PLACEHOLDERS[name])) or "none"
                errors.append(f"line {lineno}: unknown placeholder {{{{{ph}}}}} (allowed: {allowed})")
        # Braces left after removing well-formed placeholders are a malformed one.
        if _BRACES.search(_PLACEHOLDER.sub("", line)):
            errors.append(f"line {lineno}: malformed placeholder (use {{{{name}}}})")
    for ph in sorted(PLACEHOLDERS[name] - used):
        errors.append(f"missing placeholder {{{{{ph}}}}}")

    system, user = "", text.strip()
    if name in _TWO_PART:
        parts = re.split(r"^## (system|user)[ \t]*$", text, flags=re.MULTILINE)
        sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))
        if set(sections) != {"system", "user"} or len(parts) != 5:
            errors.append("needs exactly one '## system' line and one '## user' line, in that order")
        system, user = sections.get("system", ""), sections.get("user", "")
    if errors:
        raise ConfigError(f"prompt template {where}: " + "; ".join(errors), hint="fix the template file")
    return Template(name=name, system=system, user=user, source=where)


def _read(name: str, directory: Path | None) -> tuple[str, str]:
    filename = f"{name}.md"
    if directory is not None and (directory / filename).is_file():
        path = directory / filename
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise ConfigError(f"cannot read prompt template {path}: {exc.strerror}") from exc
    resource = resources.files("triage.prompts").joinpath(filename)
    return resource.read_text(encoding="utf-8"), f"prompts/{filename}"


def load_templates(directory: Path | None = None) -> dict[str, Template]:
    """Every template, validated; files in ``directory`` override the shipped ones."""
    return {name: parse_template(name, *_read(name, directory)) for name in PLACEHOLDERS}


def prompt_version(directory: Path | None = None) -> str:
    """A short hash of the templates' contents: part of the verdict cache key."""
    digest = hashlib.sha256(_CODE_REVISION.encode())
    for name in sorted(PLACEHOLDERS):
        digest.update(name.encode() + b"\0" + _read(name, directory)[0].encode() + b"\0")
    return f"llm-{digest.hexdigest()[:12]}"


PROMPT_VERSION = prompt_version()
"""The shipped prompts' version."""


def fence_untrusted(text: str, tag: str = FENCE_TAG) -> str:
    """``text`` inside an untrusted-data fence (``tag``), with any fence tag it contains neutralised.

    A paper that writes ``</paper_untrusted>`` itself cannot close the fence early
    and smuggle instructions outside it: every tag-like occurrence of either
    fence becomes inert text (the draft fence too, since the draft repeats paper text).
    """
    safe = _FENCE_RE.sub("[fence tag removed]", text)
    return f"<{tag}>\n{safe.strip()}\n</{tag}>"
