"""The actors registry: who says things, under every name they are written with. Pure: no I/O.

Actors are events like everything else, in one reserved stream of the store, `ACTORS_STREAM`
(not a valid incident id, so it is never taken for an incident): `ActorRegistered` (an id, a name,
a kind, aliases), `ActorAliased` (one more name) and `ActorsMerged` (two actors are one: the
merged one's id and names now lead to the kept one). `Registry.fold(events)` is the registry those
events make.

Resolution. A name resolves through its key (`events.names.name_key`: case, spacing, punctuation,
a possessive 's, leading titles and bodies' acronyms do not matter), in this order:
1. a registered name or alias with that key: each key belongs to one actor, so a second actor
   cannot take it (`NameTaken`);
2. otherwise, a surname alone ("Noem", "Ms Noem", "President Trump"): the last word of a name
   of more than one word of an actor of kind "person", when exactly one person has it. A second
   person with that surname makes it ambiguous, and it then resolves only as a registered alias.
A merged actor's names lead to the actor it was merged into, transitively; every lookup answers
with a live (not merged) actor.

Exactness. Resolution is a table from keys to live actors, so for every name `n` and actor `a`:
`resolve(n) == get(a).id` exactly when `name_key(n) in names_of(a)`, and `names_of` of the live
actors are disjoint and together hold every key that resolves.

Merges never make a cycle: the kept actor and the merged one must both be live and distinct, so
after a merge the kept actor is still live, and every chain of merges ends at a live actor.

The fold takes events as the write handlers checked them (`Registry.check`, under the stream's
expected version); one that a rule refuses (an older, laxer writer) is left out and listed in
`refused`, so the rules hold for any sequence of events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.names import name_key

__all__ = [
    "ACTORS_STREAM",
    "ACTOR_EVENTS",
    "RESERVED_STREAMS",
    "Actor",
    "ActorExists",
    "ActorMerged",
    "ActorRefused",
    "MergeCycle",
    "NameTaken",
    "Registry",
    "UnknownActor",
    "UnknownMergedActor",
    "name_key",
]

ACTORS_STREAM = "_actors"
RESERVED_STREAMS = frozenset({ACTORS_STREAM})  # streams of the store that are not incidents
ACTOR_EVENTS = frozenset({"ActorRegistered", "ActorAliased", "ActorsMerged"})
KINDS = ("person", "body", "group", "outlet")


class ActorRefused(ValueError):
    """A change the registry's rules refuse."""


class ActorExists(ActorRefused):
    def __init__(self, actor_id: str):
        self.actor_id = actor_id
        super().__init__(f"actor {actor_id!r} is already registered; to give it another name, add an alias")


class UnknownActor(ActorRefused):
    def __init__(self, actor_id: str):
        self.actor_id = actor_id
        super().__init__(f"there is no actor {actor_id!r}; register it first (POST /v1/actors)")


class UnknownMergedActor(UnknownActor):
    """The actor to merge into another is not registered."""


class NameTaken(ActorRefused):
    def __init__(self, name: str, owner: str):
        self.name, self.owner = name, owner
        super().__init__(
            f"the name {name!r} already belongs to actor {owner!r}; if they are one actor, merge them instead"
        )


class ActorMerged(ActorRefused):
    def __init__(self, actor_id: str, into: str, detail: str):
        self.actor_id, self.into = actor_id, into
        super().__init__(detail)


class MergeCycle(ActorRefused):
    def __init__(self, actor_id: str, merged_actor_id: str, live: str):
        self.actor_id, self.merged_actor_id, self.live = actor_id, merged_actor_id, live
        super().__init__(
            f"actors {actor_id!r} and {merged_actor_id!r} are one actor already, {live!r} ({actor_id!r} was "
            f"merged into it): merging {merged_actor_id!r} into {actor_id!r} would make a cycle"
        )


