"""Narratives and critiques: the reference texts of the benchmark's tasks.

Every narrative mixes three kinds of content words:
  * persona phrases (from the user's community: visible to a model only through
    co-purchase structure),
  * taste words (favourite group, brand, colour: visible in the history's item text),
  * item words (history and target items: visible to every model).
Template variants and synonyms are drawn by the rng so texts are not identical, but
each variant keeps its persona and taste words.
"""

from __future__ import annotations

import numpy as np

from regen_bench_plugins.datasets.synthetic.catalogue import (
    BRAND_STYLES,
    BRANDS,
    COLOUR_STYLES,
    COLOURS,
    GROUPS,
    CatalogueItem,
)
from regen_bench_plugins.datasets.synthetic.personas import Persona
from regen_bench_plugins.datasets.synthetic.users import Critique, Taste


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(0, len(options)))]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _a(word: str) -> str:
    """The indefinite article for `word`."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _taste_words(rng, taste: Taste) -> dict[str, str]:
    return {
        "group": _pick(rng, GROUPS[taste.group].phrases),
        "care": _pick(rng, GROUPS[taste.group].cares),
        "brand": BRANDS[taste.brand],
        "colour": COLOURS[taste.colour],
        "a_brand": _a(BRANDS[taste.brand]),
        "style": BRAND_STYLES[taste.brand],
        "shade": COLOUR_STYLES[taste.colour],
    }


def _item_words(item: CatalogueItem) -> dict[str, str]:
    leaf = item.leaf_spec
    plural = leaf.plural
    return {
        "name": f"{BRANDS[item.brand]} {leaf.noun.lower()}",
        "noun": leaf.phrase,
        "icolour": COLOURS[item.colour],
        "ibrand": BRANDS[item.brand],
        "desc": item.descriptor.lower(),
        "a_ibrand": _a(BRANDS[item.brand]),
        "a_icolour": _a(COLOURS[item.colour]),
        "this": "these" if plural else "this",
        "is": "are" if plural else "is",
    }


def history_nouns(rng, history: list[CatalogueItem], taste: Taste, most: int = 3) -> list[str]:
    """2 or 3 distinct category nouns of the history: the favourite group's first, most recent first."""
    ordered = [item for item in reversed(history) if item.group == taste.group]
    ordered += [item for item in reversed(history) if item.group != taste.group]
    nouns: list[str] = []
    for item in ordered:
        if item.leaf_spec.phrase not in nouns:
            nouns.append(item.leaf_spec.phrase)
    keep = int(rng.integers(2, most + 1))
    return nouns[:keep]


# --- user.long_summary ---------------------------------------------------------------

_S_PERSONA = (
    "This customer appears to be {who}, {activity}.",
    "Their purchase history suggests {who}, {activity}.",
    "This user looks like {who}, usually {activity}.",
)
_S_GROUP = (
    "They mostly buy {group}, and their history includes {nouns}; they care about {care}.",
    "Most of their spending goes to {group}, alongside {nouns}, and they look for {care}.",
    "Their shopping centres on {group}; they have bought {nouns} and value {care}.",
)
_S_STYLE = (
    "They show a clear preference for {brand} and its {style}, and usually pick {shade} when there is a choice.",
    "{brand}, with its {style}, is their go-to brand, and {shade} is the colour they reach for most often.",
    "They favour the {brand} brand for its {style} and lean towards {shade} items.",
    "They stay loyal to {brand} and its {style}, and like their supplies in {shade}.",
)
_ORDERS = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 1, 3, 2))


def long_summary(rng, persona: Persona, taste: Taste, history: list[CatalogueItem]) -> str:
    words = _taste_words(rng, taste)
    sentences = [
        _pick(rng, _S_PERSONA).format(who=_pick(rng, persona.who), activity=_pick(rng, persona.activity)),
        _pick(rng, _S_GROUP).format(nouns=_join(history_nouns(rng, history, taste)), **words),
        _cap(_pick(rng, _S_STYLE).format(**words)),
        _pick(rng, persona.need),
    ]
    return " ".join(sentences[i] for i in _pick(rng, _ORDERS))


# --- user.profile ----------------------------------------------------------------------

_PROFILE = (
    "{label} who favours {brand} {group} in {shade}.",
    "{label}; prefers {brand}'s {style} and {shade} {group}.",
    "{label} buying {group}, loyal to {brand}, partial to {shade}.",
    "{label} with a taste for {shade} {group} from {brand}.",
)


def profile(rng, persona: Persona, taste: Taste) -> str:
    return _pick(rng, _PROFILE).format(label=persona.label, **_taste_words(rng, taste))


# --- critiques ---------------------------------------------------------------------------

