"""The book's chapters as code: what each chapter measures (a ``measure`` function returning its typed
record, :mod:`dffkit.evaluation.results`) and the figures it shows (functions returning matplotlib
figures). The notebooks call these and show what they return; they compute nothing themselves.

One module per chapter: :mod:`~dffkit.chapters.face_model`, :mod:`~dffkit.chapters.synthesis`,
:mod:`~dffkit.chapters.segmentation`, :mod:`~dffkit.chapters.training`, :mod:`~dffkit.chapters.matching`,
:mod:`~dffkit.chapters.alignment`, :mod:`~dffkit.chapters.tracking`, :mod:`~dffkit.chapters.results`.
"""
