"""`leaderboard build` refuses a run that scored a task on fewer than MIN_SCORED_EXAMPLES
examples (its row would be ranked beside rows of hundreds), with one line, unless --force."""

from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.data.splits import MIN_SCORED_EXAMPLES

SMALL_RUN = ["run", "--model", "popular", "--dataset-arg", "users=300", "--task", "user_summary", "--limit", "5",
             "--metric", "bleu", "--bootstrap", "50", "--quiet"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_run_on_too_few_examples_is_refused_unless_forced(tmp_path):
    runs = tmp_path / "runs"
    ran = invoke(*SMALL_RUN, "--output", runs)
    assert ran.exit_code == 0, ran.output

    refused = invoke("leaderboard", "build", "--results", runs, "--out", tmp_path / "board", "--no-plots")
    assert refused.exit_code == 2
    assert f"user_summary n=5 (fewer than {MIN_SCORED_EXAMPLES} examples; --force includes it)" in refused.stderr
    assert "Traceback" not in refused.output
    assert not (tmp_path / "board" / "README.md").exists()

    forced = invoke("leaderboard", "build", "--results", runs, "--out", tmp_path / "board", "--no-plots", "--force")
    assert forced.exit_code == 0, forced.output
    assert "| popular" in (tmp_path / "board" / "README.md").read_text(encoding="utf-8")
