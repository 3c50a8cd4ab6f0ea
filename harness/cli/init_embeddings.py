"""``unibridge-bench init-embeddings``: stage 2 on its own, outside any suite."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import UserError, setup_logging, user_errors, verbose_option
from harness.core.config import MAX_SEED


@click.command("init-embeddings")
@click.option("--backbone", required=True, metavar="B",
              help="Backbone: a from_pretrained directory or a hub id.")
@click.option("--tokenizer", "tokenizer_dir", required=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory holding stage 1's spm.model.")
@click.option("--corpus", "corpus_file", required=True, metavar="CORPUS",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Target-language text, one sample per line (FastText trains on it).")
@click.option("--out", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Where tokenizer/, embeddings.pt and init_report.json go.")
@click.option("--init", type=click.Choice(["aligned", "random"]),
              help="'random' is the ablation: Xavier-normal embeddings (default: aligned).")
@click.option("--semantic-alignment", type=click.Choice(["none", "procrustes"]),
              help="'procrustes' maps F^S onto F^T before Eq. 3 (default: none, as the paper).")
@click.option("--fasttext-dim", type=click.IntRange(min=1), help="Default: 300 (the paper's).")
@click.option("--fasttext-epochs", type=click.IntRange(min=1), help="Default: 3 (the paper's).")
@click.option("--fasttext-min-count", type=click.IntRange(min=1),
              help="FastText's minCount (default: 1, as the authors).")
@click.option("--rare-tokens", type=click.Choice(["ngram", "random"]),
              help="Tokens FastText did not keep: their n-gram vector (default, as the authors) "
                   "or a random row ('random').")
@click.option("--lexical-casefold/--no-lexical-casefold", default=None,
              help="Also match tokens case-insensitively after exact matches (default: on).")
@click.option("--threads", type=click.IntRange(min=1),
              help="FastText threads (default: 1, reproducible; more is faster, not reproducible).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed of the random rows.")
@verbose_option
@user_errors
def init_embeddings(backbone, tokenizer_dir, corpus_file, out, init, semantic_alignment,
                    fasttext_dim, fasttext_epochs, fasttext_min_count, rare_tokens,
                    lexical_casefold, threads, seed, verbose):
    """Build the target tokenizer and initialise its embeddings (UniBridge stage 2, Eqs. 2-8).

    \b
    Example:
      unibridge-bench init-embeddings --backbone xlm-roberta-base --tokenizer vocab/amh
        --corpus data/amh.txt --out embeddings/amh

    Options left out take the stage's defaults (EmbeddingInitConfig).
    """
    from harness.methods.unibridge.embeddings import EmbeddingInitConfig, build_embedding_artifact
    from harness.models.backbones import BackboneUnavailableError, check_backbone_available

    setup_logging(verbose)
    spm_model = tokenizer_dir / "spm.model"
    if not spm_model.is_file():
        raise click.BadParameter(f"{spm_model} does not exist", param_hint="--tokenizer")
    try:
        check_backbone_available(backbone)
    except BackboneUnavailableError as error:
        raise UserError(str(error)) from error
    options = dict(init=init, semantic_alignment=semantic_alignment, fasttext_dim=fasttext_dim,
                   fasttext_epochs=fasttext_epochs, fasttext_min_count=fasttext_min_count,
                   rare_tokens=rare_tokens, lexical_casefold=lexical_casefold, threads=threads)
    config = EmbeddingInitConfig(**{k: v for k, v in options.items() if v is not None})
    report = build_embedding_artifact(backbone, spm_model, corpus_file, config, out, seed=seed,
                                      progress=True)
    counts = ", ".join(f"{key} {value}" for key, value in report.items())
    click.echo(f"{out}: {counts}")
