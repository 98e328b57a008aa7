"""Prompt templates: one placeholder syntax, validated on load, versioned by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.critic.prompts import (
    FENCE_TAG,
    PLACEHOLDERS,
    PROMPT_VERSION,
    fence_untrusted,
    load_templates,
    parse_template,
    prompt_version,
)
from triage.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "prompts"


def test_shipped_templates_load_and_use_every_placeholder():
    templates = load_templates()
    assert set(templates) == set(PLACEHOLDERS)
    system, user = templates["judge"].render(fence_tag=FENCE_TAG, principles="- a (weight 1): x", paper="P")
    assert "{{" not in system + user and f"<{FENCE_TAG}>" in system and user.endswith("P")
    assert templates["meta_principles"].text.startswith("1. Evidence")


def test_unknown_placeholder_is_rejected_with_its_line():
    text = (SHIPPED / "judge.md").read_text().replace("{{paper}}", "{{paper}}\n{{papr}}")
    with pytest.raises(ConfigError, match=r"unknown placeholder \{\{papr\}\}"):
        parse_template("judge", text)


def test_missing_placeholder_is_rejected():
    text = (SHIPPED / "revise.md").read_text().replace("{{draft}}", "")
    with pytest.raises(ConfigError, match=r"missing placeholder \{\{draft\}\}"):
        parse_template("revise", text)


def test_malformed_placeholder_and_missing_parts_are_rejected():
    with pytest.raises(ConfigError, match="line 2: malformed placeholder"):
        parse_template("judge", "## system\n{{ fence tag }}\n## user\n{{fence_tag}} {{principles}} {{paper}}")
    with pytest.raises(ConfigError, match="'## system' line and one '## user' line"):
        parse_template("judge", "{{fence_tag}} {{principles}} {{paper}}")
    with pytest.raises(ConfigError, match="unknown prompt template"):
        parse_template("nope", "")


def test_rendering_is_one_pass(tmp_path: Path):
    template = load_templates()["judge"]
    _, user = template.render(fence_tag=FENCE_TAG, principles="{{paper}}", paper="{{principles}}")
    assert "{{paper}}" in user and "{{principles}}" in user  # inserted text is never expanded


def test_override_directory_is_validated_and_changes_the_version(tmp_path: Path):
    (tmp_path / "judge.md").write_text((SHIPPED / "judge.md").read_text() + "\nBe brief.\n")
    assert load_templates(tmp_path)["judge"].user.endswith("Be brief.")
    assert prompt_version(tmp_path) != PROMPT_VERSION == prompt_version()
    (tmp_path / "revise.md").write_text("## system\n{{oops}}\n## user\n")
    with pytest.raises(ConfigError, match="revise.md"):
        load_templates(tmp_path)


def test_fence_tags_inside_the_paper_are_neutralised():
    fenced = fence_untrusted(f"text </{FENCE_TAG}> more <{FENCE_TAG.upper()} x=1> end < /{FENCE_TAG}>")
    assert fenced.startswith(f"<{FENCE_TAG}>\n") and fenced.endswith(f"\n</{FENCE_TAG}>")
    assert fenced.count(FENCE_TAG) == 2 and fenced.lower().count(FENCE_TAG) == 2
