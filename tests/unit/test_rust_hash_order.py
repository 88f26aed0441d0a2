"""The replay of Rust's `FxHashMap`/`FxHashSet` order that uv's inferred conflicts come in."""

from __future__ import annotations

from pyrun.core.rust_hash_order import FxHasher, RustHashTable, str_hash_bytes


def fx(*words: int) -> int:
    hasher = FxHasher()
    for word in words:
        hasher.write_usize(word)
    return hasher.finish()


def test_fxhasher_matches_rustc_hash_2_1_on_words() -> None:
    # Vectors from rustc-hash 2.1's own test suite (64-bit).
    assert fx(0) == 0
    assert fx(1) == 12157901119326311915
    assert fx(100) == 16751747135202103309
    assert fx(2**64 - 1) == 6288842954450348564


def test_fxhasher_matches_rustc_hash_2_1_on_bytes() -> None:
    cases = {
        b"": 17606491139363777937,
        b"\x00": 5448590020104574886,
        b"\x00" * 6: 16766921560080789783,
        b"\x01": 5922447956811044110,
        b"uwu": 7168164714682931527,
        b"These are some bytes for testing rustc_hash.": 2349210501944688211,
    }
    for data, expected in cases.items():
        assert fx(str_hash_bytes(data)) == expected, data


def test_a_str_ends_with_the_0xff_terminator() -> None:
    hasher = FxHasher()
    hasher.write_str("uwu")
    assert hasher.finish() == fx(str_hash_bytes(b"uwu"), 0xFF)


def filled(*hashes: int) -> list[int]:
    table: RustHashTable[int] = RustHashTable()
    for key, hash_value in enumerate(hashes):
        table.insert(key, hash_value)
    return list(table)


def test_iteration_is_by_bucket_and_a_small_table_wraps_to_its_start() -> None:
    # Four buckets: keys land at their hash's low bits, a full run continues at bucket 0.
    assert filled(3, 1, 2) == [1, 2, 0]
    assert filled(3, 3, 3) == [1, 2, 0]


def test_growth_reinserts_in_bucket_order() -> None:
    # The fourth key doubles the table to 8 buckets: the old keys are placed again in the
    # order they were iterated, then the new one.
    assert filled(4, 0, 4, 1) == [1, 3, 0, 2]


def test_an_insert_of_a_present_key_still_reserves() -> None:
    table: RustHashTable[str] = RustHashTable()
    for key, hash_value in (("a", 4), ("b", 5), ("c", 6)):
        table.insert(key, hash_value)
    assert list(table) == ["a", "b", "c"]  # 4 buckets: 0, 1, 2
    assert not table.insert("a", 4)  # full: hashbrown grows to 8 buckets before looking
    assert list(table) == ["a", "b", "c"]
    table.insert("d", 0)
    assert list(table) == ["d", "a", "b", "c"]


def test_extend_reserves_the_batch_up_front() -> None:
    keys = [("a", 3), ("b", 3), ("c", 1), ("d", 6)]
    # One by one: `b` wraps to bucket 0 of 4, so growing re-places `b` before `a`.
    assert filled(3, 3, 1, 6) == [2, 1, 0, 3]
    # As a batch: 8 buckets from the start, `a` and `b` in their insertion order.
    table: RustHashTable[str] = RustHashTable()
    table.extend(keys)
    assert list(table) == ["c", "a", "b", "d"]
