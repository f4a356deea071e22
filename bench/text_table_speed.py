"""Speed of `synthgen table` and `synthgen text` against per-row Faker and Mimesis loops.

Run: .venv/bin/python bench/text_table_speed.py [--rows 100000] [--docs 20000]
(Mimesis is in the `bench` extra: pip install -e '.[bench]'.)

Table: 100,000 rows of 10 columns (name, street, city, email, phone, date, int,
float, weighted category, rule label), all in memory, setup included for every
contender. Also reports, per string column, how many distinct values synthgen
keeps compared with the Faker loop at the same size (target >= 90%).
Text: documents per second with entity spans written as JSONL, against the same
templates filled by one Faker call per entity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLE_CONFIG = """
columns:
  name: {type: faker, provider: name}
  street: {type: faker, provider: street_address}
  city: {type: faker, provider: city}
  email: {type: faker, provider: email}
  phone: {type: faker, provider: phone_number}
  date: {type: date, start: 2020-01-01, end: 2024-12-31}
  age: {type: integer, low: 18, high: 90}
  score: {type: normal, mean: 600, std: 80}
  segment: {type: category, values: {a: 0.5, b: 0.3, c: 0.2}}
  label:
    type: label
    rules:
      - {when: "score > 650 and segment != 'c'", value: 1}
      - {value: 0}
"""
STRING_COLUMNS = ["name", "street", "city", "email", "phone"]
START, END = dt.date(2020, 1, 1), dt.date(2024, 12, 31)


def fresh_faker() -> None:
    """Forget synthgen's per-process Faker generators, so that a run pays for creating them."""
    from synthgen.fake.values import faker_generator

    faker_generator.cache_clear()


def synthgen_table(n: int, config: Path) -> tuple[float, dict[str, list]]:
    from synthgen.tabular.checks import load_table_config
    from synthgen.tabular.generate import generate

    fresh_faker()
    began = time.perf_counter()
    block = generate(load_table_config(config), seed=0, n=n)
    elapsed = time.perf_counter() - began
    return elapsed, {c: block.values[c].tolist() for c in STRING_COLUMNS}


def synthgen_table_csv(n: int, config: Path) -> float:
    from synthgen.tabular.output import write_table

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        fresh_faker()
        began = time.perf_counter()
        write_table(config, out, n, 0, "csv", prepare=lambda managed: out.mkdir())
        return time.perf_counter() - began


def faker_table(n: int) -> tuple[float, dict[str, list]]:
    from faker import Faker

    began = time.perf_counter()
    fake = Faker("en_US")
    fake.seed_instance(0)
    rnd = random.Random(0)
    rows = []
    for _ in range(n):
        score = rnd.gauss(600, 80)
        segment = rnd.choices("abc", weights=(0.5, 0.3, 0.2))[0]
        rows.append((fake.name(), fake.street_address(), fake.city(), fake.email(), fake.phone_number(),
                     fake.date_between(START, END), rnd.randint(18, 90), score, segment,
                     int(score > 650 and segment != "c")))
    elapsed = time.perf_counter() - began
    return elapsed, {c: [r[i] for r in rows] for i, c in enumerate(STRING_COLUMNS)}


def mimesis_table(n: int) -> tuple[float, dict[str, list]] | None:
    try:
        from mimesis import Address, Datetime, Locale, Person
    except ImportError:
        return None
    began = time.perf_counter()
    person, address, when = Person(Locale.EN, seed=0), Address(Locale.EN, seed=0), Datetime(Locale.EN, seed=0)
    rnd = random.Random(0)
    rows = []
    for _ in range(n):
        score = rnd.gauss(600, 80)
        segment = rnd.choices("abc", weights=(0.5, 0.3, 0.2))[0]
        rows.append((person.full_name(), address.address(), address.city(), person.email(), person.phone_number(),
                     when.date(2020, 2024), rnd.randint(18, 90), score, segment, int(score > 650 and segment != "c")))
    elapsed = time.perf_counter() - began
    return elapsed, {c: [r[i] for r in rows] for i, c in enumerate(STRING_COLUMNS)}


def synthgen_text(docs: int) -> float:
    from synthgen.text.output import write_text

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        fresh_faker()
        began = time.perf_counter()
        write_text(ROOT / "configs" / "ner_invoices.yaml", out, docs, 0, ["jsonl"], prepare=lambda m: out.mkdir())
        return time.perf_counter() - began


