"""`symbolic serve`: a local web page that generates, shows, plays and edits tunes.

Starlette app (`app.create_app`), a bounded job queue (`jobs`), an in-memory output store
(`store`), request validation (`params`), the per-tune outputs (`outputs`: ABC, SVG score
from abcm2ps, MIDI, WAV) and uvicorn in a thread for tests and benchmarks (`server`). The page
itself lives in `static/`, shipped as package data.
"""
