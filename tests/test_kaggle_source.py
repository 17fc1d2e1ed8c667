"""Kaggle source: finding REGEN files in a kagglehub download and remembering them.

Kaggle cannot be reached from tests; `download` is tested with kagglehub's
`dataset_download` replaced by a function returning a folder laid out like a real
kagglehub download (the only stand-in: the network is unavailable).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_bench.cli.app import main
from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.util.paths import cache_dir
from regen_bench_plugins.datasets.regen_kaggle import source as kaggle_source
from regen_bench_plugins.datasets.regen_kaggle.source import (
    HANDLE,
    find_files,
    register_download_folder,
    registered_path,
)

LINE = json.dumps({"reviewer_id": "U1", "purchase_history": [{"item": {"asin": "A1"}}],
                   "user": {"long_summary": "likes pens"}}) + "\n"


def kagglehub_folder(root: Path, files=("office.jsonl", "clothing.jsonl"), sub="regen/REGEN") -> Path:
    folder = root / "datasets" / HANDLE / "versions" / "1"
    for name in files:
        path = folder / sub / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LINE, encoding="utf-8")
    return folder


def test_finds_both_files_in_the_kaggle_layout(tmp_path):
    folder = kagglehub_folder(tmp_path)
    assert find_files(folder) == {
        "regen-office": (folder / "regen/REGEN/office.jsonl").resolve(),
        "regen-clothing": (folder / "regen/REGEN/clothing.jsonl").resolve(),
    }


def test_finds_files_anywhere_below_and_gzipped(tmp_path):
    folder = kagglehub_folder(tmp_path, files=("office.jsonl.gz",), sub="some/other/place")
    (folder / "deeper" / "still" / "more" / "most").mkdir(parents=True)
    (folder / "deeper" / "still" / "more" / "most" / "office.jsonl.gz").write_text("")  # deeper: not chosen
    assert find_files(folder) == {"regen-office": (folder / "some/other/place/office.jsonl.gz").resolve()}


def test_register_writes_the_registry_and_registered_path_reads_it(tmp_path):
    folder = kagglehub_folder(tmp_path)
    found = register_download_folder(folder)
    assert set(found) == {"regen-office", "regen-clothing"}
    registry = json.loads((cache_dir() / "datasets.json").read_text())
    assert registry == {name: str(path) for name, path in found.items()}
    assert all(Path(p).is_absolute() for p in registry.values())
    assert registered_path("regen-office") == found["regen-office"]
    assert not [p for p in cache_dir().iterdir() if p.name.endswith(".tmp")]


def test_registering_one_file_keeps_the_other_entry(tmp_path):
    register_download_folder(kagglehub_folder(tmp_path / "a"))
    newer = kagglehub_folder(tmp_path / "b", files=("office.jsonl",))
    register_download_folder(newer)
    assert registered_path("regen-office") == (newer / "regen/REGEN/office.jsonl").resolve()
    assert registered_path("regen-clothing").is_relative_to((tmp_path / "a").resolve())


def test_a_folder_without_regen_files_is_a_clear_error(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "other.jsonl").write_text("")
    with pytest.raises(RegenBenchError, match=r"none of the REGEN files .* JSON Lines files there: other.jsonl"):
        register_download_folder(tmp_path / "x")
    with pytest.raises(RegenBenchError, match="no such folder"):
        register_download_folder(tmp_path / "absent")


def test_registered_path_before_download_says_what_to_do():
    with pytest.raises(RegenBenchError) as caught:
        registered_path("regen-clothing")
    message = str(caught.value)
    assert "regen-bench data download regen-clothing" in message and "--dataset PATH" in message


def test_registered_path_whose_file_is_gone(tmp_path):
    folder = kagglehub_folder(tmp_path)
    register_download_folder(folder)
    (folder / "regen/REGEN/office.jsonl").unlink()
    with pytest.raises(RegenBenchError, match="that file is gone"):
        registered_path("regen-office")


def test_a_damaged_registry_is_a_clear_error():
    (cache_dir() / "datasets.json").write_text("{not json")
    with pytest.raises(RegenBenchError, match="cannot read the dataset registry"):
        registered_path("regen-office")


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError, match="Did you mean: regen-office"):
        registered_path("regen-offices")


@pytest.fixture
def fake_kagglehub(tmp_path, monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    calls = []

    def dataset_download(handle, path=None, *, force_download=False, output_dir=None):
        calls.append({"handle": handle, "path": path, "force_download": force_download, "output_dir": output_dir})
        return str(kagglehub_folder(Path(output_dir) if output_dir else tmp_path / "kagglehub"))

    monkeypatch.setattr(kagglehub, "dataset_download", dataset_download)
    return calls


def test_download_fetches_the_dataset_and_registers_its_files(fake_kagglehub, tmp_path):
    path = kaggle_source.download("regen-office")
    assert fake_kagglehub == [{"handle": HANDLE, "path": None, "force_download": False, "output_dir": None}]
    assert path.name == "office.jsonl" and path.is_file()
    assert registered_path("regen-office") == path
    assert registered_path("regen-clothing").name == "clothing.jsonl"


def test_download_into_a_folder(fake_kagglehub, tmp_path):
    dest = tmp_path / "dest"
    path = kaggle_source.download("regen-clothing", dest, force=True)
    assert fake_kagglehub[0]["output_dir"] == str(dest) and fake_kagglehub[0]["force_download"] is True
    assert path.is_relative_to(dest.resolve())


def test_a_failed_download_is_one_readable_error(monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")

    def offline(handle, **kwargs):
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    with pytest.raises(RegenBenchError, match=r"could not download .* \(ConnectionError: network is unreachable\)"):
        kaggle_source.download("regen-office")


def test_data_download_command(fake_kagglehub):
    result = CliRunner().invoke(main, ["data", "download", "regen-office"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("regen-office: ") and "office.jsonl" in result.stdout


def test_data_download_command_failure_exits_2(monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    monkeypatch.setattr(kagglehub, "dataset_download", lambda handle, **kw: (_ for _ in ()).throw(OSError("offline")))
    result = CliRunner().invoke(main, ["data", "download", "regen-office"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: could not download") and "Traceback" not in result.output


def test_the_plugin_registers_both_datasets_with_the_default_layout(tmp_path):
    from regen_bench.contracts.layout import DatasetLayout
    from regen_bench.data.loading import load_dataset_examples
    from regen_bench.plugin.registry import get_registry

    registry = get_registry()
    office = registry.get("dataset", "regen-office")
    assert registry.get("dataset", "regen-clothing").cls.name == "regen-clothing"
    provider = office.cls()
    assert provider.layout() == DatasetLayout()
    with pytest.raises(RegenBenchError, match="regen-bench data download regen-office"):
        provider.path()
    register_download_folder(kagglehub_folder(tmp_path))
    loaded = load_dataset_examples(provider)
    assert loaded.examples[0].references == {"user_summary": "likes pens"}
