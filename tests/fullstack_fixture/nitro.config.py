from nitro.config import define_nitro_config

config = define_nitro_config(vite={"root": "web"})
