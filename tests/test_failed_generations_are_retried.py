"""A model returns None for an example it could not generate: not cached, not scored, retried next run."""

import json
import textwrap

from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.plugin import registry

FLAKY_MODEL = textwrap.dedent('''
    import os
    from regen_bench import hookimpl
    from regen_bench.contracts.model import Model

    class Flaky(Model):
        """Fails (None) on every third example while $FLAKY is set; logs what it was asked."""
        name = "flaky"
        def generate(self, examples, task):
            with open(os.environ["ASKED"], "a") as log:
                log.writelines(e.example_id + "\\n" for e in examples)
            fail = bool(os.environ.get("FLAKY"))
            return [None if fail and i % 3 == 0 else "a narrative" for i, e in enumerate(examples)]

    @hookimpl
    def register_models(register):
        register(Flaky)
''')


def test_failed_generations_are_not_cached_and_are_retried(tmp_path, monkeypatch):
    plugin = tmp_path / "flaky.py"
    plugin.write_text(FLAKY_MODEL)
    args = ["--plugins", str(plugin), "run", "--model", "flaky", "--dataset-arg", "users=300", "--task",
            "user_summary", "--metric", "bleu", "--bootstrap", "20", "--quiet"]
    monkeypatch.setenv("ASKED", str(tmp_path / "first.txt"))
    monkeypatch.setenv("FLAKY", "1")
    first = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert "generations failed" in first.output
    results = json.loads(next((tmp_path / "a").glob("*/results.json")).read_text())
    asked = (tmp_path / "first.txt").read_text().split()
    failed = results["cache"]["failed"]
    assert failed > 0 and results["cache"]["generated"] == len(asked) - failed
    assert results["dataset"]["n_examples_by_task"]["user_summary"] == len(asked) - failed
    assert results["scores"][0]["n"] == len(asked) - failed

    registry.reset()
    monkeypatch.setenv("ASKED", str(tmp_path / "second.txt"))
    monkeypatch.delenv("FLAKY")
    second = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    retried = (tmp_path / "second.txt").read_text().split()
    assert len(retried) == failed
    results = json.loads(next((tmp_path / "b").glob("*/results.json")).read_text())
    assert results["cache"] == {"cached": len(asked) - failed, "generated": failed, "failed": 0}
