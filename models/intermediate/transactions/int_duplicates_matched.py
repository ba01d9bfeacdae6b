"""Cross-source duplicates (docs/rules.md#duplicates): which candidate pairs of
int_duplicate_candidates are one purchase, matched one to one.

Survivor schemas are taken in precedence order. Within each group of one survivor schema, one
yielding schema, one account and one amount, the matching pairs as many rows as possible, then
with the smallest total |Δdate|, then in date and txn_id order. Nearest-first matching is not
enough: four daily coffees that an aggregator dates a day later pair three at Δ0 and leave the
fourth pair four days apart, counted twice. A row that yields leaves the pool, so it neither
yields again nor absorbs rows; a survivor absorbs at most one row of each other schema, and a
purchase seen in a card file, Monarch and Rocket Money is one expense. A pair whose row has an
equally close alternative left unmatched is a tie: asked as a D question, not applied.

A dbt Python model: the matching is a dynamic programme over each group, which SQL cannot say.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import pyarrow as pa

OUTPUT_SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("duplicate_of_txn_id", pa.string()),
        ("days_apart", pa.int64()),
        ("is_suspected", pa.bool_()),
        ("duplicate_reason", pa.string()),
    ]
)


class Sighting(NamedTuple):
    """One row in a group, ordered by date, then txn_id."""

    day: int  # the date's ordinal
    txn_id: str


def best_matching(
    yielding: list[Sighting], surviving: list[Sighting], window: int
) -> list[tuple[Sighting, Sighting]]:
    """Pairs (yielding, surviving) with |Δday| ≤ window: as many as possible, then the smallest
    total |Δday|, then the first in sorted order.

    Some best matching never crosses (a yielding row before another pairs with a surviving
    row before the other's): uncrossing two pairs keeps both within the window and does not
    add to the total. So a dynamic programme over the two sorted lists finds one, where
    best(i, j) is the best matching of the first i yielding and first j surviving rows.
    Only surviving rows within the window of yielding row i can pair with it (a band
    [low, high] that moves right with i); beyond the band a row's value is the best of the
    rows above, so each row costs its band alone.
    """
    lefts, rights = sorted(yielding), sorted(surviving)
    # A pair is worth more than any total distance: count first, then distance.
    pair_value = window * min(len(lefts), len(rights)) + 1
    best = [0] * (len(rights) + 1)  # best(i - 1, j) for j ≤ explicit_until, then beyond
    explicit_until, beyond = 0, 0
    bands, choices, beyond_from_band = [], [], []
    low, high = 1, 0  # the band, in 1-based surviving positions
    for left in lefts:
        while low <= len(rights) and rights[low - 1].day < left.day - window:
            low += 1
        high = max(high, low - 1)
        while high < len(rights) and rights[high].day <= left.day + window:
            high += 1
        for j in range(explicit_until + 1, high + 1):
            best[j] = beyond  # beyond the last band, best(i - 1, j) is the carried value
        explicit_until = max(explicit_until, high)
        row_choices = []
        above_left = best[low - 1]  # best(i - 1, j - 1), before it is overwritten
        for j in range(low, high + 1):
            above = best[j]
            matched = above_left + pair_value - abs(left.day - rights[j - 1].day)
            value, choice = max((above, 0), (best[j - 1], 1), (matched, 2), key=lambda v: v[0])
            row_choices.append(choice)
            above_left = above
            best[j] = value
        bands.append((low, high))
        choices.append(row_choices)
        band_best = best[high] if high >= low else beyond
        beyond_from_band.append(band_best > beyond)
        beyond = max(beyond, band_best)
    pairs = []
    i, j = len(lefts), len(rights)
    while i > 0 and j > 0:
        low, high = bands[i - 1]
        if j > high:
            if beyond_from_band[i - 1] and high >= low:
                j = high
            else:
                i -= 1
        elif j < low:
            i -= 1
        else:
            choice = choices[i - 1][j - low]
            if choice == 2:
                pairs.append((lefts[i - 1], rights[j - 1]))
                i, j = i - 1, j - 1
            elif choice == 1:
                j -= 1
            else:
                i -= 1
    return pairs[::-1]


def match_duplicates(candidates: list[dict], window: int) -> list[dict]:
    """One output row per yielding row matched, from the candidate pairs."""
    groups = defaultdict(list)
    for pair in candidates:
        key = (
            pair["surviving_source_rank"],
            pair["surviving_schema_id"],
            pair["yielding_schema_id"],
            pair["account_id"],
            pair["amount_cents"],
        )
        groups[key].append(pair)
    yielded: set[str] = set()
    matched_rows = []
    for key in sorted(groups):
        pairs = [
            pair
            for pair in groups[key]
            if pair["yielding_txn_id"] not in yielded and pair["surviving_txn_id"] not in yielded
        ]
        if not pairs:
            continue
        lefts = {Sighting(p["yielding_date"].toordinal(), p["yielding_txn_id"]) for p in pairs}
        rights = {Sighting(p["surviving_date"].toordinal(), p["surviving_txn_id"]) for p in pairs}
        matching = best_matching(list(lefts), list(rights), window)
        matched = {row.txn_id for pair in matching for row in pair}
        # An equally close alternative left unmatched makes a pair a guess: a tie.
        open_alternatives = set()
        for pair in pairs:
            if pair["surviving_txn_id"] not in matched:
                open_alternatives.add((pair["yielding_txn_id"], pair["days_apart"]))
            if pair["yielding_txn_id"] not in matched:
                open_alternatives.add((pair["surviving_txn_id"], pair["days_apart"]))
        details = {(p["yielding_txn_id"], p["surviving_txn_id"]): p for p in pairs}
        for left, right in matching:
            pair = details[(left.txn_id, right.txn_id)]
            days = pair["days_apart"]
            tie = (left.txn_id, days) in open_alternatives or (
                right.txn_id,
                days,
            ) in open_alternatives
            yielded.add(left.txn_id)
            matched_rows.append(
                {
                    "txn_id": left.txn_id,
                    "duplicate_of_txn_id": right.txn_id,
                    "days_apart": days,
                    "is_suspected": tie,
                    "duplicate_reason": (
                        f"same account and amount, {days} day(s) apart; "
                        f"{pair['yielding_source_kind']} row yields to {key[1]}"
                        + (" (several equally close candidates: confirm with D)" if tie else "")
                    ),
                }
            )
    return matched_rows


ISOLATED_PAIRS_SQL = """
with appearances as (
    select txn_id, count(*) as pairs
    from (
        select yielding_txn_id as txn_id from candidates
        union all
        select surviving_txn_id from candidates
    )
    group by txn_id
)
select
    candidates.*,
    yielding_appearances.pairs = 1 and surviving_appearances.pairs = 1 as is_isolated
from candidates
inner join appearances as yielding_appearances
    on candidates.yielding_txn_id = yielding_appearances.txn_id
inner join appearances as surviving_appearances
    on candidates.surviving_txn_id = surviving_appearances.txn_id
"""


ISOLATED_MATCHES_SQL = """
select
    yielding_txn_id as txn_id,
    surviving_txn_id as duplicate_of_txn_id,
    days_apart,
    false as is_suspected,
    'same account and amount, ' || days_apart || ' day(s) apart; '
    || yielding_source_kind || ' row yields to ' || surviving_schema_id as duplicate_reason
from marked
where is_isolated
"""


def model(dbt, session):
    dbt.config(materialized="table")
    window = int(dbt.config.get("duplicate_window_days"))  # the dbt var, set in the YAML
    candidates = dbt.ref("int_duplicate_candidates")
    marked = candidates.query("candidates", ISOLATED_PAIRS_SQL)
    # A pair whose two rows are in no other pair is in every maximum matching, and no tie:
    # most pairs are such, and SQL writes them; the loop below sees only the tangled rest.
    isolated = marked.query("marked", ISOLATED_MATCHES_SQL).arrow().read_all()
    tangled = marked.filter("not is_isolated").arrow().read_all().to_pylist()
    matched = pa.Table.from_pylist(match_duplicates(tangled, window), schema=OUTPUT_SCHEMA)
    return pa.concat_tables([isolated.cast(OUTPUT_SCHEMA), matched])
