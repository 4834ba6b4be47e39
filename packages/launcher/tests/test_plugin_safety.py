"""Many packs of varying quality: broken, incompatible, disabled, allow-listed, strict."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from pegboard_launcher.cli import main
from pegboard_launcher.discovery import discover
from pegboard_launcher.selection import DISABLE_ENV, ONLY_ENV, STRICT_ENV
from pegboard_launcher.static_api import read_api, static_api

#: Written as a pack's __init__.py: importing any of the pack's modules fails loudly.
BOOBY_TRAP = "raise RuntimeError('this pack must not be imported')\n"


@pytest.fixture(autouse=True)
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set (empty) rather than deleted, so that monkeypatch restores what the flags write.
    for name in (DISABLE_ENV, ONLY_ENV, STRICT_ENV):
        monkeypatch.setenv(name, "")


def trap(pack_dir: Path, module: str) -> None:
    (pack_dir / module / "__init__.py").write_text(BOOBY_TRAP)


def imported(module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in sys.modules)


@pytest.mark.parametrize(
    ("manifest", "error"),
    [
        ("raise ImportError('needs acme_cuda')\n", "ImportError: needs acme_cuda"),
        ("raise ZeroDivisionError('bad maths')\n", "ZeroDivisionError: bad maths"),
        ("plugin = 42\n", "is a int, not a pegboard.plugin.Plugin"),
        ("from pegboard.plugin import Plugin\nplugin = Plugin(api='1')\n", "must be an int"),
        ("x = 1\n", "AttributeError"),
        ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
        ("raise BaseException('odd')\n", "BaseException: odd"),
    ],
    ids=[
        "import-error",
        "other-exception",
        "wrong-type",
        "invalid-manifest",
        "no-attribute",
        "sys-exit",
        "base-exception",
    ],
)
def test_broken_manifest_is_named_with_version_and_error(add_pack, manifest, error) -> None:
    add_pack("good-pack", configs={"model/good_net.yaml": "a: 1\n"})
    add_pack("bad-pack", version="0.4.0", manifest=manifest)
    found = discover()
    assert [pack.name for pack in found.packs] == ["good-pack"]
    (problem,) = found.broken
    assert (problem.name, problem.version, problem.kind) == ("bad-pack", "0.4.0", "broken")
    assert error in problem.reason


def test_broken_pack_is_a_warning_and_strict_mode_an_error(working_packs, add_pack, capsys):
    add_pack("bad-pack", version="0.4.0", manifest="raise ImportError('needs acme_cuda')\n")
    assert main(["train", "--cfg", "job", "model=tiny", "data=tiny_images"]) == 0
    assert "warning: pack bad-pack 0.4.0 is not loaded" in capsys.readouterr().err
    assert main(["--strict-plugins", "train", "--cfg", "job", "model=tiny"]) == 2
    err = capsys.readouterr().err
    assert "pack bad-pack 0.4.0 is not loaded" in err and "ImportError: needs acme_cuda" in err
    assert "--disable-plugins bad-pack" in err
    assert os.environ[STRICT_ENV] == "1"  # children started by Lightning inherit it
    assert main(["--strict-plugins", "plugins"]) == 2


def test_unsupported_api_is_skipped_before_any_pack_module_is_imported(add_pack, pack_dir):
    module = add_pack("future-pack", version="3.0.0", api=7)
    trap(pack_dir, module)
    found = discover()
    assert found.broken == () and found.packs == ()
    (problem,) = found.skipped
    assert problem.kind == "incompatible" and problem.version == "3.0.0"
    assert "plugin API 7" in problem.reason and "supports API 1" in problem.reason
    assert not imported(module)


def test_api_named_by_a_constant_is_read_statically(add_pack, pack_dir) -> None:
    manifest = "from pegboard.plugin import Plugin\nAPI = 9\nplugin = Plugin(api=API)\n"
    module = add_pack("const-pack", manifest=manifest)
    trap(pack_dir, module)
    (problem,) = discover().skipped
    assert "plugin API 9" in problem.reason and not imported(module)


def test_api_that_cannot_be_read_statically_is_checked_after_import(add_pack) -> None:
    manifest = "from pegboard.plugin import Plugin\nplugin = Plugin(api=int('7'))\n"
    module = add_pack("computed-pack", manifest=manifest)
    (problem,) = discover().skipped
    assert problem.kind == "incompatible" and "plugin API 7" in problem.reason
    assert imported(module)  # the fallback: the value is only known once it runs


def test_static_api_finds_the_file_through_the_distribution_record(tmp_path) -> None:
    from importlib.metadata import distributions

    site = tmp_path / "site"
    (site / "walled" / "inner").mkdir(parents=True)
    (site / "walled" / "inner" / "_plugin.py").write_text(
        "from pegboard.plugin import Plugin\nplugin: Plugin = Plugin(api=5, configs=None)\n"
    )
    info = site / "walled-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: walled\nVersion: 1.0\n")
    (info / "RECORD").write_text("walled/inner/_plugin.py,,\nwalled-1.0.dist-info/METADATA,,\n")
    (dist,) = distributions(path=[str(site)])
    # Not on sys.path: only the RECORD can lead to the file.
    assert static_api("walled.inner._plugin:plugin", dist) == 5
    assert static_api("walled.inner._plugin:plugin", None) is None


@pytest.mark.parametrize(
    ("source", "api"),
    [
        ("plugin = Plugin(api=3)", 3),
        ("plugin = pegboard.plugin.Plugin(2, configs='x')", 2),
        ("V = 4\nplugin = Plugin(api=V)", 4),
        ("plugin = Plugin(api=1)\nplugin = Plugin(api=6)", 6),
        ("plugin = Plugin(api=compute())", None),
        ("plugin = make(api=3)", None),
        ("other = Plugin(api=3)", None),
        ("plugin = Plugin(api=True)", None),
        ("def broken(:", None),
    ],
)
def test_read_api(source: str, api: int | None) -> None:
    assert read_api(source, "plugin") == api


@pytest.mark.parametrize(
    "args",
    [
        ["--disable-plugins", "trapped-pack"],
        ["--disable-plugins=other,trapped-pack"],
        ["--only-plugins", "acme-models,acme-data"],
    ],
)
def test_disabled_and_unlisted_packs_are_never_imported(
    working_packs, add_pack, pack_dir, capsys, args
) -> None:
    module = add_pack("trapped-pack")
    trap(pack_dir, module)
    assert main([*args, "plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(pack["name"] for pack in data["packs"]) == ["acme-data", "acme-models"]
    (problem,) = data["problems"]
    assert (problem["name"], problem["kind"]) == ("trapped-pack", "disabled")
    assert not imported(module)


def test_flags_write_the_environment_that_ddp_workers_inherit(working_packs, capsys) -> None:
    assert main(["--only-plugins", "acme-models", "--disable-plugins", "x", "plugins"]) == 0
    assert os.environ[ONLY_ENV] == "acme-models" and os.environ[DISABLE_ENV] == "x"
    out = capsys.readouterr().out
    assert "DISABLED: acme-data 1.0.0: not in PEGBOARD_ONLY_PLUGINS" in out


def test_allow_list_from_the_environment(working_packs, monkeypatch) -> None:
    monkeypatch.setenv(ONLY_ENV, "acme-data")
    found = discover()
    assert [pack.name for pack in found.packs] == ["acme-data"]
    assert found.targets() == set()  # acme-data advertises no classes


@pytest.mark.parametrize("args", [["--disable-plugins"], ["--only-plugins", "--strict-plugins"]])
def test_flag_without_names_is_a_usage_error(capsys, args) -> None:
    assert main(args) == 2
    assert f"{args[0]} needs pack names" in capsys.readouterr().err


def test_packs_classes_are_registered_for_the_target_allow_list(working_packs, add_pack) -> None:
    from pegboard.runtime import plugin_classes, set_plugin_classes
    from pegboard_launcher.cli import prepare

    add_pack("acme-nets", models={"net": "acme_nets.nets:Net"})
    try:
        prepare()
        # Exactly the advertised classes: the working packs name pegboard's own.
        assert plugin_classes() == {"acme_nets.nets.Net"}
    finally:
        set_plugin_classes(None)


def test_train_refuses_a_target_outside_the_allow_list(working_packs, capsys) -> None:
    folder = Path.cwd() / "configs" / "model"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text("_target_: os.system\ncommand: echo pwned\n")
    from pegboard.runtime import set_plugin_classes

    try:
        assert main(["train", "model=evil", "data=tiny_images", "trainer.max_epochs=1"]) == 2
    finally:
        set_plugin_classes(None)
    err = capsys.readouterr().err
    assert "model._target_='os.system' is refused" in err


def test_ctrl_c_while_loading_a_manifest_still_interrupts(add_pack) -> None:
    add_pack("slow-pack", manifest="raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        discover()


def test_a_manifest_importing_torch_is_named_with_its_cost(working_packs, add_pack) -> None:
    import subprocess

    from launcher_helpers import pegboard_command

    manifest = "import torch\nfrom pegboard.plugin import Plugin\nplugin = Plugin(api=1)\n"
    add_pack("heavy-pack", version="2.0.0", manifest=manifest)
    for args in (["train", "--help"], ["plugins"]):
        result = subprocess.run(
            [*pegboard_command(), *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        shown = result.stderr + result.stdout
        assert "heavy-pack 2.0.0" in shown and "imports torch or Lightning" in shown
        assert "costs every pegboard command" in shown
