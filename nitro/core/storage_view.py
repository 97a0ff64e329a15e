"""`StorageView`: the part of a `Storage` under one base, addressed without it
(what ``use_storage("data")`` returns)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .storage_driver import normalize_base, normalize_key

if TYPE_CHECKING:
    from .storage import Storage

__all__ = ["StorageView"]


class StorageView:
    """A `Storage` seen from `base`: keys are relative to it, `get_keys` drops it.

    Example::

        data = storage.view("data")
        await data.set_item("users:1", {"name": "Ada"})   # the key "data:users:1"
        await data.get_keys("users")                       # ["users:1"]
    """

    def __init__(self, storage: Storage, base: str) -> None:
        self.storage = storage
        self.base = base

    def _key(self, key: str) -> str:
        return self.base + normalize_key(key)

    async def get_item(self, key: str) -> Any:
        return await self.storage.get_item(self._key(key))

    async def get_item_raw(self, key: str) -> bytes | None:
        return await self.storage.get_item_raw(self._key(key))

    async def set_item(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.storage.set_item(self._key(key), value, ttl)

    async def set_item_raw(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self.storage.set_item_raw(self._key(key), value, ttl)

    async def set_item_if_absent(self, key: str, value: Any, ttl: float | None = None) -> bool:
        return await self.storage.set_item_if_absent(self._key(key), value, ttl)

    def supports_atomic(self, key: str) -> bool:
        return self.storage.supports_atomic(self._key(key))

    async def has_item(self, key: str) -> bool:
        return await self.storage.has_item(self._key(key))

    async def remove_item(self, key: str) -> None:
        await self.storage.remove_item(self._key(key))

    async def get_meta(self, key: str) -> dict[str, Any]:
        return await self.storage.get_meta(self._key(key))

    async def get_keys(self, base: str | None = None) -> list[str]:
        keys = await self.storage.get_keys(self.base + normalize_key(base or ""))
        return [key[len(self.base) :] for key in keys]

    async def clear(self, base: str | None = None) -> None:
        await self.storage.clear(self.base + normalize_key(base or ""))

    def view(self, base: str) -> StorageView:
        return StorageView(self.storage, self.base + normalize_base(base))
