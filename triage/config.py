"""One ``Settings`` object for the whole tool.

Precedence, lowest first: field defaults < TOML config file (``TRIAGE_CONFIG``,
else ``<platformdirs config dir>/config.toml``) < ``TRIAGE_*`` environment
variables (``__`` separates nested fields, e.g. ``TRIAGE_LLM__MODEL``) < CLI
flags, which the CLI passes as init arguments.  Settings are passed into every
core call so tests (and the API) can use their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from triage.errors import ConfigError

__all__ = [
    "Settings",
    "LLMSettings",
    "EmbeddingSettings",
    "ArxivSettings",
    "FetchSettings",
    "DigestSettings",
    "ApiSettings",
    "NoteSettings",
    "TuiSettings",
    "LimitSettings",
    "CriticName",
    "config_file",
    "default_home",
]

APP = "triage"

CriticName = Literal["auto", "offline", "llm"]
"""The critics a run can use (``--critic``)."""


def default_home() -> Path:
    """Data home: ``TRIAGE_HOME`` if set, else the platform's user data dir."""
    env = os.environ.get("TRIAGE_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP))


def config_file() -> Path:
    """The TOML config file: ``TRIAGE_CONFIG`` if set, else ``<config dir>/config.toml``."""
    env = os.environ.get("TRIAGE_CONFIG")
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir(APP)) / "config.toml"


_SECTION = ConfigDict(extra="forbid")
"""Every [section] of the config file: a misspelt key (``[llm] modle``) is an error, not silently a default."""

LANGCHAIN_PROVIDERS = frozenset({
    "anthropic", "azure_ai", "azure_openai", "baseten", "bedrock", "bedrock_converse", "cohere", "deepseek",
    "fireworks", "google_anthropic_vertex", "google_genai", "google_vertexai", "groq", "huggingface", "ibm", "litellm",
    "meta", "mistralai", "nvidia", "ollama", "openai", "openrouter", "perplexity", "together", "upstage", "xai",
})
"""Provider names ``init_chat_model`` accepts as a ``provider:model`` prefix (langchain 1.x)."""


class LLMSettings(BaseModel):
    """The LLM endpoint used by the LLM critic (any OpenAI-compatible server, or a langchain provider)."""

    model_config = _SECTION

    model: str = Field(default="gpt-4o-mini", description="Chat model name at the endpoint; 'provider:model' "
                       "(e.g. 'anthropic:claude-3-5-haiku-latest') uses that langchain provider package if installed")
    base_url: str | None = Field(default=None, description="Endpoint URL; falls back to OPENAI_BASE_URL")
    api_key: str | None = Field(default=None, description="API key; falls back to OPENAI_API_KEY")
    mode: Literal["auto", "json_schema", "tools", "json_object+schema", "json_object", "text"] = Field(
        default="auto", description="How to ask for JSON: auto negotiates once per endpoint and model (json_schema, "
        "else json_object with the schema, else plain json_object, else text) and remembers the answer")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-call timeout in seconds")
    max_retries: int = Field(default=3, ge=0, description="Retries on 429/5xx/connection errors, with backoff "
                             "(a timeout is retried once: it already cost a whole timeout)")
    breaker_failures: int = Field(default=3, ge=1, description="Failed calls in a row after which the endpoint is "
                                  "taken as down and the remaining papers are not judged (two timeouts in a row too)")
    breaker_cooldown_s: float = Field(default=60.0, ge=0, description="Seconds before a down endpoint is tried again")
    requests_per_second: float | None = Field(default=None, gt=0, description="Cap on calls per second (langchain's "
                                              "rate limiter), for endpoints with a request quota")
    concurrency: int = Field(default=8, ge=1, description="Papers judged at once in a batch (each is 2 calls in a "
                             "row); 1 for a local server that answers one request at a time")
    temperature: float = Field(default=0.0, description="Sampling temperature for judge and revision")
    samples: int = Field(default=1, ge=1, le=9, description="Judge calls per paper (self-consistency): the median "
                         "score per principle is kept and their spread lowers the confidence")
    sample_temperature: float = Field(default=0.7, description="Temperature of the judge calls when samples > 1")
    price_per_mtok_prompt: float = Field(default=0.15, description="USD per million prompt tokens")
    price_per_mtok_completion: float = Field(default=0.60, description="USD per million completion tokens")

    def resolved_base_url(self) -> str | None:
        """Base URL from settings, else the standard OpenAI environment variable."""
        return self.base_url or os.environ.get("OPENAI_BASE_URL")

    def resolved_api_key(self) -> str | None:
        """API key from settings, else the standard OpenAI environment variable."""
        return self.api_key or os.environ.get("OPENAI_API_KEY")

    def provider(self) -> str:
        """The langchain provider named by ``model`` ('anthropic:…'), else ``openai`` (any compatible endpoint).

        Only langchain's provider names count as a prefix: Ollama's ``llama3:8b`` is a model name.
        """
        prefix, sep, _ = self.model.partition(":")
        return prefix if sep and prefix in LANGCHAIN_PROVIDERS else "openai"

    def model_name(self) -> str:
        """``model`` without its provider prefix, as the endpoint knows it."""
        prefix, sep, rest = self.model.partition(":")
        return rest if sep and prefix in LANGCHAIN_PROVIDERS else self.model

    def configured(self) -> bool:
        """True when an endpoint, a key or a non-OpenAI provider is set, so the LLM critic can run."""
        return bool(self.resolved_api_key() or self.resolved_base_url()) or self.provider() != "openai"


