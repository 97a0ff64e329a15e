"""An in-memory note store (the storage layer replaces this with use_storage)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TypedDict

from pydantic import BaseModel, Field


class NewNote(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class Note(NewNote):
    id: int
    created_at: datetime


class NoteList(TypedDict):
    notes: list[Note]


_ids = itertools.count(1)
NOTES: dict[int, Note] = {}


def add(note: NewNote) -> Note:
    stored = Note(id=next(_ids), created_at=datetime.now(UTC), **note.model_dump())
    NOTES[stored.id] = stored
    return stored
