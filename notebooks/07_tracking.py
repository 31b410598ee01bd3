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
# # Tracking (the paper's video)
#
# The paper closes its experiments with tracking results on video clips (speech, poor lighting, large
# poses, sports) and calls them more robust than 3DDFA's. dffkit tracks faces with the same cascade
# (`dffkit track VIDEO -o overlay.mp4 --csv rows.csv`): the detector finds faces on the first frame;
# in every later frame it looks again only in a region around each track, and the cascade aligns the
# face in the calibrated box of that detection, so a track is lost exactly when the detector no longer
# sees a face there, and the whole frame is searched again. An optional One-Euro filter
# {cite}`casiez2012oneeuro` smooths the landmarks (off in the library, on in the CLI).
#
# **Sequences with ground truth**, made from one held-out test photo (never a training one), written as
# ordinary MP4 files plus their truth and tracked exactly as a user's video would be:
# - *yaw sweep* (semi-synthetic 3D): the photo profiled along a smooth sweep to ±80° yaw and back,
#   with drifting pitch, roll, position and scale, after a still stretch (sensor noise and JPEG only);
# - *similarity drift* (real pixels, 2D): the photo panned, zoomed and rotated in-plane after a still
#   stretch, its hand-made annotation moved the same way.
#
# Measured: NME per frame (box-normalised, %), jitter on the still stretch (RMS frame-to-frame landmark
# motion over the box size, the ideal being 0), lag in frames on the moving stretch, track count,
# re-detections and frames per second (decoding included).

# %% tags=["parameters"]
images = None  # folder of images with landmarks; None: the sample vendored with dffkit
image_index = 1  # which held-out test image the sequences are made from
n_still = 30  # frames of the still stretch
n_move = 120  # frames of the moving stretch
height = 480  # frame height, pixels (width 4/3 of it)
smoothing = {"min_cutoff": 1.0, "beta": 5.0}  # the One-Euro filter of the CLI
sweep_settings = [{"min_cutoff": 0.5, "beta": 2.0}, {"min_cutoff": 1.0, "beta": 5.0}, {"min_cutoff": 2.0, "beta": 10.0}]
seed = 0
results_dir = "results"

# %%
from IPython.display import display

from dffkit import load_default_model
from dffkit.alignment.cascade import default_aligner
from dffkit.chapters import tracking as chapter
from dffkit.evaluation.report import tables
from dffkit.evaluation.results import save_chapter

model = load_default_model()
aligner = default_aligner()
image_name, sequences = chapter.sequences(model, images, image_index, n_still, n_move, height, seed=seed)
results = chapter.measure(sequences, aligner, smoothing, sweep_settings)
print(f"sequences from held-out image {image_name}: {n_still + n_move} frames each")

# %% [markdown]
# ## A strip of tracked frames

# %% mystnb={"figure": {"caption": "Every sixth frame of the moving stretch of the yaw sweep, tracked with the filter: landmarks (green visible, red hidden) and the track id; the ground truth of the same frames in blue underneath.", "name": "fig-track-strip"}}
chapter.strip_figure(sequences, aligner, smoothing, n_still)

# %% [markdown]
# ## Tracking against per-frame alignment
#
# The same sequences, five ways: the tracker with and without its filter; per frame, the detector and
# the cascade, and the cascade in the true box (the ceiling of a perfect detector); and dlib's
# 68-point predictor per frame on its own detector's box (dlib was trained on 300-W, whose photos
# these sequences come from: a reference, not a fair rival). First the accuracy (box-normalised NME in
# per cent), then the stability: frames without a face, jitter on the still stretch, lag, and how
# often the face was found again.

# %%
display(tables.tracking_accuracy_table(results.methods))
display(tables.tracking_stability_table(results.methods))

# %%
# NBVAL_IGNORE_OUTPUT
display(tables.tracking_fps_table(results.methods))

# %% mystnb={"figure": {"caption": "NME per frame on the yaw sweep (the still stretch first), for tracking with and without the filter and for per-frame alignment; grey: the true |yaw| (right axis).", "name": "fig-track-nme"}}
chapter.nme_figure(results, sequences)

# %% [markdown]
# ## Jitter against lag
#
# The One-Euro filter trades jitter on still faces for lag on moving ones: a lower cut-off smooths more,
# a higher speed coefficient β lets fast motion through. Each setting on the similarity drift (real
# pixels):

# %% mystnb={"figure": {"caption": "Jitter on the still stretch against lag on the moving stretch, for no filter and several One-Euro settings (similarity drift).", "name": "fig-jitter-lag"}}
chapter.jitter_lag_figure(results)

# %%
display(tables.filter_table(results.filter_sweep))

# %%
saved = save_chapter(results_dir, results, {"image": image_name, "n_still": n_still, "n_move": n_move,
                                             "height": height, "smoothing": smoothing,
                                             "sweep_settings": sweep_settings, "seed": seed})
