#!/usr/bin/env python3
"""Writes random licence-plate texts, one per line, as they are printed.

The texts follow the patterns of models/formats/*.fmt (the same files the
reader matches against), so the trained model sees the layouts it will be
asked to read; US plates, whose file accepts any 2-8 characters, get the
common state layouts instead. Separators between pattern groups are printed
as the country prints them (dash or space). The output depends only on the
seed and the format files, so a training run can be reproduced.

    plates.py FORMATS_DIR COUNT SEED > plates.txt
"""
import glob
import os
import random
import re
import sys

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"

# Share of the plates per country: the dev sets are eu (SK, CZ, PL, DE, GB),
# fr, br and us, so those get most; the others keep the model general.
WEIGHTS = {"US": 26, "FR": 14, "BR": 12, "DE": 7, "GB": 7, "PL": 5, "SK": 5, "CZ": 5}
OTHER_WEIGHT = 2

# How each country prints the group separators written in its patterns:
# the probability of a dash, otherwise a space. A separator is left out
# altogether with NO_SEP_PROB: many plates print groups without a gap (SK
# "RK 346AL", US "7ABC123"), and a model that always saw a gap between
# digits and letters learns to read a letter after digits as a digit.
DASH_PROB = {"FR": 0.5, "NL": 0.9, "BE": 0.9, "BR": 0.6, "HU": 0.6, "AT": 0.3, "SK": 0.3}
NO_SEP_PROB = 0.3

# Share of lines that are random characters rather than a country format.
# The LSTM learns which characters follow which from its training texts;
# random lines keep that prior weak, so that the glyph decides, not the
# position (the format matching after the OCR applies the formats anyway).
RANDOM_PROB = 0.35

# Common US layouts (L letter, N digit, A either, space or dash as printed).
US_LAYOUTS = ["NLLLNNN", "LLL NNNN", "LLL-NNNN", "LLLNNNN", "NNN LLL", "LLL NNN", "LLL-NNN",
              "NLL NNN", "NNNNNN", "NNN NNN", "LL NNNNN", "NNNN LL", "LNN LLL", "NLLL NN",
              "LLL NNL", "NN LLLL", "LLNNNNN", "NNNLNN"]


def expand_class(spec):
    """Characters of a [..] set such as [A-HJ-NP-Z0-4]."""
    out, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def parse_pattern(pat, classes):
    """Pattern to a list of groups; a group is a list of (charset, min, max) slots."""
    groups, cur, i = [], [], 0
    while i < len(pat):
        c = pat[i]
        if c in "- ./":
            if cur:
                groups.append(cur)
            cur = []
            i += 1
            continue
        if c == "[":
            j = pat.index("]", i)
            chars = expand_class(pat[i + 1:j])
            i = j + 1
        elif c == "L":
            chars, i = LETTERS, i + 1
        elif c == "N":
            chars, i = DIGITS, i + 1
        elif c == "A":
            chars, i = LETTERS + DIGITS, i + 1
        elif c.isdigit():
            chars, i = c, i + 1
        elif c in classes:
            chars, i = classes[c], i + 1
        else:
            raise ValueError("bad pattern " + pat)
        lo = hi = 1
        m = re.match(r"\{(\d+)(?:,(\d+))?\}", pat[i:])
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            i += m.end()
        elif pat[i:i + 1] == "?":
            lo, hi, i = 0, 1, i + 1
        cur.append((chars, lo, hi))
    if cur:
        groups.append(cur)
    return groups


def load_formats(folder):
    formats = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.fmt"))):
        country, classes, pats = None, {}, []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                key, _, value = line.partition(" ")
                value = value.strip()
                if key == "country":
                    country = value
                elif key == "class":
                    name, spec = value.split(None, 1)
                    classes[name] = expand_class(spec.strip()[1:-1])
                elif key == "format":
                    pats.append(value.split()[0])
        formats[country] = [parse_pattern(p, classes) for p in pats]
    return formats


def render(groups, country, rng):
    parts = []
    for g in groups:
        text = ""
        for chars, lo, hi in g:
            text += "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))
        if text:
            parts.append(text)
    out = parts[0] if parts else ""
    for p in parts[1:]:
        r = rng.random()
        if r < NO_SEP_PROB:
            out += p
        elif r < NO_SEP_PROB + (1 - NO_SEP_PROB) * DASH_PROB.get(country, 0.15):
            out += "-" + p
        else:
            out += " " + p
    return out


def random_line(rng):
    """2-9 random letters and digits, split by up to two spaces or dashes."""
    text = "".join(rng.choice(LETTERS + DIGITS) for _ in range(rng.randint(2, 9)))
    for _ in range(rng.randint(0, 2)):
        if len(text) >= 4:
            k = rng.randint(1, len(text) - 2)
            if text[k - 1] not in " -" and text[k] not in " -":
                text = text[:k] + rng.choice("  -") + text[k:]
    return text


def us_plate(rng):
    if rng.random() < 0.25:
        n = rng.randint(2, 8)
        text = "".join(rng.choice(LETTERS + DIGITS) for _ in range(n))
        if n >= 5 and rng.random() < 0.4:
            k = rng.randint(2, n - 2)
            text = text[:k] + rng.choice(" -") + text[k:]
        return text
    layout = rng.choice(US_LAYOUTS)
    pick = {"L": LETTERS, "N": DIGITS, "A": LETTERS + DIGITS}
    return "".join(rng.choice(pick[c]) if c in pick else c for c in layout)


def main():
    folder, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    formats = load_formats(folder)
    countries = sorted(formats)
    weights = [WEIGHTS.get(c, OTHER_WEIGHT) for c in countries]
    for _ in range(count):
        country = rng.choices(countries, weights)[0]
        if rng.random() < RANDOM_PROB:
            text = random_line(rng)
        elif country == "US":
            text = us_plate(rng)
        else:
            text = render(rng.choice(formats[country]), country, rng)
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
