from lib.notes import NOTES, NoteList

from nitro import define_handler


@define_handler
async def handler(event) -> NoteList:
    """Every note, oldest first."""
    return {"notes": list(NOTES.values())}
