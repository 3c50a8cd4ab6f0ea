"""The Ray executor on a local Ray instance (2 CPUs): same results as the local executor, retries
of crashed workers, failures that stop only what depends on them, and per-stage resources."""

import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness.cli.common import load_plan
from harness.core.graph import Cache, Stage, StageContext, topological_order
from harness.run.executors.ray_cluster import RayExecutor
from harness.run.runner import RunOptions, run_jobs
from tests.shared_runs import outcomes, two_target_suite

ray = pytest.importorskip("ray")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Cfg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    log: str = ""  # a file each build appends to: counts builds across worker processes


class Append(Stage):
    kind = "append"

    def run(self, ctx, inputs, out):
        with open(self.config.log, "a") as handle:
            handle.write(f"{self.config.name}\n")
        text = "".join((inputs[k] / "text").read_text() for k in sorted(inputs))
        (out / "text").write_text(text + self.config.name)


class CrashOnce(Append):
    """Kills its worker process the first time, like a lost node or an out-of-memory kill."""

    kind = "crash_once"

    def run(self, ctx, inputs, out):
        marker = Path(self.config.log).with_suffix(".crashed")
        if not marker.exists():
            marker.write_text("once")
            os._exit(1)
        super().run(ctx, inputs, out)


class Fails(Append):
    kind = "fails"

    def run(self, ctx, inputs, out):
        raise ValueError("bad input data")


class Gpu(Append):
    kind = "gpu"
    uses_device = True


@pytest.fixture(scope="module")
def local_ray():
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def execute(stages, root: Path):
    done: list[str] = []
    cache = Cache(root)
    failures = RayExecutor().execute(topological_order(stages), cache,
                                     StageContext(cache=cache, progress=False),
                                     lambda stage: done.append(stage.config.name))
    return failures, done


def test_stages_run_after_their_inputs_and_each_once(local_ray, tmp_path):
    log = str(tmp_path / "builds.log")
    a, b = Append(Cfg(name="a", log=log)), Append(Cfg(name="b", log=log))
    top = Append(Cfg(name="c", log=log), x=a, y=b)
    failures, done = execute([top], tmp_path / "cache")
    assert failures == [] and sorted(done) == ["a", "b", "c"] and done[-1] == "c"
    assert (Cache(tmp_path / "cache").path(top) / "text").read_text() == "abc"
    assert sorted(Path(log).read_text().split()) == ["a", "b", "c"]
    assert execute([top], tmp_path / "cache")[1] == ["a", "b", "c"]  # cached: reported, not rebuilt
    assert len(Path(log).read_text().split()) == 3


def test_a_crashed_worker_is_retried(local_ray, tmp_path):
    log = str(tmp_path / "builds.log")
    stage = Append(Cfg(name="after", log=log), up=CrashOnce(Cfg(name="crash", log=log)))
    failures, done = execute([stage], tmp_path / "cache")
    assert failures == [] and done == ["crash", "after"]
    assert Path(log).with_suffix(".crashed").exists()
    assert (Cache(tmp_path / "cache").path(stage) / "text").read_text() == "crashafter"


def test_a_failed_stage_stops_only_what_depends_on_it(local_ray, tmp_path):
    log = str(tmp_path / "builds.log")
    broken = Fails(Cfg(name="broken", log=log))
    downstream = Append(Cfg(name="downstream", log=log), up=broken)
    other = Append(Cfg(name="other", log=log))
    failures, done = execute([downstream, other], tmp_path / "cache")
    reasons = {f.stage.config.name: f.reason for f in failures}
    assert reasons == {"broken": "ValueError: bad input data",
                       "downstream": f"input {broken.label} failed"}
    assert done == ["other"] and Path(log).read_text() == "other\n"


class Quiet(Append):
    """Writes the effective level of logger ``name`` and how many of two warnings got through."""

    kind = "quiet"

    def run(self, ctx, inputs, out):
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("chatty library notice", UserWarning, stacklevel=1)
            warnings.warn("something the user must see", UserWarning, stacklevel=1)
        level = logging.getLogger(self.config.name).getEffectiveLevel()
        (out / "text").write_text(f"{level} {len(caught)}")


def test_workers_are_as_quiet_as_the_driver(local_ray, tmp_path):
    logging.getLogger("chatty.library").setLevel(logging.ERROR)  # as setup_logging does below -vv
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="chatty library")
        stage = Quiet(Cfg(name="chatty.library.sub"))
        assert execute([stage], tmp_path / "cache")[0] == []
    assert (Cache(tmp_path / "cache").path(stage) / "text").read_text() == f"{logging.ERROR} 1"


class Sleeper(Append):
    """Writes its worker's pid, then takes far longer than any test waits."""

    kind = "sleeper"

    def run(self, ctx, inputs, out):
        Path(self.config.log).write_text(str(os.getpid()))
        time.sleep(600)


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def test_an_interrupted_run_stops_the_stages_still_running(local_ray, tmp_path):
    pid_file = tmp_path / "sleeper.pid"

    def interrupt_once_the_sleeper_runs(stage):
        assert wait_for(pid_file.exists)
        raise KeyboardInterrupt

    cache = Cache(tmp_path / "cache")
    stages = [Append(Cfg(name="quick", log=str(tmp_path / "log"))), Sleeper(Cfg(name="s", log=str(pid_file)))]
    with pytest.raises(KeyboardInterrupt):
        RayExecutor().execute(stages, cache, StageContext(cache=cache, progress=False),
                              interrupt_once_the_sleeper_runs)
    pid = int(pid_file.read_text())
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists())  # its worker was killed
    assert not cache.is_done(stages[1])


def test_gpus_are_asked_for_device_stages_on_cuda_only():
    executor = RayExecutor(cpus_per_stage=2)
    gpu, cpu = Gpu(Cfg(name="g")), Append(Cfg(name="c"))
    assert executor.resources(gpu, "cuda")["num_gpus"] == 1
    assert executor.resources(gpu, "cpu")["num_gpus"] == 0
    assert executor.resources(cpu, "cuda")["num_gpus"] == 0
    assert executor.resources(cpu, "cuda")["num_cpus"] == 2


@pytest.mark.slow
def test_reduced_suite_gives_the_local_executors_results(local_ray, tmp_path):
    plan = load_plan(two_target_suite(tmp_path, "ray"))
    for executor in ("local", "ray"):
        report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / executor, executor=executor,
                                                      progress=False))
        assert report.failures == [] and report.cached == 0
    local, distributed = outcomes(tmp_path / "local"), outcomes(tmp_path / "ray")
    assert len(local) == 2 and distributed == local
    weights = sorted((tmp_path / "local" / "cache").rglob("*.safetensors"))  # backbone, fine-tuned
    assert len(weights) == 2
    for path in weights:
        twin = tmp_path / "ray" / path.relative_to(tmp_path / "local")
        assert twin.read_bytes() == path.read_bytes(), path


def test_light_commands_do_not_import_ray():
    code = ("import sys; from click.testing import CliRunner; from harness.cli.main import cli; "
            "[CliRunner().invoke(cli, a) for a in (['--help'], ['run', '--help'], ['list', 'methods'])]; "
            "print('ray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
