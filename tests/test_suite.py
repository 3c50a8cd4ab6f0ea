from pathlib import Path

import pytest
import yaml

from harness.suite.schema import Job, SuiteError, deep_merge, load_suite

VALID = {
    "name": "mini",
    "backbones": ["tiny-xlmr"],
    "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"], "data": {"path": "data/ner"}}},
    "methods": {"zero_shot": {}},
    "monolingual": {"data": {"path": "data/mono"}},
}


def write(tmp_path: Path, payload, name="suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else yaml.safe_dump(payload))
    return path


def error_of(tmp_path, payload) -> str:
    path = write(tmp_path, payload)
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    assert str(path) in str(error.value)
    return str(error.value)


def test_valid_suite_resolves_paths_against_its_directory(tmp_path):
    suite = load_suite(write(tmp_path, VALID))
    assert suite.tasks["ner"].data.path == (tmp_path / "data/ner").resolve()
    assert suite.monolingual.data.path == (tmp_path / "data/mono").resolve()
    assert suite.backbones[0].name == "tiny-xlmr" and suite.seeds == (1,)


def test_malformed_yaml(tmp_path):
    assert "not valid YAML" in error_of(tmp_path, "name: [unclosed\n")


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path):
    text = yaml.safe_dump(VALID, sort_keys=False) + "methods: {unibridge: {}}\n"  # PyYAML keeps the last
    message = error_of(tmp_path, text)
    line = text.splitlines().index("methods: {unibridge: {}}") + 1
    first = text.splitlines().index("methods:") + 1
    assert f"suite.yaml:{line}: not valid YAML: key 'methods' given twice (first on line {first})" in message


def test_a_merged_key_may_be_overridden(tmp_path):
    text = ("x-base: &base {adaptation: {beta: 1.0}, vocab: {start: 200}}\n"
            + yaml.safe_dump({k: v for k, v in VALID.items() if k != "methods"})
            + "methods:\n  unibridge: {<<: *base, adaptation: {beta: 0.0}}\n")
    suite = load_suite(write(tmp_path, text))
    assert suite.method_overrides("unibridge")["adaptation"] == {"beta": 0.0}


def test_missing_file(tmp_path):
    with pytest.raises(SuiteError, match="cannot read suite file"):
        load_suite(tmp_path / "absent.yaml")


def test_unknown_key_is_named_with_its_path(tmp_path):
    payload = deep_merge(VALID, {"tasks": {"ner": {"targts": ["amh"]}}})
    assert ("tasks.ner.targts: unknown key. Did you mean 'targets'? Valid keys: targets, sources, "
            "data, source_data, language_data, label_subword, definition") in error_of(tmp_path, payload)


DATA_KEYS = "path, hub, release, revision, url, legacy_upos"


@pytest.mark.parametrize("change, line", [
    ({"tasks": {"ner": {"data": {"pth": "d"}}}},
     f"tasks.ner.data.pth: unknown key. Did you mean 'path'? Valid keys: {DATA_KEYS}"),
    ({"tasks": {"ner": {"language_data": {"amh": {"path": "d", "revison": "1"}}}}},
     f"tasks.ner.language_data.amh.revison: unknown key. Did you mean 'revision'? Valid keys: {DATA_KEYS}"),
    ({"backbones": ["tiny-xlmr", {"name": "mine", "pretrainde": "./ckpt", "arch": "xlmr"}]},
     "backbones.1.pretrainde: unknown key. Did you mean 'pretrained'? Valid keys: name, pretrained, arch"),
    ({"monolingual": {"target_dat": {"path": "t"}}},
     "monolingual.target_dat: unknown key. Did you mean 'target_data'? Valid keys: data, target_data, "
     "target_samples, source_samples, words_per_sample"),
    ({"parallel": [{"format": "opus", "corpus": "Tatoeba", "data": {"path": "p"}, "target": ["amh"]}]},
     "parallel.0.target: unknown key. Did you mean 'targets'? Valid keys: format, data, corpus, codes, "
     "targets, sources"),
    ({"parallel": {"path": "p", "hubb": "x"}},  # the bare form is a folder corpus's data
     f"parallel.0.data.hubb: unknown key. Did you mean 'hub'? Valid keys: {DATA_KEYS}"),
])
def test_a_misspelt_nested_key_names_the_closest_and_the_valid_keys(tmp_path, change, line):
    """Every entry of a suite (tasks, data, backbones, monolingual, parallel) says the same."""
    message = error_of(tmp_path, deep_merge(VALID, change))
    assert message.splitlines()[1:] == [line]


