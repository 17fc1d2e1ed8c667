"""Co-purchase communities and the personas that drive narrative wording.

A community owns many catalogue items whose titles have nothing to do with its
persona: the persona shows only in the narratives, and the only way to infer it from
a user's history is co-purchase structure (which items are bought together).
Every phrase below contains at least one of the persona's `keywords`, so a test can
check that the community is recoverable from the narratives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    key: str
    label: str  # profile subject, capitalised ("Classroom teacher")
    keywords: tuple[str, ...]  # community-dependent content words
    who: tuple[str, ...]  # "a teacher stocking a classroom"
    activity: tuple[str, ...]  # gerund phrase: "preparing lessons for students"
    need: tuple[str, ...]  # a full sentence about what matters to them
    use: tuple[str, ...]  # purpose: "for classroom lessons"
    audience: tuple[str, ...]  # who the endorsement pitches to: "a busy classroom"


PERSONAS: tuple[Persona, ...] = (
    Persona(
        key="teacher",
        label="Classroom teacher",
        keywords=("classroom", "students", "lesson"),
        who=("a teacher stocking a classroom", "a schoolteacher keeping a classroom supplied",
             "a teacher preparing lessons for students"),
        activity=("preparing lessons and classroom activities", "keeping students supplied through the school year",
                  "planning lessons and grading student work"),
        need=("Supplies that survive daily use by students matter to them.",
              "They buy with the school year in mind and keep the classroom well stocked.",
              "Anything that makes lesson preparation easier for the classroom wins them over."),
        use=("for classroom lessons", "to keep students supplied", "for lesson planning and grading at school"),
        audience=("a busy classroom", "teachers who keep students supplied", "lesson planning at school"),
    ),
    Persona(
        key="freelancer",
        label="Home-office freelancer",
        keywords=("freelance", "home office", "client"),
        who=("a freelancer working from a home office", "a freelance designer running a home office",
             "a self-employed freelancer with a home office"),
        activity=("juggling client projects from a home office", "meeting client deadlines as a freelancer",
                  "keeping freelance client work organised at home"),
        need=("A tidy, productive home office for client work matters to them.",
              "They value tools that keep freelance client projects moving on deadline.",
              "Their home office has to look professional on client calls."),
        use=("for client projects in the home office", "to keep freelance client work on schedule",
             "for the home office where they meet client deadlines"),
        audience=("a freelance home office", "freelancers juggling client work", "a productive home office"),
    ),
    Persona(
        key="shipper",
        label="Small online seller",
        keywords=("online seller", "orders", "customers", "packages"),
        who=("an online seller running a small shipping business", "a small business owner shipping customer orders",
             "a home-based seller packing orders for customers"),
        activity=("packing and shipping customer orders", "getting packages out to customers on time",
                  "running a small shipping station for online orders"),
        need=("Getting orders packed and shipped to customers quickly matters to them.",
              "They buy for a busy shipping station where packages go out every day.",
              "Reliable supplies keep their customers' orders moving."),
        use=("for packing customer orders", "to keep packages shipping on time", "for the station where orders ship"),
        audience=("an online seller's shipping business", "sellers shipping customer orders", "a busy packing table for orders"),
    ),
    Persona(
        key="student",
        label="College student",
        keywords=("college", "campus", "exams", "lectures"),
        who=("a college student", "a university student living on campus", "a college student studying for exams"),
        activity=("taking notes in lectures and studying for exams", "keeping up with college coursework",
                  "studying on campus between lectures"),
        need=("Affordable supplies that get them through lectures and exams matter to them.",
              "They shop around the college semester, stocking up before exams.",
              "Their purchases follow the rhythm of campus life, lectures and exams."),
        use=("for college lectures", "to study for exams", "for coursework on campus"),
        audience=("college coursework", "late-night study sessions before exams", "a campus backpack"),
    ),
    Persona(
        key="parent",
        label="Parent running a busy household",
        keywords=("family", "household", "kids", "homework"),
        who=("a parent organising a busy family household", "a parent keeping the household running",
             "a parent helping the kids with homework"),
        activity=("keeping the family household organised", "helping the kids with homework",
                  "managing household paperwork for the family"),
        need=("Keeping the household organised for the whole family matters to them.",
              "They buy with the kids' homework and family routines in mind.",
              "Practical things that make family life at home easier win them over."),
        use=("for the family household", "to help the kids with homework", "for household paperwork"),
        audience=("a busy family household", "parents helping kids with homework", "the family kitchen table"),
    ),
    Persona(
        key="office_manager",
        label="Office manager of a small practice",
        keywords=("office manager", "staff", "front desk", "practice"),
        who=("an office manager keeping a small practice running", "the office manager of a small dental practice",
             "an office manager who buys for the staff"),
        activity=("keeping the front desk and staff supplied", "running the supply closet for a small practice",
                  "ordering supplies for the staff of a small practice"),
        need=("Keeping the staff and the front desk supplied matters to them.",
              "As office manager they order in bulk so the practice never runs out.",
              "They want dependable supplies that the whole staff can use at the practice."),
        use=("for the staff at the practice", "to keep the front desk supplied", "for the practice's supply closet"),
        audience=("a busy front desk", "office managers supplying their staff", "a small practice"),
    ),
    Persona(
        key="crafter",
        label="Hobby artist and crafter",
        keywords=("craft", "creative", "handmade"),
        who=("a hobby artist and crafter", "a crafter who makes handmade cards and gifts", "a creative hobbyist with an art corner"),
        activity=("working on craft projects and handmade gifts", "filling a sketchbook and making creative art",
                  "turning office supplies into craft projects"),
        need=("Supplies that help with creative craft projects matter to them.",
              "They buy for handmade cards, scrapbooks and art projects.",
              "They see creative potential for craft work in everyday supplies."),
        use=("for craft projects", "for handmade cards and art", "for creative projects at the craft table"),
        audience=("creative craft projects", "crafters making handmade gifts", "an art and craft corner"),
    ),
    Persona(
        key="volunteer",
        label="Nonprofit volunteer coordinator",
        keywords=("volunteer", "nonprofit", "community"),
        who=("a volunteer coordinator at a community nonprofit", "an organiser of community events and volunteers",
             "a nonprofit coordinator who runs volunteer events"),
        activity=("organising volunteers for community events", "running fundraisers for a nonprofit",
                  "coordinating sign-ups for community events"),
        need=("Keeping volunteers organised for community events matters to them.",
              "They buy for nonprofit fundraisers, sign-up tables and community events.",
              "Supplies that make volunteer events run smoothly matter most to them."),
        use=("for community events", "to keep volunteers organised", "for nonprofit fundraisers"),
        audience=("community events", "nonprofits organising volunteers", "a volunteer sign-up table"),
    ),
    Persona(
        key="retiree",
        label="Retiree keeping old records",
        keywords=("retiree", "retirement", "genealogy", "records", "letters"),
        who=("a retiree preserving old records", "a retiree researching genealogy",
             "a retiree who writes letters and keeps records"),
        activity=("sorting old records for genealogy research", "writing letters and keeping old records in order",
                  "archiving records in retirement"),
        need=("Keeping genealogy notes and old records in order matters to them.",
              "They buy for letters, archives and records they want to last.",
              "In retirement they have time to keep records and letters tidy."),
        use=("for genealogy records", "for writing letters", "to keep old records in order"),
        audience=("genealogy records", "retirees keeping old records", "a desk for writing letters"),
    ),
    Persona(
        key="planner",
        label="Event and wedding planner",
        keywords=("wedding", "event planner", "guests", "vendors"),
        who=("an event planner organising weddings", "a wedding and event planner",
             "an event planner who handles guests and vendors"),
        activity=("planning weddings and tracking guests", "preparing place cards and guest lists for weddings",
                  "coordinating vendors and guests for weddings"),
        need=("Making every wedding look polished for the guests matters to them.",
              "They buy for guest lists, invitations and wedding vendors.",
              "As an event planner they need supplies that look good in front of guests."),
        use=("for wedding planning", "to keep wedding guest lists in order", "for weddings and their guests"),
        audience=("wedding planning", "event planners managing guests", "a polished wedding"),
    ),
)

PERSONA_INDEX = {persona.key: i for i, persona in enumerate(PERSONAS)}
