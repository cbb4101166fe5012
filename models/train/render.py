#!/usr/bin/python3
"""Renders synthetic licence-plate crops for training the Tesseract LSTM model.

Why: a model trained on text2image pages learns the fonts, not plates (see
docs/ocr-training.md, "Why it loses"). The reader hands Tesseract what its
plate localiser cut out: a rectified, grey, often soft and JPEG-blocked crop
about 64 rows high, the plate filling most of it, a little car body around,
a frame, screws, a country band or a state name. This script draws such
crops, with as much variety as it can afford, so that a model trained on
them sees what it will be asked to read.

How, per image (each choice random, from --seed only):

* Text: from plates.py (the one owner of plate texts: country weights,
  formats of models/formats, US layouts, random lines). Separators are drawn
  as printed (a dash as a short bar, a space as a gap); the label keeps only
  A-Z and 0-9, rows of a two-row plate in reading order.
* Characters, either
  - a font: Oswald (--fonts-dir) and the condensed Debian faces of FONT_FILES
    that are installed (missing ones are skipped), squeezed 0.75-1.1 with
    varied letter spacing and weight; or
  - a glyph collage (--collage-share of the images): real characters cut
    from the Tesseract-3 training pages in --glyphs (*/input/*.tif + .box,
    the parent folder naming the country group eu/fr/gb/br), in a text of a
    matching country, taken from one page where it has all of them, scaled
    to one height, on a light plate whose tone is estimated from the page.
* The plate: dark text on a light plate, or (15 % of font plates) light on dark; an EU
  band (30 % of non-US plates), US state name above and slogan or dealer
  frame below, 8 % two-row plates, frame line, bolts, stickers, dirt,
  gradient and glare, on a car-body texture.
* Geometry and camera: everything is drawn at a cap height of CAP px, then
  rotated (up to ~8 degrees), sheared and put in perspective, scaled down
  so that the cap height is 12-25 px (the camera's resolution), blurred,
  sometimes brought to a lower resolution still, given noise, a contrast
  and brightness change and a JPEG re-encode (quality 20-90), and finally
  scaled to 40-90 rows (around 64), as the localiser does.

Output: DIR/000000.png ... (8-bit grey) and DIR/labels.csv (image,plate_text).
The images depend only on the seed and the input files (all listings are
sorted), not on the order a folder lists them in.

Runs on Debian's interpreter with Debian's packages (no pip):

    apt-get install -y --no-install-recommends python3-pil python3-numpy
    /usr/bin/python3 models/train/render.py --out DIR --count N --seed S \\
        [--formats models/formats] [--fonts-dir /work/shared/data/train/fonts] \\
        [--glyphs /work/shared/data/train/glyphs] [--collage-share 0.3]

About 2000 images take well under a minute on one core.
"""
import argparse
import csv
import glob
import io
import math
import os
import random
import sys
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import plates  # noqa: E402  (models/train/plates.py: the plate texts)

# Cap height (px) at which plates are drawn, before the camera scales them down.
CAP = 56
# Room above and below the cap height in a row mask (descenders, Q's tail).
PAD = 18
ALNUM = set(plates.LETTERS + plates.DIGITS)

# Debian faces used when installed (file names under /usr/share/fonts):
# description, file names. Packages: fonts-bebas-neue fonts-open-sans
# fonts-dejavu-extra fonts-liberation fonts-roboto-unhinted fonts-opendin
# fonts-routed-gothic fonts-urw-base35 fonts-noto-core.
FONT_FILES = [
    ("Bebas Neue", ["BebasNeue-Regular.otf", "BebasNeue-Bold.otf"]),
    ("Open Sans Condensed Bold", ["OpenSans-CondBold.ttf"]),
    ("DejaVu Sans Condensed Bold", ["DejaVuSansCondensed-Bold.ttf"]),
    ("Liberation Sans Narrow Bold", ["LiberationSansNarrow-Bold.ttf"]),
    ("Roboto Condensed Bold/Medium", ["RobotoCondensed-Bold.ttf", "RobotoCondensed-Medium.ttf"]),
    ("OSP-DIN", ["OSP-DIN.ttf"]),
    ("Routed Gothic", ["routed-gothic.ttf", "routed-gothic-narrow.ttf"]),
    ("Nimbus Sans Narrow Bold", ["NimbusSansNarrow-Bold.otf"]),
    ("Noto Sans Condensed SemiBold/Bold/Medium",
     ["NotoSans-CondensedSemiBold.ttf", "NotoSans-CondensedBold.ttf", "NotoSans-CondensedMedium.ttf"]),
]

# The country group of a glyph folder and the plate texts that fit it.
GLYPH_COUNTRIES = {"eu": ["DE", "NL", "BE"], "fr": ["FR"], "gb": ["GB"], "br": ["BR"]}
# Countries whose plates may carry an EU-style band (code printed in it).
BAND_CODES = {"AT": "A", "BE": "B", "BG": "BG", "CZ": "CZ", "DE": "D", "ES": "E", "FR": "F",
              "GB": "GB", "HU": "H", "IT": "I", "NL": "NL", "PL": "PL", "RO": "RO", "SK": "SK",
              "TR": "TR", "UA": "UA"}

