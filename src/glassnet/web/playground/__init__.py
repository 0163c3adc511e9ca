"""``glassnet playground``: a local page that trains real glassnet models live.

The server (:mod:`.server`, with Starlette and uvicorn: ``pip install
"glassnet[playground]"``) serves one page and one WebSocket per page
(:mod:`.connection`); each socket drives a :class:`~.session.Session` (data, model,
training, frames) configured by :mod:`.config` and built by :mod:`.building`, with
the data sets of :mod:`.datasets`, the downloads of :mod:`.downloads` and the
"copy as glassnet code" script of :mod:`.codegen`. Only the server needs the extra:
everything else is plain glassnet.

>>> from glassnet.web.playground.session import Session
>>> Session(seed=0).config["dataset"]
'circle'
"""
