from lib.notes import NOTES

from nitro import HTTPError, define_handler


@define_handler
async def handler(event, id: int):
    note = NOTES.get(id)
    if note is None:
        raise HTTPError(404, f"No note {id}")
    return note
