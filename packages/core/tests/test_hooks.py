"""Pack hooks (plugin API 2): each pack called on its own, failures named, clashes refused."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ReadonlyConfigError

from pegboard import testing as kit
from pegboard.errors import PluginError
from pegboard.hooks import PackHooks, read_only
from pegboard.plugin import Plugin

HEADER = "from pegboard import hookimpl\n\n"


@pytest.fixture
def hook_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Write ``NAME.py`` (hook module source) into a folder on sys.path; return ``NAME``."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    written: list[str] = []

    def write(name: str, body: str, header: str = HEADER) -> str:
        (tmp_path / f"{name}.py").write_text(header + textwrap.dedent(body))
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


FORMATS = """
@hookimpl
def pegboard_export_formats():
    return {"{name}_fmt": lambda model, example_input, path: path}
"""


def test_each_pack_is_called_alone_and_a_failure_names_pack_and_hook(
    hook_module: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    good = hook_module("good_hooks", FORMATS.replace("{name}", "good"))
    bad = hook_module(
        "bad_hooks",
        """
        @hookimpl
        def pegboard_export_formats():
            raise RuntimeError("no formats today")
        """,
    )
    hooks = PackHooks({"pack-good": good, "pack-bad": bad})
    offered = hooks.offers("pegboard_export_formats")
    assert {name: pack for name, (pack, _) in offered.items()} == {"good_fmt": "pack-good"}
    err = capsys.readouterr().err
    assert (
        "pegboard: warning: pack pack-bad: pegboard_export_formats failed: "
        "RuntimeError: no formats today" in err
    )
    assert "pack-bad" in hooks.failures_of("pegboard_export_formats")


def test_two_packs_offering_one_name_are_refused_naming_both(
    hook_module: Callable[..., str],
) -> None:
    first = hook_module("first_hooks", FORMATS.replace("{name}", "same"))
    second = hook_module("second_hooks", FORMATS.replace("{name}", "same"))
    hooks = PackHooks({"pack-one": first, "pack-two": second})
    with pytest.raises(PluginError, match=r"'same_fmt' .* offered by both pack-one and pack-two"):
        hooks.offers("pegboard_export_formats")
    with pytest.raises(PluginError, match="offered by both pegboard and pack-one"):
        PackHooks({"pack-one": first}).offers("pegboard_export_formats", {"same_fmt": "pegboard"})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("@hookimpl\ndef pegboard_callback(cfg):\n    return []\n", "not a pegboard hook"),
        ("@hookimpl\ndef pegboard_callbacks(config):\n    return []\n", "config"),
        (
            "@hookimpl(wrapper=True)\ndef pegboard_callbacks(cfg):\n    return (yield)\n",
            "wrapper",
        ),
        ("raise ImportError('missing dependency')\n", "missing dependency"),
    ],
    ids=["misspelt-hook", "wrong-argument", "wrapper", "import-error"],
)
def test_an_unusable_hook_module_is_reported_and_skipped(
    hook_module: Callable[..., str], capsys: pytest.CaptureFixture[str], body: str, reason: str
) -> None:
    broken = hook_module("broken_hooks", body)
    good = hook_module("fine_hooks", FORMATS.replace("{name}", "fine"))
    hooks = PackHooks({"pack-broken": broken, "pack-fine": good})
    assert list(hooks.offers("pegboard_export_formats")) == ["fine_fmt"]
    assert hooks.call("pegboard_callbacks", cfg={}, command="train") == []
    err = capsys.readouterr().err
    assert "pack pack-broken: hooks failed:" in err and reason in err


def test_resolvers_register_once_and_may_not_take_a_taken_name(
    hook_module: Callable[..., str],
) -> None:
    mine = hook_module(
        "resolver_hooks",
        """
        @hookimpl
        def pegboard_resolvers():
            return {"kit_test_twice": lambda value: 2 * int(value)}
        """,
    )
    hooks = PackHooks({"pack-res": mine})
    hooks.register_resolvers()
    hooks.register_resolvers()  # once per process: the job wrapper calls it again
    PackHooks({"pack-res": mine}).register_resolvers()  # a second command, same process
    assert OmegaConf.create({"x": "${kit_test_twice:21}"}).x == 42
    clash = hook_module(
        "clash_hooks",
        """
        @hookimpl
        def pegboard_resolvers():
            return {"oc.env": lambda name: "never"}
        """,
    )
    with pytest.raises(PluginError, match=r"resolver .oc.env. of pack pack-clash clashes"):
        PackHooks({"pack-clash": clash}).register_resolvers()


def test_hooks_receive_a_read_only_config() -> None:
    cfg = read_only({"trainer": {"max_epochs": 3}, "epochs": "${trainer.max_epochs}"})
    assert cfg.epochs == 3
    with pytest.raises(ReadonlyConfigError):
        cfg.trainer.max_epochs = 5


def test_hooks_need_api_2() -> None:
    with pytest.raises(PluginError, match=r"Plugin.hooks needs api=2"):
        Plugin(api=1, hooks="acme.hooks")
    with pytest.raises(PluginError, match="dotted module name"):
        Plugin(api=2, hooks="acme/hooks.py")
    assert Plugin(api=2, hooks="acme.hooks").hooks == "acme.hooks"


def _manifest(folder: Path, hooks: str) -> str:
    (folder / "kit_hook_manifest.py").write_text(
        f"from pegboard.plugin import Plugin\nplugin = Plugin(api=2, hooks={hooks!r})\n"
    )
    sys.modules.pop("kit_hook_manifest", None)
    return "kit_hook_manifest:plugin"


def test_kit_checks_hook_modules_against_the_specs(
    hook_module: Callable[..., str], tmp_path: Path
) -> None:
    good = hook_module("kit_good_hooks", FORMATS.replace("{name}", "kit"))
    assert kit.check_hooks(_manifest(tmp_path, good)) == ["pegboard_export_formats"]
    unmarked = hook_module("kit_unmarked_hooks", "def pegboard_resolvers():\n    return {}\n")
    with pytest.raises(AssertionError, match=r"not marked @pegboard.hookimpl"):
        kit.check_hooks(_manifest(tmp_path, unmarked))
    wrong = hook_module("kit_wrong_hooks", "@hookimpl\ndef pegboard_run_finished(run):\n    pass\n")
    with pytest.raises(AssertionError, match=r"does not fit pegboard.hookspecs"):
        kit.check_hooks(_manifest(tmp_path, wrong))
    heavy = hook_module("kit_heavy_hooks", "import torch\n" + FORMATS.replace("{name}", "heavy"))
    with pytest.raises(AssertionError, match="imports torch"):
        kit.check_hooks(_manifest(tmp_path, heavy))