def test_a_misspelt_required_key_is_one_line_naming_the_key_it_misses(tmp_path):
    """``monolingal:`` is the unknown key and the missing ``monolingual:``: one line says both."""
    payload = {("monolingal" if key == "monolingual" else key): value for key, value in VALID.items()}
    message = error_of(tmp_path, payload)
    assert message.splitlines()[1:] == [
        "monolingal: unknown key. Did you mean 'monolingual'? Valid keys: name, description, "
        "fidelity, pipeline_check, seeds, backbones, tasks, methods, monolingual, parallel, include, "
        "extends"]  # 'path' is no suite key
    nested = deep_merge(VALID, {"tasks": {"ner": {"dta": {"path": "d"}}}})
    del nested["tasks"]["ner"]["data"]
    assert error_of(tmp_path, nested).splitlines()[1:] == [
        "tasks.ner.dta: unknown key. Did you mean 'data'? Valid keys: targets, sources, data, "
        "source_data, language_data, label_subword, definition"]


def test_a_missing_key_far_from_the_unknown_one_stays_its_own_line(tmp_path):
    payload = {**{key: value for key, value in VALID.items() if key != "monolingual"}, "zzz": 1}
    assert error_of(tmp_path, payload).splitlines()[1:] == [
        "monolingual: Field required",
        "zzz: unknown key. Valid keys: name, description, fidelity, pipeline_check, seeds, "
        "backbones, tasks, methods, monolingual, parallel, include, extends"]


@pytest.mark.parametrize("method, overrides, line", [
    ("zero_shot", {"trainin": {"max_steps": 8}},
     "methods.zero_shot.trainin: unknown key. Did you mean 'training'? Valid keys: backbones, "
     "training, max_length, eval_batch_size"),
    ("zero_shot", {"training": {"max_step": 8}},
     "methods.zero_shot.training.max_step: unknown key. Did you mean 'max_steps'? Valid keys: "),
    ("unibridge", {"adaptaion": {"beta": 0.0}},
     "methods.unibridge.adaptaion: unknown key. Did you mean 'adaptation'? Valid keys: backbones, "
     "vocab, embeddings, adaptation, task_adapter, inference"),
    ("unibridge", {"zzz": 1},  # nothing close: the list only
     "methods.unibridge.zzz: unknown key. Valid keys: backbones, vocab, embeddings, adaptation, "
     "task_adapter, inference"),
])
def test_a_misspelt_method_hyperparameter_names_the_closest_and_the_valid_keys(tmp_path, method,
                                                                               overrides, line):
    """Checked against the method's Config (with ``backbones:``, which every method entry takes)."""
    from harness.planning.plan import prepare

    suite = {**VALID, "methods": {method: overrides}, "parallel": {"path": "data/parallel"}}
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(write(tmp_path, suite)), check_data=False)
    (problem,) = str(caught.value).splitlines()[1:]
    assert problem.startswith(line)
    assert "Traceback" not in str(caught.value)


def test_unknown_keys_without_a_close_one_list_the_valid_keys_only(tmp_path):
    payload = deep_merge(VALID, {"zzz": 1, "tasks": {"ner": {"data": {"path": "d", "qqq": 2}}}})
    assert error_of(tmp_path, payload).splitlines()[1:] == [
        f"tasks.ner.data.qqq: unknown key. Valid keys: {DATA_KEYS}",
        "zzz: unknown key. Valid keys: name, description, fidelity, pipeline_check, seeds, "
        "backbones, tasks, methods, monolingual, parallel, include, extends"]


def test_unknown_language_lists_choices(tmp_path):
    payload = deep_merge(VALID, {"tasks": {"ner": {"targets": ["amhh"]}}})
    message = error_of(tmp_path, payload)
    assert "tasks.ner.targets" in message and "unknown language 'amhh'" in message
    assert "Did you mean 'amh'?" in message and "khm" in message


def test_wrong_type(tmp_path):
    payload = {**VALID, "seeds": "one"}
    assert "seeds" in error_of(tmp_path, payload)


def test_data_needs_exactly_one_form(tmp_path):
    payload = deep_merge(VALID, {"tasks": {"ner": {"data": {"hub": "unimelb-nlp/wikiann"}}}})
    message = error_of(tmp_path, payload)
    assert "exactly one of 'path'" in message
    assert ("a published release: americasnli, americasnlp2021, ud, ud_repositories, "
            "unibridge_alignment)") in message  # every release the harness pins, by name


def test_top_level_must_be_mapping(tmp_path):
    assert "must be a YAML mapping" in error_of(tmp_path, "- a\n- b\n")


def test_jobs_expand_matrix_with_unique_ids(tmp_path):
    payload = deep_merge(VALID, {"seeds": [1, 2], "tasks": {"ner": {"targets": ["amh", "khm"]}}})
    jobs = load_suite(write(tmp_path, payload)).jobs()
    assert len(jobs) == 4
    assert Job("zero_shot", "tiny-xlmr", "ner", "khm", 2) in jobs
    assert len({j.job_id for j in jobs}) == 4


def test_duplicate_language_is_refused(tmp_path):
    payload = deep_merge(VALID, {"tasks": {"ner": {"targets": ["amh", "amh"]}}})
    assert "languages listed twice" in error_of(tmp_path, payload)


