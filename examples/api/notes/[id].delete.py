from lib.notes import NOTES

from nitro import define_handler


@define_handler
async def handler(event, id: int) -> None:
    """Delete a note (deleting a missing note is not an error)."""
    NOTES.pop(id, None)
