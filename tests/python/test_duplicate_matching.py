"""The duplicate matching of int_duplicates_matched.py, against every possible matching."""

from __future__ import annotations

import importlib.util
import itertools
import random

from core.workspace import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models/intermediate/transactions/int_duplicates_matched.py"
spec = importlib.util.spec_from_file_location("int_duplicates_matched", MODEL)
matching = importlib.util.module_from_spec(spec)
spec.loader.exec_module(matching)
Sighting = matching.Sighting


def sightings(prefix: str, days: list[int]) -> list:
    return [Sighting(day, f"{prefix}{index}") for index, day in enumerate(days)]


def score(pairs) -> tuple[int, int]:
    return len(pairs), -sum(abs(left.day - right.day) for left, right in pairs)


def best_score_by_trying_everything(lefts, rights, window) -> tuple[int, int]:
    best = (0, 0)
    for size in range(1, min(len(lefts), len(rights)) + 1):
        for chosen_lefts in itertools.combinations(lefts, size):
            for chosen_rights in itertools.permutations(rights, size):
                pairs = list(zip(chosen_lefts, chosen_rights, strict=True))
                if all(abs(left.day - right.day) <= window for left, right in pairs):
                    best = max(best, score(pairs))
    return best


def test_four_daily_coffees_dated_a_day_later_all_pair():
    direct = sightings("d", [1, 2, 3, 4])
    aggregator = sightings("a", [2, 3, 4, 5])
    pairs = matching.best_matching(aggregator, direct, 3)
    assert [(left.txn_id, right.txn_id) for left, right in pairs] == [
        ("a0", "d0"),
        ("a1", "d1"),
        ("a2", "d2"),
        ("a3", "d3"),
    ]


def test_equal_counts_prefer_the_smaller_total_distance():
    # Either 0 can pair with 3; only the pair at distance 0 is the best.
    pairs = matching.best_matching(sightings("a", [3]), sightings("d", [0, 3]), 3)
    assert [(left.txn_id, right.txn_id) for left, right in pairs] == [("a0", "d1")]


def test_the_matching_is_as_large_and_as_close_as_any_possible():
    generator = random.Random(20261203)
    for _ in range(400):
        lefts = sightings("a", [generator.randint(0, 12) for _ in range(generator.randint(1, 5))])
        rights = sightings("d", [generator.randint(0, 12) for _ in range(generator.randint(1, 5))])
        window = generator.randint(0, 3)
        pairs = matching.best_matching(lefts, rights, window)
        assert len({left for left, _ in pairs}) == len(pairs) == len({r for _, r in pairs})
        assert all(abs(left.day - right.day) <= window for left, right in pairs)
        assert score(pairs) == best_score_by_trying_everything(lefts, rights, window), (
            lefts,
            rights,
            window,
        )