US_STATES = ["CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "ILLINOIS", "Ohio", "Michigan",
             "PENNSYLVANIA", "ARIZONA", "NEVADA", "GEORGIA", "Virginia", "NEW JERSEY",
             "WASHINGTON", "OREGON", "COLORADO", "Massachusetts", "MISSOURI", "INDIANA",
             "Tennessee", "NORTH CAROLINA", "Maryland", "Wisconsin", "MINNESOTA", "KENTUCKY",
             "Louisiana", "ALABAMA", "UTAH", "IOWA", "KANSAS", "Oklahoma", "CONNECTICUT",
             "NEW MEXICO", "Idaho", "MONTANA", "Maine", "VERMONT", "Delaware", "HAWAII", "Alaska",
             "SOUTH CAROLINA", "Arkansas", "NEBRASKA", "Mississippi", "WYOMING", "Rhode Island"]
US_SLOGANS = ["SUNSHINE STATE", "LAND OF LINCOLN", "SUNTRUP FORD", "www.dealer.com",
              "Empire State", "THE LONE STAR STATE", "GREAT LAKES", "Garden State",
              "LIVE FREE OR DIE", "FIRST IN FLIGHT", "Grand Canyon State", "SHOW-ME STATE",
              "Keystone State", "dmv.ca.gov", "EXPLORE MINNESOTA", "Famous Potatoes",
              "Peach State", "Pure Michigan", "Virginia is for Lovers", "Birthplace of Aviation",
              "Wild Wonderful", "SPORTSMAN'S PARADISE", "Big Sky Country", "Vacationland",
              "ROSEN HONDA", "SMITH TOYOTA", "Bob's Chevrolet", "AutoNation", "CARMAX",
              "Sunset Nissan", "LEXUS OF AUSTIN", "www.hondaworld.com", "1-800-DEALER",
              "PAUL MILLER FORD", "Crossroads Kia", "DONATE LIFE", "IN GOD WE TRUST",
              "Amber Waves of Grain", "The Natural State", "Land of Enchantment", "Ocean State"]


def u(rng, a, b):
    return rng.uniform(a, b)


# ---------------------------------------------------------------- fonts

class Face:
    """A font file, sized so that the cap height of "H" is CAP px."""

    def __init__(self, path):
        self.path = path
        probe = ImageFont.truetype(path, 200)
        l, t, r, b = probe.getbbox("H")
        self.size = max(8, int(round(200.0 * CAP / (b - t))))
        self.font = ImageFont.truetype(path, self.size)
        self.cap_top = self.font.getbbox("H")[1]
        self.sizes = {}
        self.glyphs = {}

    def at(self, size):
        f = self.sizes.get(size)
        if f is None:
            f = self.sizes[size] = ImageFont.truetype(self.path, size)
        return f

    def glyph(self, ch):
        """(mask float32 0-1, x offset, y offset of the top from the cap top, advance)."""
        g = self.glyphs.get(ch)
        if g is None:
            l, t, r, b = self.font.getbbox(ch)
            im = Image.new("L", (max(1, r - l), max(1, b - t)))
            ImageDraw.Draw(im).text((-l, -t), ch, font=self.font, fill=255)
            g = (np.asarray(im, np.float32) / 255.0, l, t - self.cap_top, self.font.getlength(ch))
            self.glyphs[ch] = g
        return g

    def text_mask(self, text, cap):
        """The whole string as a mask whose capitals are about cap px high."""
        font = self.at(max(5, int(round(self.size * cap / CAP))))
        l, t, r, b = font.getbbox(text)
        im = Image.new("L", (max(1, r - l), max(1, b - t)))
        ImageDraw.Draw(im).text((-l, -t), text, font=font, fill=255)
        return np.asarray(im, np.float32) / 255.0


def find_fonts(fonts_dir):
    """The faces to use (sorted paths) and the descriptions of those not installed."""
    paths = sorted(glob.glob(os.path.join(fonts_dir, "Oswald-*.ttf"))) if fonts_dir else []
    index = {}
    for p in sorted(glob.glob("/usr/share/fonts/**/*", recursive=True)):
        index.setdefault(os.path.basename(p), p)
    missing = []
    for desc, names in FONT_FILES:
        found = [index[n] for n in names if n in index]
        if len(found) < len(names):
            missing.append(desc + " (" + ", ".join(n for n in names if n not in index) + ")")
        paths.extend(found)
    faces = []
    for p in paths:
        try:
            faces.append(Face(p))
        except OSError as exc:
            missing.append("%s (%s)" % (p, exc))
    return faces, missing


# ---------------------------------------------------------------- glyph pages

class Page:
    def __init__(self, group, name):
        self.group, self.name = group, name
        self.chars = {}     # char -> list of float32 alpha masks (ink = 1)
        self.bg = 255.0     # background grey estimated from the crop borders


