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
from dffkit.evaluation.report import save_results, table
from dffkit.evaluation.summaries import dataset_summary, fit_summary
from dffkit.face.render import Renderer
from dffkit.images import read_image
from dffkit.viz import draw_landmarks, image_grid, render_face

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
# ## Samples and their ground truth
#
# Each sample stores its parameters, camera, the 68 landmarks and 160 dense landmark vertices with
# their z-buffer visibility, and the triangle-id map (from which the barycentric map and every
# pixel's 3D surface point follow exactly).

# %% mystnb={"figure": {"caption": "Synthetic training samples with their 68 landmarks: green visible, red hidden by the z-buffer.", "name": "fig-samples"}}
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

# %% mystnb={"figure": {"caption": "Sampled yaw angles over the dataset.", "name": "fig-yaw-hist"}}
synth_table, yaws = dataset_summary(ds, wall_s, workers)
plt.figure(figsize=(6, 3))
plt.hist(yaws, bins=36, range=(-90, 90), color="tab:blue")
plt.xlabel("yaw (degrees)")
plt.ylabel("samples")
plt.show()

# %% [markdown]
# ## Throughput
#
# `benchmarks/bench_synth.py` measures the same on its own; here, the run above.

# %%
# NBVAL_IGNORE_OUTPUT
display(table(synth_table))

# %%
save_results(f"{results_dir}/02_synthesis.json", results={"fit": fit_table, "synthesis": synth_table},
             config={"photos": str(default_photos() if photos is None else photos), "n": n, "size": size, "workers": workers, "seed": seed,
                     "model": model.name})
renderer.close()
