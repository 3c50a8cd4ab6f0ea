"""The example suites (suites/examples/) validate against replicas of their real datasets.

SIB-200 is read from the hub (``Davlan/sib200`` pinned) through ``UNIBRIDGE_HUB_MIRROR`` on
its replica, with the paper suites' Wikipedia and authors' parallel files (their replicas, as
tests/test_data_replicas.py uses them). MasakhaNER 2.0 is read from its replica of the authors'
repository; its monolingual and parallel folders are the user's to fill (the suite says so),
so the test writes small ones. Then every file the suite names is read by the YAML task's
loader, and one broken replica file per suite makes ``validate`` (or, for the hub form, whose
content ``validate`` does not read, the loader) stop with one message naming it.
"""

import logging
import re
import shutil
from pathlib import Path

import pytest
import yaml
from huggingface_hub import constants

from harness.data import hub, monolingual, parallel
from harness.data.source import DataError, DataSource
from harness.planning.plan import prepare
from harness.planning.validation import all_hub_sources
from harness.suite.schema import SuiteError, load_suite
from harness.tasks.from_yaml.data import TaskData
from harness.tasks.from_yaml.formats import EMPTY_TOKEN
from harness.tasks.from_yaml.schema import TaskDefinition
from tests.test_data_replicas import backbone_replicas, mirror, release_replicas  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "suites" / "examples"
REPLICAS = ROOT / "fixtures" / "replicas"
MASAKHANE_NER = REPLICAS / "repositories" / "masakhane-ner" / "MasakhaNER2.0" / "data"
SIB200_PIN = "2c6647293992b4d60f8eed687deb17457d78d79b"
METHODS = 8  # zero_shot, mad_x, unibridge and its five ablations, on two backbones
MASAKHANER_METHODS = 7  # the same but the English-only one: MasakhaNER 2.0 has no English
MASAKHANER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE")
"""The hub card's ClassLabel order ("The NER tags correspond to this list", evidence.yaml)."""
MASAKHANER_TAGS = [("B-PER", "I-PER", "O", "B-LOC", "O"),
                   ("O", "B-ORG", "I-ORG", "O", "B-DATE", "I-DATE"),
                   ("B-LOC", "I-LOC", "O", "O")]


def copy_examples(tmp_path: Path, replace: dict[str, str] | None = None) -> Path:
    """suites/examples in ``tmp_path``, each ``old: new`` of ``replace`` done in the suites."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    for suite in folder.glob("*.yaml"):
        text = suite.read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        suite.write_text(text, encoding="utf-8")
    return folder


def read_every_file(suite) -> dict[tuple[str, str], list]:
    """(language, split) → examples of every target's test and every source's train and
    validation split, read by the task's own loader; monolingual text and pairs read too."""
    (spec,) = suite.tasks.values()
    data = TaskData(spec.definition)
    read = {}
    for lang in spec.targets:
        read[lang, "test"] = data.load(spec.data_for(lang), lang, "test")
    for lang in spec.sources:
        for split in ("train", "validation"):
            read[lang, split] = data.load(spec.data_for(lang), lang, split)
    for role in ("source", "target"):
        for lang in getattr(spec, f"{role}s"):
            assert monolingual.load(suite.monolingual.data_for(role), lang, 2, 4, seed=0), lang
    for target in spec.targets:
        for source in spec.sources:
            assert parallel.load(suite.parallel_for(target, source), target, source), (target, source)
    return read


# -- SIB-200: the hub form, pinned -----------------------------------------------------------


def test_sib200_suite_pins_every_hub_dataset():
    sources = all_hub_sources(load_suite(EXAMPLES / "sib200.yaml"))
    assert {source.hub: source.revision for source in sources.values()} == {
        "Davlan/sib200": SIB200_PIN,
        "wikimedia/wikipedia": "3e1f92c331f318af862b87e2319ed5dc26d80f5d"}