def load_glyphs(folder):
    """Every A-Z/0-9 box of every */input/*.tif page, cut out once, as ink masks."""
    pages = []
    for tif in sorted(glob.glob(os.path.join(folder, "*", "input", "*.tif"))):
        box = os.path.splitext(tif)[0] + ".box"
        if not os.path.isfile(box):
            continue
        group = os.path.basename(os.path.dirname(os.path.dirname(tif)))
        img = np.asarray(Image.open(tif).convert("L"), np.float32)
        H, W = img.shape
        page = Page(group, os.path.relpath(tif, folder))
        bgs = []
        with open(box, encoding="utf-8") as fh:
            for line in fh:
                f = line.split()
                if len(f) < 5 or f[0] not in ALNUM:
                    continue
                l, b, r, t = (int(v) for v in f[1:5])
                x0, x1 = max(0, l), min(W, r)
                y0, y1 = max(0, H - t), min(H, H - b)
                if x1 - x0 < 2 or y1 - y0 < 6:
                    continue
                # The 2 px ring around the box is the plate's background.
                X0, X1, Y0, Y1 = max(0, x0 - 2), min(W, x1 + 2), max(0, y0 - 2), min(H, y1 + 2)
                pad = img[Y0:Y1, X0:X1]
                ring = np.concatenate([pad[:2].ravel(), pad[-2:].ravel(), pad[:, :2].ravel(), pad[:, -2:].ravel()])
                bg = float(np.median(ring))
                core = img[y0:y1, x0:x1]
                ink = float(np.percentile(core, 3))
                if bg - ink < 40:
                    continue
                alpha = np.clip((bg - core) / (bg - ink), 0.0, 1.0).astype(np.float32)
                page.chars.setdefault(f[0], []).append(alpha)
                bgs.append(bg)
        if page.chars:
            page.bg = float(np.median(bgs))
            pages.append(page)
    return pages


# ---------------------------------------------------------------- drawing helpers

def blend(dst, mask, x, y, value):
    """dst += (value - dst) * mask, mask's top-left at (x, y), clipped to dst."""
    h, w = mask.shape
    H, W = dst.shape
    x, y = int(round(x)), int(round(y))
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    d = dst[y0:y1, x0:x1]
    d += (value - d) * mask[y0 - y:y1 - y, x0 - x:x1 - x]


def shape_mask(w, h, draw_fn):
    """A float mask of size (h, w) drawn with PIL (fill 255 = full)."""
    im = Image.new("L", (w, h))
    draw_fn(ImageDraw.Draw(im))
    return np.asarray(im, np.float32) / 255.0


def low_freq(nrng, rng, h, w, cells=(2, 6)):
    """Smooth random field of mean 0, std about 1, size (h, w)."""
    gy, gx = rng.randint(*cells), rng.randint(cells[0] + 1, cells[1] * 2)
    small = nrng.normal(0.0, 1.0, (gy, gx)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((w, h), Image.BICUBIC))


def resize_f(arr, w, h, resample=Image.BILINEAR):
    """Resizes a 0-1 mask (clipped: bicubic overshoots)."""
    out = np.asarray(Image.fromarray(arr, "F").resize((max(1, w), max(1, h)), resample))
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------- rows of characters

def compose_row(items):
    """items: (mask, x, y) with y relative to the cap top. Returns a row mask
    whose cap top is at PAD and whose left edge is the first ink."""
    if not items:
        return np.zeros((CAP + 2 * PAD, 4), np.float32)
    xmin = min(x for _, x, _ in items)
    xmax = max(x + m.shape[1] for m, x, _ in items)
    w = int(math.ceil(xmax - xmin)) + 2
    row = np.zeros((CAP + 2 * PAD, w), np.float32)
    for m, x, y in items:
        xi, yi = int(round(x - xmin)), int(round(y)) + PAD
        h, mw = m.shape
        y0, y1 = max(0, yi), min(row.shape[0], yi + h)
        if y1 <= y0:
            continue
        sl = row[y0:y1, xi:xi + mw]
        np.maximum(sl, m[y0 - yi:y1 - yi, :sl.shape[1]], out=sl)
    return row


class Separators:
    """How one plate draws its dashes and spaces (same for every separator)."""

    def __init__(self, rng):
        self.space = u(rng, 0.3, 0.95) * CAP
        self.dash_w = u(rng, 0.22, 0.5) * CAP
        self.dash_h = max(3.0, u(rng, 0.07, 0.16) * CAP)
        self.dash_y = u(rng, 0.42, 0.56) * CAP
        self.dash_gap = u(rng, 0.08, 0.3) * CAP
        self.round = rng.random() < 0.5

    def dash(self):
        w, h = int(round(self.dash_w)), int(round(self.dash_h))
        r = h // 2 if self.round else 0
        return shape_mask(w, h, lambda d: d.rounded_rectangle([0, 0, w - 1, h - 1], radius=r, fill=255))


