"""An unknown key names the closest valid key and every valid one, wherever it is in the model."""

from typing import Annotated, Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.yaml_files import format_validation_error, valid_keys


class Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = ""
    revision: str = ""


class Other(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub: str


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field("a", alias="class")
    leaf: Leaf | None = None
    either: Leaf | Other | None = None
    leaves: dict[str, Leaf] = {}
    listed: tuple[Leaf, ...] = ()
    pair: tuple[Other, Leaf] | None = None
    annotated: Annotated[list[Leaf], Field(max_length=3)] = []
    free: dict[str, Any] = {}


def lines(payload: dict, **options) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        Root.model_validate({"name": "n", **payload})
    return format_validation_error(raised.value, model=Root, **options).splitlines()


LEAF = "Valid keys: path, revision"


@pytest.mark.parametrize("payload, line", [
    ({"leaf": {"pth": ""}}, f"leaf.pth: unknown key. Did you mean 'path'? {LEAF}"),
    ({"leaves": {"a": {"revison": ""}}}, f"leaves.a.revison: unknown key. Did you mean 'revision'? {LEAF}"),
    ({"listed": [{}, {"pth": ""}]}, f"listed.1.pth: unknown key. Did you mean 'path'? {LEAF}"),
    ({"annotated": [{"pth": ""}]}, f"annotated.0.pth: unknown key. Did you mean 'path'? {LEAF}"),
    ({"pair": [{"hub": "h", "hubb": ""}, {}]},
     "pair.0.hubb: unknown key. Did you mean 'hub'? Valid keys: hub"),
    ({"clas": "b"}, "clas: unknown key. Did you mean 'class'? Valid keys: name, class, leaf, either, "
                    "leaves, listed, pair, annotated, free"),  # the alias, as the file spells it
])
def test_the_model_of_a_key_is_found_along_its_path(payload, line):
    assert lines(payload) == [line]


def test_a_union_member_pydantic_names_is_the_model_of_its_keys():
    assert lines({"either": {"pth": ""}}) == [
        f"either.Leaf.pth: unknown key. Did you mean 'path'? {LEAF}",
        "either.Other.hub: Field required",
        "either.Other.pth: unknown key. Valid keys: hub"]


def test_also_valid_keys_are_listed_first_at_the_top_level_only():
    assert valid_keys(Root, (), ["backbones"])[:2] == ["backbones", "name"]
    assert lines({"leaf": {"backbone": ""}}, also_valid=["backbones"]) == [
        f"leaf.backbone: unknown key. {LEAF}"]


def test_without_a_model_the_message_is_plain_or_names_a_close_missing_key():
    with pytest.raises(ValidationError) as raised:
        Root.model_validate({"nme": "n", "zzz": 1})
    assert format_validation_error(raised.value).splitlines() == [
        "nme: unknown key. Did you mean 'name'?", "zzz: unknown key"]
    assert valid_keys(Root, ("free", "x")) is None and valid_keys(None) is None


def test_a_model_may_hide_keys_no_file_gives():
    class Hidden(Leaf):
        hidden_keys: ClassVar[tuple[str, ...]] = ("revision",)

    assert valid_keys(Hidden) == ["path"]

