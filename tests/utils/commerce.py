"""Shared pieces of the commerce tests: the replay-only VCR of the store APIs and the export fixtures."""

from __future__ import annotations

from pathlib import Path

import vcr

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "commerce"
SHOPIFY_CSV = DATA / "shopify_products.csv"
WOO_CSV = DATA / "woocommerce_products.csv"

# Replay only: a request a cassette does not hold raises instead of reaching the network. The
# in-process TestClient's own requests (host "testserver") are not recorded.
COMMERCE_VCR = vcr.VCR(
    cassette_library_dir=str(ROOT / "cassettes" / "commerce"),
    record_mode="none",
    match_on=("method", "scheme", "host", "port", "path", "query"),
    filter_headers=("authorization", "x-shopify-access-token"),
    ignore_hosts=("testserver",),
    decode_compressed_response=True,
)
