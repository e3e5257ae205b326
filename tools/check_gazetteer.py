#!/usr/bin/env python3
"""Sanity checks for the gazetteer files in index-schema/.

    python3 tools/check_gazetteer.py

Checks column counts, row counts, joins (every place's country_code and
province name a province row), groups.tsv rules (>= 65 rows, sorted, known
kinds, no duplicate names, no alias shared by two groups after folding), the
news spellings of conflict-country provinces, and lists group aliases that are
also place, province or country names (a group alias wins over a place in the
tagger, so such collisions should be few and deliberate). Exit status 1 on
failure.
"""
import os
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "index-schema")
KINDS = {"non-state armed group", "militia", "state force", "foreign force", "criminal group"}
FIXED = """Islamic State; Hayat Tahrir al-Sham; al-Shabaab; Houthis; Islamic State West Africa Province;
Boko Haram; JNIM; Islamic State Sahel Province; Rapid Support Forces; Sudanese Armed Forces; M23;
Allied Democratic Forces; Syrian Democratic Forces; PKK; Hezbollah; Hamas; Palestinian Islamic Jihad;
Taliban; Tehreek-e-Taliban Pakistan; Islamic State Khorasan Province; Arakan Army; Wagner Group;
Popular Mobilization Forces; FARC dissidents; ELN; Clan del Golfo; CJNG; Sinaloa Cartel; Viv Ansanm;
Russian Armed Forces; Ukrainian Armed Forces; Israel Defense Forces; US military; Syrian government forces;
Nigerian Army; Somali National Army; FARDC; Malian Armed Forces; Myanmar military; Turkish Armed Forces;
Syrian National Army; al-Qaeda; al-Qaeda in the Arabian Peninsula; Ahrar al-Sham; Hurras al-Din;
Kataib Hezbollah; CODECO; Ambazonian separatists; Fano; Tigray Defense Forces;
Ethiopian National Defense Force; Islamic State Mozambique Province; Baloch Liberation Army;
Lashkar-e-Taiba; Jaish-e-Mohammed; Kachin Independence Army; Ta'ang National Liberation Army;
Myanmar National Democratic Alliance Army; People's Defence Force;
Sudan People's Liberation Movement-North; Libyan National Army; Azov Brigade; Polisario Front"""
PROVINCE_SPELLINGS = {
    "Idleb": "SY-ID", "Deir al-Zor": "SY-DY", "Dayr az Zawr": "SY-DY", "Hasakah": "SY-HA",
    "Al-Hasakah": "SY-HA", "Hassakeh": "SY-HA", "Marib": "YE-MA", "Ma'rib": "YE-MA",
    "Hodeidah": "YE-HU", "Al Hudaydah": "YE-HU", "Ninawa": "IQ-NI", "Nord-Kivu": "CD-NK",
    "North Darfur": "SD-DN",
}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def fold(s):
    """Roughly src/gazetteer.rs `fold`: no apostrophes, separators to one space, lower case, no marks."""
    out, space = [], False
    for c in s:
        if c in "'\u2019\u2018`\u02bc\u02bb":
            continue
        if c.isspace() or c in "-_.\u2010\u2011\u2012\u2013\u2014\u2015":
            space = bool(out)
            continue
        if space:
            out.append(" ")
            space = False
        for d in unicodedata.normalize("NFKD", c):
            if not unicodedata.combining(d):
                out.append(d.lower())
    return "".join(out)


def read(name, ncols):
    path = os.path.join(SCHEMA, name)
    data = open(path, "rb").read()
    if b"\r" in data:
        fail(f"{name}: CR line ends")
    if not data.endswith(b"\n"):
        fail(f"{name}: no final newline")
    text = data.decode("utf-8")
    lines = text.split("\n")[:-1]
    header = lines[0].split("\t")
    if len(header) != ncols:
        fail(f"{name}: header has {len(header)} columns, want {ncols}")
    rows = []
    for n, line in enumerate(lines[1:], 2):
        row = line.split("\t")
        if len(row) != ncols:
            fail(f"{name}:{n}: {len(row)} columns")
        if '"' in line:
            fail(f"{name}:{n}: double quote")
        rows.append(dict(zip(header, row)))
    print(f"{name}: {len(rows)} rows, {len(data):,} bytes")
    return rows


