"""Pinned files of the UD treebank repositories (the ``ud_repositories`` release).

Read here from each repository's git objects (``fetch github:UniversalDependencies/UD_<TB>``,
``git ls-tree r2.13``): the files at tag ``r2.13`` of the paper's treebanks, pinned by SHA-256
where the blob was in the fetched history and by git blob id otherwise; and Sindhi, which is in
no release, at the ``dev`` commit the authors' loader reads (docs/data.md).
"""

UD_SINDHI_COMMIT = "625e88d50fafef92a4e33f19252d39b8eabe554b"
"""UD_Sindhi-MazharDootio, branch dev, 2023-07-25: its test file (675 sentences)."""

UD_R213_FILES = {  # UniversalDependencies/UD_<Treebank> at tag r2.13 (git ls-tree there)
    "UD_Amharic-ATT/am_att-ud-test.conllu":
        "sha256:b9eaa078cf68dfb51a1e32b0f9253eb3907b001c8fae87824ccdcdc5ec2c7185",
    "UD_Arabic-PADT/ar_padt-ud-dev.conllu":
        "gitblob:fcad1aa48094194f3e8a3b53c2a97efc88112b1f",
    "UD_Arabic-PADT/ar_padt-ud-test.conllu":
        "gitblob:36a50ec2b7ebfde6a0ad3a63e0e86fe99aa6a6ba",
    "UD_Arabic-PADT/ar_padt-ud-train.conllu":
        "gitblob:62a9208d0fadd76e4ebbe232689a8aa5e6b8108a",
    "UD_Chinese-GSDSimp/zh_gsdsimp-ud-dev.conllu":
        "sha256:342a2969df6d6d08bdc25dbc067c93c86ab3099bb054a9921ae7067cbc2c53ad",
    "UD_Chinese-GSDSimp/zh_gsdsimp-ud-test.conllu":
        "sha256:573f59b799b499a920d2d5bdc0e3c1dbd7bcacf86bdece4334ecbd03e21b6150",
    "UD_Chinese-GSDSimp/zh_gsdsimp-ud-train.conllu":
        "gitblob:920b17964ee245a508b9de0f69330f3dca6b1749",
    "UD_English-EWT/en_ewt-ud-dev.conllu":
        "sha256:bea3f4b869539cf343a35c53148c85737f0c78231ee9321f73e0ae26f387394f",
    "UD_English-EWT/en_ewt-ud-test.conllu":
        "sha256:1655a2756f3db5386ad0fb08bef94a018827cc1c67ba097f16b9bde93ad2a188",
    "UD_English-EWT/en_ewt-ud-train.conllu":
        "gitblob:799958f1a15dfecc8db88822b0195765e18a4cec",
    "UD_Japanese-GSD/ja_gsd-ud-dev.conllu":
        "sha256:d858ca4d36865ea6c6cbe367b548b912603597eba5e77673aa87c63410a715bd",
    "UD_Japanese-GSD/ja_gsd-ud-test.conllu":
        "sha256:25453d766c8eb45dfd7938e86ece13bcc617967e1539cb4c504dd0d1f3c82ffc",
    "UD_Japanese-GSD/ja_gsd-ud-train.conllu":
        "gitblob:e92fac05b1945395afed0d68ad339492982c22da",
    "UD_Ligurian-GLT/lij_glt-ud-test.conllu":
        "sha256:a31e3ac494e3cca5e28546f02e6b8195048ee86d764df161472cebab5ba24e5a",
    "UD_Ligurian-GLT/lij_glt-ud-train.conllu":
        "sha256:496a6133ecadddbb2ed39e783e249e77b589525d083f635250e1e7ddfec87209",
    "UD_Livvi-KKPP/olo_kkpp-ud-test.conllu":
        "sha256:36ebdba077be37020fad4fc75ca1048c38dd5ddae23aa820e8bb00c8bfd9e95b",
    "UD_Livvi-KKPP/olo_kkpp-ud-train.conllu":
        "sha256:589557f4affa0ceec55292c4e58f805c5291da88d0d99f11ea03cef552fb0fc3",
    "UD_Russian-SynTagRus/ru_syntagrus-ud-dev.conllu":
        "gitblob:bfe07e557abf250fad285c74ecb90b14b4904953",
    "UD_Russian-SynTagRus/ru_syntagrus-ud-test.conllu":
        "gitblob:d234f18d2c470517456cea4bfe58284b114cf3c3",
    "UD_Russian-SynTagRus/ru_syntagrus-ud-train-a.conllu":
        "gitblob:93a724850b6e119785608c438404a282f984ff1f",
    "UD_Russian-SynTagRus/ru_syntagrus-ud-train-b.conllu":
        "gitblob:07238cedab7a307e11823e8a9ed761f58e923c68",
    "UD_Russian-SynTagRus/ru_syntagrus-ud-train-c.conllu":
        "gitblob:fb7f26481599e7fdb5aa42d31b2fb777722733eb",
    "UD_Sanskrit-UFAL/sa_ufal-ud-test.conllu":
        "sha256:4ff682801eb260347ee10ac05c8007d5e5e5e2048e7b5274617e3a0ffc7facdf",
    "UD_Sanskrit-Vedic/sa_vedic-ud-test.conllu":
        "sha256:1f956de82ffb3adadf871b12b564267da45461db7a927224931e2810d633a3ca",
    "UD_Sanskrit-Vedic/sa_vedic-ud-train.conllu":
        "sha256:db757954e74655aea6d1a3d3ba59e562a1587320eb5def94161f2eb390ef9122",
    "UD_Sinhala-STB/si_stb-ud-test.conllu":
        "sha256:7847eb43b4199aab75d84b4f63d2009e7d8ca47600e90bc5a2df60071798e3b6",
    "UD_Tagalog-TRG/tl_trg-ud-test.conllu":
        "sha256:d21eb1072f6da530de2e0e3a9065a76ae36559efd43afc7c6d48264024afa8c1",
    "UD_Tagalog-Ugnayan/tl_ugnayan-ud-test.conllu":
        "sha256:f48eb82e9baab1bf928330924e45fad2dded3b14b688178be864aa97ea68c9ef",
    "UD_Tamil-MWTT/ta_mwtt-ud-test.conllu":
        "sha256:ebdd562cef43144b4c1ffa38cd3c3b8b1a7c37b48debf463f7eb2dff7583c527",
    "UD_Tatar-NMCTT/tt_nmctt-ud-test.conllu":
        "sha256:94ed206be1ef7f91580598947e1d05542a694ab09a8cecad500142abb27c6bb8",
}
"""The paper's treebank files at r2.13: SHA-256 where the bytes were read, else the blob id."""
