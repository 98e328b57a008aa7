"""Keep the reader's theme in their config file without disturbing anything else in it.

The file is the reader's: comments, order and other tables stay byte for byte.
Only the ``theme`` line of ``[tui]`` is replaced (or added, with the table when
there is none), and the result must parse to the new theme or nothing is written.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from triage.atomic import write_atomic
from triage.errors import ConfigError

__all__ = ["remember_theme"]

_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
_THEME = re.compile(r"^\s*theme\s*=")


def _toml(text: str, path: Path) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); the theme was not kept", "fix the file, then pick the theme again") from None


def remember_theme(path: Path, theme: str) -> bool:
    """Write ``[tui] theme = "<theme>"`` into the config at ``path``; False when it already says so."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if _toml(text, path).get("tui", {}).get("theme") == theme:
        return False
    line = f'theme = "{theme}"'
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.endswith("\r\n") else "\n"
    table = next((i for i, raw in enumerate(lines) if (m := _TABLE.match(raw)) and m.group(1) == "tui"), None)
    if table is None:
        lead = "" if not text or text.endswith(("\n", "\r")) else newline
        lines.append(f"{lead}{newline if text.strip() else ''}[tui]{newline}{line}{newline}")
    else:
        end = next((i for i in range(table + 1, len(lines)) if _TABLE.match(lines[i])), len(lines))
        existing = next((i for i in range(table + 1, end) if _THEME.match(lines[i])), None)
        if existing is not None:
            ending = lines[existing][len(lines[existing].rstrip("\r\n")):]
            lines[existing] = line + (ending or newline)
        else:
            lines.insert(table + 1, line + newline)
    new_text = "".join(lines)
    if _toml(new_text, path).get("tui", {}).get("theme") != theme:
        raise ConfigError(f"could not write the theme into {path} (it sets tui.theme in a way this edit cannot follow)",
                          f'set theme = "{theme}" under [tui] yourself')
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, new_text.encode("utf-8"))
    return True
