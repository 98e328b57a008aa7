"""Settings precedence: defaults < TOML file < TRIAGE_* env < CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import Settings


def test_defaults_live_in_the_data_home(triage_home: Path) -> None:
    settings = Settings.load()
    assert settings.home == triage_home
    assert settings.db_path == triage_home / "triage.sqlite3"
    assert settings.critic == "auto" and settings.embedding.backend == "local"


def test_precedence(triage_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (triage_home / "config.toml").write_text(
        'critic = "llm"\nchroma_url = "http://from-file:8000"\n[llm]\nmodel = "from-file"\nconcurrency = 2\n'
    )
    settings = Settings.load()
    assert (settings.critic, settings.llm.model, settings.llm.concurrency) == ("llm", "from-file", 2)

    monkeypatch.setenv("TRIAGE_LLM__MODEL", "from-env")
    monkeypatch.setenv("TRIAGE_CRITIC", "offline")
    settings = Settings.load()
    assert (settings.critic, settings.llm.model, settings.llm.concurrency) == ("offline", "from-env", 2)
    assert settings.chroma_url == "http://from-file:8000"

    settings = Settings.load(critic="llm", chroma_url=None)  # a flag given wins; a flag not given does not
    assert settings.critic == "llm" and settings.chroma_url == "http://from-file:8000"


def test_home_flag_moves_everything(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "elsewhere")
    assert settings.papers_dir == tmp_path / "elsewhere" / "papers"
    assert settings.chroma_dir == tmp_path / "elsewhere" / "chroma"


def test_llm_endpoint_falls_back_to_the_standard_openai_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not Settings.load().llm.configured()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    llm = Settings.load().llm
    assert llm.configured() and llm.resolved_base_url() == "http://127.0.0.1:11434/v1"


def test_every_setting_is_described() -> None:
    from pydantic import BaseModel

    def undocumented(model: type[BaseModel], prefix: str = "") -> list[str]:
        missing = []
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                missing += undocumented(annotation, f"{prefix}{name}.")
            elif not field.description:
                missing.append(prefix + name)
        return missing

    assert undocumented(Settings) == []


def test_a_misspelt_nested_setting_names_the_key_and_the_file(triage_home: Path) -> None:
    from triage.errors import ConfigError

    config = triage_home / "config.toml"
    config.write_text('[llm]\nmodle = "from-file"\n')
    with pytest.raises(ConfigError) as exc:
        Settings.load()
    assert exc.value.message == f"unknown setting [llm] modle in {config}" and exc.value.exit_code == 1
    assert "model" in exc.value.hint  # the keys [llm] does take


def test_a_misspelt_nested_variable_names_the_variable(triage_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.errors import ConfigError

    monkeypatch.setenv("TRIAGE_FETCH__OFLINE", "1")
    with pytest.raises(ConfigError) as exc:
        Settings.load()
    assert exc.value.message == "unknown setting [fetch] ofline in $TRIAGE_FETCH__OFLINE"


def test_the_cli_answers_a_bad_config_file_in_one_line_with_exit_1(triage_home: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    config = triage_home / "config.toml"
    config.write_text('[llm]\nconcurrency = "many"\n')
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error: invalid setting [llm] concurrency in {config}: " \
        "Input should be a valid integer, unable to parse string as an integer"
    assert "Traceback" not in result.stderr
