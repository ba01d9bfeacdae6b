"""Write a synthetic household workspace for benchmarks, deterministically from a seed.

    python bench/generate.py --transactions 100000 --members 3 --seed 7 --out /tmp/household
    python bench/generate.py --add-month --out /tmp/household   # one more monthly file

`--transactions N` is the number of the household's distinct transactions. The files hold more
rows than that, as real inboxes do: overlapping downloads of the same account (rows that collapse
into one transaction) and an aggregator (Monarch Money) repeating the rows of direct card accounts
(rows that become duplicates). `bench_manifest.json`, beside the inbox, records every file with
its row count and the facts a correct pipeline must find (copies, settlement pairs, card payments,
refunds, expenses left for review), so a test can compare them with the warehouse.

Layouts: every member has a checking account (Chase statement-style, or the chase.com download
with its running balance, alternately), a card (Capital One or Discover, alternately) and a card
only the aggregator sees. Each member's checking pays their card every month (a transfer pair),
members pay each other by Zelle (a settlement pair), some purchases are refunded, and member 1
pays the rent. Amounts are integer cents; merchants and people are invented.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import functools
import json
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ingest.parse import account_identity, transaction_id

MANIFEST_NAME = "bench_manifest.json"
SPAN_START = dt.date(2022, 1, 1)
# The span grows with N (about this many transactions a month) up to MAX_MONTHS; beyond that the
# months get busier instead, as a very large household's would.
TRANSACTIONS_PER_MONTH = 20_000
MIN_MONTHS, MAX_MONTHS = 6, 48
MIN_MEMBERS, MAX_MEMBERS = 2, 5

# Months (0-based) whose card rows the aggregator repeats, and months that get an extra download
# overlapping the previous month: every sixth month, at different offsets.
AGGREGATOR_COPY_OFFSET = 1
OVERLAP_OFFSET = 3
EVERY_N_MONTHS = 6
OVERLAP_DAYS_EACH_SIDE = 10

REFUND_SHARE = 0.01  # of the purchases at merchants whose expenses are shared
DECIDED_SHARE = 0.2  # of the expenses no rule decides, answered in the review journal
IDENTICAL_REPEAT_SHARE = 0.005  # purchases bought twice on the same day (two identical coffees)
SETTLEMENTS_PER_TRANSACTION = 1 / 400


@dataclass(frozen=True)
class Person:
    member_id: str
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def aliases(self) -> str:
        """How banks write the member in payment descriptions: `alex` or `a. rivera`."""
        return (
            f"{self.first_name.lower()}|{self.first_name[0].lower()}\\.? {self.last_name.lower()}"
        )


PEOPLE = (
    Person("alex", "Alex", "Rivera"),
    Person("sam", "Sam", "Chen"),
    Person("jordan", "Jordan", "Patel"),
    Person("casey", "Casey", "Nguyen"),
    Person("morgan", "Morgan", "Diaz"),
)


@dataclass(frozen=True)
class Merchant:
    stem: str  # how the bank writes it, before the store number
    name: str  # how the aggregator shows it
    category: str  # the household's category (household/merchant_lookup.csv)
    bank_category: str  # what the card issuer's Category column says
    min_cents: int
    max_cents: int
    weight: int  # relative frequency among purchases
    stores: int

    @property
    def pattern(self) -> str:
        return self.stem.lower().removeprefix("sq *")

    @functools.cached_property
    def descriptions(self) -> tuple[str, ...]:
        cities = ("OAKLAND CA", "BERKELEY CA", "ALAMEDA CA", "EMERYVILLE CA")
        return tuple(
            f"{self.stem} #{1000 + 37 * store:04d} {cities[store % len(cities)]}"
            for store in range(self.stores)
        )


MERCHANTS = (
    Merchant(
        "GREENLEAF MARKET", "Greenleaf Market", "Groceries", "Supermarkets", 800, 18000, 14, 6
    ),
    Merchant("PRAIRIE FRESH FOODS", "Prairie Fresh", "Groceries", "Supermarkets", 500, 12000, 8, 4),
    Merchant(
        "HARBORVIEW GROCERS", "Harborview Grocers", "Groceries", "Supermarkets", 600, 9000, 6, 3
    ),
    Merchant(
        "HOMESTEAD SUPPLY CO", "Homestead Supply", "Household", "Merchandise", 1500, 25000, 5, 3
    ),
    Merchant("NESTWORKS HOME", "Nestworks", "Household", "Merchandise", 900, 14000, 4, 2),
    Merchant("DRIFTWOOD COFFEE", "Driftwood Coffee", "Coffee", "Dining", 350, 1200, 14, 5),
    Merchant("MORNING RAVEN CAFE", "Morning Raven", "Coffee", "Dining", 400, 1500, 8, 3),
    Merchant("THREADLINE APPAREL", "Threadline", "Clothing", "Merchandise", 2000, 20000, 3, 2),
    Merchant("QUICKFUEL STATION", "QuickFuel", "Transport", "Gas/Automotive", 2500, 9000, 6, 8),
    Merchant("METROLINK FARES", "Metrolink", "Transport", "Travel", 250, 1500, 5, 1),
    Merchant("LUNA NOODLE HOUSE", "Luna Noodle House", "Restaurants", "Dining", 1800, 16000, 2, 2),
    Merchant("SQ *CORNER TAQUERIA", "Corner Taqueria", "Restaurants", "Dining", 1200, 6000, 1, 1),
    Merchant(
        "STARLIGHT CINEMAS", "Starlight Cinemas", "Entertainment", "Entertainment", 1400, 6000, 1, 2
    ),
)
MERCHANT_WEIGHTS = [merchant.weight for merchant in MERCHANTS]
SHARED_CATEGORIES = {"Groceries", "Household"}  # refunds are drawn from these
# household/sharing_rules.csv below: restaurants from this cost on are split, cheaper ones and
# entertainment are left for review.
SPLIT_FROM_CENTS = 10_000
UNDECIDED_CATEGORIES = {"Restaurants", "Entertainment"}


@dataclass(frozen=True)
class Bill:
    """A monthly utility bill paid from checking by the member at `payer` (modulo members)."""

    description: str
    pattern: str
    merchant: str
    payer: int
    min_cents: int
    max_cents: int
    day: int


BILLS = (
    Bill("BAYLINE POWER & GAS WEB PMT", "bayline power", "Bayline Power", 1, 6_000, 22_000, 18),
    Bill("CLEARWAVE INTERNET ONLINE PMT", "clearwave internet", "Clearwave", 0, 7_999, 7_999, 22),
    Bill("MUNI WATER DIST BILL", "muni water dist", "Muni Water", 2, 4_000, 9_000, 25),
)
RENT_DESCRIPTION = "MAPLE COURT APTS RENT WEB PMT"
EMPLOYERS = ("ACME CORP", "GLOBEX CORP", "INITECH INC", "UMBRELLA LLC", "HOOLI INC")

SHARING_RULES = """\
rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,payer_share_pct
rent_follows_rent_policy,,^Rent$,,,,,,shared,rent,
groceries_are_shared,,^Groceries$,,,,,,shared,,
utilities_are_shared,,^Utilities$,,,,,,shared,,
household_goods_are_shared,,^Household$,,,,,,shared,,
big_dinners_are_split,,^Restaurants$,,,,100,,split,,60
coffee_is_personal,,^Coffee$,,,,,,personal,,
clothing_is_personal,,^Clothing$,,,,,,personal,,
transport_is_personal,,^Transport$,,,,,,personal,,
"""

CAPITAL_ONE = "capital_one_card"
DISCOVER = "discover_card_statement"
CHASE_STATEMENT = "chase_checking_statement"
CHASE_DOWNLOAD = "chase_checking"
MONARCH = "monarch_money"


@dataclass
class Event:
    """One transaction as the account holder sees it: negative cents = money out."""

    date: dt.date
    cents: int
    description: str
    kind: str  # purchase | refund | card_payment | payroll | zelle | bill | rent | check
    merchant: Merchant | None = None
    reference: str = ""
    balance_cents: int | None = None  # running balance after the row (Chase download only)
    decision: str | None = None  # review journal answer for an undecided expense


@dataclass
class Account:
    member: Person
    role: str  # checking | card | aggregator_card
    schema_id: str
    last4: str
    events: list[Event] = field(default_factory=list)

    @functools.cached_property
    def account_text(self) -> str:
        """The account column as the file writes it ('' when the layout has none)."""
        return {
            CAPITAL_ONE: self.last4,
            DISCOVER: f"Discover It Card x{self.last4}",
            CHASE_STATEMENT: f"Total Checking x{self.last4}",
            CHASE_DOWNLOAD: "",
            MONARCH: f"Citi Double Cash (...{self.last4})",
        }[self.schema_id]

    @property
    def aggregator_text(self) -> str:
        """How the aggregator names this account."""
        if self.schema_id == CAPITAL_ONE:
            return f"CapitalOne Savor (...{self.last4})"
        if self.schema_id == DISCOVER:
            return f"Discover It (...{self.last4})"
        return self.account_text

    @property
    def label(self) -> str:
        kinds = {CAPITAL_ONE: "Capital One Savor", DISCOVER: "Discover It"}
        kinds |= {CHASE_STATEMENT: "Chase Total Checking", MONARCH: "Citi Double Cash"}
        return f"{kinds[self.schema_id]} …{self.last4} ({self.member.first_name})"


@dataclass
class Expected:
    """Facts a correct pipeline must find in the generated files."""

    overlap_copies: int = 0
    aggregator_copies: int = 0
    settlement_pairs: int = 0
    card_payments: int = 0
    refunds: int = 0
    undecided_expenses: int = 0
    decisions: int = 0


class GenerationError(ValueError):
    pass


# --- text formats ---------------------------------------------------------------------------


@functools.cache
def iso(date: dt.date) -> str:
    return date.isoformat()


@functools.cache
def month_day_year(date: dt.date) -> str:
    return f"{date.month}/{date.day}/{date.year}"


@functools.cache
def padded_month_day_year(date: dt.date) -> str:
    return f"{date.month:02d}/{date.day:02d}/{date.year}"


@functools.cache
def next_day(date: dt.date) -> dt.date:
    return date + dt.timedelta(days=1)


def dollars(cents: int, grouped: bool = False) -> str:
    """Unsigned or signed decimal text; grouped uses thousands commas as banks print them."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{fraction:02d}" if grouped else f"{sign}{whole}.{fraction:02d}"


