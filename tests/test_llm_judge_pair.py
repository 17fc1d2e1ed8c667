"""llm-judge-pair: two runs judged against each other by a judge on a real HTTP server (127.0.0.1),
each pair asked in both orders."""

from __future__ import annotations

import json
import math
import re

import pytest
from api_servers import Conversation, gemini_server, openai_server  # noqa: F401  (fixtures)
from click.testing import CliRunner

from regen_bench import Model, RegenBenchError
from regen_bench.api import run
from regen_bench.cli.app import main
from regen_bench_plugins.metrics.llm_judge_pair import (
    LlmJudgePairMetric,
    candidate_side,
    outcome,
    parse_verdict,
)

_N1 = re.compile(r"<narrative_1>\n(.*?)\n</narrative_1>", re.S)
_N2 = re.compile(r"<narrative_2>\n(.*?)\n</narrative_2>", re.S)


def pair_judge(conv: Conversation) -> str:
    """Prefers the narrative that says GOOD; says tie when both or neither do; a narrative
    saying BIASED makes it pick whichever is shown first; GARBAGE is never valid JSON."""
    prompt = conv.first_user
    one, two = _N1.search(prompt).group(1), _N2.search(prompt).group(1)
    if "GARBAGE" in one + two:
        return "narrative one, I think"
    if "BIASED" in one + two:
        return json.dumps({"winner": "1", "reason": "first"})
    good1, good2 = "GOOD" in one, "GOOD" in two
    winner = "tie" if good1 == good2 else ("1" if good1 else "2")
    return json.dumps({"winner": winner, "reason": "because"})


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-judge-pair")
    monkeypatch.setenv("GEMINI_API_KEY", "gm-judge-pair")


def judge(server, **options) -> LlmJudgePairMetric:
    server.responder = pair_judge
    return LlmJudgePairMetric(base_url=server.base_url, model="judge-p", backoff=0.01, timeout=5.0, **options)


def test_verdict_parsing_and_the_both_orders_rule():
    assert parse_verdict('{"winner": "2", "reason": "x"}') == ("2", None)
    assert parse_verdict('```json\n{"winner": 1}\n```') == ("1", None)
    assert parse_verdict('{"winner": "TIE"}') == ("tie", None)
    assert parse_verdict('{"winner": "3"}')[0] is None and parse_verdict("nope")[0] is None
    # order "ab" shows A first: "2" is B; order "ba" shows B first: "1" is B
    assert candidate_side("2", candidate_first=False) == "B" and candidate_side("1", candidate_first=True) == "B"
    assert outcome("B", "B") == "B" and outcome("A", "A") == "A"
    assert outcome("B", "A") == "tie" and outcome("B", "tie") == "tie"  # a win needs both orders


def test_each_pair_is_asked_in_both_orders_and_scored_from_b_s_side(openai_server):
    baseline = ["A0 GOOD", "A1", "A2", "A3", "A4 BIASED"]
    candidate = ["B0", "B1 GOOD", "B2 GOOD", "B3", "B4"]
    references = [f"reference {i}" for i in range(5)]
    out = judge(openai_server).checked_score_pairs(baseline, candidate, references, None)
    assert len(openai_server.requests) == 10  # every pair twice
    prompts = [r.body["messages"][-1]["content"] for r in openai_server.requests]
    for a, b in zip(baseline, candidate):
        shown_first = [_N1.search(p).group(1) for p in prompts if a in p and b in p]
        assert sorted(shown_first) == sorted([a, b])  # once with A first, once with B first
    by_name = {c.name: c for c in out.components}
    assert by_name["win"].per_example == [0, 1, 1, 0, 0]
    assert by_name["loss"].per_example == [1, 0, 0, 0, 0]
    assert by_name["tie"].per_example == [0, 0, 0, 1, 1]
    assert by_name["net"].per_example == [-1, 1, 1, 0, 0]
    assert by_name["agreement"].per_example == [1, 1, 1, 1, 0]  # the biased judge flips with the order
    assert by_name["first_position"].per_example[4] == 1.0 and math.isnan(by_name["first_position"].per_example[3])
    assert by_name["win"].corpus_score() == pytest.approx(0.4)
    assert out.counts["calls"] == 10 and out.counts["judged"] == 5
    assert out.signature.startswith("metric:llm-judge-pair|provider:openai|model:judge-p|endpoint:")
    assert "|orders:both|rule:consistent|context:reference-only|version:1" in out.signature
    again = judge(openai_server).checked_score_pairs(baseline, candidate, references, None)
    assert len(openai_server.requests) == 10 and again.counts["cache_hits"] == 10  # cached: no new request
    assert [c.per_example for c in again.components][:4] == [c.per_example for c in out.components][:4]


