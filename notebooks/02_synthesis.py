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
# # Training data synthesis
#
# DFF needs images with exact per-pixel ground truth. The paper (Sec. III-A) gets them by fitting the
# 3DMM to 4,308 real photos and re-rendering each fitted face with new poses and expressions: 80,000
# photo-realistic 224×224 images. dffkit does the same for any folder of face photos
# (`dffkit synth --photos DIR`):
#
# 1. **fit** the camera, identity and expression to the photo's 68 landmarks by alternating
#    regularised linear least squares (eqs. 6–8), with the turned-away jawline following the
#    silhouette;
# 2. **texture** the fitted mesh with the photo's colours at the visible vertices; the hidden side
#    takes its mirror vertex's colour, and what is still unseen is filled harmonically over the mesh;
# 3. **re-render** with a new camera (yaw in [−90°, 90°]), new expression weights, ambient plus
#    directional light, a background (a crop of another photo or a procedural texture) and colour,
#    blur and noise augmentation. A quarter of the samples swap the fitted identity for a random one
#    from the identity prior, carrying the source's texture: 300-W gives fewer identities than the
#    paper's photos, and random shapes widen the shape space at no cost.
#
# Re-rendering a bald textured head on a random background teaches the network that domain, not
# photographs. The paper's alignment regressors are learned on 300W-LP {cite}`zhu2016large`, made by
# **face profiling**: the whole photo, hair, ears, neck and background included, is lifted to 3D around
# its fitted face and turned, so the result is still a photograph (`dffkit synth --mode profile`). Both
# kinds of sample are made here; the shipped network and regressors are trained on a mix of them.
#
# Source photos are split by photo into train (80%), val (10%) and test (10%) with a fixed hash
# (`dffkit.data.photos.photo_split`); training data uses train photos only. This chapter runs on the
# photo sample vendored with dffkit (32 train photos of 300-W {cite}`sagonas2013300w`); the
# `photos` parameter points it at a larger folder.

# %% tags=["parameters"]
photos = None  # folder of face photos with landmarks; None: the vendored 300-W sample
n = 2000  # samples to synthesise
size = 224  # image side, pixels
workers = 2
seed = 0
out_dir = "synth-train"  # the dataset, reused by the training chapter
n_profile = 600  # profiled samples (rotated photos)
profile_dir = "profile-train"
fill_sources = 16  # source photos over which the filled share of profiled views is measured
results_dir = "results"

# %%
import time

import cv2
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from dffkit import load_default_model
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.photos import default_photos
from dffkit.evaluation.profiling import fill_table, profiled_views
from dffkit.evaluation.report import save_results, table
from dffkit.evaluation.summaries import dataset_summary, fit_summary
from dffkit.face.render import Renderer
from dffkit.images import read_image
from dffkit.viz import draw_landmarks, image_grid, label_panel, render_face

model = load_default_model()
t0 = time.perf_counter()
generate_dataset(out_dir, photos=photos, n=n, size=size, seed=seed, workers=workers, progress=False)
wall_s = time.perf_counter() - t0
ds = SynthDataset(out_dir)
src = ds.sources()
print(f"{len(ds)} samples from {len(src['names'])} source photos in {wall_s:.0f} s")

# %% [markdown]
# ## Fitting accuracy
#
# The fit is the ceiling for everything downstream: its landmark error, normalised by the size of the
# landmark box ($\sqrt{wh}$), on the source photos of this run.

# %%
fit_table = fit_summary(src)
display(table(fit_table))

# %% [markdown]
# ## A photo and its re-renderings (paper Fig. 2)

# %% mystnb={"figure": {"caption": "Left: a source photo. Right: its fitted, textured face re-rendered at new yaws and with new expressions.", "name": "fig-rerender"}}
k = int(np.argmin(src["nme"]))
photo = read_image(src["paths"][k])
renderer = Renderer()
rng = np.random.default_rng(seed)
views = [render_face(renderer, model, size, src["p_id"][k], src["p_exp"][k], yaw=np.radians(a), colors=src["colors"][k])
         for a in (-70, -35, 35, 70)]
views += [render_face(renderer, model, size, src["p_id"][k], model.sample_expression(rng, n_active=3),
                      yaw=np.radians(a), colors=src["colors"][k]) for a in (-20, 0, 20)]
side = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
plt.figure(figsize=(16, 2.6))
plt.imshow(image_grid([side] + views, cols=8))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Face profiling: the photo itself, turned (300W-LP style)
#
# The photo is lifted to a mesh: the fitted face, plus anchors over the rest of the image whose depth
# falls smoothly from the face's outline to the background plane, triangulated together (Delaunay).
# Turning that mesh and rendering it with the photo as its texture keeps hair, ears and background.
# What the turn uncovers is filled: the face's far side from the model's symmetric texture, the
# background by inpainting. The unrotated view keeps the photo's **hand-made** 68 points; turned views
# take the model's, with z-buffer visibility, exactly as renders do.