def faker_text(docs: int) -> float:
    """The same templates and the same JSONL records, one Faker call per slot value, offsets recorded while joining."""
    from faker import Faker

    from synthgen.text.config import load_text_config

    spec = load_text_config(ROOT / "configs" / "ner_invoices.yaml")
    began = time.perf_counter()
    fakers = {loc: Faker(loc) for loc in spec.locales}
    for f in fakers.values():
        f.seed_instance(0)
    rnd = random.Random(0)

    def value(name: str, fake, values: dict) -> tuple[str, list]:
        slot = spec.slots[name]
        if name in values:
            return values[name]
        inner: list = []
        if slot.faker:
            text = str(getattr(fake, slot.faker)())
        elif slot.values:
            text = rnd.choice(list(slot.values))
        elif slot.number:
            text = f"{rnd.uniform(slot.number.min, slot.number.max):,.2f}"
        elif slot.date:
            text = fake.date_between(slot.date.start, slot.date.end).strftime(rnd.choice(slot.date.formats))
        elif slot.pattern:
            text = fake.bothify(slot.pattern, letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        else:
            text, inner = join(spec.slot_pieces[name], fake, values)
        if slot.formats:
            text = rnd.choice(slot.formats).replace("{}", text)
        values[name] = (text, inner)
        return values[name]

    def join(pieces, fake, values, depth=0) -> tuple[str, list]:
        parts, spans, pos = [], [], 0
        for piece in pieces:
            if piece.is_slot:
                text, inner = value(piece.text, fake, values)
                spans += [(s + pos, e + pos, lab, slot, d + depth) for s, e, lab, slot, d in inner]
                if spec.slots[piece.text].entity:
                    spans.append((pos, pos + len(text), spec.slots[piece.text].entity, piece.text, depth))
            else:
                text = piece.text
            parts.append(text)
            pos += len(text)
        return "".join(parts), spans

    with tempfile.TemporaryFile("w", encoding="utf-8") as handle:
        for i in range(docs):
            t = rnd.choices(range(len(spec.templates)), weights=spec.template_weights.tolist())[0]
            fake = fakers[rnd.choices(spec.locales, weights=spec.locale_weights.tolist())[0]]
            text, spans = join(spec.templates[t], fake, {})
            record = {"id": i, "text": text,
                      "spans": [{"start": s, "end": e, "label": lab, "text": text[s:e], "slot": slot, "depth": d}
                                for s, e, lab, slot, d in sorted(spans, key=lambda x: (x[0], -x[1]))],
                      "labels": spec.template_labels[t], "locale": fake._locales[0], "template": t}
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    n = args.rows
    # module imports are a one-off cost of any process and are left out for every contender;
    # setup (Faker instances, config parsing, word lists, pools) is timed
    import faker  # noqa: F401

    import synthgen.config.load  # noqa: F401  (imported on first config load)
    import synthgen.tabular.generate  # noqa: F401
    import synthgen.tabular.output  # noqa: F401
    import synthgen.text.output  # noqa: F401
    for locale in ("en_US", "en_GB", "de_DE", "fr_FR"):  # the locales used below: imports their provider modules
        faker.Faker(locale)
    try:
        import mimesis  # noqa: F401
    except ImportError:
        print("mimesis is not installed (pip install -e '.[bench]'); its figures are left out")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(TABLE_CONFIG)
        ours_time, ours = synthgen_table(n, config)
        csv_time = synthgen_table_csv(n, config)
    faker_time, faker_values = faker_table(n)
    mim = mimesis_table(n)
    print(f"table, {n} rows x 10 columns, in memory, setup included")
    print(f"  synthgen            {n / ours_time:>12,.0f} rows/s  ({ours_time:.2f} s)")
    print(f"  synthgen + CSV file {n / csv_time:>12,.0f} rows/s  ({csv_time:.2f} s)")
    print(f"  Faker per-row loop  {n / faker_time:>12,.0f} rows/s  ({faker_time:.2f} s)")
    if mim:
        print(f"  Mimesis loop        {n / mim[0]:>12,.0f} rows/s  ({mim[0]:.2f} s)")
    print(f"  synthgen / Faker    {faker_time / ours_time:>12.1f} x   (target >= 100)")
    if mim:
        print(f"  synthgen / Mimesis  {mim[0] / ours_time:>12.1f} x   (target >= 5)")
    print("  distinct values per string column (synthgen / Faker loop; target >= 0.90):")
    for column in STRING_COLUMNS:
        a, b = len(set(ours[column])), len(set(faker_values[column]))
        extra = f"  Mimesis {len(set(mim[1][column])):>7,}" if mim else ""
        print(f"    {column:<7} synthgen {a:>7,}  Faker {b:>7,}  ratio {a / b:.3f}{extra}")
    docs = args.docs
    ours_text = synthgen_text(docs)
    faker_text_time = faker_text(docs)
    print(f"text, configs/ner_invoices.yaml, {docs} documents with spans, JSONL written")
    print(f"  synthgen            {docs / ours_text:>12,.0f} docs/s  ({ours_text:.2f} s)")
    print(f"  Faker per entity    {docs / faker_text_time:>12,.0f} docs/s  ({faker_text_time:.2f} s)")
    print(f"  synthgen / Faker    {faker_text_time / ours_text:>12.1f} x   (target >= 10)")


if __name__ == "__main__":
    main()