def main():
    countries = read("countries.tsv", 4)
    provinces = read("provinces.tsv", 9)
    places = read("places.tsv", 7)
    cued = read("places-cued.tsv", 7)
    groups = read("groups.tsv", 4)

    if len(countries) != 249 or len(provinces) != 3615 or len(places) != 77223:
        fail("row counts differ from the source README (249 / 3,615 / 77,223)")
    cd = [c for c in countries if c["country_code"] == "CD"][0]
    for a in ("DR Congo", "DRC", "Democratic Republic of the Congo"):
        if a not in [cd["country"]] + cd["aliases"].split("|"):
            fail(f"countries: CD lacks alias {a}")

    prov_keys = {(p["country_code"], p["province"]) for p in provinces}
    for name, rows in (("places.tsv", places), ("places-cued.tsv", cued)):
        misses = [r for r in rows if (r["country_code"], r["province"]) not in prov_keys]
        if misses:
            fail(f"{name}: {len(misses)} rows do not join to provinces.tsv, e.g. {misses[0]}")
        if any("landmark" in r["flags"].split("|") for r in rows):
            fail(f"{name}: landmark rows present")

    # Province news spellings resolve (folded) to exactly one province, not ambiguous.
    names = {}
    for p in provinces:
        for n in [p["province"]] + [a for a in p["aliases"].split("|") if a]:
            names.setdefault(fold(n), set()).add(p["iso_code"])
    ambiguous = {fold(a) for p in provinces for a in p["ambiguous_aliases"].split("|") if a}
    for spelling, iso in PROVINCE_SPELLINGS.items():
        got = names.get(fold(spelling), set())
        if got != {iso}:
            fail(f"provinces: {spelling!r} resolves to {sorted(got)}, want {iso}")
        if fold(spelling) in ambiguous:
            fail(f"provinces: {spelling!r} is marked ambiguous")

    # groups.tsv
    if len(groups) < 65:
        fail(f"groups.tsv: {len(groups)} rows, want >= 65")
    gnames = [g["name"] for g in groups]
    if gnames != sorted(gnames, key=lambda s: (s.casefold(), s)):
        fail("groups.tsv: not sorted by name (case-insensitive)")
    if len(set(gnames)) != len(gnames):
        fail("groups.tsv: duplicate canonical names")
    for fixed in (s.strip() for s in FIXED.split(";")):
        if fixed not in gnames:
            fail(f"groups.tsv: fixed canonical name missing: {fixed}")
    owner = {}
    for g in groups:
        if g["kind"] not in KINDS:
            fail(f"groups.tsv: {g['name']}: unknown kind {g['kind']!r}")
        codes = g["countries"].split("|")
        if not all(len(c) == 2 and c.isupper() for c in codes):
            fail(f"groups.tsv: {g['name']}: bad countries {g['countries']!r}")
        aliases = [a for a in g["aliases"].split("|") if a]
        if len(aliases) != len(g["aliases"].split("|")) and g["aliases"]:
            fail(f"groups.tsv: {g['name']}: empty alias")
        seen = set()
        for a in [g["name"]] + aliases:
            if a != a.strip():
                fail(f"groups.tsv: {g['name']}: alias with spaces around: {a!r}")
            if a in seen:
                fail(f"groups.tsv: {g['name']}: alias listed twice: {a!r}")
            seen.add(a)
            if a == a.lower() and " " not in a and "-" not in a:
                fail(f"groups.tsv: {g['name']}: lower-case one-word alias {a!r}")
            key = fold(a)
            if key in owner and owner[key] != g["name"]:
                fail(f"groups.tsv: alias {a!r} shared by {owner[key]} and {g['name']}")
            owner[key] = g["name"]

    # Group aliases that are also geographic names (informational).
    geo = {}
    for c in countries:
        for n in [c["country"]] + c["aliases"].split("|"):
            geo.setdefault(fold(n), f"country {c['country_code']}")
    for p in provinces:
        for n in [p["province"]] + p["aliases"].split("|"):
            geo.setdefault(fold(n), f"province {p['iso_code']}")
    for r in places:
        for n in [r["name"], r["ascii_name"]] + r["alternate_names"].split("|"):
            geo.setdefault(fold(n), f"place {r['country_code']}/{r['province']} ({r['population'] or '?'})")
    for key, group in sorted(owner.items()):
        if key in geo:
            print(f"note: group alias {key!r} ({group}) is also {geo[key]}")

    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("all checks pass")


if __name__ == "__main__":
    main()