# %% mystnb={"figure": {"caption": "Top: one source photo profiled by 0°, 30°, 60° and 90° of yaw away from frontal (the photo's own landmarks on the first; the model's visible ones, green, on the others). Bottom: the same face re-rendered as a textured head at the same yaws.", "name": "fig-profile"}}
side = 1.0 if src["camera"][k][2] >= 0 else -1.0
rotations = [0.0, 30.0, 60.0, 90.0]
prof = profiled_views(model, renderer, src, k, [side * r for r in rotations], size=size)
top = [draw_landmarks(v.arrays["image"], v.arrays["landmarks68"], v.arrays["visible68"]) for v in prof]
bottom = [render_face(renderer, model, size, src["p_id"][k], src["p_exp"][k],
                      pitch=float(v.arrays["camera"][1]), yaw=float(v.arrays["camera"][2]),
                      roll=float(v.arrays["camera"][3]), colors=src["colors"][k]) for v in prof]
plt.figure(figsize=(11, 5.6))
plt.imshow(image_grid(top + bottom, cols=len(prof)))
plt.axis("off")
plt.show()

# %% [markdown]
# How much of a profiled view is made up rather than seen, per rotation (mean over the first
# `fill_sources` source photos, each turned away from the frontal view):

# %%
fill = fill_table(model, renderer, src, rotations, size=size, max_sources=fill_sources)
display(table(fill, digits=1))

# %%
t0 = time.perf_counter()
generate_dataset(profile_dir, photos=photos, n=n_profile, size=size, seed=seed + 1, workers=workers, mode="profile",
                 progress=False)
profile_s = time.perf_counter() - t0
pds = SynthDataset(profile_dir)
print(f"{len(pds)} profiled samples in {profile_s:.0f} s")

# %% mystnb={"figure": {"caption": "Profiled training samples with their 68 landmarks (green visible, red hidden); samples marked 'photo' are unrotated photos with their hand-made annotation.", "name": "fig-profile-samples"}}
shown = [label_panel(draw_landmarks(pds[i].image, pds[i].landmarks68, pds[i].visible68),
                     "photo" if pds[i].annotated else f"turned {pds[i].rotation:+.0f}°")
         for i in range(min(12, len(pds)))]
plt.figure(figsize=(14, 2.6 * -(-len(shown) // 6)))
plt.imshow(image_grid(shown, cols=6))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Samples and their ground truth
#
# Each sample stores its parameters, camera, the 68 landmarks and 160 dense landmark vertices with
# their z-buffer visibility, and the triangle-id map (from which the barycentric map and every
# pixel's 3D surface point follow exactly).

# %% mystnb={"figure": {"caption": "Re-rendered training samples with their 68 landmarks: green visible, red hidden by the z-buffer.", "name": "fig-samples"}}
shown = [draw_landmarks(ds[i].image, ds[i].landmarks68, ds[i].visible68) for i in range(min(12, len(ds)))]
plt.figure(figsize=(14, 2.6 * -(-len(shown) // 6)))
plt.imshow(image_grid(shown, cols=6))
plt.axis("off")
plt.show()

# %% mystnb={"figure": {"caption": "One sample's triangle-id map (false colour) and its 160 dense landmarks by visibility.", "name": "fig-gt-maps"}}
s = ds[0]
ids = s.triangle_ids.astype(np.float64)
ids[ids < 0] = np.nan
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].imshow(s.image)
axes[1].imshow(ids % 997, cmap="nipy_spectral")
axes[2].imshow(draw_landmarks(s.image, s.dense, s.visible_dense))
for ax, title in zip(axes, ("image", "triangle ids", "160 dense points")):
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.show()

# %% mystnb={"figure": {"caption": "Yaw angles of the re-rendered and the profiled samples.", "name": "fig-yaw-hist"}}
synth_table, yaws = dataset_summary(ds, wall_s, workers)
profile_table, profile_yaws = dataset_summary(pds, profile_s, workers)
plt.figure(figsize=(6, 3))
plt.hist([yaws, profile_yaws], bins=36, range=(-90, 90), color=["tab:blue", "tab:orange"],
         label=["re-rendered", "profiled"])
plt.legend()
plt.xlabel("yaw (degrees)")
plt.ylabel("samples")
plt.show()

# %% [markdown]
# ## Throughput
#
# `benchmarks/bench_synth.py` measures the same on its own; here, the runs above.

# %%
# NBVAL_IGNORE_OUTPUT
display(table([{"kind": "re-rendered", **synth_table}, {"kind": "profiled (no fitting: same sources)", **profile_table}]))

# %%
saved = save_results(f"{results_dir}/02_synthesis.json", results={"fit": fit_table, "synthesis": synth_table, "profiled": profile_table,
                                                             "profile_fill": fill},
             config={"photos": str(default_photos() if photos is None else photos), "n": n, "n_profile": n_profile, "size": size, "workers": workers, "seed": seed,
                     "model": model.name})
renderer.close()
