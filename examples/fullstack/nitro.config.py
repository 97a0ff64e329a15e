from nitro.config import define_nitro_config

# The front-end lives in web/: `nitro dev` runs Vite's dev server behind nitro's
# port, `nitro build` builds it into the public assets with an SPA fallback.
config = define_nitro_config(
    vite={"root": "web"},
    runtime_config={"greeting": "Hello"},
)
