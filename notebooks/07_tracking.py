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
photos = None  # folder of photos with landmarks; None: the sample vendored with dffkit
photo_index = 1  # which held-out test photo the sequences are made from
n_still = 30  # frames of the still stretch
n_move = 120  # frames of the moving stretch
height = 480  # frame height, pixels (width 4/3 of it)
smoothing = {"min_cutoff": 1.0, "beta": 5.0}  # the One-Euro filter of the CLI
sweep_settings = [{"min_cutoff": 0.5, "beta": 2.0}, {"min_cutoff": 1.0, "beta": 5.0}, {"min_cutoff": 2.0, "beta": 10.0}]
seed = 0
results_dir = "results"

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from dffkit import load_default_model
from dffkit.alignment.cascade import default_aligner
from dffkit.data.photos import default_photos, list_photos
from dffkit.evaluation.report import save_results, table
from dffkit.evaluation.tracking import compare_methods, filter_sweep, held_out_sequences
from dffkit.face.render import Renderer
from dffkit.tracking.run import draw_frame
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader
from dffkit.viz import TRUTH_RGB, draw_landmarks, image_grid, label_panel

model = load_default_model()
photo = list_photos(photos or default_photos(), split="test", require_landmarks=True)[photo_index]
with Renderer() as renderer:
    sequences = held_out_sequences(photo, model, renderer, "sequences", n_still=n_still, n_move=n_move,
                                   size=(height, height * 4 // 3), seed=seed)
aligner = default_aligner()
print(f"sequences from held-out photo {photo.image.name}: " +
      ", ".join(f"{k} ({len(t['landmarks'])} frames)" for k, (_, t) in sequences.items()))

# %% [markdown]
# ## A strip of tracked frames

# %% mystnb={"figure": {"caption": "Every sixth frame of the moving stretch of the yaw sweep, tracked with the filter: landmarks (green visible, red hidden) and the track id; the ground truth of the same frames in blue underneath.", "name": "fig-track-strip"}}
video, truth = sequences["yaw sweep"]
frames = list(VideoReader(video))
tracked = list(Tracker(aligner=aligner, filter=smoothing, fps=truth["fps"]).run(VideoReader(video)))
picks = np.linspace(n_still, len(frames) - 1, 6).astype(int)
top = [label_panel(draw_frame(frames[k][2], tracked[k]), f"frame {k}, yaw {truth['yaw'][k]:.0f}°") for k in picks]
bottom = [draw_landmarks(frames[k][2], truth["landmarks"][k], color=TRUTH_RGB) for k in picks]
plt.figure(figsize=(16, 5))
plt.imshow(image_grid(top + bottom, cols=len(picks)))
plt.axis("off")
plt.show()

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
rows, scores = [], {}
for name, (video, truth) in sequences.items():
    r, s = compare_methods(video, truth, aligner, smoothing)
    rows += [{"sequence": name, **row} for row in r]
    scores[name] = s
display(table([{k: v for k, v in row.items() if k in ("sequence", "method") or k.startswith("NME")} for row in rows],
              digits=2))
display(table([{k: v for k, v in row.items() if not k.startswith("NME") and k != "fps"} for row in rows], digits=2))

# %%
# NBVAL_IGNORE_OUTPUT
display(table([{"sequence": row["sequence"], "method": row["method"], "frames per second (this machine)": row["fps"]}
               for row in rows], digits=1))

# %% mystnb={"figure": {"caption": "NME per frame on the yaw sweep (the still stretch first), for tracking with and without the filter and for per-frame alignment; grey: the true |yaw| (right axis).", "name": "fig-track-nme"}}
video, truth = sequences["yaw sweep"]
fig, ax = plt.subplots(figsize=(10, 3.5))
for name, s in scores["yaw sweep"].items():
    ax.plot(100 * s.nme, label=name, lw=1)
ax.set_xlabel("frame")
ax.set_ylabel("NME (%)")
ax.legend(fontsize=7, loc="upper left")
ax2 = ax.twinx()
ax2.plot(np.abs(truth["yaw"]), color="gray", lw=0.8, ls="--")
ax2.set_ylabel("|yaw| (°)")
plt.show()

# %% [markdown]
# ## Jitter against lag
#
# The One-Euro filter trades jitter on still faces for lag on moving ones: a lower cut-off smooths more,
# a higher speed coefficient β lets fast motion through. Each setting on the similarity drift (real
# pixels):

# %% mystnb={"figure": {"caption": "Jitter on the still stretch against lag on the moving stretch, for no filter and several One-Euro settings (similarity drift).", "name": "fig-jitter-lag"}}
video, truth = sequences["similarity drift"]
sweep = filter_sweep(video, truth, sweep_settings, aligner=aligner)
plt.figure(figsize=(5, 3.5))
for row in sweep:
    plt.scatter(row["lag (frames)"], row["jitter still (% of box)"])
    plt.annotate(row["filter"], (row["lag (frames)"], row["jitter still (% of box)"]), fontsize=7)
plt.xlabel("lag (frames)")
plt.ylabel("jitter, still (% of box)")
plt.grid(alpha=0.3)
plt.show()

# %%
display(table(sweep, digits=3))

# %%
saved = save_results(f"{results_dir}/07_tracking.json", results={"methods": rows, "filter_sweep": sweep},
                     config={"photo": photo.image.name, "n_still": n_still, "n_move": n_move, "height": height,
                             "smoothing": smoothing, "sweep_settings": sweep_settings, "seed": seed})
