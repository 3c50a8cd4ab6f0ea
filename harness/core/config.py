"""The one base class of the harness's immutable, strictly validated configs.

Example::

    class CorpusConfig(StrictConfig):
        langs: tuple[str, ...]
        samples: int = 10000
        rate: float = 0.5

    config = CorpusConfig(langs=("quy",))
    config.samples = 5                          # ValidationError: the model is frozen
    CorpusConfig(langs=("quy",), sampels=5)     # ValidationError: extra key 'sampels'
    CorpusConfig(langs=("quy",), samples=True)  # ValidationError: a boolean, not an integer
    CorpusConfig(langs=("quy",), rate=math.nan) # ValidationError: not a finite number

Contract: a :class:`StrictConfig` is frozen (hashable, never changed after validation) and
forbids unknown keys, so a misspelt key in a suite file or a method's settings is an error, not
a silently ignored default. Its numbers are strict where lax validation would silently change
what the file says: a boolean is refused wherever an integer or a float is meant (pydantic
would read ``max_steps: true`` as 1 and ``seeds: [true]`` as seed 1), anything but a boolean
where a boolean is meant (``pipeline_check: 1`` or ``"no"``, which pydantic reads as true and
false), and a float must be
finite (``.nan`` or ``.inf`` in YAML would pass ``gt=0`` checks or end in a NaN loss at the
second training step). Both hold for every field at any depth (``tuple[int, ...]``,
``dict[str, float]``, ``int | None``) of every subclass, through one pass over the model's
core schema (:meth:`StrictConfig.__get_pydantic_core_schema__`); what is accepted validates to
the same value as before, so ``model_dump`` (and every stage key) is unchanged.
:data:`Seed` is the range of seeds numpy and the Trainer accept.

Stage configs, suite and task-definition schemas and report records inherit it. The base class
adds no field: ``model_dump(mode="json")``, which enters a stage's cache key
(:func:`harness.core.graph.config_payload`), is that of the subclass's own fields. A model that
needs more settings extends the config rather than restating it::

    model_config = StrictConfig.model_config | ConfigDict(arbitrary_types_allowed=True)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

#: The largest seed: numpy's ``np.random.seed`` (which the Trainer calls) takes [0, 2**32 - 1].
MAX_SEED = 2**32 - 1
#: A seed every library the harness seeds accepts (numpy, torch, random, the Trainer).
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]

#: ``json_schema_extra`` marker of a field :func:`added_option` declares.
_ADDED = "harness_added_option"

#: Marks a number schema :func:`_strict_numbers` already wrapped (a nested model's schema is
#: walked again inside its parent's).
_MARK = "harness_no_bool"
#: Schema keys holding data rather than schemas: never walked.
_DATA_KEYS = frozenset({"default", "expected", "metadata", "serialization", "cls", "ref"})


def _strict_numbers(schema: Any) -> Any:
    """``schema`` with every ``int`` and ``float`` schema refusing a boolean, every ``bool`` a non-boolean."""
    if isinstance(schema, list):
        return [_strict_numbers(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if schema.get("metadata", {}).get(_MARK):
        return schema
    if kind == "bool":  # pydantic would read 1, "yes", "on" and "t" as true
        return {**schema, "strict": True}
    if kind in ("int", "float"):
        refuse = _refuse_bool_for_int if kind == "int" else _refuse_bool_for_float
        return core_schema.no_info_before_validator_function(refuse, schema, metadata={_MARK: True})
    return {key: value if key in _DATA_KEYS else _strict_numbers(value)
            for key, value in schema.items()}


def _refuse_bool_for_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be an integer, not a boolean ({value})",
                                  {"value": str(value).lower()})
    return value


def _refuse_bool_for_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a number, not a boolean ({value})",
                                  {"value": str(value).lower()})
    return value


class StrictConfig(BaseModel):
    """A frozen pydantic model that forbids unknown keys (module docstring: the contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler,
                                     /) -> CoreSchema:
        """Pydantic's schema of the model, its int and float fields refusing booleans."""
        return _strict_numbers(handler(source))

    @model_serializer(mode="wrap")
    def _without_added_defaults(self, handler: SerializerFunctionWrapHandler,
                                info: SerializationInfo) -> Any:
        """The dump, less each :func:`added_option` field that holds its default."""
        dumped = handler(self)
        if not isinstance(dumped, dict):
            return dumped
        for name, field in type(self).model_fields.items():
            extra = field.json_schema_extra
            if isinstance(extra, dict) and extra.get(_ADDED) and name in dumped \
                    and getattr(self, name) == field.default:
                del dumped[name]
        return dumped


def added_option(default: Any, **kwargs: Any) -> Any:
    """A field added after stage keys were published: absent from ``model_dump`` at its default.

    Every stage key hashes its config's dump (:func:`harness.core.graph.config_payload`), so a
    new field would change every key and rebuild every cached artifact even where its default
    keeps the old behaviour. A field declared with ``added_option`` leaves the dump while it
    holds ``default`` and enters it (and the key) once set to anything else: the stages two
    configurations share keep one key (the ``paper`` and ``authors`` fidelity profiles,
    docs/fidelity.md). Example::

        class AdaptationConfig(StrictConfig):
            kl_form: Literal["kl", "authors_kl_div"] = added_option("kl")

        AdaptationConfig().model_dump()                          # {...} without kl_form
        AdaptationConfig(kl_form="authors_kl_div").model_dump()  # {..., "kl_form": "authors_kl_div"}
    """
    return Field(default, json_schema_extra={_ADDED: True}, **kwargs)


def key_error(model: BaseModel, key: str | tuple[str | int, ...], message: str,
              value: Any) -> ValidationError:
    """A ValidationError of ``model`` at ``key`` (a path below it), for a check of several fields.

    Raised from a model validator, pydantic places it below the model's own key path, so the
    line names the key (``tasks.ner.targets: ...``) rather than the model (``tasks.ner: Value
    error, ...``). Example::

        raise key_error(self, "targets", "eng is also one of the task's sources", self.targets)
    """
    return ValidationError.from_exception_data(type(model).__name__, [InitErrorDetails(
        type=PydanticCustomError("value_error", "{message}", {"message": message}),
        loc=key if isinstance(key, tuple) else (key,), input=value)])
