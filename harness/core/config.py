"""The one base class of the harness's immutable, strictly validated configs.

Example::

    class CorpusConfig(StrictConfig):
        langs: tuple[str, ...]
        samples: int = 10000

    config = CorpusConfig(langs=("quy",))
    config.samples = 5                          # ValidationError: the model is frozen
    CorpusConfig(langs=("quy",), sampels=5)     # ValidationError: extra key 'sampels'

Contract: a :class:`StrictConfig` is frozen (hashable, never changed after validation) and
forbids unknown keys, so a misspelt key in a suite file or a method's settings is an error, not
a silently ignored default. Stage configs, suite and task-definition schemas and report
records inherit it. The base class adds no field: ``model_dump(mode="json")``, which enters a
stage's cache key (:func:`harness.core.graph.config_payload`), is that of the subclass's own
fields. A model that needs more settings extends the config rather than restating it::

    model_config = StrictConfig.model_config | ConfigDict(arbitrary_types_allowed=True)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictConfig(BaseModel):
    """A frozen pydantic model that forbids unknown keys (module docstring: the contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
