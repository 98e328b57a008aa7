"""The LLM critic: prompt sizes, a 20-paper batch against a 1 s/call server, the cached re-run, the breaker.

    python -m bench.bench_critic [--papers 20] [--delay 1.0] [--concurrency 8] [--timeout 2.0]

Runs the scripted OpenAI-compatible server from the tests on loopback, so it
needs no key and no network.  Prints

1. input tokens of the judge and revision prompts for each sample paper with
   the shipped six-principle constitution (o200k counts when the optional
   ``bpe-openai`` tokenizer is installed, else the critic's conservative estimate);
2. the batch time through triage (``judge_batch``: judge + revision per paper)
   against the raw ``openai`` client making the same two calls per paper with
   the same concurrency, and the ratio;
3. the calls a re-run makes through the service (the verdict cache);
4. against a server that hangs on every call: how long the batch takes to stop
   (the circuit breaker), as a multiple of the per-call timeout, at the default
   concurrency and one paper at a time (the issue's bound: under 3x);
5. against a server that refuses ``json_schema`` like llama-cpp-python: the extra
   calls mode negotiation costs on the first verdict and on the next.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.servers.openai_scripted import ScriptedOpenAI
from triage.config import LLMSettings, Settings
from triage.critic.batch import judge_batch
from triage.critic.constitution import load_constitution
from triage.critic.llm import LLMCritic, estimate_tokens
from triage.extract import extract
from triage.models import Paper, Sections
from triage.service import Triage

REPO = Path(__file__).resolve().parents[1]


def _counter():
    try:
        import bpe_openai

        encoding = bpe_openai.get_encoding("o200k_base")
        return "o200k", lambda text: len(encoding.encode(text))
    except ImportError:
        return "estimate (chars/3.5)", estimate_tokens


def _samples(out: Path) -> list[tuple[Paper, Sections]]:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "data" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    items = []
    for pdf in module.make_samples(out):
        sections = extract(pdf)
        items.append((Paper(key=pdf.stem, title=sections.title, pdf_path=pdf), sections))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the server takes per call")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=2.0, help="per-call timeout for the hanging server")
    args = parser.parse_args()

    server = ScriptedOpenAI().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = LLMSettings(model="scripted-model", base_url=server.url, api_key="k",
                                   concurrency=args.concurrency)
            critic = LLMCritic(settings)
            constitution = load_constitution()
            samples = _samples(Path(tmp) / "papers")
            unit, count = _counter()

            print(f"1. prompt sizes, {len(constitution.principles)} principles, tokens by {unit}")
            print(f"   {'paper':<36} {'judge':>6} {'revise':>7} {'verdict':>8}")
            totals = []
            for paper, sections in samples:
                before = len(server.requests)
                critic.judge(paper, sections, constitution)
                sizes = [sum(count(m["content"]) for m in r["messages"]) for r in server.requests[before:]]
                totals.append(sizes[0])
                print(f"   {paper.key:<36} {sizes[0]:>6} {sizes[1]:>7} {sum(sizes):>8}")
            print(f"   judge prompt: max {max(totals)}, mean {sum(totals) / len(totals):.0f} (limit 3000)")

            items = [
                (paper.model_copy(update={"key": f"{paper.key}-{i}"}),
                 sections.model_copy(update={"sha256": f"{i:064x}"}))
                for i, (paper, sections) in enumerate(samples[i % len(samples)] for i in range(args.papers))
            ]
            server.delay = args.delay
            start = time.perf_counter()
            results = judge_batch(items, critic, constitution, concurrency=args.concurrency)
            ours = time.perf_counter() - start
            assert all(r.ok for r in results), [r.error for r in results if not r.ok]

            import openai

            client = openai.OpenAI(base_url=server.url, api_key="k", max_retries=0)

            def raw_paper(item: tuple[Paper, Sections]) -> None:
                system, user = critic.judge_messages(item[0], item[1], constitution)
                for name in ("judge", "revise"):
                    client.chat.completions.create(
                        model="scripted-model",
                        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                        response_format={"type": "json_schema", "json_schema": {"name": name, "schema": {}}},
                    )

            start = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(raw_paper, items))
            raw = time.perf_counter() - start
            floor = -(-args.papers // args.concurrency) * 2 * args.delay
            print(f"\n2. {args.papers} papers x 2 calls at {args.delay:g} s/call, concurrency {args.concurrency}")
            print(f"   ours: {ours:6.2f} s   raw openai client: {raw:6.2f} s   ratio {ours / raw:.2f}"
                  f"   floor {floor:.1f} s")

            server.delay = 0
            core = Triage(Settings(home=Path(tmp) / "home", critic="llm", llm=settings), critic=critic)
            core.judge_many(items[:6])
            calls = server.calls
            again = core.judge_many(items[:6])
            print(f"\n3. re-run of {len(again)} judged papers through the service: {server.calls - calls} calls, "
                  f"{sum(r.cached for r in again)} cached")
            core.close()
    finally:
        server.stop()
    _breaker(samples, args)
    _negotiation(samples)


def _breaker(samples: list[tuple[Paper, Sections]], args: argparse.Namespace) -> None:
    print(f"\n4. a server that never answers, {args.timeout:g} s per-call timeout, {len(samples)} papers")
    for concurrency in (args.concurrency, 1):
        server = ScriptedOpenAI().start()
        server.default = ("hang", 60)
        try:
            settings = LLMSettings(model=f"hang-{concurrency}", base_url=server.url, api_key="k",
                                   timeout_s=args.timeout, concurrency=concurrency)
            started = time.perf_counter()
            results = judge_batch(samples, LLMCritic(settings), load_constitution(), concurrency=concurrency)
            took = time.perf_counter() - started
            codes = sorted({r.exit_code for r in results})
            down = sum("endpoint down" in r.error for r in results)
            print(f"   concurrency {concurrency}: stopped after {took:5.2f} s = {took / args.timeout:.2f}x the timeout, "
                  f"{server.calls} calls, {down} papers 'endpoint down', exit codes {codes}")
        finally:
            server.stop()


def _negotiation(samples: list[tuple[Paper, Sections]]) -> None:
    server = ScriptedOpenAI().start()
    server.accepts = {"json_object", "text"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            remembered = Path(tmp) / "modes.json"
            settings = LLMSettings(model="llama-cpp-like", base_url=server.url, api_key="k")
            calls = []
            for paper, sections in samples[:2]:
                before = server.calls
                verdict = LLMCritic(settings, capabilities_file=remembered).judge(paper, sections, load_constitution())
                calls.append(server.calls - before)
            print(f"\n5. a server that refuses json_schema: {calls[0]} calls for the first verdict, {calls[1]} for the "
                  f"next (2 is the floor), mode {verdict.llm_mode}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