@functools.cache
def month_start(index: int) -> dt.date:
    year, month = divmod(SPAN_START.month - 1 + index, 12)
    return dt.date(SPAN_START.year + year, month + 1, 1)


@functools.cache
def month_end(index: int) -> dt.date:
    start = month_start(index)
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


@functools.cache
def month_days(index: int) -> tuple[dt.date, ...]:
    start = month_start(index)
    return tuple(start + dt.timedelta(days=day) for day in range(month_end(index).day))


def month_index(date: dt.date) -> int:
    return (date.year - SPAN_START.year) * 12 + date.month - SPAN_START.month


def is_aggregator_copy_month(index: int) -> bool:
    return index % EVERY_N_MONTHS == AGGREGATOR_COPY_OFFSET


def is_overlap_month(index: int) -> bool:
    return index % EVERY_N_MONTHS == OVERLAP_OFFSET


# --- the household ---------------------------------------------------------------------------


def plan_accounts(members: list[Person], rng: random.Random) -> list[Account]:
    """Per member: checking and card in alternating layouts, and a card only the aggregator has."""
    numbers = iter(str(number) for number in rng.sample(range(1000, 10000), 3 * len(members)))
    accounts = []
    for index, member in enumerate(members):
        even = index % 2 == 0
        accounts.append(
            Account(member, "checking", CHASE_STATEMENT if even else CHASE_DOWNLOAD, next(numbers))
        )
        accounts.append(Account(member, "card", CAPITAL_ONE if even else DISCOVER, next(numbers)))
        accounts.append(Account(member, "aggregator_card", MONARCH, next(numbers)))
    return accounts


