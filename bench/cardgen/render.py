"""Draw business cards: several layouts, Chinese and Latin fonts from Debian packages, shape logos.

A card is 1050 x 600 px (90 x 54 mm at ~300 dpi). ``render_side(persona,
lang, layout, rng)`` returns one printed side; ``lang`` is "zh", "en" or "bi"
(each field printed in Chinese with the English beneath, as on many
mainland cards). Fonts come from fonts-noto-cjk, fonts-wqy-zenhei,
fonts-dejavu-core and fonts-liberation2.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.cardgen.identity import Persona

W, H = 1050, 600
LAYOUTS = ("classic", "centered", "band", "two_column", "inline")

_CJK = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
]
_LATIN = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf", 0),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", 0),
]
_LATIN_BOLD = [
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf", 0),
    ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf", 0),
]


def available(fonts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [f for f in fonts if Path(f[0]).exists()]


@cache
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


@dataclass(frozen=True, slots=True)
class Style:
    """The typographic choices of one card."""

    cjk: tuple[str, int]
    latin: tuple[str, int]
    latin_bold: tuple[str, int]
    ink: tuple[int, int, int]
    accent: tuple[int, int, int]
    paper: tuple[int, int, int]

    @classmethod
    def pick(cls, rng: random.Random) -> Style:
        accent = rng.choice([(180, 30, 40), (20, 70, 150), (0, 120, 90), (200, 110, 0), (90, 40, 130), (30, 30, 30)])
        paper = rng.choice([(255, 255, 255), (250, 248, 240), (245, 247, 250), (255, 253, 245)])
        ink = rng.choice([(20, 20, 20), (40, 40, 50), (30, 35, 60)])
        return cls(rng.choice(available(_CJK)), rng.choice(available(_LATIN)), rng.choice(available(_LATIN_BOLD)), ink, accent, paper)


class _Pen:
    """Draws lines of mixed text, shrinking a line until it fits its width."""

    def __init__(self, image: Image.Image, style: Style) -> None:
        self.draw = ImageDraw.Draw(image)
        self.style = style

    def font(self, text: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        cjk = any("\u3400" <= ch <= "\u9fff" for ch in text)
        path, index = self.style.cjk if cjk else (self.style.latin_bold if bold else self.style.latin)
        if cjk and bold and "Regular" in path and Path(path.replace("Regular", "Bold")).exists():
            path = path.replace("Regular", "Bold")
        return _font(path, index, size)

    def text(self, xy: tuple[float, float], text: str, size: int, *, max_w: float, anchor: str = "la",
             bold: bool = False, fill: tuple[int, int, int] | None = None) -> float:
        """Draw ``text``; return the height used."""
        font = self.font(text, size, bold)
        while font.getlength(text) > max_w and size > 12:
            size -= 1
            font = self.font(text, size, bold)
        self.draw.text(xy, text, font=font, fill=fill or self.style.ink, anchor=anchor)
        return size * 1.45


def draw_logo(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], color: tuple[int, int, int], rng: random.Random, initial: str) -> None:
    """A logo made of shapes: ring, triangle mark, star or monogram tile."""
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) / 2
    kind = rng.choice(["ring", "triangle", "star", "tile", "bars"])
    if kind == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=max(4, int(r / 5)))
        draw.ellipse((cx - r / 3, cy - r / 3, cx + r / 3, cy + r / 3), fill=color)
    elif kind == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=color)
        draw.polygon([(cx, cy - r * 0.2), (cx + r * 0.45, cy + r * 0.6), (cx - r * 0.45, cy + r * 0.6)], fill=(255, 255, 255))
    elif kind == "star":
        pts = [(cx + (r if i % 2 == 0 else r / 2.3) * math.cos(math.pi / 5 * i - math.pi / 2),
                cy + (r if i % 2 == 0 else r / 2.3) * math.sin(math.pi / 5 * i - math.pi / 2)) for i in range(10)]
        draw.polygon(pts, fill=color)
    elif kind == "tile":
        draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=r / 4, fill=color)
        font = _font("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0, int(r * 1.1))
        draw.text((cx, cy), initial, font=font, fill=(255, 255, 255), anchor="mm")
    else:
        for i in range(3):
            h = r * (0.8 + 0.6 * i)
            draw.rectangle((cx - r + i * r * 0.7, cy + r - h, cx - r + i * r * 0.7 + r * 0.5, cy + r), fill=color)


def _contact_lines(p: Persona, lang: str, rng: random.Random) -> list[str]:
    zh = lang == "zh" or (lang == "bi" and rng.random() < 0.5)
    L = ({"m": "手机:", "t": "电话:", "f": "传真:", "e": "邮箱:", "w": "网址:", "wx": "微信:", "qq": "QQ:"} if zh else
         rng.choice([{"m": "M:", "t": "T:", "f": "F:", "e": "E:", "w": "W:", "wx": "WeChat:", "qq": "QQ:"},
                     {"m": "Mobile:", "t": "Tel:", "f": "Fax:", "e": "Email:", "w": "Web:", "wx": "WeChat:", "qq": "QQ:"}]))
    lines = [f"{L['m']} {p.mobile}"]
    if p.office and p.fax and rng.random() < 0.5:
        lines.append(f"{L['t']} {p.office}   {L['f']} {p.fax}")
    else:
        lines += [f"{L['t']} {p.office}"] if p.office else []
        lines += [f"{L['f']} {p.fax}"] if p.fax else []
    lines.append(f"{L['e']} {p.email}")
    if p.website:
        lines.append(f"{L['w']} {p.website}")
    if p.wechat and p.qq and rng.random() < 0.5:
        lines.append(f"{L['wx']} {p.wechat}   {L['qq']} {p.qq}")
    else:
        lines += [f"{L['wx']} {p.wechat}"] if p.wechat else []
        lines += [f"{L['qq']} {p.qq}"] if p.qq else []
    return lines


def _fields(p: Persona, lang: str) -> dict[str, list[str]]:
    """Printed strings per field; bilingual cards print the Chinese then the English."""
    zh = {"name": [p.name_zh], "title": [p.title_zh], "company": [p.company_zh],
          "department": [p.department_zh] if p.department_zh else [], "address": ["地址: " + p.address_zh[0], p.address_zh[1]]}
    en = {"name": [p.name_en], "title": [p.title_en], "company": [p.company_en],
          "department": [p.department_en] if p.department_en else [], "address": list(p.address_en)}
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    out = {k: zh[k] + (en[k] if k != "name" or p.name_en != p.name_zh else []) for k in zh}
    out["address"] = zh["address"]  # the English address goes on the back of two-sided cards only
    return out


def render_side(p: Persona, lang: str, layout: str, rng: random.Random) -> Image.Image:
    """One printed side of a card."""
    style = Style.pick(rng)
    img = Image.new("RGB", (W, H), style.paper)
    pen = _Pen(img, style)
    f = _fields(p, lang)
    contacts = _contact_lines(p, lang, rng)
    initial = (p.company_en.split()[1] if len(p.company_en.split()) > 1 else p.company_en)[0]
    name_size = rng.randint(50, 64)
    small = rng.randint(21, 25)
    if layout == "centered":
        draw_logo(pen.draw, (W // 2 - 40, 25, W // 2 + 40, 105), style.accent, rng, initial)
        y = 120.0
        for s in f["company"]:
            y += pen.text((W / 2, y), s, 28, max_w=W - 80, anchor="ma", fill=style.accent)
        y += 6
        y += pen.text((W / 2, y), f["name"][0], name_size - 6, max_w=W - 200, anchor="ma", bold=True)
        for s in f["title"] + f["department"]:
            y += pen.text((W / 2, y), s, small + 2, max_w=W - 100, anchor="ma")
        pen.draw.line((120, y + 4, W - 120, y + 4), fill=style.accent, width=2)
        y += 14
        for s in contacts + f["address"]:
            y += pen.text((W / 2, y), s, small - 3, max_w=W - 60, anchor="ma") * 0.92
    elif layout == "band":
        pen.draw.rectangle((0, 0, 230, H), fill=style.accent)
        draw_logo(pen.draw, (65, 60, 165, 160), (255, 255, 255), rng, initial)
        x, y = 270.0, 40.0
        y += pen.text((x, y), f["name"][0], name_size, max_w=W - x - 30, bold=True)
        for s in f["title"] + f["department"]:
            y += pen.text((x, y), s, small + 3, max_w=W - x - 30)
        for s in f["company"]:
            y += pen.text((x, y), s, small + 1, max_w=W - x - 30, fill=style.accent)
        y += 10
        for s in contacts + f["address"]:
            y += pen.text((x, y), s, small - 3, max_w=W - x - 30) * 0.95
    elif layout == "two_column":
        x, y = 50.0, 45.0
        y += pen.text((x, y), f["name"][0], name_size, max_w=430, bold=True)
        for s in f["title"] + f["department"]:
            y += pen.text((x, y), s, small + 2, max_w=430)
        cy = 50.0
        for s in contacts:
            cy += pen.text((520, cy), s, small - 2, max_w=W - 550)
        y = max(y, cy) + 8
        for s in f["address"]:
            y += pen.text((50, y), s, small - 3, max_w=W - 100)
        pen.draw.rectangle((0, H - 80, W, H), fill=style.accent)
        draw_logo(pen.draw, (30, H - 72, 94, H - 8), (255, 255, 255), rng, initial)
        pen.text((110, H - 62), f["company"][0], 30, max_w=W - 140, fill=(255, 255, 255))
    else:  # classic / inline: logo and company on top, name, contacts below
        draw_logo(pen.draw, (40, 35, 130, 125), style.accent, rng, initial)
        y = 45.0
        for s in f["company"]:
            y += pen.text((150, y), s, 30 if s is f["company"][0] else 22, max_w=W - 190, fill=style.accent)
        y = max(y, 140.0) + 10
        if layout == "inline":
            head = f"{f['name'][0]}  |  {f['title'][0]}" if rng.random() < 0.5 else f"{f['name'][0]}   {f['title'][0]}"
            y += pen.text((60, y), head, name_size - 14, max_w=W - 120, bold=True)
            rest = f["title"][1:] + f["department"]
        else:
            y += pen.text((60, y), f["name"][0], name_size, max_w=W - 120, bold=True)
            rest = f["title"] + f["department"]
        for s in rest:
            y += pen.text((60, y), s, small + 2, max_w=W - 120)
        y += 8
        for s in contacts + f["address"]:
            y += pen.text((60, y), s, small - 3, max_w=W - 120) * 0.95
    if y > H - 10 and layout != "two_column":  # too much text for the layout: print it smaller
        return _shrunk(p, lang, layout, rng, img)
    return img


def _shrunk(p: Persona, lang: str, layout: str, rng: random.Random, img: Image.Image) -> Image.Image:
    """Fall back to the two-column layout, which fits the most text."""
    return render_side(p, lang, "two_column", rng) if layout != "two_column" else img


def render_back_en(p: Persona, rng: random.Random) -> Image.Image:
    """The English back of a two-sided card."""
    return render_side(p, "en", rng.choice(LAYOUTS), rng)
