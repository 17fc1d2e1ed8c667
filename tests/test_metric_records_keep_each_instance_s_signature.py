"""Two instances of one metric in a run (`--metric bleu --metric bleu:1`) each keep, in
results.json's metric records, the signature their own scores carry."""

from regen_bench.api import run


def test_bleu_and_bleu_1_records_carry_their_own_signatures(tmp_path):
    results = run(model="popular", dataset_args={"users": 600}, limit=30, tasks=["user_summary"],
                  metrics=["bleu", "bleu:1"], output=tmp_path, progress=False).record
    by_spec = {m.spec: m.signature for m in results.metrics}
    by_component = {e.component: e.signature for e in results.scores}
    assert by_spec["bleu"] == by_component["bleu"] and "order:" not in by_spec["bleu"]
    assert by_spec["bleu:1"] == by_component["bleu-1"] and "order:1" in by_spec["bleu:1"]
