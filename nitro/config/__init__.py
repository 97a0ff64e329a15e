"""Project configuration: `define_nitro_config` for `nitro.config.py`, and its loader.

Example (``nitro.config.py``)::

    from nitro.config import define_nitro_config

    config = define_nitro_config(runtime_config={"api_token": ""})
"""

from __future__ import annotations

from .env import resolve_env_refs as resolve_env_refs
from .loader import CONFIG_FILE as CONFIG_FILE
from .loader import load_config as load_config
from .loader import load_dotenv as load_dotenv
from .options import ConfigError as ConfigError
from .options import NitroConfig as NitroConfig
from .options import define_nitro_config as define_nitro_config

__all__ = [
    "CONFIG_FILE",
    "ConfigError",
    "NitroConfig",
    "define_nitro_config",
    "load_config",
    "load_dotenv",
    "resolve_env_refs",
]
