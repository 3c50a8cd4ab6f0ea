"""What validate says before a run (issue 21.12): monolingual shortfalls, one line per role;
legacy UD tags mapped as UD's own conversion maps them, and a hint for those it does not."""

import logging

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.graph import Cache, StageContext
from harness.data import monolingual, ud
from harness.data.source import DataError, DataRef, DataSource
from harness.stages.corpus import CorpusConfig, CorpusStage
from tests.test_validate_data import copy_suite


def with_monolingual(path, **settings):
    payload = yaml.safe_load(path.read_text())
    payload["monolingual"].update(settings)
    path.write_text(yaml.safe_dump(payload))
    return path


def samples_of(folder, lang, words_per_sample):
    """How many samples the corpus stage would cut (everything it has)."""
    return len(monolingual.load(DataSource(path=str(folder)), lang, n_samples=10**9,
                                words_per_sample=words_per_sample, seed=0))


def with_methods(path, *methods):
    payload = yaml.safe_load(path.read_text())
    payload["methods"] = {method: {} for method in methods}
    path.write_text(yaml.safe_dump(payload))
    return path


def test_validate_names_each_monolingual_shortfall_in_one_line_per_role(tmp_path):
    suite = with_monolingual(copy_suite(tmp_path), target_samples=500, source_samples=600,
                             words_per_sample=16)
    with_methods(suite, "zero_shot", "mad_x")  # MAD-X adapts to the target's text
    amh, eng = (samples_of(tmp_path / "mono", lang, 16) for lang in ("amh", "eng"))
    assert amh < 500 and eng < 600
    target = (f"note: monolingual.data: target text of 1 language(s) gives fewer samples of 16 "
              f"words than the 500 asked for (monolingual.target_samples): amh {amh}; a run uses "
              f"what there is")
    source = (f"note: monolingual.data: source text of 1 language(s) gives fewer samples of 16 "
              f"words than the 600 asked for (monolingual.source_samples): eng {eng}; a run uses "
              f"what there is")
    done = CliRunner().invoke(cli, ["validate", str(suite)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [target, source]
    # the notes are about the text the selected jobs read: zero-shot reads no target text
    done = CliRunner().invoke(cli, ["validate", str(suite), "--only", "method=zero_shot"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [source]


def test_validate_says_nothing_when_the_text_suffices(tmp_path):
    suite = copy_suite(tmp_path)
    fewest = min(samples_of(tmp_path / "mono", lang, 16) for lang in ("amh", "eng"))
    with_monolingual(suite, target_samples=fewest, source_samples=fewest, words_per_sample=16)
    done = CliRunner().invoke(cli, ["validate", str(suite)])
    assert done.exit_code == 0 and "note:" not in done.output, done.output


def test_shortfall_counts_samples_as_the_corpus_stage_cuts_them(tmp_path):
    (tmp_path / "amh.txt").write_text("a b c d e\n\nf g\n", encoding="utf-8")
    words = monolingual.check(DataSource(path=str(tmp_path)), "amh")
    assert words == 7 and samples_of(tmp_path, "amh", 3) == monolingual.samples_in(words, 3) == 3
    assert monolingual.shortfall("k", {"amh": words}, 3, 3, "s") is None
    assert monolingual.shortfall("k", {"amh": words, "x": None}, 4, 3, "s").startswith(
        "k of 1 language(s) gives fewer samples of 3 words than the 4 asked for (s): amh 3;")


def test_a_corpus_stage_says_its_shortfall_in_one_warning_when_it_builds(tmp_path, caplog):
    for lang, words in (("amh", 7), ("eng", 40), ("rus", 2)):
        (tmp_path / f"{lang}.txt").write_text(" ".join(["w"] * words) + "\n", encoding="utf-8")
    config = CorpusConfig(langs=("amh", "eng", "rus"), n_samples=5, words_per_sample=4,
                          data=DataRef.of(DataSource(path=str(tmp_path)), ("amh", "eng", "rus")))
    cache = Cache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="harness.stages.corpus"):
        cache.materialize(CorpusStage(config), StageContext(cache=cache))
    [said] = caplog.messages
    assert said.endswith("text of 2 language(s) gives fewer samples of 4 words than the 5 asked "
                         "for: amh 2, rus 1; a run uses what there is")
    caplog.clear()
    stage = CorpusStage(config)
    cache.materialize(stage, StageContext(cache=cache))  # cached: nothing said, the artifact keeps it
    assert caplog.messages == []
    short = cache.summary(stage)["shortfall"]
    assert said == f"{stage.title}: {short}" and cache.summary(stage)["corpus_lines"] == 2 + 5 + 1
    # what validate notes before the run names the same counts (words -> samples)
    words = {lang: monolingual.check(config.data.source, lang) for lang in config.langs}
    note = monolingual.shortfall("monolingual.data: target text", words, 5, 4, "s")
    assert note.endswith(short.removeprefix("text").replace("asked for", "asked for (s)"))


def test_a_corpus_built_before_samples_json_reports_what_its_lines_tell(tmp_path):
    """No version bump: an older one-language corpus's lines are its samples; several: none."""
    (tmp_path / "amh.txt").write_text(" ".join(["w"] * 7) + "\n", encoding="utf-8")
    (tmp_path / "eng.txt").write_text(" ".join(["w"] * 40) + "\n", encoding="utf-8")
    source = DataSource(path=str(tmp_path))
    cache = Cache(tmp_path / "cache")
    for langs, expected in ((("amh",), "amh 2"), (("amh", "eng"), None)):
        stage = CorpusStage(CorpusConfig(langs=langs, n_samples=5, words_per_sample=4,
                                         data=DataRef.of(source, langs)))
        artifact = cache.materialize(stage, StageContext(cache=cache))
        assert (artifact / "samples.json").is_file() and "shortfall" in stage.summary(artifact)
        (artifact / "samples.json").unlink()  # as the corpus stage wrote it before
        short = stage.summary(artifact).get("shortfall")
        assert short == expected or short.endswith(f"the 5 asked for: {expected}; a run uses what there is")


# -- legacy_upos: map does what UD's own v1→v2 conversion does, and hints at the rest --------

def conllu_row(i, form, upos, head, deprel):
    return f"{i}\t{form}\t{form}\t{upos}\t_\t_\t{head}\t{deprel}\t_\t_"


def turkish_v1(tmp_path, *extra_rows):
    """A UD v1 sentence: "Ev büyük idi ve güzel" with the copula tagged VERB, CONJ for "ve"."""
    rows = [conllu_row(1, "Ev", "NOUN", 2, "nsubj"), conllu_row(2, "büyük", "ADJ", 0, "root"),
            conllu_row(3, "idi", "VERB", 2, "cop"), conllu_row(4, "ve", "CONJ", 5, "cc"),
            conllu_row(5, "güzel", "ADJ", 2, "conj"), *extra_rows]
    (tmp_path / "tur").mkdir()
    (tmp_path / "tur" / "test.conllu").write_text("\n".join(rows) + "\n\n", encoding="utf-8")


def test_map_renames_conj_and_tags_copulas_aux_as_the_official_conversion_does(tmp_path):
    turkish_v1(tmp_path, conllu_row(6, "o", "PRON", 2, "cop"))
    [sentence] = ud.load(DataSource(path=str(tmp_path), legacy_upos="map"), "tur", "test")
    # udapi ud.Convert1to2: change_upos (CONJ→CCONJ), change_upos_copula (cop → AUX unless PRON)
    assert sentence.tags == ("NOUN", "ADJ", "AUX", "CCONJ", "ADJ", "PRON")


def test_a_tag_no_conversion_maps_is_named_with_what_to_do(tmp_path):
    turkish_v1(tmp_path, conllu_row(6, "şırıl", "ONOM", 2, "advmod"),
               conllu_row(7, "-de", "AFFIX", 2, "dep"))
    with pytest.raises(DataError) as raised:
        ud.load(DataSource(path=str(tmp_path), legacy_upos="map"), "tur", "test")
    message = str(raised.value)
    assert "test.conllu:6: unknown UPOS 'ONOM' (not a tag of UD v1 or v2" in message
    assert "test.conllu:7: unknown UPOS 'AFFIX'" in message
    assert "renames only CONJ to CCONJ" in message and "UD v2 release" in message