def test_deep_merge_keeps_nested_defaults():
    base = {"adaptation": {"beta": 0.0, "epochs": 50}, "k": 1}
    merged = deep_merge(base, {"adaptation": {"epochs": 2}})
    assert merged == {"adaptation": {"beta": 0.0, "epochs": 2}, "k": 1}


def test_job_filters():
    job = Job("unibridge", "tiny-xlmr", "ner", "amh", 1)
    assert job.matches({"lang": {"amh", "khm"}, "seed": {"1"}})
    assert not job.matches({"method": {"zero_shot"}})


def test_anchor_keys_are_shared_and_dropped(tmp_path):
    text = yaml.safe_dump({k: v for k, v in VALID.items() if k != "methods"}) + (
        "x-shared: &shared {training: {max_steps: 3}}\n"
        "methods:\n  zero_shot: *shared\n  unibridge: {<<: *shared, extra: 1}\n")
    suite = load_suite(write(tmp_path, text))
    assert suite.methods["zero_shot"] == {"training": {"max_steps": 3}}
    assert suite.methods["unibridge"] == {"training": {"max_steps": 3}, "extra": 1}
    assert not hasattr(suite, "x-shared") and "x-shared" not in suite.model_dump()


@pytest.mark.parametrize("change, key, name", [
    (lambda s: s.update(name="../../../escaped"), "name", "../../../escaped"),
    (lambda s: s.update(name="a/b"), "name", "a/b"),
    (lambda s: s.update(backbones=[{"name": "../up", "pretrained": "/ckpt", "arch": "xlmr"}]),
     "backbones.0.name", "../up"),
    (lambda s: s.update(methods={"../m": {}}), "methods", "../m"),
    (lambda s: s.update(tasks={"..": s["tasks"]["ner"]}), "tasks", ".."),
])
def test_names_that_become_paths_must_be_one_safe_folder_name(tmp_path, change, key, name):
    """The suite name is runs/<name>, the others a job's folders: no separator, no '..'."""
    suite = {"name": "ok", "backbones": ["tiny-xlmr"], "methods": {"zero_shot": {}},
             "tasks": {"ner": {"targets": ["amh"], "data": {"path": "d"}}},
             "monolingual": {"data": {"path": "m"}}}
    change(suite)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid suite\n{key}: ")
    assert f"{name!r} becomes a folder name" in message
    assert "use letters, digits, '.', '_' and '-' only, starting with a letter or digit" in message


def test_a_language_that_is_a_path_is_refused(tmp_path):
    suite = {"name": "ok", "backbones": ["tiny-xlmr"], "methods": {"zero_shot": {}},
             "tasks": {"ner": {"targets": ["../x"], "data": {"path": "d"}}},
             "monolingual": {"data": {"path": "m"}}}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    with pytest.raises(SuiteError, match=r"tasks\.ner\.targets: .*'\.\./x'"):
        load_suite(path)


def test_english_only_weighting_needs_english_among_the_sources(tmp_path):
    """A paper task's sources without English: the preset and an override of the weighting are
    refused by name (they read English's task data, which the suite does not list)."""
    from harness.planning.plan import prepare

    methods = {"unibridge_no_multi_source": {}, "unibridge": {"inference": {"weighting": "english_only"}},
               "unibridge_uniform_weights": {}}
    suite = {**VALID, "methods": methods, "parallel": {"path": "data/parallel"},
             "tasks": {"ner": {**VALID["tasks"]["ner"], "sources": ["zho", "rus"]}}}
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(write(tmp_path, suite)), check_data=False)
    assert [line.split(":")[0] for line in str(caught.value).splitlines()[1:]] == [
        "methods.unibridge × tasks.ner.sources", "methods.unibridge_no_multi_source × tasks.ner.sources"]
    suite["tasks"]["ner"]["sources"] = ["rus", "eng"]
    assert len(prepare(load_suite(write(tmp_path, suite)), check_data=False).jobs) == 3


def test_fixed_weights_must_name_exactly_the_sources_of_each_task(tmp_path):
    """Found by validate (before any stage is built), one line per task, naming both lists."""
    from harness.planning.plan import prepare

    fixed = {"inference": {"weighting": "fixed", "fixed_weights": {"eng": 1.0, "zho": 0.5}}}
    suite = {**VALID, "methods": {"unibridge": fixed}, "parallel": {"path": "data/parallel"},
             "tasks": {"ner": {**VALID["tasks"]["ner"], "sources": ["eng", "zho", "rus"]}}}
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(write(tmp_path, suite)), check_data=False)
    assert str(caught.value).splitlines()[1:] == [
        "methods.unibridge × tasks.ner.sources: inference.fixed_weights name eng, zho, but the "
        "sources are eng, rus, zho; valid: one weight per source, no other language"]
    suite["tasks"]["ner"]["sources"] = ["zho", "eng"]
    assert len(prepare(load_suite(write(tmp_path, suite)), check_data=False).jobs) == 1