def test_sib200_suite_validates_against_its_replica(release_replicas, tmp_path, caplog):  # noqa: F811
    with caplog.at_level(logging.WARNING):
        plan = prepare(load_suite(copy_examples(tmp_path) / "sib200.yaml"))
    assert len(plan.jobs) == 13 * METHODS * 2
    assert not [r for r in caplog.records if "not pinned" in r.getMessage()]
    read = read_every_file(plan.suite)
    assert len(read) == 13 + 5 * 2 and all(len(examples) == 3 for examples in read.values())
    labels = plan.suite.tasks["sib200"].definition.labels
    # the ids count in the dataset's own order, that of every config's labels.txt
    for config in ("eng_Latn", "amh_Ethi"):
        listed = REPLICAS / "hub" / "Davlan" / "sib200" / "data" / config / "labels.txt"
        assert labels == tuple(listed.read_text(encoding="utf-8").splitlines())
    # a row's topic is that of its FLORES sentence id, the same in every language
    assert [labels[e.label] for e in read["khm", "test"]] == ["health", "entertainment", "geography"]
    assert [labels[e.label] for e in read["ara", "train"]] == ["science/technology", "travel",
                                                              "politics"]
    # the TSV's quoting is undone: the text holds the quote, not the doubled quotes around it
    quoted = read["jpn", "validation"][1].text
    assert quoted == '"' + " ".join(f"jpn_Jpan101w{j}" for j in range(5)) + ',"' + " he said."


def docs_sib200_forms() -> tuple[dict, dict]:
    """docs/yaml-tasks.md's SIB-200 task file (its first YAML block, the hub form) and its local
    form (the second block's keys in place of the first's)."""
    text = (ROOT / "docs" / "yaml-tasks.md").read_text(encoding="utf-8")
    hub_form, local_keys = (yaml.safe_load(block) for block in
                            re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)[:2])
    return hub_form, {**hub_form, **local_keys}


def test_the_docs_sib200_task_file_is_the_example_suites():
    hub_form, _ = docs_sib200_forms()
    shipped = yaml.safe_load((EXAMPLES / "tasks" / "sib200.yaml").read_text(encoding="utf-8"))
    languages = hub_form.pop("languages")
    assert languages.items() <= shipped.pop("languages").items()
    assert hub_form == shipped


def test_the_docs_local_form_reads_sib200s_files_as_the_hub_form(mirror):  # noqa: F811
    """Every split of the docs' languages, quoted texts included (one per replica file)."""
    hub_form, local_form = (TaskDefinition.model_validate(form) for form in docs_sib200_forms())
    files = DataSource(path=str(mirror / "Davlan" / "sib200" / "data"))
    quoted = 0
    for lang in hub_form.languages:
        for split in ("train", "validation", "test"):
            local = TaskData(local_form).load(files, lang, split)
            assert local == TaskData(hub_form).load(DataSource(hub="Davlan/sib200"), lang, split)
            quoted += sum(example.text.endswith(',"' + " he said.") for example in local)
    assert quoted == 2 * 3


def test_a_broken_sib200_replica_is_named(mirror, tmp_path, monkeypatch):  # noqa: F811
    """The hub form's content is read by the loader (validate checks its names and its pin):
    a topic outside the task's labels is one message naming the config, split and row."""
    folder = tmp_path / "mirror" / "Davlan" / "sib200"
    shutil.copytree(mirror / "Davlan" / "sib200", folder)
    tsv = folder / "data" / "amh_Ethi" / "test.tsv"
    tsv.write_text(tsv.read_text(encoding="utf-8").replace("\tentertainment\t", "\tsport\t"),
                   encoding="utf-8")
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    spec = load_suite(EXAMPLES / "sib200.yaml").tasks["sib200"]
    with pytest.raises(DataError) as caught:
        TaskData(spec.definition).load(spec.data_for("amh"), "amh", "test")
    assert str(caught.value) == (
        "hub dataset 'Davlan/sib200' (config 'amh_Ethi', split 'test'), row 1: unknown label "
        "'sport'; valid: science/technology, travel, politics, sports, health, entertainment, "
        "geography")


def test_a_sib200_mirror_of_another_commit_stops_validate(release_replicas, tmp_path,  # noqa: F811
                                                          monkeypatch):
    """A mirror made by `hf download` of another revision is refused: its commit is named."""
    mirrors = tmp_path / "mirror"
    shutil.copytree(REPLICAS / "hub", mirrors)
    meta = mirrors / "Davlan" / "sib200" / ".cache" / "huggingface" / "download"
    meta.mkdir(parents=True)
    (meta / "README.md.metadata").write_text("38977a667f6fc264d5c26ec57a01e16db040b358\netag\n1.0\n")
    monkeypatch.setenv(hub.MIRROR_ENV, str(mirrors))
    with pytest.raises(SuiteError, match=r"tasks\.sib200\.data: hub dataset 'Davlan/sib200': the "
                                         r"mirror .* holds commit 38977a66.*, but the suite pins "
                                         rf"revision {SIB200_PIN}"):
        prepare(load_suite(copy_examples(tmp_path) / "sib200.yaml"))


