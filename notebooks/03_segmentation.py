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

# %% tags=["parameters", "hide-input"]
n_segmentations = 100  # the paper's value
n_patches = 500  # the paper's value
seed = 0
size = 224  # image side for Fig. 5
n_shown = 4  # segmentations drawn in Fig. 4
results_dir = "results"

# %% tags=["hide-input"]
# %matplotlib inline
from IPython.display import display

from dffkit import load_default_model
from dffkit.chapters import segmentation as chapter
from dffkit.evaluation.report import tables
from dffkit.evaluation.results import save_chapter
from dffkit.face.render import Renderer

model = load_default_model()
renderer = Renderer()
segs, load_s = chapter.load(model, n_segmentations, n_patches, seed=seed)
results = chapter.measure(model, renderer, segs, load_s, size)

# %% [markdown]
# ## Segmentations of the mean face (paper Fig. 4)

# %% mystnb={"figure": {"caption": "Random CVT segmentations of the mean face, one per column; each colour is a patch (rebuilds paper Fig. 4).", "name": "fig-segmentations"}} tags=["hide-input"]
chapter.patches_figure(model, renderer, segs, size, n_shown, seed=seed)

# %% [markdown]
# ## Patches on rendered faces (paper Fig. 5)
#
# The same segmentation projected into renderings of different identities and yaws: each patch stays
# on the same anatomy. Pixels outside the face region (neck, ears, scalp, mouth interior, eyeballs)
# carry no label.

# %% mystnb={"figure": {"caption": "Segmentation 0 on random identities at yaw −60°, −20°, 20° and 60°: a pixel's class is the patch of its surface point (rebuilds paper Fig. 5).", "name": "fig-patches-projected"}} tags=["hide-input"]
chapter.carried_figure(model, renderer, segs, size, seed=seed)

# %% [markdown]
# ## Uniformity
#
# Patches should have equal areas. The coefficient of variation (CV) of the patch areas measures how
# far they are from it. The ICT face region has 13,120 triangles, about 26 per patch at 500 patches,
# with areas spanning more than three orders of magnitude: a patch cannot be finer than its
# triangles, which bounds the CV from below. It falls as patches grow.

# %% tags=["hide-input"]
display(tables.segmentation_table(results.summary))

# %% mystnb={"figure": {"caption": "Distribution of patch areas over all segmentations, relative to the mean patch area.", "name": "fig-patch-areas"}} tags=["hide-input"]
chapter.areas_figure(model, segs)

# %% tags=["hide-input"]
saved = save_chapter(
    results_dir,
    results,
    {
        "n_segmentations": n_segmentations,
        "n_patches": n_patches,
        "seed": seed,
        "size": size,
        "model": model.name,
    },
)
renderer.close()