def place_separator(ch, x, seps, items):
    """Lays out a space or a dash at x; returns the new x, or None when ch is a character."""
    if ch == " ":
        return x + seps.space
    if ch == "-":
        x += seps.dash_gap
        items.append((seps.dash(), x, seps.dash_y - seps.dash_h / 2))
        return x + seps.dash_w + seps.dash_gap
    return None


def font_row(rng, face, text, spacing, seps):
    items, x = [], 0.0
    for ch in text:
        after = place_separator(ch, x, seps, items)
        if after is not None:
            x = after
        else:
            m, xoff, yoff, adv = face.glyph(ch)
            items.append((m, x + xoff, yoff))
            x += adv + spacing + rng.gauss(0.0, 0.015 * CAP)
    return compose_row(items)


def glyph_row(rng, masks, text, spacing, seps, aspect, mono):
    """masks: one ink mask per character of text (separators excluded)."""
    scaled = []
    for m in masks:
        h, w = m.shape
        hh = CAP * u(rng, 0.98, 1.02)
        scaled.append(resize_f(m, int(round(w * hh / h * aspect)), int(round(hh)), Image.BICUBIC))
    cell = max(s.shape[1] for s in scaled) if mono and scaled else 0
    items, x, k = [], 0.0, 0
    for ch in text:
        after = place_separator(ch, x, seps, items)
        if after is not None:
            x = after
        else:
            s = scaled[k]
            k += 1
            w = s.shape[1]
            off = (cell - w) / 2.0 if cell else 0.0
            items.append((s, x + off, (CAP - s.shape[0]) / 2.0 + rng.gauss(0, 0.012 * CAP)))
            x += max(cell, w) + spacing + rng.gauss(0.0, 0.02 * CAP)
    return compose_row(items)


