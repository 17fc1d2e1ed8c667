"""The synthetic office-products catalogue: vocabulary and item generation.

Every item is a combination of content attributes (leaf category, brand, colour,
descriptor, pack) drawn independently of the co-purchase community that owns it, so
an item's text says nothing about its community. Titles carry no model numbers:
the only words in a title are attributes that many other items share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ROOT = "Office Products"
SUPPLIES = f"{ROOT} - Office & School Supplies"
ELECTRONICS = f"{ROOT} - Office Electronics"
FURNITURE = f"{ROOT} - Office Furniture & Lighting"


@dataclass(frozen=True)
class Group:
    """A content-taste group: several leaf categories a user may favour."""

    key: str
    phrases: tuple[str, ...]  # how narratives name it
    cares: tuple[str, ...]  # what a user who favours it looks for (noun phrases)


@dataclass(frozen=True)
class Leaf:
    key: str
    group: str
    path: str  # REGEN-style category path
    noun: str  # title noun, title case, as sold ("Gel Pens", "Desk Chair")
    plural: bool  # whether `noun` is a plural (for "these ... are" / "this ... is")
    descriptors: tuple[str, ...]
    packs: tuple[str, ...]  # "" means no pack or size in the title
    price: tuple[float, float]  # typical price range in dollars
    weight: float  # relative number of catalogue items

    @property
    def phrase(self) -> str:
        """How narratives name the category: plural or mass noun, lower case."""
        noun = self.noun.lower()
        return noun if self.plural or self.key in _MASS_NOUNS else noun + "s"


GROUPS: tuple[Group, ...] = (
    Group("writing", ("writing supplies", "pens and markers", "writing instruments"),
          ("pens that write smoothly", "smooth ink and comfortable grips", "pens and markers that never skip")),
    Group("paper", ("paper and notebooks", "paper goods", "notebooks and paper"),
          ("bright paper and sturdy notebooks", "paper that takes ink without bleeding", "notebooks with good paper")),
    Group("organisation", ("filing and organising supplies", "desk and filing supplies", "organising supplies"),
          ("folders and binders that keep papers filed", "a tidy, well-organised desk", "paperwork filed and labelled")),
    Group("shipping", ("mailing and shipping supplies", "shipping supplies", "mailing supplies"),
          ("strong tape and padded mailers", "sturdy boxes and mailers", "mailers that protect what they send")),
    Group("electronics", ("office electronics", "office machines", "electronic office gear"),
          ("reliable machines with clear displays", "electronics that save time at the desk", "dependable machines and ink")),
    Group("furniture", ("office furniture and lighting", "furniture and lighting", "workspace furniture"),
          ("comfortable seating and good lighting", "a comfortable, well-lit workspace", "ergonomic furniture for long hours")),
)
GROUP_INDEX = {group.key: i for i, group in enumerate(GROUPS)}

_MASS_NOUNS = ("correction_tape", "copy_paper", "packing_tape")
_W = f"{SUPPLIES} - Writing & Correction Supplies"
LEAVES: tuple[Leaf, ...] = (
    # writing
    Leaf("gel_pens", "writing", f"{_W} - Pens & Refills - Gel Pens", "Gel Pens", True,
         ("Retractable", "Fine Point 0.5mm", "Medium Point 0.7mm", "Quick-Dry"), ("4 Pack", "12 Pack", "24 Count"), (4, 16), 1.4),
    Leaf("ballpoint_pens", "writing", f"{_W} - Pens & Refills - Ballpoint Pens", "Ballpoint Pens", True,
         ("Stick", "Retractable", "Comfort Grip", "Bold Point 1.6mm"), ("10 Pack", "12 Pack", "60 Count"), (3, 14), 1.3),
    Leaf("pencils", "writing", f"{_W} - Pencils - Wood Pencils", "Wood Pencils", True,
         ("Pre-Sharpened #2", "HB Graphite", "Latex-Free Eraser"), ("12 Count", "24 Count", "96 Count"), (3, 18), 1.1),
    Leaf("highlighters", "writing", f"{_W} - Markers & Highlighters - Highlighters", "Highlighters", True,
         ("Chisel Tip", "Pocket", "Smear-Proof"), ("5 Pack", "12 Pack", "24 Count"), (4, 15), 1.1),
    Leaf("permanent_markers", "writing", f"{_W} - Markers & Highlighters - Permanent Markers", "Permanent Markers", True,
         ("Fine Point", "Ultra Fine", "Chisel Tip"), ("4 Pack", "12 Pack", "36 Count"), (5, 20), 1.0),
    Leaf("dry_erase_markers", "writing", f"{_W} - Markers & Highlighters - Dry Erase Markers", "Dry Erase Markers", True,
         ("Low Odor", "Chisel Tip", "Fine Tip Magnetic"), ("4 Pack", "8 Pack", "12 Count"), (5, 18), 0.9),
    Leaf("correction_tape", "writing", f"{_W} - Correction Supplies - Correction Tape", "Correction Tape", False,
         ("Tear-Resistant", "Compact", "Refillable"), ("2 Pack", "6 Pack", "10 Count"), (4, 14), 0.7),
    # paper
    Leaf("notebooks", "paper", f"{SUPPLIES} - Paper - Notebooks & Writing Pads - Wirebound Notebooks", "Spiral Notebooks", True,
         ("Medium Ruled", "Wide Ruled", "Graph Ruled", "Dotted"), ("3 Pack", "5 Pack", "8.5 x 11 in, 3 Pack"), (5, 22), 1.3),
    Leaf("writing_pads", "paper", f"{SUPPLIES} - Paper - Notebooks & Writing Pads - Writing Pads", "Legal Pads", True,
         ("Perforated", "Narrow Ruled", "Letter Size"), ("6 Pack", "12 Pack", "50 Sheets, 4 Pack"), (6, 24), 1.0),
    Leaf("copy_paper", "paper", f"{SUPPLIES} - Paper - Copy & Multipurpose Paper", "Copy Paper", False,
         ("Multipurpose 20 lb", "Bright 24 lb", "Recycled"), ("1 Ream", "3 Reams", "10 Reams, 5000 Sheets"), (8, 55), 1.1),
    Leaf("sticky_notes", "paper", f"{SUPPLIES} - Paper - Sticky Notes", "Sticky Notes", True,
         ("3 x 3 in", "Super Sticky", "Lined 4 x 6 in"), ("6 Pads", "12 Pads", "24 Pads"), (4, 20), 1.2),
    # organisation
    Leaf("file_folders", "organisation", f"{SUPPLIES} - Filing Products - File Folders", "File Folders", True,
         ("1/3 Cut Tab", "Letter Size", "Reinforced Tab"), ("12 Pack", "24 Pack", "100 Count"), (7, 30), 1.1),
    Leaf("binders", "organisation", f"{SUPPLIES} - Binders & Binding Systems - Binders", "Binder", False,
         ("1 Inch View", "2 Inch D-Ring", "3 Ring Heavy Duty"), ("", "2 Pack", "4 Pack"), (4, 25), 1.1),
    Leaf("desk_organizers", "organisation", f"{SUPPLIES} - Desk Accessories & Workspace Organizers - Desk Organizers", "Desk Organizer", False,
         ("Mesh", "5-Compartment", "Rotating"), ("", "Set of 2", "Set of 3"), (10, 35), 1.0),
    Leaf("staplers", "organisation", f"{SUPPLIES} - Desk Accessories & Workspace Organizers - Staplers & Punches - Staplers", "Stapler", False,
         ("Desktop", "Jam-Free", "Full Strip"), ("", "with 1000 Staples", "20 Sheet Capacity"), (6, 28), 0.9),
    Leaf("labels", "organisation", f"{SUPPLIES} - Labels, Indexes & Stamps - Labels & Stickers", "Labels", True,
         ("Removable", "Color Coding Dot", "Address 1 x 2-5/8 in"), ("300 Count", "750 Count", "3000 Count"), (5, 25), 1.0),
    # shipping
    Leaf("envelopes", "shipping", f"{SUPPLIES} - Envelopes, Mailers & Shipping Supplies - Envelopes", "Envelopes", True,
         ("#10 Security Tint", "Self-Seal", "Catalog 9 x 12 in"), ("50 Count", "100 Count", "500 Count"), (6, 35), 1.0),
    Leaf("bubble_mailers", "shipping", f"{SUPPLIES} - Envelopes, Mailers & Shipping Supplies - Mailers - Bubble Mailers", "Bubble Mailers", True,
         ("Padded 6 x 10 in", "Poly 8.5 x 12 in", "Self-Seal Padded"), ("25 Pack", "50 Pack", "100 Pack"), (9, 40), 1.0),
    Leaf("shipping_boxes", "shipping", f"{SUPPLIES} - Envelopes, Mailers & Shipping Supplies - Shipping Boxes", "Shipping Boxes", True,
         ("Corrugated 12 x 9 x 6 in", "Small Moving", "Literature Mailer"), ("10 Pack", "25 Pack", "50 Pack"), (14, 48), 0.8),
    Leaf("packing_tape", "shipping", f"{SUPPLIES} - Tape, Adhesives & Fasteners - Tape - Packing Tape", "Packing Tape", False,
         ("Heavy Duty", "Crystal Clear", "with Dispenser"), ("2 Rolls", "6 Rolls", "12 Rolls"), (6, 30), 0.9),
    Leaf("postal_scales", "shipping", f"{SUPPLIES} - Envelopes, Mailers & Shipping Supplies - Postal Scales", "Postal Scale", False,
         ("Digital 50 lb", "Table Top 25 lb", "Compact 11 lb"), ("", "", "with AC Adapter"), (15, 45), 0.5),
    # electronics
    Leaf("calculators", "electronics", f"{ELECTRONICS} - Calculators - Basic Calculators", "Calculator", False,
         ("Desktop 12-Digit", "Solar Pocket", "Large Display"), ("", "", "2 Pack"), (6, 30), 0.8),
    Leaf("label_makers", "electronics", f"{ELECTRONICS} - Office Machines - Label Makers", "Label Maker", False,
         ("Handheld", "Bluetooth", "QWERTY Keyboard"), ("", "with 2 Tapes", "with Carry Case"), (20, 60), 0.6),
    Leaf("shredders", "electronics", f"{ELECTRONICS} - Office Machines - Paper Shredders", "Paper Shredder", False,
         ("8-Sheet Cross-Cut", "12-Sheet Micro-Cut", "Strip-Cut"), ("", "", "with 5 Gallon Bin"), (30, 90), 0.5),
    Leaf("ink", "electronics", f"{ELECTRONICS} - Printers & Accessories - Printer Ink & Toner - Inkjet Printer Ink", "Ink Cartridges", True,
         ("High Yield", "Standard Yield", "Remanufactured"), ("2 Pack", "4 Pack", "Combo Pack"), (15, 60), 0.9),
    # furniture
    Leaf("desk_lamps", "furniture", f"{FURNITURE} - Lamps & Lighting - Desk Lamps", "Desk Lamp", False,
         ("LED Dimmable", "Swing Arm", "Clamp-On"), ("", "", "with USB Port"), (18, 55), 0.7),
    Leaf("desk_chairs", "furniture", f"{FURNITURE} - Chairs & Sofas - Desk Chairs", "Desk Chair", False,
         ("Ergonomic Mesh", "High-Back", "Mid-Back Task"), ("", "", "with Lumbar Support"), (60, 220), 0.6),
    Leaf("chair_mats", "furniture", f"{FURNITURE} - Furniture Accessories - Chair Mats", "Chair Mat", False,
         ("Carpet 36 x 48 in", "Hard Floor", "Anti-Slip"), ("", "", ""), (25, 70), 0.5),
)
LEAF_INDEX = {leaf.key: i for i, leaf in enumerate(LEAVES)}
LEAF_GROUP = np.array([GROUP_INDEX[leaf.group] for leaf in LEAVES])

BRANDS: tuple[str, ...] = (
    "Avalon", "Brightwell", "Dovetail", "Evermark", "Fairhaven", "Granite", "Halcyon", "Inkwell",
    "Juniper", "Kestrel", "Lumina", "Meridian", "Northwind", "Oakridge", "Pinnacle",
)
COLOURS: tuple[str, ...] = (
    "black", "white", "blue", "red", "green", "purple", "pink", "orange", "silver", "teal",
)
# How narratives characterise a brand or colour a user favours (taste words that
# never appear in titles, so a model must infer them from the brand/colour it reads).
BRAND_STYLES: tuple[str, ...] = (
    "classic, understated designs", "bright, cheerful styling", "precise, well-made construction",
    "long-lasting, dependable build", "simple, budget-friendly basics", "heavy-duty, rugged builds",
    "calm, minimalist looks", "traditional, old-school craftsmanship", "eco-friendly, recycled materials",
    "lightweight, portable designs", "sleek, modern finishes", "premium, professional quality",
    "practical, no-frills design", "warm, natural styling", "high-end, feature-rich products",
)
COLOUR_STYLES: tuple[str, ...] = (
    "classic black", "crisp white", "cool blue", "bold red", "fresh green",
    "rich purple", "playful pink", "vivid orange", "sleek silver", "calming teal",
)

_TITLE_FORMS = (
    "{brand} {desc} {noun}, {colour}{pack}",
    "{brand} {noun}, {desc}, {colour}{pack}",
    "{desc} {noun} by {brand}, {colour}{pack}",
    "{brand} {colour} {desc} {noun}{pack}",
)
_ASIN_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@dataclass(frozen=True)
class CatalogueItem:
    index: int
    asin: str
    title: str
    category: str | None  # None for ~2% of items, as in real REGEN
    price: float
    design: int  # items of one design share title, category and price
    leaf: int
    group: int
    brand: int
    colour: int
    descriptor: str
    community: int  # -1: a generic item that any community buys

    @property
    def leaf_spec(self) -> Leaf:
        return LEAVES[self.leaf]

    def as_record(self) -> dict:
        return {"asin": self.asin, "title": self.title, "category": self.category, "price": self.price}


@dataclass
class Catalogue:
    items: list[CatalogueItem]
    design: np.ndarray
    leaf: np.ndarray
    group: np.ndarray
    brand: np.ndarray
    colour: np.ndarray
    community: np.ndarray
    popularity: np.ndarray  # relative purchase weight of each item

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class _Design:
    leaf: int
    brand: int
    colour: int
    descriptor: str
    title: str
    price: float


def _asin(rng: np.random.Generator) -> str:
    return "B0" + "".join(_ASIN_ALPHABET[rng.integers(0, len(_ASIN_ALPHABET), size=8)])


def _price(rng: np.random.Generator, leaf: Leaf, pack_rank: int) -> float:
    low, high = leaf.price
    base = low + (high - low) * (0.15 + 0.35 * pack_rank / max(1, len(leaf.packs) - 1) + 0.25 * rng.random())
    value = base * math.exp(float(rng.normal(0.0, 0.08)))
    cents = (0.99, 0.49, 0.95, None)[int(rng.integers(0, 4))]
    value = float(np.floor(value)) + cents if cents is not None else round(value, 2)
    return round(max(value, 0.99), 2)


def _designs(rng: np.random.Generator, count: int) -> list[_Design]:
    """Product designs: content attributes drawn independently, the title built from them."""
    leaf_w = np.array([leaf.weight for leaf in LEAVES], dtype=float)
    brand_w = rng.uniform(0.8, 1.25, size=len(BRANDS))
    colour_w = rng.uniform(0.8, 1.25, size=len(COLOURS))
    leaves = rng.choice(len(LEAVES), size=count, p=leaf_w / leaf_w.sum())
    brands = rng.choice(len(BRANDS), size=count, p=brand_w / brand_w.sum())
    colours = rng.choice(len(COLOURS), size=count, p=colour_w / colour_w.sum())
    designs = []
    for i in range(count):
        leaf = LEAVES[int(leaves[i])]
        desc = leaf.descriptors[int(rng.integers(0, len(leaf.descriptors)))]
        pack_rank = int(rng.integers(0, len(leaf.packs)))
        pack = leaf.packs[pack_rank]
        form = _TITLE_FORMS[int(rng.integers(0, len(_TITLE_FORMS)))]
        title = form.format(
            brand=BRANDS[int(brands[i])],
            desc=desc,
            noun=leaf.noun,
            colour=COLOURS[int(colours[i])].title(),
            pack=f", {pack}" if pack else "",
        )
        designs.append(
            _Design(int(leaves[i]), int(brands[i]), int(colours[i]), desc, title, _price(rng, leaf, pack_rank))
        )
    return designs


def build_catalogue(
    rng: np.random.Generator,
    communities: int,
    items_per_community: int,
    generic_items: int,
    null_category_share: float = 0.02,
    shared_designs: bool = True,
) -> Catalogue:
    """Draw the catalogue: product designs first, then one listing (ASIN) per community.

    With `shared_designs` every community lists the same `items_per_community` designs,
    each under its own ASIN (one product, several sellers' listings, as on Amazon): an
    item's text (title, category, price) then carries no information about its
    community at all, however well a text model memorises items. Without it, each
    community gets its own designs (unique titles; text identifies the item).
    Generic designs get a single listing that every community buys.
    """
    community_designs = items_per_community if shared_designs else communities * items_per_community
    designs = _designs(rng, community_designs + generic_items)
    listing_design, listing_owner = [], []
    for c in range(communities):
        for k in range(items_per_community):
            listing_design.append(k if shared_designs else c * items_per_community + k)
            listing_owner.append(c)
    for g in range(generic_items):
        listing_design.append(community_designs + g)
        listing_owner.append(-1)
    # Shuffle listings so catalogue order says nothing about community.
    order = rng.permutation(len(listing_design))
    design = np.array(listing_design, dtype=np.int64)[order]
    owner = np.array(listing_owner, dtype=np.int64)[order]
    n_items = len(design)
    # Popularity: a mild long tail, so a few items are bestsellers but none dominates.
    # math.exp, not np.exp: numpy's SIMD exp may differ in the last bit between CPUs,
    # and the output must be byte-identical everywhere.
    popularity = np.array([math.exp(x) for x in rng.normal(0.0, 0.5, size=n_items).tolist()])
    null_category = rng.random(n_items) < null_category_share

    items: list[CatalogueItem] = []
    seen_asins: set[str] = set()  # membership only, never iterated
    for i in range(n_items):
        d = designs[int(design[i])]
        asin = _asin(rng)
        while asin in seen_asins:
            asin = _asin(rng)
        seen_asins.add(asin)
        items.append(
            CatalogueItem(
                index=i,
                asin=asin,
                title=d.title,
                category=None if null_category[i] else LEAVES[d.leaf].path,
                price=d.price,
                design=int(design[i]),
                leaf=d.leaf,
                group=int(LEAF_GROUP[d.leaf]),
                brand=d.brand,
                colour=d.colour,
                descriptor=d.descriptor,
                community=int(owner[i]),
            )
        )
    return Catalogue(
        items=items,
        design=design,
        leaf=np.array([it.leaf for it in items], dtype=np.int64),
        group=np.array([it.group for it in items], dtype=np.int64),
        brand=np.array([it.brand for it in items], dtype=np.int64),
        colour=np.array([it.colour for it in items], dtype=np.int64),
        community=owner,
        popularity=popularity,
    )
