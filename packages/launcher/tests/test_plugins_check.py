"""``pegboard plugins check``: the conformance kit against installed packs, as a table."""

from __future__ import annotations

import json

from conftest import DATA_YAML, MODEL_YAML

from pegboard_launcher.cli import main
from pegboard_launcher.plugin_check import format_table

NOT_A_MODEL = """\
_target_: pegboard.testing.datamodule.RandomImageDataModule
input_shape: ${data.input_shape}
num_classes: ${data.num_classes}
"""


def test_check_reports_every_pack_and_fails_on_a_bad_one(add_pack, capsys) -> None:
    # One pack with good and bad configs: one subprocess, every kind of row.
    configs = {"model/tiny.yaml": MODEL_YAML, "model/bad.yaml": NOT_A_MODEL}
    add_pack("mixed-pack", version="0.2.0", configs={**configs, "data/tiny_images.yaml": DATA_YAML})
    add_pack("broken-pack", version="0.3.0", manifest="raise ImportError('needs acme_cuda')\n")
    assert main(["plugins", "check", "--json"]) == 1
    rows = {(row["pack"], row["check"]): row for row in json.loads(capsys.readouterr().out)}
    assert rows["mixed-pack", "manifest"]["status"] == "pass"
    assert rows["mixed-pack", "model=tiny"]["status"] == "pass"
    assert rows["mixed-pack", "export model=tiny"]["status"] == "pass"
    assert rows["mixed-pack", "data=tiny_images"]["status"] == "pass"
    bad = rows["mixed-pack", "model=bad"]
    assert bad["status"] == "fail" and "builds a RandomImageDataModule" in bad["reason"]
    assert rows["mixed-pack", "export model=bad"]["status"] == "skip"
    broken = rows["broken-pack", "manifest"]
    assert broken["status"] == "fail" and broken["version"] == "0.3.0"
    assert "ImportError: needs acme_cuda" in broken["reason"]


def test_check_of_named_packs_only(working_packs, add_pack, capsys) -> None:
    add_pack("broken-pack", version="0.3.0", manifest="raise ImportError('needs acme_cuda')\n")
    assert main(["plugins", "check", "broken-pack"]) == 1
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split() == ["PACK", "VERSION", "CHECK", "RESULT", "REASON"]
    assert row.split()[:4] == ["broken-pack", "0.3.0", "manifest", "fail"]


def test_check_of_an_unknown_pack_names_the_installed_ones(working_packs, capsys) -> None:
    assert main(["plugins", "check", "acme-modles"]) == 2
    assert "no installed pack named 'acme-modles'; installed: acme-data, acme-models" in (
        capsys.readouterr().err
    )


def test_table_is_aligned() -> None:
    rows = [
        {"pack": "a", "version": "1", "check": "manifest", "status": "pass", "reason": ""},
        {"pack": "long-name", "version": "2.0", "check": "x", "status": "fail", "reason": "why"},
    ]
    lines = format_table(rows).splitlines()
    assert [line.index("RESULT") for line in lines[:1]] == [
        line.index("pass") for line in lines[1:2]
    ]
    assert lines[2].endswith("fail    why")


MISSING_DATA = """\
from pegboard.errors import DataNotFound
from pegboard.testing.datamodule import RandomImageDataModule


class FilesElsewhere(RandomImageDataModule):
    def prepare_data(self):
        raise DataNotFound("data=far: 2 of its files are not in /data/far: a.bin b.bin. "
                           "Run with data.download=true to download them.")
"""


def test_a_dataset_whose_files_are_absent_is_skipped_with_the_whole_reason(
    add_pack, pack_dir, capsys
) -> None:
    far = DATA_YAML.replace(
        "pegboard.testing.datamodule.RandomImageDataModule", "far_pack.nets.FilesElsewhere"
    )
    module = add_pack(
        "far-pack",
        configs={"data/far.yaml": far},
        datamodules={"far": "far_pack.nets:FilesElsewhere"},
    )
    (pack_dir / module / "nets.py").write_text(MISSING_DATA)
    assert main(["plugins", "check"]) == 0
    captured = capsys.readouterr()
    (row,) = [line for line in captured.out.splitlines() if "data=far" in line]
    assert row.split()[3] == "skip"
    assert row.endswith("Run with data.download=true to download them.")  # nothing cut
    assert "plugins check: 2 passed, 0 failed, 1 skipped" in captured.err
