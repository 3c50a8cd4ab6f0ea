"""A Ctrl-C or SIGTERM whose exception is swallowed (it landed in a weakref callback or a
``__del__``) still stops the run: at the next stage, the next optimisation step, or the run's end.

The fault is injected on purpose: the signal is sent from inside a weakref callback, where
Python prints the handler's exception as "Exception ignored" and drops it (a CI run met it by
chance and finished with exit code 0 after a SIGTERM).
"""

import os
import signal
import sys
import weakref

import pytest
import torch
from pydantic import BaseModel, ConfigDict
from transformers import Trainer

from harness.core.graph import Cache, Stage, StageContext
from harness.core.stop_signals import Terminated, raise_pending_stop, stop_requests
from harness.run.executors.local import LocalExecutor
from harness.training.arguments import TrainingConfig, train_resumably, training_arguments


def lose_a_signal(signum: int) -> None:
    """Send ``signum`` to this process from inside a weakref callback (its exception is dropped)."""

    class Owner:
        pass

    def callback(_):
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the handler runs by now, within the callback
            pass

    owner = Owner()
    reference = weakref.ref(owner, callback)
    del owner
    assert reference() is None


@pytest.fixture
def dropped(monkeypatch):
    """The exceptions Python dropped as unraisable: proof that the fault really happened."""
    seen: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: seen.append(hook.exc_type))
    return seen


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGTERM, Terminated),
                                                (signal.SIGINT, KeyboardInterrupt)])
def test_a_stop_dropped_in_a_weakref_callback_is_raised_at_the_next_check(dropped, signum, raised):
    with stop_requests():
        lose_a_signal(signum)
        assert dropped == [raised]  # the run would carry on here
        with pytest.raises(raised) as stop:
            raise_pending_stop()
    assert isinstance(stop.value, Terminated) == (signum == signal.SIGTERM)


def test_outside_the_block_nothing_is_pending_and_the_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(Terminated), stop_requests():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    raise_pending_stop()  # the stop was raised in the block; nothing is left pending after it
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


class Cfg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    lose_stop: bool = False


class Step(Stage):
    """A stage that writes its name, and may lose a SIGTERM while it runs."""

    kind = "step"
    ran: list = []

    def run(self, ctx, inputs, out):
        Step.ran.append(self.config.name)
        if self.config.lose_stop:
            lose_a_signal(signal.SIGTERM)
        (out / "name.txt").write_text(self.config.name)


def test_no_stage_starts_after_a_dropped_stop_and_the_finished_one_is_kept(tmp_path, dropped):
    cache, Step.ran = Cache(tmp_path / "cache"), []
    first = Step(Cfg(name="first", lose_stop=True), seed=1)
    second = Step(Cfg(name="second"), seed=1, first=first)
    recorded = []
    with stop_requests(), pytest.raises(Terminated):
        LocalExecutor().execute([first, second], cache, StageContext(cache=cache, progress=False),
                                on_done=lambda stage: recorded.append(stage.config.name))
    assert dropped == [Terminated]
    assert Step.ran == ["first"] and recorded == ["first"]
    assert cache.is_done(first) and not cache.is_done(second)


class Regression(torch.nn.Module):
    """y = w·x; the forward pass of step ``lose_at`` loses a SIGTERM."""

    def __init__(self, lose_at: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.lose_at, self.steps = lose_at, 0

    def forward(self, x, labels):
        self.steps += 1
        if self.steps == self.lose_at:
            lose_a_signal(signal.SIGTERM)
        return {"loss": ((self.weight * x.squeeze(-1) - labels) ** 2).mean()}


def test_a_training_stops_at_the_end_of_the_step_that_dropped_the_stop(tmp_path, dropped):
    data = [{"x": torch.tensor([float(i)]), "labels": torch.tensor(2.0 * i)} for i in range(16)]
    model = Regression(lose_at=3)
    config = TrainingConfig(epochs=4, batch_size=2, learning_rate=0.01, max_device_batch_size=2)
    args = training_arguments(config, tmp_path, StageContext(progress=False), disable_tqdm=True)
    with stop_requests(), pytest.raises(Terminated):
        train_resumably(Trainer(model=model, args=args, train_dataset=data), tmp_path)
    assert dropped == [Terminated]
    assert model.steps == 3  # of 32: not one forward pass after the step that lost it
