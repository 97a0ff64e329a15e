from lib.notes import NOTES, Note

from nitro import HTTPError, define_handler, define_route_meta

define_route_meta(openapi={"responses": {404: {"description": "No note has this id"}}})


@define_handler
async def handler(event, id: int) -> Note:
    """One note, by id."""
    note = NOTES.get(id)
    if note is None:
        raise HTTPError(404, f"No note {id}")
    return note
