"""The `vercel` preset: Vercel's Build Output API in ``.vercel/output`` (one Python
function under Vercel's own launcher), its preview and ``vercel deploy --prebuilt``.

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
