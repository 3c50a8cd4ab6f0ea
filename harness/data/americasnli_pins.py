"""Pinned files of AmericasNLI (the ``americasnli`` release): its authors' repository, file by file.

``nala-cub/AmericasNLI`` at commit ``be3c351`` (the repository's head, 2021-04-20): the SHA-256 of
each development and test file (docs/data.md).
"""

AMERICASNLI_FILES = {  # sha256 of each file at the commit
    "dev/aym.tsv":
        "sha256:6f2ec5464654504632632f6db16326c34e4d8f98dccc237fed81405f1ec862e8",
    "dev/bzd.tsv":
        "sha256:4916a7cac460ce5768546c7e803cdbb9af7818f064e92762c482cfd712936149",
    "dev/cni.tsv":
        "sha256:e8160554467fa7bbb676d611a6fbc17f90175da1ea3e66390b442131c43381c6",
    "dev/gn.tsv":
        "sha256:0ba815a4d3d41ad7cfbd9ffdaa494f3ca7cb55d71a728d3b1dfd1a3a377fe811",
    "dev/hch.tsv":
        "sha256:fc5595639be321f7c2014917f00a25d79404ab8fa5e363f51f6ec4f85eb25a60",
    "dev/nah.tsv":
        "sha256:98379975a835d8632eb1b9321235f90810b137f1a585e41b3339a6dda2036208",
    "dev/oto.tsv":
        "sha256:5e219200138680723e571ece3f2c035a2e56d14c1e747fc5ba99f1c2a55d2235",
    "dev/quy.tsv":
        "sha256:e38ac9b9d837b3a264874fd8d6199febf9c0ce66194b5c20e7d4d7306c447fdf",
    "dev/shp.tsv":
        "sha256:538f823dc01c71216d9e24379067d6031fce18bfbbc471e577a436800327257a",
    "dev/tar.tsv":
        "sha256:57717326e6730cb695ec9ca04451848264e60cee14bd175a27ff5806d00e7bb6",
    "test/aym.tsv":
        "sha256:54968e3c336e01df6d948ec1b4c2aa6750a4650abb5e4275291514b5675f985b",
    "test/bzd.tsv":
        "sha256:c99e37e8061ed3c724d93a57e7429489ed274b81bf97963cec1008a18a6896e0",
    "test/cni.tsv":
        "sha256:168a06b9906e5f680af61333e0414aff2d2f0c3f2f21f2a54c6514fe6ea9fa6b",
    "test/gn.tsv":
        "sha256:3e3c5c29ea6be0794a19c8823f6149f0c6ff3a33d5016ddb36b40c9bfd3d995d",
    "test/hch.tsv":
        "sha256:4ee55a1e584c5e49645e7572ee46624daefebeaf51b654f99319441087756671",
    "test/nah.tsv":
        "sha256:349dcd4beeba0939f949904174f73dfab4654e4e8ef28b9415162c9c84946da4",
    "test/oto.tsv":
        "sha256:041d50e21cd0c53524179cf41c0b5d5e86a7655b3a1c12df52a2d571eb5d929c",
    "test/quy.tsv":
        "sha256:b78a4cefbedf0e29e837c7eebe78122cfe379979f97bdf185f5e7479c967a419",
    "test/shp.tsv":
        "sha256:6d4d928d252c9759735b5db02161ea5f49c6d9974c57bada3b628d95a62a47c6",
    "test/tar.tsv":
        "sha256:f3e59ddc2579eaa37532dc832d3d0854b464da692ab9e6fa3e59ed02b515bea5",
}
"""Relative path → ``sha256:<hex>``."""
