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
# (`dffkit synth --images DIR`):
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
# (`dffkit.data.photos.image_split`); training data uses train photos only. This chapter runs on the
# photo sample vendored with dffkit (32 train photos of 300-W {cite}`sagonas2013300w`); the
# `images` parameter points it at a larger folder.

# %% tags=["parameters", "hide-input"]
# folder of face images with landmarks; None: the vendored 300-W sample
images = None
n = 2000  # samples to synthesise
size = 224  # image side, pixels
workers = 2
seed = 0
out_dir = "synth-train"  # the dataset, reused by the training chapter
n_profile = 600  # profiled samples (rotated images)
profile_dir = "profile-train"
# source images over which the filled share of profiled views is measured
fill_sources = 16
results_dir = "results"

# %% tags=["hide-input"]
# %matplotlib inline
from IPython.display import display

from dffkit import load_default_model
from dffkit.chapters import synthesis as chapter
from dffkit.data.photos import default_images
from dffkit.evaluation.report import tables
from dffkit.evaluation.results import save_chapter
from dffkit.face.render import Renderer

model = load_default_model()
renderer = Renderer()
rendered = chapter.make_dataset(out_dir, images, n, size, seed, workers)
profiled = chapter.make_dataset(
    profile_dir, images, n_profile, size, seed + 1, workers, mode="profile"
)
results = chapter.measure(
    model, renderer, rendered, profiled, workers, size, fill_sources
)
ds, pds = rendered[0], profiled[0]
print(
    f"{len(ds)} samples from {results.fit.sources} source images; "
    f"{len(pds)} profiled samples"
)

# %% [markdown]
# ## Fitting accuracy
#
# The fit is the ceiling for everything downstream: its landmark error, normalised by the size of the
# landmark box ($\sqrt{wh}$), on the source photos of this run.

# %% tags=["hide-input"]
display(tables.fit_table(results.fit))

# %% [markdown]
# ## A photo and its re-renderings (paper Fig. 2)

# %% mystnb={"figure": {"caption": "Left: a source photo. Right: its fitted, textured face re-rendered at new yaws and with new expressions (rebuilds paper Fig. 2).", "name": "fig-rerender"}} tags=["hide-input"]
chapter.source_views_figure(model, renderer, ds, size, seed=seed)

# %% [markdown]
# ## Face profiling: the photo itself, turned (300W-LP style)
#
# The photo is lifted to a mesh: the fitted face, plus anchors over the rest of the image whose depth
# falls smoothly from the face's outline to the background plane, triangulated together (Delaunay).
# Turning that mesh and rendering it with the photo as its texture keeps hair, ears and background.
# What the turn uncovers is filled: the face's far side from the model's symmetric texture, the
# background by inpainting. The unrotated view keeps the photo's **hand-made** 68 points; turned views
# take the model's, with z-buffer visibility, exactly as renders do.

# %% mystnb={"figure": {"caption": "Top: one source photo profiled by 0°, 30°, 60° and 90° of yaw away from frontal (the photo's own landmarks on the first; the model's visible ones, green, on the others). Bottom: the same face re-rendered as a textured head at the same yaws.", "name": "fig-profile"}} tags=["hide-input"]
chapter.profiling_figure(model, renderer, ds, size)

# %% [markdown]
# How much of a profiled view is made up rather than seen, per rotation (mean over the first
# `fill_sources` source photos, each turned away from the frontal view):

# %% tags=["hide-input"]
display(tables.fill_table(results.profile_fill))

# %% mystnb={"figure": {"caption": "Profiled training samples with their 68 landmarks (green visible, red hidden); samples marked 'photo' are unrotated photos with their hand-made annotation.", "name": "fig-profile-samples"}} tags=["hide-input"]
chapter.samples_figure(pds, profiled=True)

# %% [markdown]
# ## Samples and their ground truth
#
# Each sample stores its parameters, camera, the 68 landmarks and 160 dense landmark vertices with
# their z-buffer visibility, and the triangle-id map (from which the barycentric map and every
# pixel's 3D surface point follow exactly).

# %% mystnb={"figure": {"caption": "Re-rendered training samples with their 68 landmarks: green visible, red hidden by the z-buffer.", "name": "fig-samples"}} tags=["hide-input"]
chapter.samples_figure(ds)

# %% mystnb={"figure": {"caption": "One sample's triangle-id map (false colour) and its 160 dense landmarks by visibility.", "name": "fig-gt-maps"}} tags=["hide-input"]
chapter.ground_truth_figure(ds)

# %% mystnb={"figure": {"caption": "Yaw angles of the re-rendered and the profiled samples.", "name": "fig-yaw-hist"}} tags=["hide-input"]
chapter.yaw_histogram(results.synthesis, results.profiled)

# %% [markdown]
# ## Throughput
#
# `benchmarks/bench_synth.py` measures the same on its own; here, the runs above.

# %% tags=["hide-input"]
# NBVAL_IGNORE_OUTPUT
display(
    tables.datasets_table(
        [
            ("re-rendered", results.synthesis),
            ("profiled (no fitting: same sources)", results.profiled),
        ]
    )
)

# %% tags=["hide-input"]
saved = save_chapter(
    results_dir,
    results,
    {
        "images": str(default_images() if images is None else images),
        "n": n,
        "n_profile": n_profile,
        "size": size,
        "workers": workers,
        "seed": seed,
        "model": model.name,
    },
)
renderer.close()
