"""`synthgen table` and `synthgen text` as a user types them, against plain per-row loops, whole process.

    .venv/bin/python bench/whole_process.py [--rows 200000] [--docs 20000] [--rounds 3]
    (Mimesis is in the `bench` extra: pip install -e '.[bench]')

Every contender is a fresh process timed from start to exit (interpreter start,
imports, setup and writing the file included), in interleaved rounds; medians are
compared:
  table: `synthgen table configs/transactions.yaml -n ROWS --format csv`, against a
         plain Faker loop and a plain Mimesis loop writing the same 18 columns of the
         same kinds to CSV with the csv module (names, companies and cities from the
         library, the rest from `random`, the fraud label from the same score);
  text:  `synthgen text configs/ner_invoices.yaml -n DOCS` (JSONL with spans), against
         the same templates filled by one Faker call per entity (bench/text_table_speed.py's
         loop), run as its own process.
Also prints the time to the first row: `synthgen table ... -n 1`.

synthgen keeps the pools of real Faker calls it makes in its cache folder
($SYNTHGEN_CACHE); "warm" runs find them there (every run after a config's first),
"cold" runs start from an empty cache (a config's first run on a machine). Both are
timed; the ratios use warm runs, and the cold figures are printed beside them.
synthgen uses every core (--jobs defaults to all); the loops use one, as written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synthgen.io.forked import usable_cores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SYNTHGEN = str(ROOT / ".venv" / "bin" / "synthgen")
TABLE = ROOT / "configs" / "transactions.yaml"
TEXT = ROOT / "configs" / "ner_invoices.yaml"

# The 18 columns of configs/transactions.yaml, each made the plain way, one row at a time.
LOOP = r'''
import csv, datetime as dt, math, random, sys
n, out, library = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(0)
if library == "faker":
    from faker import Faker
    fakes = [Faker(loc) for loc in ("en_US", "de_DE", "fr_FR")]
    for f in fakes:
        f.seed_instance(0)
    makers = [(f.name, f.company, f.city) for f in fakes]
else:
    from mimesis import Address, Finance, Locale, Person
    makers = []
    for loc in (Locale.EN, Locale.DE, Locale.FR):
        person, finance, address = Person(loc, seed=0), Finance(loc, seed=0), Address(loc, seed=0)
        makers.append((person.full_name, finance.company, address.city))
CATEGORIES = ["grocery", "fuel", "electronics", "travel", "restaurants", "gambling", "other"]
WEIGHTS = [0.3, 0.12, 0.08, 0.07, 0.2, 0.01, 0.22]
ONLINE = [0.1, 0.0, 0.3, 0.25, 0.05, 0.05, 0.25]
MEANS = {"electronics": (5.0, 1.0), "travel": (5.5, 1.0), "grocery": (3.2, 0.7)}
HOURS = list(range(24))
HOURS_WEIGHTS = [0.6, 0.35, 0.25, 0.2, 0.25, 0.5, 1.3, 2.6, 3.8, 4.6, 5.4, 6.6, 7.8, 7.2, 5.9, 5.6, 6.2, 7.4, 8.0, 7.0,
                 5.2, 3.6, 2.3, 1.3]
HOURS_ONLINE = [1.6, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.2, 3.2, 4.0, 4.6, 5.0, 5.8, 5.4, 4.8, 4.8, 5.0, 5.6, 6.2, 6.8, 7.6,
                7.8, 5.8, 3.4]
start = dt.datetime(2024, 1, 1).timestamp()
span = dt.datetime(2024, 12, 31, 23, 59, 59).timestamp() - start
def poisson(lam):
    limit, k, p = math.exp(-lam), 0, rnd.random()
    while p > limit:
        k += 1
        p *= rnd.random()
    return k
with open(out, "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["transaction_id", "card_holder", "merchant", "merchant_city", "channel", "hour_of_day",
                     "uniform_time", "timestamp",
                     "merchant_category", "amount", "account_age_days", "distance_from_home_km",
                     "transactions_last_24h", "card_present", "foreign", "risk_score", "is_fraud", "is_fraud_noisy"])
    for i in range(n):
        name, company, city = makers[rnd.choices((0, 1, 2), weights=(0.6, 0.2, 0.2))[0]]
        channel = rnd.choices(["chip", "contactless", "online", "phone"], weights=[0.55, 0.25, 0.17, 0.03])[0]
        hour = rnd.choices(HOURS, weights=HOURS_ONLINE if channel == "online" else HOURS_WEIGHTS)[0]
        uniform = dt.datetime.fromtimestamp(start + rnd.random() * span)
        when = uniform.replace(hour=hour)
        category = rnd.choices(CATEGORIES, weights=ONLINE if channel == "online" else WEIGHTS)[0]
        mean, sigma = MEANS.get(category, (3.4, 1.0))
        amount = round(rnd.lognormvariate(mean, sigma) * (20 if rnd.random() < 0.001 else 1), 2)
        age = int(rnd.expovariate(1 / 900))
        distance = round(rnd.expovariate(1 / 25), 1)
        recent = poisson(2.5)
        foreign = rnd.random() < 0.06
        score = round(0.9 * math.log(amount + 1) + 0.4 * recent + (1.5 if channel == "online" else 0)
                      + (1.2 if foreign else 0) + (1.0 if category in ("electronics", "gambling", "travel") else 0)
                      - 0.0008 * age + (0.8 if when.hour < 6 else 0) + rnd.gauss(0, 0.3), 3)
        fraud = int(score + 0.02 * distance > 9.0)
        noisy = fraud if rnd.random() >= 0.001 else 1 - fraud
        writer.writerow([f"TX{i:010d}", name(), company(), city(), channel, hour, uniform.isoformat(),
                         when.isoformat(), category, amount, age,
                         "" if rnd.random() < 0.05 else distance, recent, channel in ("chip", "contactless"),
                         foreign, score, fraud, noisy])
'''

FAKER_TEXT = r'''
import sys
sys.path.insert(0, sys.argv[2])
import text_table_speed
text_table_speed.faker_text(int(sys.argv[1]))
'''


def timed(command: list[str], cache: str | None = None) -> float:
    environment = {**os.environ, "SYNTHGEN_CACHE": cache} if cache else None
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                   env=environment)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        import mimesis  # noqa: F401
        libraries = ["faker", "mimesis"]
    except ImportError:
        print("mimesis is not installed (pip install -e '.[bench]'); its figures are left out")
        libraries = ["faker"]
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        warm = f"{tmp}/cache"
        for command in ([SYNTHGEN, "table", str(TABLE), "-n", "1", "--out", f"{tmp}/w1"],
                        [SYNTHGEN, "text", str(TEXT), "-n", "1", "--out", f"{tmp}/w2"]):
            timed(command, warm)  # fills the warm cache
        for round_ in range(args.rounds):
            table = [SYNTHGEN, "table", str(TABLE), "-n", str(args.rows), "--format", "csv", "--no-progress"]
            text = [SYNTHGEN, "text", str(TEXT), "-n", str(args.docs), "--no-progress"]
            runs = {
                "synthgen table": (table + ["--out", f"{tmp}/t{round_}"], warm),
                "synthgen table cold": (table + ["--out", f"{tmp}/tc{round_}"], f"{tmp}/cold-t{round_}"),
                "first row": ([SYNTHGEN, "table", str(TABLE), "-n", "1", "--out", f"{tmp}/f{round_}", "--no-progress"],
                              warm),
                "synthgen text": (text + ["--out", f"{tmp}/x{round_}"], warm),
                "synthgen text cold": (text + ["--out", f"{tmp}/xc{round_}"], f"{tmp}/cold-x{round_}"),
                "faker text loop": ([sys.executable, "-c", FAKER_TEXT, str(args.docs), str(ROOT / "bench")], None),
                **{f"{lib} table loop": ([sys.executable, "-c", LOOP, str(args.rows), f"{tmp}/{lib}{round_}.csv", lib],
                                         None) for lib in libraries},
            }
            for name, (command, cache) in runs.items():
                times.setdefault(name, []).append(timed(command, cache))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"medians of {args.rounds} interleaved rounds, whole process (start-up, imports and writing included); "
          f"{usable_cores()} cores")
    for name, value in median.items():
        print(f"  {name:20s} {value:7.2f} s   runs: {' '.join(f'{v:.2f}' for v in times[name])}")
    print(f"table, {args.rows} rows of configs/transactions.yaml to CSV:")
    for lib in libraries:
        loop = median[f"{lib} table loop"]
        print(f"  synthgen is {loop / median['synthgen table']:.1f}x a plain {lib} loop "
              f"(cold cache: {loop / median['synthgen table cold']:.1f}x)")
    loop = median["faker text loop"]
    print(f"text, {args.docs} documents of configs/ner_invoices.yaml to JSONL: synthgen is "
          f"{loop / median['synthgen text']:.1f}x a Faker-per-entity loop "
          f"(cold cache: {loop / median['synthgen text cold']:.1f}x)")
    print(f"time to the first row (-n 1): {median['first row']:.2f} s")


if __name__ == "__main__":
    main()
