"""Random streams derived from one seed.

Every component draws from its own ``Generator(PCG64(...))`` keyed by (seed, tag, ...):
adding draws to one component, or generating a chunk out of order, never shifts the
numbers of another, so output stays byte-identical for a seed.
"""

from __future__ import annotations

import zlib

import numpy as np


def _tag_int(tag: object) -> int:
    if isinstance(tag, (int, np.integer)):
        return int(tag)
    # crc32 is stable across processes (unlike hash()), so tags are reproducible.
    return zlib.crc32(str(tag).encode("utf-8"))


def child_rng(seed: int, *tags: object) -> np.random.Generator:
    """A generator for one component: PCG64 seeded by (seed, *tags)."""
    entropy = [int(seed)] + [_tag_int(t) for t in tags]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
