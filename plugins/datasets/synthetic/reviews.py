"""Reviews the synthetic users write: rating, summary and text.

Reviews talk about the item and the user's content taste (brand, colour), never about
the persona: review text is model input, and the community must stay invisible to
text-only models.
"""

from __future__ import annotations

import numpy as np

from regen_bench_plugins.datasets.synthetic.catalogue import BRANDS, COLOURS, CatalogueItem
from regen_bench_plugins.datasets.synthetic.users import DAY, PurchaseEvent, Taste

_RATING_P = np.array([0.07, 0.05, 0.10, 0.23, 0.55])
_RATING_P_LIKED = np.array([0.03, 0.03, 0.07, 0.22, 0.65])

_SUMMARIES = {
    5: ("Five Stars", "Love these {noun}", "Great {noun}", "Exactly what I needed", "Perfect"),
    4: ("Four Stars", "Good {noun}", "Solid choice", "Works well"),
    3: ("Three Stars", "Okay", "Does the job", "Average {noun}"),
    2: ("Two Stars", "Disappointed", "Not great"),
    1: ("One Star", "Poor quality", "Would not buy again"),
}
_QUALITY = {
    5: ("Works perfectly and arrived quickly.", "Excellent quality for the price.", "Could not be happier with these {noun}."),
    4: ("Good quality for the price.", "Does what it should, with minor quibbles.", "Solid {noun}, I would buy again."),
    3: ("It's okay, nothing special.", "Fine for the price, but not great.", "Average {noun}; they do the job."),
    2: ("Quality could be better.", "Not as sturdy as I expected.", "The {noun} feel cheap."),
    1: ("Fell apart within a week.", "Did not work as described.", "Returned these {noun}."),
}
_LOYAL_BRAND = ("I always go back to {brand}, and this was no exception.", "{brand} rarely lets me down.",
                "Another {brand} purchase; I trust the brand.")
_NEW_BRAND = ("First time trying {brand}.", "{brand} was new to me.", "")
_LOVED_COLOUR = ("The {colour} looks great; {colour} is my favourite.", "Love the {colour} colour.",
                 "Glad it comes in {colour}.")
_OTHER_COLOUR = ("The {colour} finish is fine.", "", "Colour is {colour}, as pictured.")
_DESCRIPTOR = ("The {desc} design is handy.", "Nice that it is {desc}.", "")


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(0, len(options)))]


def write_review(rng: np.random.Generator, item: CatalogueItem, event: PurchaseEvent, taste: Taste) -> dict:
    liked = item.brand == taste.brand or item.colour == taste.colour
    rating = int(rng.choice(5, p=_RATING_P_LIKED if liked else _RATING_P)) + 1
    noun = item.leaf_spec.phrase
    fill = {
        "noun": noun,
        "brand": BRANDS[item.brand],
        "colour": COLOURS[item.colour],
        "desc": item.descriptor.lower(),
    }
    sentences = [
        _pick(rng, _QUALITY[rating]),
        _pick(rng, _LOYAL_BRAND if item.brand == taste.brand else _NEW_BRAND),
        _pick(rng, _LOVED_COLOUR if item.colour == taste.colour else _OTHER_COLOUR),
        _pick(rng, _DESCRIPTOR),
    ]
    text = " ".join(s.format(**fill) for s in sentences if s)
    return {
        "summary": _pick(rng, _SUMMARIES[rating]).format(**fill),
        "rating": rating,
        "text": text,
        "unix_time": event.day * DAY,
    }
