"""What servers accept and how answers come back: mode negotiation, prose, truncation, bad endpoints."""

from __future__ import annotations

import json

import pytest

from tests.critic.conftest import make_paper
from tests.servers.openai_scripted import ScriptedOpenAI
from triage.critic.batch import Budget
from triage.critic.endpoint import first_json_object
from triage.critic.llm import LLMCritic, read_trace
from triage.errors import EXIT_SERVICE, EXIT_USER, ConfigError, CriticError, NotJudged


def formats(server: ScriptedOpenAI) -> list[str]:
    """What each request asked for: its response_format type (with +schema), tools, or text."""
    out = []
    for r in server.requests:
        rf = r.get("response_format")
        if rf:
            out.append(rf["type"] + ("+schema" if "schema" in rf else ""))
        else:
            out.append("tools" if r.get("tools") else "text")
    return out


def test_json_schema_refused_like_llama_cpp_falls_back_to_json_object_with_the_schema(llm_settings, openai_server,
                                                                                      constitution, tmp_path):
    openai_server.accepts = {"json_object", "text"}  # llama-cpp-python's server: HTTP 500 naming response_format
    remembered = tmp_path / "modes.json"
    critic = LLMCritic(llm_settings, capabilities_file=remembered, trace_dir=tmp_path / "traces", sleep=lambda s: None)
    verdict = critic.judge(*make_paper(), constitution)

    assert formats(openai_server) == ["json_schema", "json_object+schema", "json_object+schema"]
    assert verdict.llm_mode == "json_object+schema"
    # The server's grammar gets the schema; the model gets it in the prompt too (json_object alone enforces nothing).
    sent = openai_server.requests[1]
    assert sent["response_format"]["schema"]["properties"]["principles"]["minItems"] == 6
    assert "matches this JSON schema" in sent["messages"][0]["content"]
    # A refusal is an answer, not an outage: no retry was spent on it, the breaker stays closed.
    trace = read_trace(next((tmp_path / "traces").glob("*.json")))
    assert trace["retries"] == 0 and trace["mode"] == "json_object+schema"
    assert "response_format" in trace["calls"][0]["error"] and trace["calls"][0]["next_mode"] == "json_object+schema"
    assert not critic.endpoint.breaker.is_open

    # Remembered per base URL and model: a new critic (a new run) does not ask again.
    saved = json.loads(remembered.read_text())
    assert list(saved.values())[0]["mode"] == "json_object+schema"
    openai_server.requests.clear()
    again = LLMCritic(llm_settings, capabilities_file=remembered, sleep=lambda s: None)
    again.judge(*make_paper(1), constitution)
    assert formats(openai_server) == ["json_object+schema", "json_object+schema"]


def test_each_refusal_steps_down_to_plain_text(llm_settings, openai_server, constitution):
    openai_server.accepts = {"json_object", "text"}
    openai_server.schema_field = False  # json_object, but no schema field (older servers, some proxies)
    verdict = LLMCritic(llm_settings, sleep=lambda s: None).judge(*make_paper(), constitution)
    assert formats(openai_server)[:3] == ["json_schema", "json_object+schema", "json_object"]
    assert verdict.llm_mode == "json_object"

    openai_server.requests.clear()
    openai_server.accepts = {"text"}
    settings = llm_settings.model_copy(update={"model": "other-model"})  # another model: negotiated afresh
    verdict = LLMCritic(settings, sleep=lambda s: None).judge(*make_paper(1), constitution)
    assert formats(openai_server) == ["json_schema", "json_object+schema", "json_object", "text", "text"]
    assert verdict.llm_mode == "text" and verdict.principles


def test_a_forced_mode_the_server_refuses_is_the_readers_setting_to_fix(llm_settings, openai_server, constitution):
    openai_server.accepts = {"json_object", "text"}
    critic = LLMCritic(llm_settings.model_copy(update={"mode": "json_schema"}), sleep=lambda s: None)
    with pytest.raises(ConfigError, match="refused llm.mode 'json_schema'") as info:
        critic.judge(*make_paper(), constitution)
    assert info.value.exit_code == EXIT_USER and openai_server.calls == 1


@pytest.mark.parametrize("mode", ["json_schema", "text"])
def test_json_wrapped_in_prose_is_parsed(llm_settings, openai_server, constitution, mode):
    # A server that takes the schema without enforcing it, or plain text: prose and a fence around the JSON.
    openai_server.default = "prose"
    critic = LLMCritic(llm_settings.model_copy(update={"mode": mode}), sleep=lambda s: None)
    verdict = critic.judge(*make_paper(), constitution)
    assert openai_server.calls == 2 and len(verdict.principles) == 6 and verdict.llm_mode == mode


def test_first_json_object():
    assert first_json_object('Sure: {"a": {"b": "}"}} and {"c": 1}') == ({"a": {"b": "}"}}, None)
    assert first_json_object('```json\n{"a": "x \\" }"}\n```') == ({"a": 'x " }'}, None)
    assert first_json_object("") == (None, "the answer was empty")
    assert first_json_object("no json here")[1] == "there is no JSON object in the answer"
    assert "not complete" in first_json_object('{"a": [1, 2')[1]
    assert "not an object" in first_json_object("[1, 2]")[1]
    assert first_json_object("{bad} then {\"ok\": true}") == ({"ok": True}, None)


