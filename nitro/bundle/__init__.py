"""Build time: prerender, vendor dependencies, read lock files, compress public assets
and write the output the presets share.

Nothing here ships with a build or runs where the app runs (`copy_nitro` leaves this
package out). Bundling runs the app through `nitro.runtime` (to prerender), never the
other way round.
"""