# -- MasakhaNER 2.0: the authors' files, local form -----------------------------------------


@pytest.fixture
def masakhaner_suite(tmp_path, monkeypatch):
    """suites/examples/masakhaner2.yaml on the replica, with filled monolingual and parallel
    folders (the user's to fill: four lines of text and twelve aligned lines per language, and
    no English: MAD-X's task adapter sits on the first source's language adapter), its backbones
    at their pins in a Hugging Face cache; ``changes``: ``old: new`` replacements of the suite's
    lines, after its data paths are set."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(backbone_replicas(tmp_path / "hf_hub")))

    def build(data: Path = MASAKHANE_NER, changes: dict[str, str] | None = None) -> Path:
        spec = yaml.safe_load((EXAMPLES / "masakhaner2.yaml").read_text(encoding="utf-8"))
        task = spec["tasks"]["masakhaner2"]
        langs = [*task["targets"], *task["sources"]]
        for kind, lines in (("monolingual", 4), ("parallel", 12)):
            (tmp_path / kind).mkdir(exist_ok=True)
            for lang in langs:
                (tmp_path / kind / f"{lang}.txt").write_text(
                    "".join(f"{kind} {i} " + " ".join(f"{lang}{i}w{j}" for j in range(9)) + "\n"
                            for i in range(lines)), encoding="utf-8")
        return copy_examples(tmp_path, {
            "../../data/masakhane-ner/MasakhaNER2.0/data": str(data),
            "../../data/masakhaner2/monolingual": str(tmp_path / "monolingual"),
            "../../data/masakhaner2/parallel": str(tmp_path / "parallel"),
            **(changes or {})}) / "masakhaner2.yaml"
    return build


def test_masakhaner2_suite_validates_against_its_replica(masakhaner_suite):
    plan = prepare(load_suite(masakhaner_suite()))
    assert len(plan.jobs) == 17 * MASAKHANER_METHODS * 2
    assert plan.suite.tasks["masakhaner2"].definition.labels == MASAKHANER_LABELS
    # xho/train.txt's two lines " O" (the real file's 44520 and 74513; evidence.yaml): read as
    # the dataset's loader reads them, and said in one note
    xho_train = MASAKHANE_NER / "xho" / "train.txt"
    assert [n for n, line in enumerate(xho_train.read_text(encoding="utf-8").splitlines(), 1)
            if line == " O"] == [4, 18]
    # (the other notes: the test's few lines of monolingual text fall short of the samples asked)
    assert [note for note in plan.notes if not note.startswith("monolingual.")] == [
        f"tasks.masakhaner2.data: {xho_train}: 2 lines {EMPTY_TOKEN} (lines 4, 18)"]
    read = read_every_file(plan.suite)
    assert len(read) == 17 + 3 * 2
    for (lang, split), sentences in read.items():
        file_split = {"validation": "dev"}.get(split, split)  # the repository's file name
        words = [f"{lang}{file_split}2w{j}" for j in range(4)]
        tags = [list(tags) for tags in MASAKHANER_TAGS]
        if (lang, split) == ("xho", "train"):  # the empty word before word 3 of sentences 0 and 2
            tags[0].insert(3, "O"), tags[2].insert(3, "O"), words.insert(3, "")
        assert [list(s.tags) for s in sentences] == tags, (lang, split)
        assert list(sentences[2].tokens) == words


def test_madx_reads_no_english_on_masakhaner2(masakhaner_suite):
    """The task has no English: MAD-X's task adapter sits on hau's language adapter."""
    plan = prepare(load_suite(masakhaner_suite()))
    job = next(job for job in plan.jobs if job.method == "mad_x")
    evaluation = plan.build(job)
    assert evaluation.config.sources == ("hau",)
    assert evaluation.inputs["language_hau"].inputs["corpus"].config.langs == ("hau",)


def test_english_only_methods_on_masakhaner2_stop_validate_by_name(masakhaner_suite):
    """No English among the sources: the English-only ablation and MAD-X's English task adapter
    are one message each, naming the method, the suite key and what to do instead."""
    suite = masakhaner_suite(changes={
        "  mad_x: {}\n": "  mad_x: {task_sources: english}\n",
        "  unibridge: {}\n": "  unibridge: {}\n  unibridge_no_multi_source: {}\n"})
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(suite))
    assert str(caught.value).splitlines() == [
        f"{suite}: invalid suite",
        "methods.mad_x × tasks.masakhaner2.sources: task_sources 'english' (MAD-X's original "
        "English-only task adapter) needs eng among the sources, which are hau, swa, xho; valid: "
        "task_sources 'all' (the universal task adapter, on hau's language adapter), or add eng "
        "to the sources",
        "methods.unibridge_no_multi_source × tasks.masakhaner2.sources: inference weighting "
        "'english_only' (the ablation \"− multi-source transfer\": English's task adapter alone) "
        "needs eng among the sources, which are hau, swa, xho; valid: add eng to the sources, or "
        "drop the method (one source alone: unibridge on a task whose sources are that one "
        "language)"]


def test_a_method_reading_a_language_the_task_lacks_is_named(masakhaner_suite):
    """A plugin method asking for English data of this task gets one message, not a KeyError."""
    plan = prepare(load_suite(masakhaner_suite()), check_data=False)
    with pytest.raises(SuiteError, match=r": tasks\.masakhaner2: a method reads language 'eng', "
                                         r"not in the task's definition; valid: bam, bbj, "):
        plan.env.task_data("masakhaner2", "eng")


def test_a_broken_masakhaner2_replica_stops_validate_at_its_line(masakhaner_suite, tmp_path):
    data = tmp_path / "masakhane-ner"
    shutil.copytree(MASAKHANE_NER, data)
    broken = data / "yor" / "test.txt"
    lines = broken.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("I-PER", "I-MISC")
    broken.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(masakhaner_suite(data)))
    problems = [line for line in str(caught.value).splitlines() if str(broken) in line]
    # the tag's own line (the file's second), not its sentence's first
    assert problems == [f"tasks.masakhaner2.data: {broken}:2: unknown label 'I-MISC'; valid: O, "
                        "B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC, B-DATE, I-DATE"]


def test_the_hub_form_of_masakhaner2_is_refused_as_a_loading_script(tmp_path, monkeypatch):
    """Why the suite reads the repository: the hub dataset is README.md + masakhaner2.py (commit
    637daf8), and the harness's datasets refuses any repository holding a script."""
    script_only_repository(tmp_path / "mirror" / MASAKHANER2_HUB)
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    spec = load_suite(EXAMPLES / "masakhaner2.yaml").tasks["masakhaner2"]
    with pytest.raises(DataError, match=r"cannot load hub dataset 'masakhane/masakhaner2 \(mirror "
                                        r".*\)' \(config 'yor', split 'test', revision default\): "
                                        r"RuntimeError: Dataset scripts are no longer supported, "
                                        r"but found masakhaner2.py"):
        TaskData(spec.definition).load(DataSource(hub="masakhane/masakhaner2"), "yor", "test")