def test_a_truncated_answer_is_asked_again_with_twice_the_budget(critic, openai_server, constitution, tmp_path):
    openai_server.push("length", "valid", "valid")
    verdict = critic.judge(*make_paper(), constitution)
    limits = [r["max_completion_tokens"] for r in openai_server.requests]
    assert limits[1] == 2 * limits[0] and limits[2] == limits[0]  # only the cut call gets more room
    assert openai_server.requests[0]["max_tokens"] == limits[0]  # llama.cpp and Ollama read max_tokens
    trace = read_trace(next((tmp_path / "traces").glob("*.json")))
    first = trace["calls"][0]
    assert first["finish_reason"] == "length" and "cut by the token limit" in first["problem"]
    # The cut answer was paid for: its tokens are in the verdict's.
    assert verdict.tokens.completion == sum(c["usage"]["completion"] for c in trace["calls"])
    assert first["usage"]["completion"] > 0


def test_truncated_twice_is_not_judged_exit_3_charged_and_truthful(critic, openai_server, constitution, tmp_path):
    openai_server.push("length", "length")
    budget = Budget(max_cost_usd=1.0)
    with pytest.raises(NotJudged) as info:
        critic.judge(*make_paper(), constitution, budget=budget)
    assert info.value.exit_code == EXIT_SERVICE
    assert "cut at the" in str(info.value) and "token limit twice" in str(info.value)
    trace = read_trace(next((tmp_path / "traces").glob("*.json")))
    assert not trace["ok"] and "token limit twice" in trace["error"]
    assert [c["finish_reason"] for c in trace["calls"]] == ["length", "length"]
    assert trace["tokens"]["completion"] > 0 and budget.spent == pytest.approx(trace["cost_usd"], abs=1e-6)
    assert budget.spent > 0


def test_a_longer_try_is_held_against_the_budget_before_it_is_made(critic, openai_server, constitution):
    """The estimate counts judge + revision; the longer try after a cut answer must fit the cap too, or not be made."""
    from triage.errors import BudgetExceeded

    paper, sections = make_paper()
    budget = Budget(max_cost_usd=critic.estimate_cost(paper, sections, constitution) * 1.05)
    openai_server.push("length", "valid", "valid")
    with pytest.raises(BudgetExceeded):
        critic.judge(paper, sections, constitution, budget=budget)
    assert openai_server.calls == 1 and budget.spent <= budget.max_cost_usd and budget.reserved == 0


@pytest.mark.parametrize(("step", "mode", "says"), [
    ("html", "json_schema", "a page that is not JSON (HTML or plain text)"),
    ("html", "text", "an HTML page"),
    ("empty", "json_schema", "an empty body"),
    ("no_choices", "json_schema", "a completion with no choices"),
])
def test_an_answer_that_is_not_a_chat_completion_is_one_line_and_not_retried(llm_settings, openai_server, constitution,
                                                                             step, mode, says):
    openai_server.default = step
    critic = LLMCritic(llm_settings.model_copy(update={"mode": mode}), sleep=lambda s: None)
    with pytest.raises(CriticError) as info:
        critic.judge(*make_paper(), constitution)
    assert f"the endpoint answered {says}" in info.value.message and "OPENAI_BASE_URL" in info.value.hint
    assert info.value.exit_code == EXIT_SERVICE and openai_server.calls == 1
    assert "\n" not in str(info.value)


def test_an_unknown_model_and_a_refused_key_name_the_setting(critic, openai_server, constitution):
    openai_server.default = ("status", 404, "model 'scripted-model' not found")
    with pytest.raises(CriticError) as info:
        critic.judge(*make_paper(), constitution)
    assert "does not know model 'scripted-model'" in info.value.message and "llm.model" in info.value.hint
    assert info.value.exit_code == EXIT_SERVICE
    # Every later paper fails the same way without a call.
    with pytest.raises(CriticError):
        critic.judge(*make_paper(1), constitution)
    assert openai_server.calls == 1


def test_a_refused_key_is_exit_1(llm_settings, openai_server, constitution):
    openai_server.default = ("status", 401, "Incorrect API key provided")
    with pytest.raises(ConfigError) as info:
        LLMCritic(llm_settings, sleep=lambda s: None).judge(*make_paper(), constitution)
    assert "refused the API key" in info.value.message and "OPENAI_API_KEY" in info.value.hint
    assert info.value.exit_code == EXIT_USER and openai_server.calls == 1


def test_rate_limiter_spaces_calls(llm_settings, openai_server, constitution):
    import time

    critic = LLMCritic(llm_settings.model_copy(update={"requests_per_second": 4.0}), sleep=lambda s: None)
    started = time.monotonic()
    critic.judge(*make_paper(), constitution)
    critic.judge(*make_paper(1), constitution)
    # Four calls at 4 per second, the bucket holding one: the last three each wait their turn.
    assert time.monotonic() - started >= 0.7