_CRITIQUE = {
    "colour": (
        "I'd prefer {a_icolour} {icolour} one.",
        "Do you have {noun} like this in {icolour}?",
        "Something similar in {icolour}, please.",
        "Could I get this in {icolour} instead?",
    ),
    "brand": (
        "Do you have something from {ibrand} instead?",
        "I'd rather have {noun} from {ibrand}.",
        "Is there {a_ibrand} {ibrand} version of this?",
        "Show me {ibrand} {noun} instead.",
    ),
    "both": (
        "Do you have {ibrand} {noun} in {icolour}?",
        "I'd like {a_icolour} {icolour} one from {ibrand} instead.",
    ),
}


def critique_text(rng, critique: Critique, item: CatalogueItem) -> str:
    """What the user said to get from `critique.previous` to `item`; names item's colour/brand."""
    return _pick(rng, _CRITIQUE[critique.kind]).format(**_item_words(item))


# --- last_purchase.purchase_reason -------------------------------------------------------


def _fit_clause(rng, taste: Taste, item: CatalogueItem, words: dict[str, str]) -> str:
    matches = []
    if item.brand == taste.brand:
        matches.append(_pick(rng, ("their loyalty to {brand} and its {style}", "their trust in {brand}'s {style}")))
    if item.colour == taste.colour:
        matches.append(_pick(rng, ("their preference for {shade}", "their fondness for {shade}")))
    if item.group == taste.group:
        matches.append(_pick(rng, ("their focus on {group}", "their steady interest in {group}")))
    if matches:
        return ("which fits " + _join(matches)).format(**words)
    return _pick(
        rng,
        ("even though they usually favour {shade} {group} from {brand}",
         "a step away from their usual {brand} {group} in {shade}"),
    ).format(**words)


_REASON = (
    "As {who}, they bought the {name} in {icolour} {use}, {fit}.",
    "They needed {noun} {use}, so they chose the {name} in {icolour}, {fit}.",
    "Being {who}, they picked {this} {name} in {icolour} {use}, {fit}.",
)
_REASON_CRITIQUE = {
    "colour": ("They had the {pcolour} {pname} but asked for {icolour} instead.",
               "After the {pcolour} {pname}, they asked for something in {icolour}."),
    "brand": ("They had the {pbrand} {pnoun} but asked for {ibrand} instead.",
              "After the {pbrand} {pnoun}, they asked for something from {ibrand}."),
    "both": ("They had the {pcolour} {pbrand} {pnoun} but asked for {icolour} from {ibrand} instead.",
             "After the {pcolour} {pbrand} {pnoun}, they asked for {icolour} from {ibrand}."),
}


def purchase_reason(
    rng, persona: Persona, taste: Taste, target: CatalogueItem, critique: Critique | None, previous: CatalogueItem | None
) -> str:
    words = _taste_words(rng, taste)
    item = _item_words(target)
    text = _pick(rng, _REASON).format(
        who=_pick(rng, persona.who), use=_pick(rng, persona.use), fit=_fit_clause(rng, taste, target, words), **item
    )
    if critique is not None and previous is not None:
        before = _pick(rng, _REASON_CRITIQUE[critique.kind]).format(
            pcolour=COLOURS[previous.colour],
            pbrand=BRANDS[previous.brand],
            pnoun=previous.leaf_spec.noun.lower(),
            pname=f"{BRANDS[previous.brand]} {previous.leaf_spec.noun.lower()}",
            **item,
        )
        text = f"{before} {text}"
    return text


# --- last_purchase.endorsement -----------------------------------------------------------


def _match_bit(rng, taste: Taste, item: CatalogueItem, words: dict[str, str]) -> str:
    brand = item.brand == taste.brand
    colour = item.colour == taste.colour
    if brand and colour:
        options = ("{a_brand} {brand} pick in your favourite {colour}", "{brand} quality you trust in the {colour} you love")
    elif brand:
        options = ("from {brand}, the brand you trust", "made by {brand}, your go-to brand")
    elif colour:
        options = ("finished in the {colour} you prefer", "in your favourite colour, {colour}")
    else:
        options = ("a fresh alternative to your usual {colour} {brand} {group}",
                   "worth a try next to your usual {brand} {group} in {colour}")
    return _pick(rng, options).format(**words)


_ENDORSE = (
    "{This} {name} in {icolour} {is} a great fit for {audience}: {desc}, and {match}.",
    "Perfect for {audience}: the {desc} {name} in {icolour}, {match}.",
    "If you need {noun} for {audience}, try the {name} in {icolour}: {desc}, and {match}.",
)


def endorsement(rng, persona: Persona, taste: Taste, target: CatalogueItem) -> str:
    words = _taste_words(rng, taste)
    item = _item_words(target)
    return _pick(rng, _ENDORSE).format(
        This=_cap(item["this"]), audience=_pick(rng, persona.audience), match=_match_bit(rng, taste, target, words), **item
    )
