"""UniBridge whose harmony weights are a softmax with temperature τ (PAPER.md Eqs. 12–13 with τ).

Example (suite YAML, once the package is installed)::

    methods:
      unibridge_softmax_temp: {temperature: 0.5}

UniBridge weighs source s by w_s = softmax_s(d_{t,s}) with d_{t,s} = 1 / distance(t, s)
(Eq. 11). The similarities of a target to its sources are close to one another (the distances
are norms of differences of mean hidden states), so the softmax is nearly uniform; a
temperature τ < 1 sharpens it towards the closest source, τ > 1 flattens it, τ = 1 is UniBridge:
w_s = softmax_s(d_{t,s} / τ). Everything else (stages 1–4, the distances) is UniBridge's and
shared with it in the cache; only the evaluation stage differs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import Field

from harness.api import MultiSourceConfig, MultiSourceEvaluationStage, Stage, UniBridge, UniBridgeConfig


def tempered_weights(distances: Mapping[str, float], temperature: float) -> dict[str, float]:
    """w_s = softmax_s((1 / distance_s) / τ); sources at distance 0 share the weight equally."""
    zeros = [source for source, distance in distances.items() if distance == 0]
    if zeros:
        return {source: (1 / len(zeros) if source in zeros else 0.0) for source in distances}
    logits = {source: 1.0 / distance / temperature for source, distance in distances.items()}
    top = max(logits.values())  # subtracted before exp: no overflow at small temperatures
    exps = {source: math.exp(logit - top) for source, logit in logits.items()}
    total = sum(exps.values())
    return {source: value / total for source, value in exps.items()}


class TemperedMultiSourceConfig(MultiSourceConfig):
    """Stage-5 config with the softmax temperature (it enters the stage's cache key)."""

    temperature: float = Field(1.0, gt=0)


class TemperedEvaluationStage(MultiSourceEvaluationStage):
    """UniBridge's multi-source evaluation, weights from the tempered softmax."""

    def source_weights(self, distances: Mapping[str, float]) -> dict[str, float]:
        """Eqs. 12–13 with the temperature of the config."""
        return tempered_weights(distances, self.config.temperature)


class TemperedUniBridgeConfig(UniBridgeConfig):
    """UniBridge's hyperparameters and τ (0.5: twice as sharp as UniBridge's softmax)."""

    temperature: float = Field(0.5, gt=0)


class TemperedUniBridge(UniBridge):
    """UniBridge with a temperature on the harmony softmax."""

    Config = TemperedUniBridgeConfig
    description = "UniBridge with a temperature τ on the harmony-weight softmax (plugin example)"

    def build(self, job, env) -> Stage:
        """UniBridge's graph, its last stage weighing the sources with the tempered softmax."""
        evaluation = super().build(job, env)
        config = TemperedMultiSourceConfig(**dict(evaluation.config), temperature=self.config.temperature)
        return TemperedEvaluationStage(config, **evaluation.inputs)