class RegistryEvent(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """A live actor as the registry shows it."""

    id: str
    name: str
    kind: str | None
    aliases: tuple[str, ...]  # its own, as written, in the order given
    merged_actor_ids: tuple[str, ...]  # every actor merged into it, directly or not, in merge order
    names: tuple[str, ...]  # every name as written: its own name and aliases, then the merged actors'
    normalised_names: frozenset[str]  # the keys that resolve to it: names_of(id)


@dataclass(slots=True)
class _Record:
    id: str
    name: str
    kind: str | None
    aliases: list[str] = field(default_factory=list)
    merged_into: str | None = None
    merged: list[str] = field(default_factory=list)  # actors merged directly into this one


class Registry:
    def __init__(self) -> None:
        self.version = 0  # how many events of the stream were folded (the stream's version)
        self.refused: list[dict[str, Any]] = []  # events a rule left out: version, type, problem
        self._records: dict[str, _Record] = {}
        self._keys: dict[str, str] = {}  # every registered name's key -> the actor it was given to
        self._table: dict[str, str] | None = None  # key -> live actor: resolution (built when asked)
        self._names_by_actor: dict[str, frozenset[str]] | None = None

    @classmethod
    def fold(cls, events: Iterable[RegistryEvent]) -> Registry:
        registry = cls()
        for event in events:
            registry.apply(event.type, event.data)
        return registry

    # -- changes ------------------------------------------------------------------------------

    def check(self, type_name: str, data: Mapping[str, Any]) -> bool:
        """Whether the event would change the registry (False: it says what already holds, such as
        an alias the actor already has); ActorRefused if a rule refuses it."""
        if type_name == "ActorRegistered":
            if data["actor_id"] in self._records:
                raise ActorExists(data["actor_id"])
            for name in (data["name"], *data.get("aliases", ())):
                owner = self._keys.get(name_key(name))
                if owner is not None:
                    raise NameTaken(name, self.live(owner) or owner)
            return True
        if type_name == "ActorAliased":
            actor = self._live_or_unknown(data["actor_id"], UnknownActor)
            owner = self._keys.get(name_key(data["alias"]))
            if owner is None:
                return True
            if self.live(owner) == actor:
                return False
            raise NameTaken(data["alias"], self.live(owner) or owner)
        if type_name == "ActorsMerged":
            kept, other = data["actor_id"], data["merged_actor_id"]
            kept_live = self._live_or_unknown(kept, UnknownActor)
            other_live = self._live_or_unknown(other, UnknownMergedActor)
            if kept_live != kept:
                if kept_live == other_live:
                    raise MergeCycle(kept, other, kept_live)
                raise ActorMerged(
                    kept, kept_live, f"actor {kept!r} was merged into {kept_live!r}: merge into {kept_live!r} instead"
                )
            if other_live == kept:
                return False  # merged already (directly or through another merge)
            if other_live != other:
                raise ActorMerged(
                    other, other_live, f"actor {other!r} was already merged into {other_live!r}; merge that one instead"
                )
            return True
        raise ActorRefused(f"{type_name} is not an event of the actors registry")

    def apply(self, type_name: str, data: Mapping[str, Any]) -> None:
        """Fold one event of the stream in (one a rule refuses is left out and listed in `refused`)."""
        self.version += 1
        try:
            changes = self.check(type_name, data)
        except (ActorRefused, KeyError, TypeError) as error:
            self.refused.append({"version": self.version, "type": type_name, "problem": str(error)})
            return
        if not changes:
            return
        self._table = self._names_by_actor = None
        if type_name == "ActorRegistered":
            record = _Record(data["actor_id"], data["name"], data.get("kind"))
            self._records[record.id] = record
            self._take(data["name"], record.id)
            for alias in data.get("aliases", ()):
                record.aliases.append(alias)
                self._take(alias, record.id)
        elif type_name == "ActorAliased":
            record = self._records[data["actor_id"]]
            record.aliases.append(data["alias"])
            self._take(data["alias"], record.id)
        else:
            self._records[data["merged_actor_id"]].merged_into = data["actor_id"]
            self._records[data["actor_id"]].merged.append(data["merged_actor_id"])

    def _take(self, name: str, actor_id: str) -> None:
        self._keys.setdefault(name_key(name), actor_id)

    def _live_or_unknown(self, actor_id: str, unknown: type[UnknownActor]) -> str:
        live = self.live(actor_id)
        if live is None:
            raise unknown(actor_id)
        return live

    # -- lookups ------------------------------------------------------------------------------

    def live(self, actor_id: str) -> str | None:
        """The actor an id stands for now: itself, or the one it was merged into; None if unknown."""
        record = self._records.get(actor_id)
        for _ in range(len(self._records) + 1):  # no chain is longer: merges make no cycle (see the module)
            if record is None or record.merged_into is None:
                return record.id if record is not None else None
            record = self._records[record.merged_into]
        raise RuntimeError(f"the merges of actor {actor_id!r} make a cycle")  # never: check() refuses it

    def resolve(self, name: str | None) -> str | None:
        """The live actor a name (as written) stands for, or None."""
        if not name:
            return None
        return self._lookup().get(name_key(name))

    def names_of(self, actor_id: str) -> frozenset[str]:
        """Every key that resolves to the actor (its names and aliases, those of the actors merged
        into it, and its surname where that alone resolves), whichever of their ids is given; empty
        for an unknown id. A name `n` resolves to it exactly when `name_key(n)` is in this set."""
        live = self.live(actor_id)
        if live is None:
            return frozenset()
        if self._names_by_actor is None:
            grouped: dict[str, set[str]] = {}
            for key, owner in self._lookup().items():
                grouped.setdefault(owner, set()).add(key)
            self._names_by_actor = {owner: frozenset(keys) for owner, keys in grouped.items()}
        return self._names_by_actor.get(live, frozenset())

    def get(self, actor_id: str) -> Actor | None:
        """The live actor an id stands for (a merged id gives the actor it was merged into)."""
        live = self.live(actor_id)
        if live is None:
            return None
        record = self._records[live]
        merged = self._merged_into(live)
        names = [record.name, *record.aliases]
        for other in merged:
            names += [self._records[other].name, *self._records[other].aliases]
        return Actor(
            record.id,
            record.name,
            record.kind,
            tuple(record.aliases),
            tuple(merged),
            tuple(dict.fromkeys(names)),
            self.names_of(live),
        )

    def all(self) -> list[Actor]:
        """Every live actor, by id."""
        return [actor for actor_id in sorted(self._records) if (actor := self.get(actor_id)) and actor.id == actor_id]

    def search(self, text: str) -> list[Actor]:
        """Live actors with a name that holds `text` (as a key: "homeland" finds the department),
        or that `text` resolves to; every actor for a text with no words."""
        key = name_key(text)
        if not key:
            return self.all()
        resolved = self.resolve(text)
        return [
            actor for actor in self.all() if actor.id == resolved or any(key in name for name in actor.normalised_names)
        ]

    def _merged_into(self, actor_id: str) -> list[str]:
        """Every actor merged into this one, directly or through others, depth first in merge order."""
        found: list[str] = []
        waiting = list(reversed(self._records[actor_id].merged))
        while waiting:
            other = waiting.pop()
            found.append(other)
            waiting += reversed(self._records[other].merged)
        return found

    def _lookup(self) -> dict[str, str]:
        if self._table is None:
            table = {key: self.live(owner) or owner for key, owner in self._keys.items()}
            persons: dict[str, set[str]] = {}
            for key, live in table.items():
                words = key.split()
                if len(words) > 1 and self._records[live].kind == "person":
                    persons.setdefault(words[-1], set()).add(live)
            for surname, owners in persons.items():
                if len(owners) == 1 and surname not in table:
                    table[surname] = next(iter(owners))
            self._table = table
        return self._table
