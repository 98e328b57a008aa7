"""``triage`` and ``python -m triage``: the command line, with a ctrl-c during start-up said in one line.

The console script imports this module, which imports nothing heavy; the
command line itself (typer, pydantic, the settings) is imported inside
``main``, where an interrupt is caught and said like any other: one line,
exit 130.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    """Console-script entry point."""
    try:
        from triage.cli import main as cli_main

        cli_main()  # exits with the command's code; only a ctrl-c before it took charge comes back here
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
