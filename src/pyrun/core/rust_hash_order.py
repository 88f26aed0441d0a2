"""The iteration order of Rust's `FxHashMap`/`FxHashSet`, as uv's binary produces it.

uv writes some lists (the conflict sets it infers through `include-group`) in the order a hash
table yields them, and compares them with the lock's as ordered lists, so a lock only stays
valid if pyrun writes the same order. That order is deterministic: rustc-hash 2.1's `FxHasher`
(no seed) feeding std's hashbrown table (SSE2 groups of 16 control bytes, triangular probing,
growth by doubling, re-insertion in bucket order). This module replays both on small tables;
it is not a hash map for general use.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["FxHasher", "RustHashTable", "str_hash_bytes"]

_MASK = (1 << 64) - 1
_K = 0xF1357AEA2E62A9C5
_ROTATE = 26
_SEED1 = 0x243F6A8885A308D3
_SEED2 = 0x13198A2E03707344
_PREVENT_TRIVIAL_ZERO_COLLAPSE = 0xA4093822299F31D0
_GROUP_WIDTH = 16  # SSE2 control-byte group on x86_64


def _multiply_mix(x: int, y: int) -> int:
    full = x * y
    return (full & _MASK) ^ (full >> 64)


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


def str_hash_bytes(data: bytes) -> int:
    """rustc-hash 2's `hash_bytes`: a byte string folded to one u64."""
    size = len(data)
    s0, s1 = _SEED1, _SEED2
    if size <= 16:
        if size >= 8:
            s0 ^= _le(data[:8])
            s1 ^= _le(data[size - 8 :])
        elif size >= 4:
            s0 ^= _le(data[:4])
            s1 ^= _le(data[size - 4 :])
        elif size > 0:
            s0 ^= data[0]
            s1 ^= (data[size - 1] << 8) | data[size // 2]
    else:
        offset = 0
        while offset < size - 16:
            x = _le(data[offset : offset + 8])
            y = _le(data[offset + 8 : offset + 16])
            s0, s1 = s1, _multiply_mix(s0 ^ x, _PREVENT_TRIVIAL_ZERO_COLLAPSE ^ y)
            offset += 16
        s0 ^= _le(data[size - 16 : size - 8])
        s1 ^= _le(data[size - 8 :])
    return _multiply_mix(s0, s1) ^ size


class FxHasher:
    """rustc-hash 2.1's `FxHasher` on a 64-bit target, fed as Rust's derived `Hash` feeds it."""

    __slots__ = ("_hash",)

    def __init__(self) -> None:
        self._hash = 0

    def write_usize(self, value: int) -> None:
        """Every integer write (`u8` to `u64`, `usize`, `isize` discriminants) adds one word."""
        self._hash = ((self._hash + (value & _MASK)) * _K) & _MASK

    def write_str(self, text: str) -> None:
        # A stable toolchain uses `Hasher::write_str`'s default: the bytes, then a 0xff byte.
        self.write_usize(str_hash_bytes(text.encode()))
        self.write_usize(0xFF)

    def finish(self) -> int:
        value = self._hash
        return ((value << _ROTATE) | (value >> (64 - _ROTATE))) & _MASK


T = TypeVar("T", bound=Hashable)


def _capacity_to_buckets(capacity: int) -> int:
    if capacity < 4:
        return 4
    if capacity < 8:
        return 8
    if capacity < 15:
        return 16
    return 1 << ((capacity * 8 // 7) - 1).bit_length()


def _bucket_capacity(buckets: int) -> int:
    mask = buckets - 1
    return mask if mask < 8 else buckets // 8 * 7


class RustHashTable(Generic[T]):
    """The bucket placement of a hashbrown table with no removals: iterating it yields the keys
    in the order Rust's `HashMap`/`HashSet` iteration would. `hash` is the key's `FxHasher`
    value, computed by the caller."""

    def __init__(self) -> None:
        self._slots: list[T | None] = []
        self._hashes: dict[T, int] = {}

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, key: object) -> bool:
        return key in self._hashes

    def __iter__(self) -> Iterator[T]:
        return (key for key in self._slots if key is not None)

    def reserve(self, additional: int) -> None:
        """hashbrown's `reserve`: grow when the table cannot take `additional` more keys."""
        capacity = _bucket_capacity(len(self._slots)) if self._slots else 0
        if additional <= capacity - len(self._hashes):
            return
        old = list(self)
        self._slots = [None] * _capacity_to_buckets(max(len(old) + additional, capacity + 1))
        for key in old:
            self._place(key, self._hashes[key])

    def insert(self, key: T, hash_value: int) -> bool:
        """`insert`: reserves room for one key first, even when `key` is already present."""
        self.reserve(1)
        if key in self._hashes:
            return False
        self._hashes[key] = hash_value
        self._place(key, hash_value)
        return True

    def extend(self, keys: list[tuple[T, int]]) -> None:
        """`Extend`: reserves the whole batch into an empty table, half of it otherwise."""
        self.reserve(len(keys) if not self._hashes else (len(keys) + 1) // 2)
        for key, hash_value in keys:
            self.insert(key, hash_value)

    def _place(self, key: T, hash_value: int) -> None:
        self._slots[self._free_slot(hash_value)] = key

    def _free_slot(self, hash_value: int) -> int:
        slots = self._slots
        mask = len(slots) - 1
        position = hash_value & mask
        if len(slots) < _GROUP_WIDTH:
            # A small table's group reads past its buckets into empty control bytes, so the
            # probe takes the first free bucket at or after the position, else the first one.
            for index in (*range(position, len(slots)), *range(position)):
                if slots[index] is None:
                    return index
            raise AssertionError("a reserved table has a free bucket")
        stride = 0
        while True:
            for offset in range(_GROUP_WIDTH):
                index = (position + offset) & mask
                if slots[index] is None:
                    return index
            stride += _GROUP_WIDTH
            position = (position + stride) & mask
