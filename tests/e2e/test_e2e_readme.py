"""The README's "Add a model" example works as written."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import QUICK, run_dir_of

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(first_line: str) -> str:
    for match in re.finditer(r"```\w*\n(.*?)```", README.read_text(), flags=re.S):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"README has no code block starting with {first_line!r}")


def test_readme_project_model_trains(run_pegboard, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "configs" / "model").mkdir(parents=True)
    (project / "my_net.py").write_text(_block("# my_net.py"))
    (project / "configs" / "model" / "my_net.yaml").write_text(
        _block("# configs/model/my_net.yaml")
    )
    result = run_pegboard("train", "model=my_net", *QUICK, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Test accuracy: " in result.stdout
    assert "_target_: my_net.MyNet" in (run_dir_of(result) / "config.yaml").read_text()
