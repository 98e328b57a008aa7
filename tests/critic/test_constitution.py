"""The constitution file: format, line-numbered errors, hash, decisions."""

from __future__ import annotations

import pytest

from triage.critic.constitution import load_constitution, parse_constitution
from triage.errors import ConfigError
from triage.models import Decision

GOOD = """# Mine
promote_at: 7
drop_below: 2.5

## modularity (weight 3)
Adapters and routing.

## hype (weight 1, against)
Claims without numbers.
"""


def test_parses_principles_thresholds_and_direction():
    c = parse_constitution(GOOD)
    assert [(p.id, p.weight, p.against, p.line) for p in c.principles] == [
        ("modularity", 3.0, False, 5), ("hype", 1.0, True, 8)]
    assert c.principles[0].statement == "Adapters and routing."
    assert (c.promote_at, c.drop_below) == (7.0, 2.5)
    assert c.decide(7.0) is Decision.READ and c.decide(2.4) is Decision.DROP and c.decide(5) is Decision.SKIM


def test_every_problem_is_reported_with_its_line():
    text = """promote_at: high
## Bad Id (weight 2)
text
## ok (weight zero)
text
## empty (weight 1)
## ok (weight 1, sideways)
text
"""
    with pytest.raises(ConfigError) as info:
        parse_constitution(text, source="mine.md")
    message = str(info.value)
    assert message.startswith("mine.md: ")
    for expected in (
        "line 1: promote_at must be a number",
        "line 2: principle heading must look like",
        "line 4: weight must be a number",
        "line 6: principle 'empty' has no statement",
        "line 7: duplicate principle id 'ok'",
        "line 7: unknown option 'sideways'",
    ):
        assert expected in message, expected


def test_thresholds_are_checked():
    with pytest.raises(ConfigError, match="drop_below \\(8\\) must not exceed promote_at \\(6\\)"):
        parse_constitution("promote_at: 6\ndrop_below: 8\n## a (weight 1)\nx\n")
    with pytest.raises(ConfigError, match="line 1: no principles found"):
        parse_constitution("just prose\n")


def test_hash_follows_the_text():
    assert parse_constitution(GOOD).hash == parse_constitution(GOOD).hash
    assert parse_constitution(GOOD).hash != parse_constitution(GOOD.replace("routing", "routers")).hash


def test_shipped_constitution_has_six_principles():
    c = load_constitution()
    assert len(c.principles) == 6 and any(p.against for p in c.principles)


# -- limits and binary files (issue 19) -------------------------------------------------------------


def test_a_binary_constitution_is_one_line_not_a_unicode_error(tmp_path) -> None:
    path = tmp_path / "constitution.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_constitution(path)
    assert "UTF-8" in info.value.hint


def test_a_constitution_over_the_size_or_principle_limit_is_refused_at_once(tmp_path) -> None:
    big = tmp_path / "big.md"
    big.write_text(GOOD + "Words. " * 200_000, encoding="utf-8")  # 1.4 MB of text: 52 s to check before
    with pytest.raises(ConfigError, match=r"KiB, over the 256 KiB limit") as info:
        load_constitution(big)
    assert "limits.constitution_kb" in info.value.hint
    many = "promote_at: 7\ndrop_below: 2\n" + "".join(f"## p{i}\nText.\n" for i in range(70))
    with pytest.raises(ConfigError, match="more than 64 principles"):
        parse_constitution(many)
    assert len(parse_constitution(many, max_principles=70).principles) == 70


def test_the_cli_says_a_binary_constitution_in_one_line_also_through_score(tmp_path, monkeypatch, sample_papers) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    path = tmp_path / "constitution.md"
    path.write_bytes(bytes(range(128, 256)) * 16)
    monkeypatch.setenv("TRIAGE_CONSTITUTION", str(path))
    for args in (["constitution", "check"], ["constitution", "check", str(path)], ["--offline", "score", str(sample_papers / "papers" / "haddadFederatedLoRAMerging2024.pdf"),
                                       "--critic", "offline"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1 and "Traceback" not in result.stderr, result.exception
        assert "is not UTF-8 text" in result.stderr, (args, result.stderr)