def test_an_unusable_answer_is_repaired_once_then_unjudged(openai_server):
    out = judge(openai_server).checked_score_pairs(["GARBAGE a", "a"], ["b", "GOOD b"], ["r0", "r1"], None)
    assert out.counts["repairs"] == 2 and out.counts["invalid_answers"] == 2 and out.counts["unjudged"] == 1
    assert math.isnan(out.components[0].per_example[0]) and out.components[0].per_example[1] == 1.0
    assert "after repair" in out.details[0]["judge_error"]


def test_gemini_judges_pairs_too(gemini_server):
    out = judge(gemini_server, provider="gemini").checked_score_pairs(["a"], ["GOOD b"], ["r"], None)
    assert len(gemini_server.requests) == 2 and out.components[0].per_example == [1.0]


class Narrator(Model):
    """Says GOOD for every user when `good` is set."""

    name = "narrator"

    def __init__(self, good: bool):
        super().__init__()
        self.good = good

    def generate(self, examples, task):
        word = "GOOD" if self.good else "plain"
        return [f"A {word} narrative about {len(e.history)} purchases." for e in examples]

    def config(self):
        return {**super().config(), "good": self.good}


def test_compare_with_the_judge_reports_b_s_win_rate_with_a_ci(openai_server, tmp_path):
    kwargs = dict(dataset_args={"users": 600}, limit=30, tasks=["user_summary"], output=tmp_path, progress=False)
    run_a, run_b = run(model=Narrator(False), **kwargs), run(model=Narrator(True), **kwargs)
    openai_server.responder = pair_judge
    args = ["compare", str(run_a.run_dir), str(run_b.run_dir), "--metric", "llm-judge-pair",
            "--metric-arg", f"llm-judge-pair.base_url={openai_server.base_url}",
            "--metric-arg", "llm-judge-pair.model=judge-p", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    entries = {e["component"]: e for e in data["pairwise"]["entries"]}
    assert entries["win"]["score"] == 1.0 and entries["win"]["n"] == 30 and entries["loss"]["score"] == 0.0
    assert entries["win"]["ci_low"] <= entries["win"]["score"] <= entries["win"]["ci_high"]
    assert "|context:full|" in entries["win"]["signature"]  # the dataset is here: the judge saw histories
    assert len(openai_server.requests) == 60
    assert "The user's purchase history" in openai_server.requests[0].raw
    text = CliRunner().invoke(main, args[:-1])
    assert text.exit_code == 0 and "pairwise judge, B against A" in text.output and "cost" in text.output
    assert len(openai_server.requests) == 60  # the second compare is answered from the call cache


def test_the_judge_is_refused_by_run_and_compare_takes_only_pairwise_metrics(tmp_path):
    with pytest.raises(RegenBenchError, match="regen-bench compare RUN_A RUN_B --metric llm-judge-pair"):
        run(model="popular", dataset_args={"users": 600}, metrics=["llm-judge-pair"], tasks=["user_summary"],
            output=tmp_path, progress=False)
    result = CliRunner().invoke(main, ["compare", str(tmp_path), str(tmp_path), "--metric", "bleu"])
    assert result.exit_code != 0 and "pairwise metrics" in result.output
