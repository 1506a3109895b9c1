import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.config import NormalizeConfig
from dedupe.normalize import Normalizer, Tokens
from dedupe.shingle import build_shingle_table, shingle_hash32
from dedupe.signature import compute_signatures, signed_mask, to_lean_minhash
from tests.conftest import pseudo_sentences


def _reference(tokens: Tokens, size: int, num_perm: int, seed: int) -> np.ndarray:
    shingles = [" ".join(tokens.words[i : i + size]) for i in range(len(tokens.words) - size + 1)]
    minhash = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return np.asarray(minhash.hashvalues)


def test_batched_signatures_equal_datasketch_minhash_bit_for_bit() -> None:
    normalizer = Normalizer(NormalizeConfig())
    texts = [" ".join(pseudo_sentences(i, 12)) for i in range(6)]
    texts.append("São Paulo: “a cidade” não para — 東京 too, with ünïcödé and 2024 numbers")
    batch = [normalizer.tokens(t) for t in texts]
    table = build_shingle_table(batch, 3)
    mask = signed_mask(table, ignore_quoted=False, min_shingles=1)
    signatures = compute_signatures(table, mask, num_perm=128, seed=7, batch_size=3)
    for row, tokens in zip(signatures, batch, strict=True):
        assert np.array_equal(row, _reference(tokens, 3, 128, 7))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=5), st.integers(1, 5))
def test_equal_to_datasketch_for_any_text(texts: list[str], size: int) -> None:
    normalizer = Normalizer(NormalizeConfig(drop_lines=(), strip_prefixes=()))
    batch = [normalizer.tokens(t) for t in texts]
    table = build_shingle_table(batch, size)
    mask = signed_mask(table, ignore_quoted=False, min_shingles=1)
    signatures = compute_signatures(table, mask, num_perm=32, seed=1)
    for row, tokens in zip(signatures, batch, strict=True):
        if len(tokens.words) >= size:
            assert np.array_equal(row, _reference(tokens, size, 32, 1))


def test_quoted_shingles_are_not_signed_unless_too_few_remain() -> None:
    normalizer = Normalizer(NormalizeConfig())
    words = " ".join(pseudo_sentences(1, 3))
    batch = [normalizer.tokens(f"{words} “{words}”"), normalizer.tokens(f"“{words}”")]
    table = build_shingle_table(batch, 3)
    mask = signed_mask(table, ignore_quoted=True, min_shingles=5)
    first = mask[table.offsets[0] : table.offsets[1]]
    second = mask[table.offsets[1] : table.offsets[2]]
    assert 0 < first.sum() < len(first)  # the quotation is left out
    assert second.all()  # all-quotation article falls back to its full text


def test_lean_minhash_round_trips_through_bytes() -> None:
    from datasketch import LeanMinHash

    row = np.arange(64, dtype=np.uint32)
    lean = to_lean_minhash(row, seed=3)
    buffer = bytearray(lean.bytesize())
    lean.serialize(buffer)
    assert LeanMinHash.deserialize(buffer) == lean


def test_pipeline_signatures_equal_datasketch_over_the_compared_shingles() -> None:
    """What the pipeline signs: feature columns outside quotations (hash folded to hash_bits)."""
    from dedupe.batch import process_batch
    from dedupe.config import Config
    from dedupe.signature import sign_rows

    config = Config()
    mask32 = (1 << config.verify.hash_bits) - 1
    texts = [
        " ".join(pseudo_sentences(i, 10)) + ' He said "' + pseudo_sentences(50 + i, 1)[0] + '"'
        for i in range(5)
    ]
    features = process_batch(texts, config).features
    signatures = sign_rows(
        features.offsets, features.columns, features.signed, num_perm=64, seed=3, batch_size=2
    )
    normalizer = Normalizer(config.normalize)
    for row, text in zip(signatures, texts, strict=True):
        tokens = normalizer.tokens(text)
        words, quoted = tokens.words, tokens.word_quoted
        minhash = MinHash(num_perm=64, seed=3, hashfunc=lambda s: shingle_hash32(s) & mask32)
        for i in range(len(words) - 2):
            if not any(quoted[i : i + 3]):
                minhash.update(" ".join(words[i : i + 3]).encode("utf-8"))
        assert np.array_equal(row, np.asarray(minhash.hashvalues))