MASAKHANER2_HUB = "masakhane/masakhaner2"
MASAKHANER2_HUB_PIN = "60512e89e68841b6b5ed1be59caf97b169f0d27a"  # evidence.yaml's pinned commit


def script_only_repository(folder: Path) -> Path:
    """The hub dataset's files (evidence.yaml): its card and the loading script, no data."""
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: afl-3.0\n---\n", encoding="utf-8")
    (folder / "masakhaner2.py").write_text("# a loading script (content not replicated)\n")
    return folder


def test_validate_names_the_hub_form_of_masakhaner2_a_loading_script(masakhaner_suite, tmp_path,
                                                                     monkeypatch):
    """A mirror of the hub repository is at hand: validate says what the first load would."""
    repository = script_only_repository(tmp_path / "mirror" / MASAKHANER2_HUB)
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    suite = masakhaner_suite(changes={f"data: {{path: {MASAKHANE_NER}}}": (
        f"data: {{hub: {MASAKHANER2_HUB}, revision: {MASAKHANER2_HUB_PIN}}}")})
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(suite))
    assert str(caught.value).splitlines() == [
        f"{suite}: invalid suite",
        f"tasks.masakhaner2.data: hub dataset 'masakhane/masakhaner2' is a loading script "
        f"(masakhaner2.py in the mirror {repository}), which the harness's datasets no longer runs "
        f"(load_dataset refuses any repository holding one): read the files the script downloads "
        f"as local files instead, `tasks.masakhaner2.data: {{path: DIR}}` (a YAML task names their "
        f"layout under `local:`; suites/examples/masakhaner2.yaml reads MasakhaNER 2.0 so, from "
        f"its authors' repository)"]