def vary_weight(rng, row):
    """Sometimes bolder strokes (thin ones come from the light faces and the squeeze)."""
    if rng.random() < 0.85:
        return row
    im = Image.fromarray((np.clip(row, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))
    return np.asarray(im, np.float32) / 255.0


def squeeze(row, sx):
    h, w = row.shape
    return resize_f(row, int(round(w * sx)), h)


def split_rows(rng, text, prob=0.08):
    """Two rows (split at a separator) for prob of the texts that have one."""
    seps = [i for i, c in enumerate(text) if c in " -" and 0 < i < len(text) - 1]
    if seps and rng.random() < prob:
        mid = len(text) / 2.0
        seps.sort(key=lambda i: (abs(i - mid), i))
        k = seps[0] if rng.random() < 0.7 else rng.choice(seps)
        top, bottom = text[:k].strip(" -"), text[k + 1:].strip(" -")
        if top and bottom:
            return [top, bottom]
    return [text]


def label_of(rows):
    return "".join(c for r in rows for c in r if c in ALNUM)


# ---------------------------------------------------------------- the plate

def make_plate(rng, nrng, ctx, rows, st):
    """Draws the plate (float32 grey, its shape mask) from the row masks.

    st: style dict: bg, ink, us, band (code or None), dark."""
    C = CAP
    n = len(rows)
    text_w = max(r.shape[1] for r in rows)
    gap = u(rng, 0.18, 0.35) * C
    if n == 2:
        ph = (2 * C + gap) / (u(rng, 0.6, 0.72) if st["us"] else u(rng, 0.72, 0.86))
    elif st["us"]:
        ph = C / u(rng, 0.42, 0.56)
    else:
        ph = C / u(rng, 0.6, 0.78)
    ph = int(round(ph))
    band_w = int(round(u(rng, 0.34, 0.45) * ph)) if st["band"] is not None else 0
    mx = u(rng, 0.3, 0.9) * C if st["us"] else u(rng, 0.18, 0.55) * C
    pw = band_w + text_w + 2 * mx
    if st["us"]:
        pw = max(pw, ph * u(rng, 1.7, 2.1))
    pw = int(round(pw))
    bg, ink = st["bg"], st["ink"]

    val = np.full((ph, pw), bg, np.float32)
    val += low_freq(nrng, rng, ph, pw) * u(rng, 0, 8)

    # Background graphics of US plates (mountains, waves, a sun), faint.
    if st["us"] and rng.random() < 0.4:
        pts = [(0, ph)]
        for i in range(rng.randint(3, 8)):
            pts.append((int(pw * (i + 1) / 9 + rng.gauss(0, pw * 0.03)), int(ph * u(rng, 0.45, 0.95))))
        pts.append((pw, ph))
        shade = bg + (u(rng, 12, 45) * (1 if st["dark"] else -1))
        blend(val, shape_mask(pw, ph, lambda d: d.polygon(pts, fill=255)), 0, 0, shade)
        if rng.random() < 0.4:
            r = ph * u(rng, 0.15, 0.35)
            cx, cy = pw * u(rng, 0.1, 0.9), ph * u(rng, 0.2, 0.6)
            blend(val, shape_mask(pw, ph, lambda d: d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)),
                  0, 0, bg + u(rng, -35, 35))

    # EU band: a dark strip with a ring of small light stars and the code.
    if band_w:
        blend(val, np.ones((ph, band_w), np.float32), 0, 0, u(rng, 35, 100))
        light = u(rng, 150, 235)
        cx, cy, rr = band_w / 2.0, ph * u(rng, 0.26, 0.36), band_w * u(rng, 0.2, 0.28)
        sr = max(1.0, band_w * u(rng, 0.03, 0.05))
        stars = []
        for i in range(12):
            a = 2 * math.pi * i / 12
            stars.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        blend(val, shape_mask(band_w, ph, lambda d: [d.ellipse([x - sr, y - sr, x + sr, y + sr], fill=255)
                                                     for x, y in stars]), 0, 0, light)
        code = st["band"]
        if code:
            m = rng.choice(ctx.faces).text_mask(code, band_w * u(rng, 0.28, 0.4) / max(1, len(code)) * 1.6)
            m = m[:, :min(m.shape[1], band_w - 2)]
            blend(val, m, (band_w - m.shape[1]) / 2.0, ph * u(rng, 0.62, 0.72), light)

    # The rows, centred in the text area.
    x_left = band_w + mx
    area_w = pw - x_left - mx
    if n == 2:
        t0 = (ph - (2 * C + gap)) * (u(rng, 0.5, 0.6) if st["us"] else 0.5) + rng.gauss(0, 0.02 * ph)
        tops = [t0, t0 + C + gap]
    elif st["us"]:
        tops = [ph * u(rng, 0.47, 0.56) - C / 2.0]
    else:
        tops = [(ph - C) / 2.0 + rng.gauss(0, 0.025 * ph)]
    emboss = rng.random() < 0.3
    edx, edy = rng.choice([-2, -1, 1, 2]), rng.choice([-2, -1, 1, 2])
    eshade = np.clip(bg + u(rng, -50, 50), 0, 255)
    for r, top in zip(rows, tops):
        x = x_left + (area_w - r.shape[1]) / 2.0 + rng.gauss(0, 0.02 * C)
        if emboss:
            blend(val, r, x + edx, top - PAD + edy, eshade)
        blend(val, r, x, top - PAD, ink)
    text_top, text_bottom = tops[0], tops[-1] + C

    # US: state name above, slogan below (or a dealer frame), stickers.
    frame_bottom = 0
    if st["us"]:
        face = rng.choice(ctx.faces)
        colour = u(rng, 150, 240) if st["dark"] else u(rng, 15, 150)
        if rng.random() < 0.85:
            room = text_top
            m = face.text_mask(rng.choice(US_STATES), min(room * u(rng, 0.45, 0.7), 0.4 * C))
            if m.shape[1] > pw * 0.9:
                m = resize_f(m, int(pw * 0.9), m.shape[0])
            ypos = (room - m.shape[0]) * u(rng, 0.35, 0.65)
            xpos = (pw - m.shape[1]) * (0.5 if rng.random() < 0.8 else rng.choice([0.1, 0.9]))
            blend(val, m, xpos, ypos, colour)
        room = ph - text_bottom
        if rng.random() < 0.25:
            # Dealer frame: dark border, thicker at the bottom, light text in it.
            fc = u(rng, 10, 70) if rng.random() < 0.7 else u(rng, 140, 210)
            t1 = max(2, int(ph * u(rng, 0.03, 0.07)))
            t2 = max(t1 + 2, int(min(ph * u(rng, 0.14, 0.22), room * 0.85)))
            frame = np.zeros((ph, pw), np.float32)
            frame[:t1] = 1
            frame[:, :t1] = 1
            frame[:, pw - t1:] = 1
            frame[ph - t2:] = 1
            blend(val, frame, 0, 0, fc)
            m = face.text_mask(rng.choice(US_SLOGANS), t2 * u(rng, 0.45, 0.65))
            if m.shape[1] > pw * 0.85:
                m = resize_f(m, int(pw * 0.85), m.shape[0])
            blend(val, m, (pw - m.shape[1]) / 2.0, ph - t2 + (t2 - m.shape[0]) / 2.0,
                  255 - fc if abs(255 - 2 * fc) > 60 else (fc + 128) % 256)
            frame_bottom = t2
        elif rng.random() < 0.8:
            m = face.text_mask(rng.choice(US_SLOGANS), min(room * u(rng, 0.35, 0.6), 0.3 * C))
            if m.shape[1] > pw * 0.9:
                m = resize_f(m, int(pw * 0.9), m.shape[0])
            blend(val, m, (pw - m.shape[1]) / 2.0, text_bottom + (room - m.shape[0]) * u(rng, 0.3, 0.7), colour)
        if rng.random() < 0.35:
            sw, sh = int(ph * u(rng, 0.18, 0.3)), int(max(4, min(text_top * 0.7, ph * u(rng, 0.1, 0.2))))
            sx = int(pw * u(rng, 0.03, 0.08)) if rng.random() < 0.5 else int(pw * u(rng, 0.92, 0.97)) - sw
            sy = int(max(1, text_top - sh) * u(rng, 0.1, 0.6))
            blend(val, np.ones((sh, sw), np.float32), sx, sy, u(rng, 30, 230))

    # Thin frame line around the edge.
    if rng.random() < 0.5 and frame_bottom == 0:
        d = max(1.0, ph * u(rng, 0.015, 0.05))
        lw = max(1, int(round(ph * u(rng, 0.008, 0.03))))
        rad = int(ph * u(rng, 0, 0.12))
        colour = ink if rng.random() < 0.7 else u(rng, 0, 255)
        blend(val, shape_mask(pw, ph, lambda dr: dr.rounded_rectangle(
            [d, d, pw - 1 - d, ph - 1 - d], radius=rad, outline=255, width=lw)), 0, 0, colour)

    # Two bolts in the top (sometimes also bottom) margin, if there is room.
    r = max(1.5, C * u(rng, 0.05, 0.1))
    if rng.random() < 0.35 and text_top > 2.2 * r:
        margin = text_top
        y = margin * u(rng, 0.3, 0.6)
        xs = pw * u(rng, 0.12, 0.3)
        ys = [y] + ([ph - y] if rng.random() < 0.3 and not st["us"] else [])
        colour = u(rng, 20, 110) if rng.random() < 0.8 else u(rng, 160, 230)
        blend(val, shape_mask(pw, ph, lambda d: [d.ellipse([x - r, yy - r, x + r, yy + r], fill=255)
                                                 for x in (xs, pw - xs) for yy in ys]), 0, 0, colour)

    # Dirt specks.
    nspeck = int(nrng.poisson(u(rng, 0, 25))) if rng.random() < 0.6 else 0
    if nspeck:
        xs = nrng.uniform(0, pw, nspeck)
        ys = nrng.uniform(0, ph, nspeck)
        rs = nrng.uniform(0.6, 3.5, nspeck)
        vs = nrng.uniform(0.3, 1.0, nspeck) * 255

        def specks(d):
            for x, y, r, v in zip(xs, ys, rs, vs):
                d.ellipse([x - r, y - r, x + r, y + r], fill=int(v))
        blend(val, shape_mask(pw, ph, specks), 0, 0, u(rng, 0, 120) if not st["dark"] else u(rng, 60, 200))

    # Vertical gradient and a glare blob.
    if rng.random() < 0.6:
        g0, g1 = u(rng, 0.75, 1.15), u(rng, 0.75, 1.15)
        val *= np.linspace(g0, g1, ph, dtype=np.float32)[:, None]
    np.clip(val, 0, 255, out=val)
    if rng.random() < 0.3:
        gx, gy = np.arange(pw, dtype=np.float32), np.arange(ph, dtype=np.float32)
        cx, cy = u(rng, 0, pw), u(rng, 0, ph)
        sx, sy = pw * u(rng, 0.08, 0.35), ph * u(rng, 0.2, 0.7)
        blob = np.exp(-((gx - cx) / sx) ** 2 / 2)[None, :] * np.exp(-((gy - cy) / sy) ** 2 / 2)[:, None]
        val += (255.0 - val) * blob * u(rng, 0.2, 0.55)

    rad = ph * u(rng, 0, 0.1)
    shape = shape_mask(pw, ph, lambda d: d.rounded_rectangle([0, 0, pw - 1, ph - 1], radius=rad, fill=255))
    return val, shape