class EmbeddingSettings(BaseModel):
    """Which embedding model turns text into vectors (index and offline critic)."""

    model_config = _SECTION

    backend: Literal["local", "openai"] = Field(default="local", description="local MiniLM or OpenAI-compatible")
    model: str = Field(default="all-MiniLM-L6-v2", description="Model name for the chosen backend")
    batch_size: int = Field(default=64, description="Texts embedded per batch")
    child_process: bool = Field(default=False, description="Run the local model in a child process "
                                "(the TUI always does: loading torch would freeze the screen for ~200 ms)")


class ArxivSettings(BaseModel):
    """The arXiv API client."""

    model_config = _SECTION

    api_url: str = Field(default="https://export.arxiv.org/api/query", description="arXiv API query endpoint")
    pdf_url: str = Field(default="https://arxiv.org/pdf/{id}", description="PDF URL template; {id} is the arXiv id")
    listing_url: str = Field(default="https://rss.arxiv.org/atom/{category}", description="Nightly listing feed")
    delay_s: float = Field(default=3.0, description="Minimum seconds between requests, shared process-wide")
    timeout_s: float = Field(default=30.0, description="Per-request timeout in seconds")
    max_retries: int = Field(default=3, description="Retries on 5xx, 429 and timeouts")


class FetchSettings(BaseModel):
    """Limits for downloaded PDFs."""

    model_config = _SECTION

    max_mb: float = Field(default=100.0, description="Largest PDF accepted, in MiB")
    max_pages: int = Field(default=400, description="Most pages accepted")
    offline: bool = Field(default=False, description="Use only cached or local PDFs; never download")


class DigestSettings(BaseModel):
    """The nightly digest."""

    model_config = _SECTION

    categories: list[str] = Field(
        default_factory=lambda: ["cs.LG", "cs.CL", "cs.CV", "cs.AI"], description="arXiv categories to read each night"
    )
    top_n: int = Field(default=10, description="Papers the critic judges per night")
    pdf_top: int = Field(default=0, ge=0, description="Of those, how many best-ranked get their PDF fetched so the "
                         "critic reads the conclusion too (each download waits on arXiv's rate limit)")
    smtp_host: str | None = Field(default=None, description="SMTP server for the e-mail digest")
    smtp_port: int = Field(default=587, description="SMTP port")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS")
    smtp_user: str | None = Field(default=None, description="SMTP user; password from TRIAGE_SMTP_PASSWORD")
    mail_from: str | None = Field(default=None, description="Sender address")
    mail_to: str | None = Field(default=None, description="Recipient address")


class ApiSettings(BaseModel):
    """The headless HTTP API."""

    model_config = _SECTION

    host: str = Field(default="127.0.0.1", description="Bind address")
    port: int = Field(default=8765, description="Bind port")
    note_dirs: list[Path] = Field(default_factory=list, description="Folders whose notes the API may edit")
    cors_origins: list[str] = Field(default_factory=lambda: ["app://obsidian.md"], description="Allowed origins")
    max_body_kb: int = Field(default=256, description="Largest request body accepted")
    allowed_hosts: list[str] = Field(default_factory=list, description="Host names the API answers to besides its "
                                     "bind address (and, bound to loopback, localhost): other Host headers get 400, "
                                     "a guard against DNS rebinding")


class NoteSettings(BaseModel):
    """How triage writes into the reader's notes."""

    model_config = _SECTION

    wikilinks: bool = Field(default=False, description="Write each new entry's key as an Obsidian link, "
                            "- [skim([[@key]])], so it opens the literature note @key.md (both forms are always read)")


class TuiSettings(BaseModel):
    """The terminal app (``triage tui``)."""

    model_config = _SECTION

    theme: str = Field(default="textual-dark", description="Textual theme by name (textual-light, nord, gruvbox…); "
                       "the app writes the one you pick with ctrl+p → Theme here, so it is kept")