def months_for(transactions: int) -> int:
    return max(MIN_MONTHS, min(MAX_MONTHS, -(-transactions // TRANSACTIONS_PER_MONTH)))


class Generator:
    """Draws every event of the household; `rng` is the only source of variation."""

    def __init__(self, members: list[Person], accounts: list[Account], months: int, seed: int):
        self.rng = random.Random(seed)
        self.members = members
        self.accounts = accounts
        self.months = months
        self.span_end = month_end(months - 1)
        self.expected = Expected()
        self.next_reference = 0
        # Signed cents already used per (card account, month) whose rows the aggregator repeats:
        # unique amounts there make every aggregator copy match exactly one direct row.
        self.used_cents: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.used_payment_cents: set[int] = set()

    def by_role(self, member: Person, role: str) -> Account:
        return next(a for a in self.accounts if a.member == member and a.role == role)

    def reference(self, account: Account) -> str:
        """A bank reference per row in the layouts that have one (part of the identity)."""
        self.next_reference += 1
        if account.schema_id == CHASE_STATEMENT:
            number = 30_000_000_000 + 7919 * self.next_reference
            if self.next_reference % 50 == 0:  # some rows carry two ids, as real exports do
                return f"{3_411_650_794 + self.next_reference}, {number}"
            return str(number)
        if account.schema_id == DISCOVER:
            return str(4_100_000 + 13 * self.next_reference)
        return ""

    def add(self, account: Account, event: Event) -> Event:
        if account.role == "card" and is_aggregator_copy_month(month_index(event.date)):
            used = self.used_cents[(account.last4, month_index(event.date))]
            step = -1 if event.cents < 0 else 1
            while event.cents in used:
                event.cents += step
            used.add(event.cents)
        event.reference = event.reference or self.reference(account)
        account.events.append(event)
        return event

    def day_in(self, month: int) -> dt.date:
        return self.rng.choice(month_days(month))

    def clamp(self, date: dt.date) -> dt.date:
        return min(date, self.span_end)

    def unique_payment_cents(self, low: int, high: int) -> int:
        """Card payments: unique and never whole dollars, so they never pair with a Zelle."""
        cents = self.rng.randint(low, high)
        while cents in self.used_payment_cents or cents % 100 == 0:
            cents += 1
        self.used_payment_cents.add(cents)
        return cents

    def recurring_events(self) -> None:
        rng = self.rng
        for month in range(self.months):
            start = month_start(month)
            for index, member in enumerate(self.members):
                checking = self.by_role(member, "checking")
                employer = EMPLOYERS[index]
                for day in (1, 15):
                    salary = 280_000 + 35_000 * index
                    description = f"{employer} PAYROLL PPD ID: {9_876_543_210 + index}"
                    self.add(
                        checking, Event(start.replace(day=day), salary, description, "payroll")
                    )
                if checking.schema_id == CHASE_DOWNLOAD:
                    number = 1000 + month
                    cents = -rng.randint(5_000, 30_000)
                    self.add(
                        checking,
                        Event(
                            start.replace(day=12),
                            cents,
                            f"CHECK {number}",
                            "check",
                            None,
                            str(number),
                        ),
                    )
                    self.expected.undecided_expenses += 1
                if month > 0:
                    self.card_payment(member, start + dt.timedelta(days=rng.randrange(4, 9)))
            rent = -(240_000 + rng.randint(0, 2_500))
            self.add(
                self.by_role(self.members[0], "checking"),
                Event(start, rent, RENT_DESCRIPTION, "rent"),
            )
            for bill in BILLS:
                payer = self.members[bill.payer % len(self.members)]
                cents = -rng.randint(bill.min_cents, bill.max_cents)
                event = Event(start.replace(day=bill.day), cents, bill.description, "bill")
                self.add(self.by_role(payer, "checking"), event)

    def card_payment(self, member: Person, paid_on: dt.date) -> None:
        checking, card = self.by_role(member, "checking"), self.by_role(member, "card")
        cents = self.unique_payment_cents(30_000, 400_000)
        if card.schema_id == CAPITAL_ONE:
            sent, received = "CAPITAL ONE AUTOPAY PYMT", "CAPITAL ONE MOBILE PYMT"
        else:
            sent, received = f"DISCOVER E-PAYMENT {card.last4}", "INTERNET PAYMENT - THANK YOU"
        self.add(checking, Event(paid_on, -cents, sent, "card_payment"))
        self.add(card, Event(self.clamp(next_day(paid_on)), cents, received, "card_payment"))
        self.expected.card_payments += 1

    def settlements(self, count: int) -> None:
        """Zelle between members: the out-leg in the payer's checking, the in-leg 0-2 days later
        in the payee's; whole dollars, unique, so each out-leg has exactly one partner."""
        rng = self.rng
        amounts = rng.sample(range(20, 20 + 5 * count), count)
        for dollars_sent in amounts:
            payer, payee = rng.sample(self.members, 2)
            sent_on = self.day_in(rng.randrange(self.months))
            received_on = self.clamp(sent_on + dt.timedelta(days=rng.randrange(3)))
            code = f"{rng.getrandbits(40):010x}"
            self.add(
                self.by_role(payer, "checking"),
                Event(
                    sent_on,
                    -100 * dollars_sent,
                    f"Zelle payment to {payee.full_name} JPM{code}",
                    "zelle",
                ),
            )
            self.add(
                self.by_role(payee, "checking"),
                Event(
                    received_on,
                    100 * dollars_sent,
                    f"Zelle payment from {payer.full_name.upper()} {int(code, 16) % 10**11:011d}",
                    "zelle",
                ),
            )
            self.expected.settlement_pairs += 1

    def purchases(self, count: int, slots: list[tuple[Account, int]], weights: list[float]):
        """`count` purchases spread over (account, month) slots; returns the refundable ones."""
        rng = self.rng
        refundable: list[tuple[Account, Event]] = []
        per_slot = Counter(rng.choices(range(len(slots)), weights, k=count))
        for slot_index in sorted(per_slot):
            account, month = slots[slot_index]
            for merchant in rng.choices(MERCHANTS, MERCHANT_WEIGHTS, k=per_slot[slot_index]):
                event = self.purchase(account, month, merchant)
                if merchant.category in SHARED_CATEGORIES:
                    refundable.append((account, event))
        return refundable

    def purchase(self, account: Account, month: int, merchant: Merchant) -> Event:
        rng = self.rng
        previous = account.events[-1] if account.events else None
        repeat = (
            previous is not None
            and previous.kind == "purchase"
            and previous.merchant is merchant
            and month_index(previous.date) == month
            and not (account.role == "card" and is_aggregator_copy_month(month))
            and rng.random() < IDENTICAL_REPEAT_SHARE * len(MERCHANTS)
        )
        if repeat:  # the same purchase twice on one day: two transactions, one description
            date, cents, description = previous.date, previous.cents, previous.description
        else:
            date = self.day_in(month)
            cents = -rng.randint(merchant.min_cents, merchant.max_cents)
            description = rng.choice(merchant.descriptions)
            if account.schema_id == CHASE_DOWNLOAD:  # debit card rows end with the card date
                description = f"{description} {date.month:02d}/{date.day:02d}"
        event = self.add(account, Event(date, cents, description, "purchase", merchant))
        if merchant.category in UNDECIDED_CATEGORIES and (
            merchant.category != "Restaurants" or -event.cents < SPLIT_FROM_CENTS
        ):
            if rng.random() < DECIDED_SHARE:
                event.decision = rng.choice(("shared", "personal", "split"))
                self.expected.decisions += 1
            else:
                self.expected.undecided_expenses += 1
        return event

    def refunds(self, count: int, refundable: list[tuple[Account, Event]]) -> None:
        for account, purchase in self.rng.sample(refundable, min(count, len(refundable))):
            refunded_on = self.clamp(purchase.date + dt.timedelta(days=self.rng.randint(1, 12)))
            cents = self.rng.randint(100, -purchase.cents)
            self.add(
                account,
                Event(refunded_on, cents, purchase.description, "refund", purchase.merchant),
            )
            self.expected.refunds += 1

    def purchase_slots(self) -> tuple[list[tuple[Account, int]], list[float]]:
        share = {"card": 0.55, "checking": 0.2, "aggregator_card": 0.25}
        member_weight = {member.member_id: self.rng.uniform(0.7, 1.3) for member in self.members}
        slots, weights = [], []
        for account in self.accounts:
            for month in range(self.months):
                slots.append((account, month))
                weights.append(share[account.role] * member_weight[account.member.member_id])
        return slots, weights


def settlement_count(transactions: int, members: int) -> int:
    return max(2 * members, round(transactions * SETTLEMENTS_PER_TRANSACTION))


def recurring_count(members: list[Person], accounts: list[Account], months: int) -> int:
    checks = sum(1 for a in accounts if a.schema_id == CHASE_DOWNLOAD)
    payroll, card_payments = 2 * len(members), 2 * len(members)
    return months * (payroll + checks + 1 + len(BILLS)) + (months - 1) * card_payments


def generate_events(transactions: int, member_count: int, seed: int):
    members = list(PEOPLE[:member_count])
    generator_rng = random.Random(seed)
    accounts = plan_accounts(members, generator_rng)
    months = months_for(transactions)
    settlements = settlement_count(transactions, member_count)
    fixed = recurring_count(members, accounts, months) + 2 * settlements
    budget = transactions - fixed
    if budget < 100:
        raise GenerationError(
            f"--transactions {transactions} is too small for {member_count} members over "
            f"{months} months: use at least {fixed + 100}"
        )
    refunds = int(budget * REFUND_SHARE)
    generator = Generator(members, accounts, months, generator_rng.getrandbits(64))
    generator.recurring_events()
    generator.settlements(settlements)
    slots, weights = generator.purchase_slots()
    refundable = generator.purchases(budget - refunds, slots, weights)
    generator.refunds(refunds, refundable)
    for account in accounts:
        account.events.sort(key=lambda event: event.date)  # stable: same-day order is kept
        if account.schema_id == CHASE_DOWNLOAD:
            running = 500_000
            for event in account.events:
                running += event.cents
                event.balance_cents = running
    return members, accounts, months, generator.expected


# --- files -----------------------------------------------------------------------------------

HEADERS = {
    CAPITAL_ONE: [
        "Transaction Date", "Posted Date", "Card No.", "Description", "Category", "Debit", "Credit",
    ],
    DISCOVER: [
        "Name", "Institution", "Card Type", "Statement Period", "Date", "Post Date",
        "Description", "Reference Number", "Amount", "Category",
    ],
    CHASE_STATEMENT: [
        "Name", "Institution", "Account Type", "Statement Start Date", "Statement End Date",
        "Transaction Date", "Post Date", "Description", "Reference Number", "Amount", "Category",
    ],
    CHASE_DOWNLOAD: [
        "Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #",
    ],
    MONARCH: [
        "Date", "Merchant", "Category", "Account", "Original Statement", "Notes", "Amount", "Tags",
    ],
}  # fmt: skip

CHASE_TYPES = {
    "payroll": ("CREDIT", "ACH_CREDIT"),
    "zelle": ("DEBIT", "QUICKPAY_DEBIT"),
    "card_payment": ("DEBIT", "ACH_DEBIT"),
    "bill": ("DEBIT", "ACH_DEBIT"),
    "check": ("CHECK", "CHECK_PAID"),
    "purchase": ("DEBIT", "DEBIT_CARD"),
    "refund": ("CREDIT", "DEBIT_CARD"),
}


def file_row(account: Account, event: Event, first: dt.date, last: dt.date) -> list[str]:
    """One event in the account's layout; `first`/`last` is the period the file covers."""
    schema = account.schema_id
    merchant = event.merchant
    if schema == CAPITAL_ONE:
        category = merchant.bank_category if merchant else "Payment/Credit"
        amount = dollars(abs(event.cents), grouped=True)
        debit, credit = (amount, "") if event.cents < 0 else ("", amount)
        posted = iso(next_day(event.date))
        return [iso(event.date), posted, account.last4, event.description, category, debit, credit]
    if schema == DISCOVER:
        category = merchant.bank_category if merchant else "Payments and Credits"
        period = f"{first:%B} {first.day}, {first.year} through {last:%B} {last.day}, {last.year}"
        return [
            account.member.full_name, "Discover", account.account_text, period,
            month_day_year(event.date), month_day_year(next_day(event.date)), event.description,
            event.reference, dollars(-event.cents), category,
        ]  # fmt: skip
    if schema == CHASE_STATEMENT:
        return [
            account.member.full_name, "Chase", account.account_text, month_day_year(first),
            month_day_year(last), month_day_year(event.date), month_day_year(next_day(event.date)),
            event.description, event.reference, dollars(abs(event.cents), grouped=True),
            "Withdrawal" if event.cents < 0 else "Deposit",
        ]  # fmt: skip
    if schema == CHASE_DOWNLOAD:
        details, kind = CHASE_TYPES[event.kind]
        if event.kind in ("zelle", "card_payment") and event.cents > 0:
            details, kind = "CREDIT", "QUICKPAY_CREDIT"
        return [
            details, padded_month_day_year(event.date), event.description, dollars(event.cents),
            kind, dollars(event.balance_cents), event.reference, "",  # banks add one more field
        ]  # fmt: skip
    raise AssertionError(schema)


def aggregator_row(account: Account, event: Event) -> list[str]:
    merchant = event.merchant
    name = merchant.name if merchant else account.label.split(" …")[0]
    category = merchant.category if merchant else "Credit Card Payment"
    return [
        iso(event.date), name, category, account.aggregator_text, event.description, "",
        dollars(event.cents), "",
    ]  # fmt: skip


class FileWriter:
    def __init__(self, root: Path):
        self.root = root
        self.files: list[dict] = []

    def write(self, relative: str, schema_id: str, header: list[str], rows: list[list[str]]):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        self.files.append({"path": relative, "schema_id": schema_id, "rows": len(rows)})


def file_stem(account: Account) -> str:
    return {
        CAPITAL_ONE: f"capital_one_{account.last4}",
        DISCOVER: f"discover_{account.last4}",
        CHASE_STATEMENT: f"chase_statement_{account.last4}",
        CHASE_DOWNLOAD: f"chase_{account.member.member_id}_activity",
    }[account.schema_id]


def direct_file(
    writer: FileWriter, account: Account, events: list[Event], first: dt.date, last: dt.date, name
) -> list[tuple[Event, int]]:
    """One download of a direct account; returns each event with its occurrence index
    (docs/rules.md#identity)."""
    if account.schema_id == CHASE_DOWNLOAD:
        events = events[::-1]  # chase.com lists the newest first
    occurrences: Counter = Counter()
    indexed = []
    for event in events:
        identity = (event.date, event.cents, event.description, event.reference)
        indexed.append((event, occurrences[identity]))
        occurrences[identity] += 1
    rows = [file_row(account, event, first, last) for event in events]
    inbox = f"csv_inbox/{account.member.member_id}"
    writer.write(f"{inbox}/{name}.csv", account.schema_id, HEADERS[account.schema_id], rows)
    return indexed


def decision_lines(
    account: Account, inbox_member_id: str, indexed: list[tuple[Event, int]]
) -> list[list[str]]:
    """Journal lines for the decided events of one file, keyed as ingest will key them."""
    lines = []
    for event, occurrence in indexed:
        if event.decision is None:
            continue
        txn_id = transaction_id(
            account.schema_id,
            account_identity(account.account_text, inbox_member_id),
            event.date,
            event.cents,
            event.description,
            event.reference,
            occurrence,
        )
        share = "30" if event.decision == "split" else ""
        lines.append(
            [txn_id, event.decision, share, "", "bench review answer", "2026-01-02T09:00:00Z"]
        )
    return lines


def events_by_month(account: Account) -> dict[int, list[Event]]:
    months: dict[int, list[Event]] = defaultdict(list)
    for event in account.events:
        months[month_index(event.date)].append(event)
    return months


def write_inbox(root: Path, members, accounts, months: int, expected: Expected):
    """Monthly files per direct account, overlapping downloads, and the aggregator's files."""
    writer = FileWriter(root)
    decisions: list[list[str]] = []
    aggregator_inbox = f"csv_inbox/{members[0].member_id}"
    monthly = {account.last4: events_by_month(account) for account in accounts}
    for account in accounts:
        if account.role == "aggregator_card":
            continue
        by_month = monthly[account.last4]
        for month in range(months):
            first, last = month_start(month), month_end(month)
            name = f"{file_stem(account)}_{first:%Y-%m}"
            indexed = direct_file(writer, account, by_month[month], first, last, name)
            decisions += decision_lines(account, account.member.member_id, indexed)
            if month > 0 and is_overlap_month(month):
                first = month_end(month - 1) - dt.timedelta(days=OVERLAP_DAYS_EACH_SIDE - 1)
                last = first + dt.timedelta(days=2 * OVERLAP_DAYS_EACH_SIDE - 1)
                window = [e for e in account.events if first <= e.date <= last]
                name = f"{file_stem(account)}_{first:%Y-%m-%d}_to_{last:%Y-%m-%d}"
                direct_file(writer, account, window, first, last, name)
                expected.overlap_copies += len(window)
    for month in range(months):
        rows: list[tuple[dt.date, list[str]]] = []
        for account in accounts:
            events = monthly[account.last4][month]
            if account.role == "aggregator_card":
                occurrences: Counter = Counter()
                for event in events:
                    identity = (event.date, event.cents, event.description)
                    occurrence = occurrences[identity]
                    decisions += decision_lines(
                        account, members[0].member_id, [(event, occurrence)]
                    )
                    occurrences[identity] += 1
            elif not (account.role == "card" and is_aggregator_copy_month(month)):
                continue
            else:
                expected.aggregator_copies += len(events)
            rows += [(event.date, aggregator_row(account, event)) for event in events]
        rows.sort(key=lambda item: item[0], reverse=True)  # newest first, as Monarch exports
        name = f"{aggregator_inbox}/monarch_transactions_{month_start(month):%Y-%m}.csv"
        writer.write(name, MONARCH, HEADERS[MONARCH], [row for _date, row in rows])
    return writer.files, decisions


def write_csv(path: Path, header: list[str], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_household(root: Path, members: list[Person], accounts: list[Account], months: int):
    household = root / "household"
    write_csv(
        household / "members.csv",
        ["member_id", "display_name", "aliases"],
        [[m.member_id, m.first_name, m.aliases] for m in members],
    )
    write_csv(
        household / "accounts.csv",
        ["account_pattern", "member_id", "account_label"],
        [[a.last4, a.member.member_id, a.label] for a in accounts if a.account_text],
    )
    rent_change = month_start(months // 2)
    rent_weights = [43, 57] if len(members) == 2 else [20 + 5 * i for i in range(len(members))]
    policies = [["default", m.member_id, "1", ""] for m in members]
    policies += [["rent", m.member_id, "1", "2020-01-01"] for m in members]
    policies += [
        ["rent", m.member_id, str(weight), rent_change.isoformat()]
        for m, weight in zip(members, rent_weights, strict=True)
    ]
    write_csv(
        household / "split_policies.csv",
        ["policy", "member_id", "weight", "effective_from"],
        policies,
    )
    lookup = [[m.pattern, m.name, m.category] for m in MERCHANTS]
    lookup += [[bill.pattern, bill.merchant, "Utilities"] for bill in BILLS]
    lookup.append(["maple court apts", "Maple Court Apartments", "Rent"])
    write_csv(household / "merchant_lookup.csv", ["pattern", "merchant", "category"], lookup)
    (household / "sharing_rules.csv").write_text(SHARING_RULES, encoding="utf-8")


def write_workspace(root: Path, transactions: int, member_count: int, seed: int) -> dict:
    if not MIN_MEMBERS <= member_count <= MAX_MEMBERS:
        raise GenerationError(f"--members must be from {MIN_MEMBERS} to {MAX_MEMBERS}")
    if (root / "csv_inbox").exists() or (root / "household").exists():
        raise GenerationError(f"{root} already holds a workspace; choose an empty folder")
    members, accounts, months, expected = generate_events(transactions, member_count, seed)
    files, decisions = write_inbox(root, members, accounts, months, expected)
    write_household(root, members, accounts, months)
    write_csv(
        root / "decisions" / "review_decisions.csv",
        ["txn_id", "sharing", "payer_share_pct", "policy", "note", "decided_at"],
        decisions,
    )
    manifest = {
        "seed": seed,
        "members": [m.member_id for m in members],
        "transactions": sum(len(a.events) for a in accounts),
        "months": months,
        "first_date": SPAN_START.isoformat(),
        "last_date": month_end(months - 1).isoformat(),
        "added_months": 0,
        "accounts": [
            {
                "member_id": a.member.member_id,
                "role": a.role,
                "schema_id": a.schema_id,
                "last4": a.last4,
            }
            for a in accounts
        ],
        "files": files,
        "rows_written": sum(f["rows"] for f in files),
        "expected": vars(expected),
    }
    write_manifest(root, manifest)
    return manifest


def write_manifest(root: Path, manifest: dict) -> None:
    (root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST_NAME
    if not path.exists():
        raise GenerationError(f"{path} not found: generate the workspace first")
    return json.loads(path.read_text(encoding="utf-8"))


def add_month(root: Path) -> dict:
    """One more monthly download of the first member's card, for the month after the last.

    As many purchases as an average card month; the manifest's counts are updated.
    """
    manifest = read_manifest(root)
    members = [next(p for p in PEOPLE if p.member_id == m) for m in manifest["members"]]
    card = next(a for a in manifest["accounts"] if a["role"] == "card")
    account = Account(members[0], "card", card["schema_id"], card["last4"])
    month = manifest["months"] + manifest["added_months"]
    monthly_prefix = f"csv_inbox/{members[0].member_id}/{file_stem(account)}_"
    card_months = [
        f["rows"]
        for f in manifest["files"]
        if f["path"].startswith(monthly_prefix) and "_to_" not in f["path"]
    ]
    purchases = sum(card_months) // len(card_months)
    generator = Generator(members, [account], month + 1, manifest["seed"] * 1000 + month)
    for merchant in generator.rng.choices(MERCHANTS, MERCHANT_WEIGHTS, k=purchases):
        generator.purchase(account, month, merchant)
    account.events.sort(key=lambda event: event.date)
    writer = FileWriter(root)
    first, last = month_start(month), month_end(month)
    indexed = direct_file(
        writer, account, account.events, first, last, f"{file_stem(account)}_{first:%Y-%m}"
    )
    journal = root / "decisions" / "review_decisions.csv"
    with journal.open("a", encoding="utf-8", newline="") as handle:
        answers = decision_lines(account, members[0].member_id, indexed)
        csv.writer(handle, lineterminator="\n").writerows(answers)
    manifest["added_months"] += 1
    manifest["transactions"] += len(account.events)
    manifest["last_date"] = last.isoformat()
    manifest["files"] += writer.files
    manifest["rows_written"] += len(account.events)
    for name, count in vars(generator.expected).items():
        manifest["expected"][name] += count
    write_manifest(root, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the workspace folder to write")
    parser.add_argument("--transactions", type=int, default=10_000, help="distinct transactions")
    parser.add_argument("--members", type=int, default=2, help="household members, 2 to 5")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--add-month",
        action="store_true",
        help="write one more monthly file into the workspace at --out (the incremental case)",
    )
    args = parser.parse_args(argv)
    try:
        if args.add_month:
            manifest = add_month(args.out)
            added = manifest["files"][-1]
            print(f"added {added['path']} ({added['rows']} rows)")
        else:
            manifest = write_workspace(args.out, args.transactions, args.members, args.seed)
            print(
                f"wrote {manifest['transactions']} transactions as {manifest['rows_written']} rows "
                f"in {len(manifest['files'])} files, {manifest['months']} months, to {args.out}"
            )
    except GenerationError as error:
        print(f"generate.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