def make_crop(rng, nrng, ctx, rows, st):
    """The plate on a car body, warped, cropped, through the camera and localiser."""
    plate, shape = make_plate(rng, nrng, ctx, rows, st)
    ph, pw = plate.shape

    # Scene: car-body texture with the plate in the middle.
    mxs, mys = int(0.3 * ph + 0.12 * pw), int(0.7 * ph)
    H, W = ph + 2 * mys, pw + 2 * mxs
    base = u(rng, 25, 215)
    scene = np.full((H, W), base, np.float32)
    scene += low_freq(nrng, rng, H, W) * u(rng, 5, 35)
    for _ in range(rng.randint(0, 3)):
        y, t = rng.randint(0, H - 1), rng.randint(2, max(3, ph // 6))
        scene[y:y + t] += u(rng, -70, 70)
    if rng.random() < 0.5:
        # the recess or shadow around the plate
        o = max(1, int(ph * u(rng, 0.01, 0.06)))
        blend(scene, np.ones((ph + 2 * o, pw + 2 * o), np.float32) * u(rng, 0.3, 0.9),
              mxs - o + rng.randint(-o, o), mys - o + rng.randint(-o, o), u(rng, 0, 60))
    blend(scene, shape, mxs, mys, 0.0)  # cut the plate's shape ...
    scene[mys:mys + ph, mxs:mxs + pw] += plate * shape  # ... and put the plate in it
    np.clip(scene, 0, 255, out=scene)
    img = Image.fromarray(scene.astype(np.uint8))

    # Geometry: rotation, shear, perspective of the plate's corners.
    cx, cy = mxs + pw / 2.0, mys + ph / 2.0
    src = [(mxs, mys), (mxs + pw, mys), (mxs + pw, mys + ph), (mxs, mys + ph)]
    ang = math.radians(max(-8.0, min(8.0, rng.gauss(0, 3.0))))
    shear = max(-0.18, min(0.18, rng.gauss(0, 0.07)))
    persp = rng.gauss(0, 0.04)  # one side taller than the other
    ca, sa = math.cos(ang), math.sin(ang)
    dst = []
    for x, y in src:
        x, y = x - cx, y - cy
        y *= 1.0 + persp * (x / (pw / 2.0))
        x += shear * y
        x += rng.gauss(0, 0.01 * ph)
        y += rng.gauss(0, 0.015 * ph)
        dst.append((ca * x - sa * y, sa * x + ca * y))
    xs, ys = [p[0] for p in dst], [p[1] for p in dst]
    top, bottom = ph * u(rng, 0.02, 0.18), ph * u(rng, 0.02, 0.18)
    left, right = pw * u(rng, 0.005, 0.06), pw * u(rng, 0.005, 0.06)
    if rng.random() < 0.1:  # a tight localiser box that cuts the plate edge
        top, bottom = -ph * u(rng, 0, 0.04), -ph * u(rng, 0, 0.04)
    ox, oy = min(xs) - left, min(ys) - top
    ow = int(round(max(xs) + right - ox))
    oh = int(round(max(ys) + bottom - oy))
    dst = [(x - ox, y - oy) for x, y in dst]
    coeffs = homography(src, dst)
    img = img.transform((ow, oh), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=int(base))

    # Camera: down to a cap height of 12-25 px.
    cap = u(rng, 12.0, 25.0)
    f = cap / CAP
    nw, nh = max(8, int(round(ow * f))), max(6, int(round(oh * f)))
    img = img.resize((nw, nh), rng.choice([Image.BILINEAR, Image.BICUBIC, Image.BOX]))
    arr = np.asarray(img, np.float32)
    # Contrast and brightness; the plate keeps at least 60 grey levels of contrast.
    c, b = max(u(rng, 0.5, 1.25), 60.0 / max(1.0, abs(st["bg"] - st["ink"]))), u(rng, -45, 45)
    arr = (arr - 128.0) * c + 128.0 + b
    if rng.random() < 0.3:
        arr = 255.0 * (np.clip(arr, 0, 255) / 255.0) ** u(rng, 0.6, 1.6)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    # Blur and lower resolution, bounded so that the characters stay legible.
    sigma = u(rng, 0, 1.5) * min(1.0, cap / 20.0)
    if sigma > 0.2:
        img = img.filter(ImageFilter.GaussianBlur(sigma))
    if rng.random() < 0.3:
        k = u(rng, max(0.5, 11.0 / cap), 0.9)
        img = img.resize((max(4, int(nw * k)), max(4, int(nh * k))), Image.BILINEAR)
        img = img.resize((nw, nh), rng.choice([Image.BILINEAR, Image.NEAREST, Image.BICUBIC]))
    noise = u(rng, 0, 12)
    if noise > 1:
        arr = np.asarray(img, np.float32) + nrng.normal(0.0, noise, (nh, nw)).astype(np.float32)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.85:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=rng.randint(20, 90))
        buf.seek(0)
        img = Image.open(buf)
        img.load()
        img = img.convert("L")

    # Localiser: the crop scaled to 40-90 rows.
    out_h = int(round(max(40.0, min(90.0, rng.gauss(64, 10)))))
    out_w = max(16, int(round(nw * out_h / float(nh))))
    return img.resize((out_w, out_h), rng.choice([Image.BILINEAR, Image.BICUBIC]))


def homography(src, dst):
    """PIL PERSPECTIVE coefficients mapping output points dst to input points src."""
    a, bvec = [], []
    for (sx, sy), (dx, dy) in zip(src, dst):
        a.append([dx, dy, 1, 0, 0, 0, -sx * dx, -sx * dy])
        bvec.append(sx)
        a.append([0, 0, 0, dx, dy, 1, -sy * dx, -sy * dy])
        bvec.append(sy)
    return np.linalg.solve(np.array(a, float), np.array(bvec, float)).tolist()


# ---------------------------------------------------------------- one image

def light_style(rng):
    return u(rng, 165, 250), u(rng, 5, 75)


def font_image(rng, nrng, ctx):
    while True:
        country = rng.choices(ctx.countries, ctx.weights)[0]
        if rng.random() < plates.RANDOM_PROB:
            text = plates.random_line(rng)
        elif country == "US":
            text = plates.us_plate(rng)
        else:
            text = plates.render(rng.choice(ctx.formats[country]), country, rng)
        if label_of([text]):
            break
    us = country == "US"
    rows = split_rows(rng, text)
    face = rng.choice(ctx.faces)
    seps = Separators(rng)
    spacing = u(rng, -0.04, 0.22) * CAP
    sx = u(rng, 0.75, 1.1)
    masks = [squeeze(vary_weight(rng, font_row(rng, face, r, spacing, seps)), sx) for r in rows]
    dark = rng.random() < 0.15
    if dark:
        bg = u(rng, 30, 110)
        ink = u(rng, max(165.0, bg + 100), 245)
    else:
        bg, ink = light_style(rng)
    band = None
    if not us and rng.random() < 0.3:
        band = BAND_CODES.get(country, "") if rng.random() < 0.8 else ""
    st = {"bg": bg, "ink": ink, "us": us, "band": band, "dark": dark}
    return label_of(rows), make_crop(rng, nrng, ctx, masks, st)


def collage_image(rng, nrng, ctx):
    groups = ctx.glyph_groups
    while True:
        group = rng.choice(groups)
        pages = ctx.pages_by_group[group]
        have = ctx.group_chars[group]
        countries = [c for c in GLYPH_COUNTRIES.get(group, []) if c in ctx.formats]
        for _ in range(20):
            if not countries or rng.random() < plates.RANDOM_PROB:
                text = plates.random_line(rng)
            else:
                country = rng.choice(countries)
                text = plates.render(rng.choice(ctx.formats[country]), country, rng)
            chars = [c for c in text if c in ALNUM]
            if chars and all(c in have for c in chars):
                break
        else:
            continue
        break
    full = [p for p in pages if all(c in p.chars for c in chars)]
    if full:
        page = rng.choice(full)
        picks = [rng.choice(page.chars[c]) for c in chars]
        bg_page = page.bg
    else:
        picks = []
        for c in chars:
            page = rng.choice([p for p in pages if c in p.chars])
            picks.append(rng.choice(page.chars[c]))
        bg_page = float(np.median([p.bg for p in pages]))
    rows = split_rows(rng, text)
    seps = Separators(rng)
    spacing = u(rng, 0.06, 0.3) * CAP
    aspect = u(rng, 0.85, 1.1)
    mono = rng.random() < 0.5
    masks, k = [], 0
    for r in rows:
        n = sum(1 for c in r if c in ALNUM)
        masks.append(vary_weight(rng, glyph_row(rng, picks[k:k + n], r, spacing, seps, aspect, mono)))
        k += n
    bg = float(np.clip(bg_page * u(rng, 0.68, 1.0), 150, 255))
    ink = u(rng, 5, 70)
    band = None
    if group != "br" and rng.random() < 0.3:
        band = {"fr": "F", "gb": "GB"}.get(group, rng.choice(["D", "NL", "B", "SRB"])) if rng.random() < 0.8 else ""
    st = {"bg": bg, "ink": ink, "us": False, "band": band, "dark": False}
    return label_of(rows), make_crop(rng, nrng, ctx, masks, st)


class Context:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--formats", default=os.path.normpath(os.path.join(HERE, "..", "formats")))
    ap.add_argument("--fonts-dir", default="/work/shared/data/train/fonts")
    ap.add_argument("--glyphs", default="/work/shared/data/train/glyphs")
    ap.add_argument("--collage-share", type=float, default=0.3)
    args = ap.parse_args()

    t0 = time.time()
    ctx = Context()
    ctx.formats = plates.load_formats(args.formats)
    ctx.countries = sorted(ctx.formats)
    ctx.weights = [plates.WEIGHTS.get(c, plates.OTHER_WEIGHT) for c in ctx.countries]
    ctx.faces, missing = find_fonts(args.fonts_dir)
    if not ctx.faces:
        sys.exit("render.py: no fonts found")
    for m in missing:
        print("render.py: font not installed, skipped: " + m, file=sys.stderr)
    share = args.collage_share
    pages = load_glyphs(args.glyphs) if share > 0 and os.path.isdir(args.glyphs) else []
    ctx.pages_by_group = {}
    for p in pages:
        ctx.pages_by_group.setdefault(p.group, []).append(p)
    ctx.glyph_groups = sorted(ctx.pages_by_group)
    ctx.group_chars = {g: set(c for p in ps for c in p.chars) for g, ps in ctx.pages_by_group.items()}
    if share > 0 and not pages:
        print("render.py: no glyph pages in %s, fonts only" % args.glyphs, file=sys.stderr)
        share = 0.0
    print("render.py: %d faces, %d glyph pages (%d characters), %.1f s"
          % (len(ctx.faces), len(pages), sum(len(v) for p in pages for v in p.chars.values()),
             time.time() - t0), file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    rows = []
    for i in range(args.count):
        r = random.Random(rng.getrandbits(64))
        nrng = np.random.default_rng(r.getrandbits(64))
        if share > 0 and r.random() < share:
            label, img = collage_image(r, nrng, ctx)
        else:
            label, img = font_image(r, nrng, ctx)
        name = "%06d.png" % i
        img.save(os.path.join(args.out, name), format="PNG")
        rows.append((name, label))
        if (i + 1) % 500 == 0:
            print("render.py: %d / %d images, %.1f s" % (i + 1, args.count, time.time() - t0), file=sys.stderr)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["image", "plate_text"])
        w.writerows(rows)
    print("render.py: %d images in %s, %.1f s" % (args.count, args.out, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
