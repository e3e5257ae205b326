#!/usr/bin/env python3
"""Derives frontline's index-schema/ gazetteer files from the shared gazetteer.

    python3 tools/derive_gazetteer.py [SOURCE_DIR]

SOURCE_DIR defaults to ../shared/gazetteer (relative to the repository root),
then /work/shared/gazetteer. The output is deterministic: re-running it on the
same source gives the same bytes. groups.tsv is hand-made and not touched.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "index-schema")
PLACE_COLUMNS = ["name", "ascii_name", "alternate_names", "country_code", "province", "population", "flags"]


def source_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for cand in (os.path.join(ROOT, "..", "shared", "gazetteer"), "/work/shared/gazetteer"):
        if os.path.isdir(cand):
            return cand
    sys.exit("no gazetteer source directory found; pass it as an argument")


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line]
    return header, rows


def write(name, header, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{name}: {len(rows)} rows")


def copy(src, name):
    header, rows = read(os.path.join(src, name))
    write(name, header, rows)


# Names of continents and world regions that are also the names of small
# towns somewhere ("Asia" in the Philippines): in a report they almost always
# mean the region, so they get the `word` flag and never tag on their own.
REGION_NAMES = {"Africa", "America", "Antarctica", "Arabia", "Asia", "Europe", "Oceania"}


def places(src, src_name, name, keep):
    header, rows = read(os.path.join(src, src_name))
    idx = [header.index(c) for c in PLACE_COLUMNS]
    flags = header.index("flags")
    out = [[row[i] for i in idx] for row in rows if keep(row[flags].split("|"))]
    name_col, flags_col = PLACE_COLUMNS.index("name"), PLACE_COLUMNS.index("flags")
    for row in out:
        marks = [f for f in row[flags_col].split("|") if f]
        if row[name_col] in REGION_NAMES and "word" not in marks:
            row[flags_col] = "|".join(marks + ["word"])
    write(name, PLACE_COLUMNS, out)


def main():
    src = source_dir()
    os.makedirs(OUT, exist_ok=True)
    copy(src, "countries.tsv")
    copy(src, "provinces.tsv")
    places(src, "places.tsv", "places.tsv", lambda flags: True)
    # GDELT's extra villages: only used after a settlement cue ("the town of
    # X"); landmarks (camps, rivers, roads, markets...) are left out.
    places(src, "places_extra.tsv", "places-cued.tsv", lambda flags: "landmark" not in flags)


if __name__ == "__main__":
    main()
