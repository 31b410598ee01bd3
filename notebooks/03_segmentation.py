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
# # Random surface segmentations
#
# DFF is trained without any hand-made correspondence (paper Sec. III-B). Instead, the mean face
# surface is cut at random into patches, many times over: 100 segmentations of 500 patches each. A
# pixel's class in segmentation $k$ is the patch its surface point falls in. Since every face of the
# model shares one topology, a segmentation drawn once on the mean face labels every identity,
# expression and pose, and the 100 classification tasks together ask the network to tell every
# surface point from every other.
#
# Each segmentation is a centroidal Voronoi tessellation {cite}`du1999cvt` of the face region: Lloyd
# iterations from random generators, with a triangle assigned to its nearest generator by geodesic
# distance (a multi-source Dijkstra on the face-adjacency graph). A patch is a union of mesh
# triangles. `dffkit.dff.segment` documents the algorithm; the set is cached after its first build.

# %% tags=["parameters"]
n_segmentations = 100  # the paper's value
n_patches = 500  # the paper's value
seed = 0
size = 224  # image side for Fig. 5
n_shown = 4  # segmentations drawn in Fig. 4
results_dir = "results"

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from dffkit import load_default_model
from dffkit.face.camera import frame_camera
from dffkit.face.render import Renderer
from dffkit.evaluation.report import save_results, table
from dffkit.evaluation.summaries import segmentation_summary
from dffkit.dff.segment import load_segmentations, pixel_labels, segmentation_stats
from dffkit.viz import image_grid, label_image, patch_colors

model = load_default_model()
renderer = Renderer()
rng = np.random.default_rng(seed)

t0 = time.perf_counter()
segs = load_segmentations(model, n_segmentations, n_patches, seed=seed, progress=False)
load_s = time.perf_counter() - t0
stats = segmentation_stats(model, segs)
colors = patch_colors(n_patches, seed=seed)

# %% [markdown]
# ## Segmentations of the mean face (paper Fig. 4)

# %% mystnb={"figure": {"caption": "Random CVT segmentations of the mean face, one per column; each colour is a patch.", "name": "fig-segmentations"}}
mean_cam = frame_camera(model.mean[model.vertices_of("face_narrow")], size, yaw=0.35, fill=0.85)
base = renderer.render(model.mean, model.triangles, mean_cam, size=size)
labels = pixel_labels(segs, base.triangle_ids)
shown = [label_image(labels[k], colors, base.image) for k in range(min(n_shown, n_segmentations))]
plt.figure(figsize=(3 * len(shown), 3.2))
plt.imshow(image_grid(shown, cols=len(shown)))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Patches on rendered faces (paper Fig. 5)
#
# The same segmentation projected into renderings of different identities and yaws: each patch stays
# on the same anatomy. Pixels outside the face region (neck, ears, scalp, mouth interior, eyeballs)
# carry no label.

# %% mystnb={"figure": {"caption": "Segmentation 0 on random identities at yaw −60°, −20°, 20° and 60°: a pixel's class is the patch of its surface point.", "name": "fig-patches-projected"}}
panels = []
for yaw in (-60, -20, 20, 60):
    shape = model.shape(model.sample_identity(rng), model.sample_expression(rng))
    cam = frame_camera(shape[model.vertices_of("face_narrow")], size, yaw=np.radians(yaw), fill=0.8)
    out = renderer.render(shape, model.triangles, cam, size=size)
    panels.append(label_image(pixel_labels(segs, out.triangle_ids)[0], colors, out.image, alpha=0.8))
plt.figure(figsize=(12, 3.2))
plt.imshow(image_grid(panels, cols=4))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Uniformity
#
# Patches should have equal areas. The coefficient of variation (CV) of the patch areas measures how
# far they are from it. The ICT face region has 13,120 triangles, about 26 per patch at 500 patches,
# with areas spanning more than three orders of magnitude: a patch cannot be finer than its
# triangles, which bounds the CV from below. It falls as patches grow.

# %%
t0 = time.perf_counter()
for _ in range(20):
    pixel_labels(segs, out.triangle_ids)
label_ms = (time.perf_counter() - t0) / 20 * 1e3
table_seg = segmentation_summary(model, segs, label_ms, size)
display(table(table_seg))

# %% mystnb={"figure": {"caption": "Distribution of patch areas over all segmentations, relative to the mean patch area.", "name": "fig-patch-areas"}}
plt.figure(figsize=(6, 3))
plt.hist(stats["relative_areas"].ravel(), bins=60, color="tab:blue")
plt.xlabel("patch area / mean patch area")
plt.ylabel("patches")
plt.show()

# %%
saved = save_results(f"{results_dir}/03_segmentation.json", results={"table": table_seg, "load_or_build_s": load_s},
             config={"n_segmentations": n_segmentations, "n_patches": n_patches, "seed": seed, "size": size,
                     "model": model.name})
renderer.close()
