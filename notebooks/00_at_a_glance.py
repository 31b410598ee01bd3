# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Results at a glance
#
# What dffkit achieves, in one page: each row below is measured by a chapter of this book (or, where it
# says so, by a benchmark script of the repository), read from the result files, never typed in. Beside
# ours stand the paper's own numbers, on the paper's data (they are quoted, and the data differ: read
# them as neighbours), and the tools a reader already uses, where this project could run them on the
# same held-out images.

# %% tags=["parameters", "hide-input"]
results_dir = "results"
# folder of images with landmarks; None: the sample vendored with dffkit
images = None

# %% tags=["hide-input"]
# %matplotlib inline
from IPython.display import display

from dffkit.alignment.cascade import default_aligner
from dffkit.chapters import glance as chapter
from dffkit.chapters import results as results_chapter
from dffkit.evaluation.results import GlanceResults, save_chapter

book = results_chapter.load(results_dir)
bench = chapter.load_benchmarks()

# %% [markdown]
# ## What dffkit measures

# %% tags=["hide-input"]
display(chapter.glance_table(book, bench))

# %% [markdown]
# Where each row comes from: {doc}`large-pose alignment <06_alignment>`, {doc}`matching against SIFT <05_matching>`,
# {doc}`tracking <07_tracking>`; every table of the book, with the paper's Tables I-IV beside ours, is on the
# {doc}`results <08_results>` page.
#
# ## Speed per face
#
# `dffkit.align(image, box)` with the default network and regressors, dlib's 68-point predictor and
# MediaPipe FaceMesh (its own detection included) on the same held-out faces, in the same runs: once on a
# quiet machine, once beside a second process that aligns faces in a loop (what a second worker or a
# notebook beside a job does).

# %% tags=["hide-input"]
# NBVAL_IGNORE_OUTPUT
display(chapter.speed_table(bench))

# %% [markdown]
# ## Which tools were run, and which are quoted

# %% tags=["hide-input"]
display(chapter.tools_table())

# %% [markdown]
# ## What ships

# %% tags=["hide-input"]
display(chapter.shipped_table())

# %% [markdown]
# ## Real images at large pose
#
# The held-out real test images (never trained on) that the aligner finds most turned, aligned in their
# true landmark box and drawn in the 2D convention of their annotation.

# %% mystnb={"figure": {"caption": "The four most turned held-out real test images, aligned by dffkit.align (landmarks_2d).", "name": "fig-glance-large-pose"}} tags=["hide-input"]
chapter.large_pose_figure(default_aligner(), images)

# %% tags=["hide-input"]
saved = save_chapter(
    results_dir,
    GlanceResults(book.read, tuple(sorted(bench))),
    {"images": str(images)},
)
