import pytest

from harness.core.registry import Registry, UnknownNameError, suggestion


def test_lazy_entry_is_imported_on_get():
    registry = Registry("thing")
    registry.register_lazy("ordered", "collections:OrderedDict")
    from collections import OrderedDict

    assert registry.get("ordered") is OrderedDict


def test_duplicate_name_is_refused():
    registry = Registry("thing")
    registry.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", 2)
    assert registry.get("a") == 1


def test_unknown_name_lists_choices_and_suggests_closest():
    registry = Registry("method")
    for name in ("unibridge", "zero_shot", "madx"):
        registry.register(name, name)
    with pytest.raises(UnknownNameError) as error:
        registry.get("unibrige")
    message = str(error.value)
    assert "unknown method 'unibrige'" in message
    assert "Did you mean 'unibridge'?" in message
    assert "madx, unibridge, zero_shot" in message


def test_malformed_lazy_target_is_refused():
    with pytest.raises(ValueError, match="module:attr"):
        Registry("thing").register_lazy("x", "no_colon_here")


def test_descriptions_are_given_or_the_objects_own_and_need_no_import():
    class Described:
        description = "its own line"

    registry = Registry("thing")
    registry.register_lazy("lazy", "no_such_module_anywhere:X", "said at registration")
    registry.register("own", Described())
    registry.register("plain", 3)
    assert [registry.describe(n) for n in ("lazy", "own", "plain")] == [
        "said at registration", "its own line", ""]
    with pytest.raises(UnknownNameError, match="Did you mean 'own'"):
        registry.describe("onw")


def test_unknown_names_and_keys_share_one_wording():
    assert suggestion("trainin", ["backbones", "training"], "keys") == (
        "Did you mean 'training'? Valid keys: backbones, training")
    assert suggestion("zzz", ["a", "b"]) == "Valid choices: a, b"
    assert suggestion("monolingal", ["name"], "keys", likely=["monolingual"]) == (
        "Did you mean 'monolingual'? Valid keys: name")
