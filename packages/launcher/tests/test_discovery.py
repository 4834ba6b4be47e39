"""Discovery: real entry points, one scan, broken and incompatible packs isolated."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pegboard_launcher.discovery import DISABLE_ENV, discover


def test_no_packs_installed(pack_dir) -> None:
    found = discover()
    assert found.packs == () and found.broken == () and found.skipped == ()


def test_pack_identity_comes_from_distribution_metadata(add_pack: Callable[..., str]) -> None:
    add_pack("acme-models", version="2.3.1", configs={"model/net.yaml": "a: 1\n"})
    (pack,) = discover().packs
    assert (pack.name, pack.version, pack.entry_point) == ("acme-models", "2.3.1", "acme-models")
    assert pack.manifest.configs == "acme_models.conf"
    assert pack.options == {"model": ["net"]}


def test_entry_points_are_scanned_once_per_process(add_pack, monkeypatch) -> None:
    import pegboard_launcher.discovery as discovery

    calls = []
    real = discovery.entry_points
    monkeypatch.setattr(discovery, "entry_points", lambda **kw: calls.append(kw) or real(**kw))
    discover()
    discover()
    assert len(calls) == 1


def test_broken_manifest_is_reported_by_name_and_others_still_load(add_pack) -> None:
    add_pack("good-pack", configs={"model/a.yaml": "a: 1\n"})
    add_pack("bad-pack", version="0.4.0", manifest="raise ImportError('needs acme_cuda')\n")
    found = discover()
    assert [pack.name for pack in found.packs] == ["good-pack"]
    (problem,) = found.broken
    assert (problem.name, problem.version) == ("bad-pack", "0.4.0")
    assert "ImportError: needs acme_cuda" in problem.reason


def test_manifest_of_the_wrong_type_is_broken(add_pack) -> None:
    add_pack("dict-pack", manifest="plugin = {'api': 1}\n")
    (problem,) = discover().broken
    assert "not a pegboard.plugin.Plugin" in problem.reason


def test_unsupported_api_is_skipped_naming_both_versions(add_pack) -> None:
    add_pack("future-pack", api=7)
    found = discover()
    assert found.packs == ()
    (problem,) = found.skipped
    assert problem.kind == "incompatible"
    assert "plugin API 7" in problem.reason and "supports API 1" in problem.reason


@pytest.mark.parametrize("disabled", ["acme-models", " other , acme-models "])
def test_disabled_packs_are_not_imported(add_pack, monkeypatch, disabled: str) -> None:
    module = add_pack("acme-models", manifest="raise RuntimeError('imported!')\n")
    monkeypatch.setenv(DISABLE_ENV, disabled)
    found = discover()
    assert found.broken == ()
    assert [(p.name, p.kind) for p in found.skipped] == [("acme-models", "disabled")]
    import sys

    assert f"{module}._plugin" not in sys.modules


def test_packs_are_sorted_whatever_the_install_order(add_pack) -> None:
    for name in ("zeta-pack", "alpha-pack", "mid-pack"):
        add_pack(name)
    assert [pack.name for pack in discover().packs] == ["alpha-pack", "mid-pack", "zeta-pack"]


def test_a_data_only_manifest_is_read_without_importing_the_pack(add_pack, pack_dir) -> None:
    import sys

    module = add_pack("lazy-pack", configs={"model/lazy_net.yaml": "a: 1\n"})
    # Importing the package would fail: discovery must not need to.
    (pack_dir / module / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    (pack,) = discover().packs
    assert pack.options == {"model": ["lazy_net"]}
    assert pack.manifest.configs == f"{module}.conf"
    assert module not in sys.modules


def test_a_manifest_with_code_is_imported(add_pack) -> None:
    add_pack(
        "busy-pack",
        manifest="import json\nfrom pegboard.plugin import Plugin\n"
        "plugin = Plugin(api=1, configs='busy_pack.conf', models=json.loads('{}'))\n",
    )
    (pack,) = discover().packs
    assert pack.manifest.models == {}
