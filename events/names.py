"""Names of people and bodies as reports write them, and the one normal form they are matched in.

The vocabulary is shared by the way in (app.intake.speakers, which reads speakers out of a report)
and the actors registry (events.actors, which resolves a name to an actor): what a body's acronym
stands for (`BODIES`: "DHS" is the Department of Homeland Security), outlets' usual names
(`OUTLETS`), and the words of titles and bodies' names (`TITLE_WORDS`). Pure: no I/O.

`name_key(name)` is the form names are matched in:

- Unicode NFKC, curly apostrophes made straight, case folded, surrounding punctuation and quotes
  dropped ("(as described by Sky News)" -> "as described by sky news"), periods dropped ("U.S." ->
  "us", "Mr." -> "mr"), whitespace collapsed, a possessive 's dropped ("Noem's" -> "noem");
- a known body or outlet becomes its usual name ("DHS", "the Homeland Security Department" ->
  "department of homeland security"; "NYT" -> "new york times"), and so does an acronym written in
  capitals inside a longer name ("DHS officials" -> "department of homeland security officials");
- a leading "the" is dropped, and so is a leading title: a run of title words that holds a title
  proper (`TITLE_HEADS`: "Secretary", "President", "Mr", "commander", ...) and is followed by a
  name ("DHS Secretary Kristi Noem", "Homeland Security Secretary Kristi Noem", "Border Patrol
  commander Gregory Bovino" -> "kristi noem", ..., "gregory bovino"; "President Trump", "Mr.
  Trump" -> "trump"). A run with no title proper is part of a name ("Department of Homeland
  Security", "Senate Democrats"), and one followed by nothing, or by "in ..." or "of ...", is the
  whole name ("Justice Department", "Federal judge in Illinois").

Two names with one key are one name; a name whose key is empty (only punctuation) is no name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["BODIES", "OUTLETS", "TITLE_WORDS", "TITLE_HEADS", "canonical_body", "name_key"]

BODIES = {
    "dhs": "Department of Homeland Security",
    "department of homeland security": "Department of Homeland Security",
    "homeland security department": "Department of Homeland Security",
    "the homeland security department": "Department of Homeland Security",
    "cbp": "Customs and Border Protection",
    "customs and border protection": "Customs and Border Protection",
    "u.s. customs and border protection": "Customs and Border Protection",
    "us customs and border protection": "Customs and Border Protection",
    "ice": "Immigration and Customs Enforcement",
    "immigration and customs enforcement": "Immigration and Customs Enforcement",
    "u.s. immigration and customs enforcement": "Immigration and Customs Enforcement",
    "doj": "Department of Justice",
    "department of justice": "Department of Justice",
    "justice department": "Department of Justice",
    "the justice department": "Department of Justice",
    "fbi": "FBI",
    "federal bureau of investigation": "FBI",
    "hsi": "Homeland Security Investigations",
    "homeland security investigations": "Homeland Security Investigations",
    "border patrol": "Border Patrol",
    "u.s. border patrol": "Border Patrol",
    "us border patrol": "Border Patrol",
    "white house": "White House",
    "the white house": "White House",
    "pentagon": "Pentagon",
    "congress": "Congress",
    "senate": "Senate",
    "house": "House",
}
OUTLETS = {
    "new york times": "The New York Times",
    "the new york times": "The New York Times",
    "nyt": "The New York Times",
    "ny times": "The New York Times",
    "times": "The New York Times",
    "new york post": "New York Post",
    "the new york post": "New York Post",
    "ny post": "New York Post",
    "cnn": "CNN",
    "propublica": "ProPublica",
    "associated press": "The Associated Press",
    "the associated press": "The Associated Press",
    "ap": "The Associated Press",
    "reuters": "Reuters",
    "sky news": "Sky News",
    "fox 9": "FOX 9",
    "fox news": "Fox News",
    "nbc news": "NBC News",
    "abc news": "ABC News",
    "cbs news": "CBS News",
    "washington post": "The Washington Post",
    "the washington post": "The Washington Post",
    "wall street journal": "The Wall Street Journal",
    "the wall street journal": "The Wall Street Journal",
    "bbc": "BBC",
    "npr": "NPR",
    "politico": "Politico",
    "axios": "Axios",
    "star tribune": "Star Tribune",
    "the star tribune": "Star Tribune",
}

# Words that are a title or a part of a body's name, never a person's given name or surname.
TITLE_WORDS = {
    "mr",
    "mr.",
    "ms",
    "ms.",
    "mrs",
    "mrs.",
    "dr",
    "dr.",
    "sec",
    "sec.",
    "secretary",
    "sen",
    "sen.",
    "senator",
    "rep",
    "rep.",
    "representative",
    "gov",
    "gov.",
    "governor",
    "president",
    "vice",
    "deputy",
    "attorney",
    "general",
    "minority",
    "majority",
    "leader",
    "speaker",
    "chief",
    "director",
    "commissioner",
    "commander",
    "officer",
    "agent",
    "judge",
    "justice",
    "mayor",
    "chairman",
    "chairwoman",
    "chair",
    "republican",
    "democratic",
    "democrat",
    "former",
    "us",
    "u.s.",
    "white",
    "house",
    "press",
    "border",
    "patrol",
    "homeland",
    "security",
    "department",
    "customs",
    "protection",
    "immigration",
    "enforcement",
    "official",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "secretary's",
    "assistant",
    "acting",
    "interim",
    "lt.",
    "sgt.",
    "capt.",
    "col.",
    "gen.",
    "federal",
    "state",
    "local",
    "police",
    "sheriff",
    "prosecutor",
    "czar",
    "tsar",
    "member",
    "committee",
    "senate",
    "senate’s",
    "senate's",
    "investigations",
    "fbi",
    "ice",
    "cbp",
    "dhs",
    "doj",
    "minister",
    "prime",
    "council",
    "councilmember",
    "attorney-general",
    "inspector",
    "special",
    "counsel",
}


def canonical_body(name: str) -> str | None:
    key = re.sub(r"\s+", " ", name.strip().strip(",.;:")).lower()
    key = re.sub(r"^the\s+", "", key) if key not in BODIES and key not in OUTLETS else key
    return BODIES.get(key) or OUTLETS.get(key)


# Title words that are a title proper, which a name may follow: "Secretary Noem", "Mr Trump".
TITLE_HEADS = frozenset(
    {
        *("mr", "ms", "mrs", "dr", "sec", "secretary", "sen", "senator", "rep", "representative", "gov", "governor"),
        *("president", "leader", "speaker", "chief", "director", "commissioner", "commander", "officer", "agent"),
        *("judge", "justice", "mayor", "chairman", "chairwoman", "chair", "official", "spokesperson", "spokesman"),
        *("spokeswoman", "minister", "counsel", "prosecutor", "sheriff", "czar", "tsar", "lt", "sgt", "capt", "col"),
        *("gen", "general", "inspector", "attorney-general", "councilmember", "member"),
    }
)
_TITLE_KEYS = frozenset(word.replace(".", "").replace("’", "'") for word in TITLE_WORDS)
# Words that may join the words of one title ("Secretary of Homeland Security"), and that a name
# never starts with ("judge in Illinois" is a description, not a judge called Illinois).
_JOINING = frozenset({"of", "and", "the", "for"})
_NOT_A_NAME_START = _JOINING | {"in", "at", "on", "from", "to", "by", "with", "as"}
_ACRONYMS = {key: value for key, value in BODIES.items() if " " not in key and "." not in key}
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"'s$")


@lru_cache(maxsize=65_536)  # every entry a read returns asks for its names' keys
def name_key(name: str) -> str:
    """The form a name is matched in (see the module docstring); "" for a name with no words."""
    text = unicodedata.normalize("NFKC", name).replace("’", "'").replace("‘", "'")
    text = re.sub(r"\s+", " ", text).strip()
    body = canonical_body(text)
    if body is not None:
        text = body
    words: list[str] = []  # lower case, with whether the word was written in capitals
    capitals: list[bool] = []
    for raw in text.split(" "):
        word = _EDGES.sub("", _POSSESSIVE.sub("", _EDGES.sub("", raw)).replace(".", ""))
        if not word:
            continue
        words.append(word.casefold())
        capitals.append(len(word) > 1 and word.isupper())
    while len(words) > 1 and words[0] in ("the", "a", "an"):
        del words[0], capitals[0]
    cut = _title_end(words)
    words, capitals = words[cut:], capitals[cut:]
    expanded: list[str] = []
    for word, capital in zip(words, capitals, strict=True):
        if capital and word in _ACRONYMS:
            expanded.extend(_ACRONYMS[word].casefold().split())
        else:
            expanded.append(word)
    return " ".join(expanded)


def _title_end(words: list[str]) -> int:
    """How many leading words are a title before a name (0 if they are not)."""
    end, proper = 0, False
    for index, word in enumerate(words):
        if word in _TITLE_KEYS:
            end, proper = index + 1, proper or word in TITLE_HEADS
        elif word in _JOINING and index + 1 < len(words) and words[index + 1] in _TITLE_KEYS:
            continue
        else:
            break
    if not proper or end >= len(words) or words[end] in _NOT_A_NAME_START:
        return 0
    return end
