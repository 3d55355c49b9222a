"""A knowledge base whose entries have many phrasings, and questions held out from it, for calibration tests."""

from __future__ import annotations

from knowledge_base.entry import Entry


def _entry(entry_id: str, question: str, alts: list[str], answer: str, department: str) -> Entry:
    return Entry(id=entry_id, question=question, alt_questions=tuple(alts), answer=answer, department=department)


ENTRIES = [
    _entry("c-glass", "Can I put glass bottles in the recycling cart?", [
        "do glass jars go in recycling", "is glass recyclable curbside", "where do empty wine bottles go",
        "can i recycle beer bottles", "glass in the blue bin ok?", "what do i do with old glass jars",
        "are glass containers accepted in recycling", "recycling glass bottles at home",
        "should glass go in trash or recycling", "put jam jars in recycling?", "do you take glass for recycling"],
        "Yes: rinse glass bottles and jars and put them in the blue cart, lids off.", "Waste & Recycling"),
    _entry("c-dogpark", "Where are the off-leash dog parks?", [
        "where can my dog run off leash", "is there a dog park near me", "list of dog parks in the city",
        "off leash areas for dogs", "where can i let my dog loose", "dog run locations",
        "any fenced dog parks around", "places where dogs can be off the leash",
        "which parks allow dogs without a leash", "where to take my puppy to play off leash",
        "dog friendly off leash park"],
        "Riverside, Hilltop and Mill Pond parks have fenced off-leash areas, open 6 a.m. to 10 p.m.",
        "Parks & Recreation"),
    _entry("c-snow", "Where can I park during a snow emergency?", [
        "snow emergency parking rules", "where do i move my car when it snows", "can i park on my street in a blizzard",
        "snow route parking ban", "where to leave my car during snow plowing", "parking during a snowstorm",
        "will my car be towed in a snow emergency", "free parking garages during snow emergency",
        "where can cars go when the snow ban starts", "snow day parking options", "do i have to move my car for plows"],
        "During a declared snow emergency, park in any city garage for free; cars on snow routes are towed.",
        "Parking Services"),
    _entry("c-pool", "What are the opening hours of the public swimming pool?", [
        "when is the pool open", "swimming pool hours", "what time does the city pool close",
        "is the pool open on sunday", "lap swim times", "public pool schedule",
        "when can i go swimming at the municipal pool", "pool opening times this week", "hours for the aquatic center",
        "what time does the pool open in the morning", "is the swimming pool open today"],
        "The pool is open 6 a.m. to 9 p.m. on weekdays and 8 a.m. to 6 p.m. on weekends.", "Parks & Recreation"),
    _entry("c-deck", "Do I need a permit to build a deck?", [
        "deck building permit", "is a permit required for a backyard deck", "permit for adding a patio deck",
        "do decks need city approval", "can i build a deck without a permit", "rules for building a deck",
        "how do i get approval for a new deck", "deck construction permit requirements",
        "do i need plans approved for a deck", "permit to replace my old deck", "is my deck project permitted"],
        "Decks over 30 inches above ground or attached to the house need a building permit.", "Permits & Licensing"),
    _entry("c-waterbill", "How do I pay my water bill?", [
        "pay water bill online", "where can i pay for water service", "water bill payment options",
        "can i pay my water bill by phone", "how to pay the utility bill for water", "set up autopay for water",
        "where do i send my water bill payment", "pay my water account", "water utility payment",
        "can i pay water bill with a credit card", "paying the water bill in person"],
        "Pay online, by phone, by mail, or in person at City Hall; autopay is available.", "Water & Utilities"),
    _entry("c-pothole", "How do I report a pothole?", [
        "there is a pothole on my street", "report a hole in the road", "who fixes potholes",
        "big pothole needs fixing", "how to get a pothole repaired", "pothole complaint",
        "road has a huge crater", "where do i report road damage", "pothole damaged my tire where to report it",
        "request pothole repair", "street has holes that need patching"],
        "Report potholes in the 311 app or online; crews repair most within three business days.", "Public Works"),
    _entry("c-library", "How do I get a library card?", [
        "sign up for a library card", "library membership", "how to join the library",
        "can i get a library card online", "what do i need for a library card", "library card application",
        "get a new library card", "is the library card free", "register at the public library",
        "how old do you have to be for a library card", "library card for my kid"],
        "Bring photo ID and proof of address to any branch; cards are free for residents.", "Public Library"),
]

# Not phrasings of any entry: the questions the calibrated threshold is checked on.
HELD_OUT = [
    ("may i throw glass pickle jars into the recycling bin", "c-glass"),
    ("are broken glass bottles recyclable at the curb", "c-glass"),
    ("my dog needs a place to run without a leash, where", "c-dogpark"),
    ("which city parks have a fenced area for dogs", "c-dogpark"),
    ("it's snowing hard, where should i park my car tonight", "c-snow"),
    ("snow emergency declared, where can i leave my vehicle", "c-snow"),
    ("what time can i swim at the public pool on saturday", "c-pool"),
    ("until when is the swimming pool open today", "c-pool"),
    ("does building a backyard deck need a permit", "c-deck"),
    ("i want to add a deck to my house, do i need approval", "c-deck"),
    ("what are the ways to pay my water bill", "c-waterbill"),
    ("can i pay the water bill online with a card", "c-waterbill"),
    ("there's a deep pothole on elm street, how do i report it", "c-pothole"),
    ("who do i tell about a pothole on my road", "c-pothole"),
    ("how can my son get a library card", "c-library"),
    ("what do i bring to sign up for a library card", "c-library"),
    ("who won the baseball game yesterday", None),
    ("can you recommend a thai restaurant", None),
    ("what's the capital of canada", None),
    ("write a haiku about autumn", None),
    ("how do i reset my phone to factory settings", None),
    ("what is the mayor's salary", None),
    ("when will the new city hall be built", None),
    ("how do i get a fishing licence", None),
    ("is the bridge on route 5 closing next month", None),
    ("how do i apply for a marriage licence", None),
]