class LimitSettings(BaseModel):
    """The largest inputs triage reads: each far above real use, each refused with a message rather than read for minutes."""

    model_config = _SECTION

    note_mb: float = Field(default=4.0, gt=0, description="Largest reading note read, in MiB (a year of daily "
                           "logging is well under 1 MiB)")
    constitution_kb: float = Field(default=256.0, gt=0, description="Largest constitution file, in KiB (the shipped "
                                   "one is 3 KiB)")
    constitution_principles: int = Field(default=64, ge=1, description="Most principles a constitution may have")
    feed_mb: float = Field(default=50.0, gt=0, description="Largest listing feed read by the digest, file or URL, "
                           "in MiB (a busy night of cs.LG is a few MiB)")
    feed_entries: int = Field(default=10_000, ge=1, description="Most entries read from one listing feed (a busy "
                              "night of cs.LG lists about 1,500)")

    @property
    def note_bytes(self) -> int:
        """``note_mb`` in bytes."""
        return int(self.note_mb * 1024 * 1024)

    @property
    def constitution_bytes(self) -> int:
        """``constitution_kb`` in bytes."""
        return int(self.constitution_kb * 1024)

    @property
    def feed_bytes(self) -> int:
        """``feed_mb`` in bytes."""
        return int(self.feed_mb * 1024 * 1024)


class Settings(BaseSettings):
    """Everything triage can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    home: Path = Field(default_factory=default_home, description="Data home: PDF cache, Chroma, SQLite")
    library: list[Path] = Field(default_factory=list, description="BibTeX / CSL-JSON / BBT JSON exports, Zotero data "
                                "folders or zotero.sqlite files, or \"zotero\" for Zotero's own (read in place)")
    zotero_base_dir: Path | None = Field(default=None, description="Zotero's Linked Attachment Base Directory, for "
                                         "linked files; read from Zotero's preferences when unset")
    constitution: Path | None = Field(default=None, description="The reader's constitution; default ships in prompts/")
    critic: CriticName = Field(
        default="auto", description="auto: the LLM critic when an endpoint is configured, else offline"
    )
    chroma_url: str | None = Field(default=None, description="Chroma server URL; embedded store when unset")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    notes: NoteSettings = Field(default_factory=NoteSettings)
    tui: TuiSettings = Field(default_factory=TuiSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: CLI flags (init) > env > TOML file > defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))

    # Locations inside the data home, one place so every surface agrees.
    @property
    def papers_dir(self) -> Path:
        """Content-addressed PDF cache."""
        return self.home / "papers"

    @property
    def chroma_dir(self) -> Path:
        """Embedded Chroma store."""
        return self.home / "chroma"

    @property
    def db_path(self) -> Path:
        """SQLite state."""
        return self.home / "triage.sqlite3"

    @property
    def digests_dir(self) -> Path:
        """Nightly digests."""
        return self.home / "digests"

    @property
    def cache_dir(self) -> Path:
        """Extraction and other derived caches."""
        return self.home / "cache"

    @property
    def backups_dir(self) -> Path:
        """Previous versions of notes we edited."""
        return self.home / "backups"

    @property
    def tmp_dir(self) -> Path:
        """Temporary files of atomic writes, when on the same file system as the file written (see triage.atomic)."""
        return self.home / "tmp"

    def ensure_home(self) -> Path:
        """Create the data home and its folders; returns the home.  ``StateUnavailable`` says why it cannot be."""
        for d in (self.home, self.papers_dir, self.cache_dir, self.digests_dir, self.backups_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                from triage.faults import disk_error

                raise disk_error(exc, d, "the data home") from None
        return self.home

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Settings from all sources; ``overrides`` (CLI flags) win. ``None`` overrides are ignored."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            raise _config_error(exc) from None


def _config_error(exc: ValidationError) -> ConfigError:
    """The first problem as one line naming the setting and where it came from (the file or the variable)."""
    problem = exc.errors()[0]
    loc = [str(part) for part in problem["loc"]]
    variable = "TRIAGE_" + "__".join(loc).upper()
    where = f"${variable}" if variable in os.environ else str(config_file())
    field = Settings.model_fields.get(loc[0])
    section = field.annotation if field is not None and len(loc) > 1 else None
    if isinstance(section, type) and issubclass(section, BaseModel):
        name = f"[{loc[0]}] {'.'.join(loc[1:])}"
        if problem["type"] == "extra_forbidden":
            return ConfigError(f"unknown setting {name} in {where}", hint=f"[{loc[0]}] takes: {', '.join(section.model_fields)}")
    else:
        name = ".".join(loc)
    return ConfigError(f"invalid setting {name} in {where}: {problem['msg']}")
