"""Tracking URIs and registered-model names, read without MLflow installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.mlflow_store import artifact_location, local_store
from pegboard.runner.registry import ModelUri, check_name, is_model_uri, parse_model_uri
from pegboard.runner.tracking import run_tags


@pytest.mark.parametrize(
    ("uri", "folder"),
    [
        ("sqlite:////srv/logs/mlflow.db", Path("/srv/logs")),
        ("sqlite:///logs/mlflow.db", Path("logs")),
        ("sqlite:///./my%20logs/mlflow.db", Path("my logs")),
        ("file:///srv/mlruns", Path("/srv/mlruns")),
        ("http://127.0.0.1:5000", None),
        ("https://mlflow.example.org", None),
        ("databricks", None),  # MLflow's one scheme-less remote store
        ("mlruns", Path("mlruns")),
    ],
)
def test_a_local_store_is_found_in_its_uri(uri: str, folder: Path | None) -> None:
    assert local_store(uri) == folder


def test_artifacts_of_a_sqlite_store_live_beside_it_and_a_server_keeps_its_own() -> None:
    assert artifact_location("sqlite:////srv/logs/mlflow.db", "train") == str(
        Path("/srv/logs/mlartifacts/train").resolve()
    )
    assert artifact_location("http://127.0.0.1:5000", "train") is None
    assert artifact_location("file:///srv/mlruns", "train") is None  # the store's own layout


def test_run_tags_say_where_the_run_lives_and_what_it_ran(tmp_path: Path) -> None:
    config = {"model": {"_target_": "a.Model"}, "data": {"_target_": "b.Data"}, "tags": ["x", 1]}
    tags = run_tags(config, tmp_path, "train")
    assert tags == {
        "pegboard.command": "train",
        "pegboard.run_dir": str(tmp_path.resolve()),
        "pegboard.model": "a.Model",
        "pegboard.data": "b.Data",
        "pegboard.tags": "x,1",
    }
    assert "pegboard.tags" not in run_tags({"tags": []}, tmp_path, "eval")


def test_a_registered_model_uri_is_parsed() -> None:
    assert is_model_uri("models:/digits/3") and not is_model_uri("logs/best.ckpt")
    assert parse_model_uri("models:/digits-cnn/3") == ModelUri("digits-cnn", "3")
    assert str(parse_model_uri("models:/d.v2/latest")) == "models:/d.v2/latest"


@pytest.mark.parametrize(
    "uri", ["models:/digits", "models:/digits/one", "models:/a/b/1", "models:/../1", "models:/"]
)
def test_a_malformed_model_uri_says_the_form(uri: str) -> None:
    with pytest.raises(ConfigError, match="models:/NAME"):
        parse_model_uri(uri)


@pytest.mark.parametrize("name", ["", "a/b", "-x", "a b", "x" * 101, "näme"])
def test_a_model_name_that_uris_cannot_carry_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="letters, digits"):
        check_name(name)
