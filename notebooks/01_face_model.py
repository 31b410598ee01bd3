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
# # Face model and camera
#
# DFF (paper Sec. III) describes a face by a linear 3D morphable model (3DMM)
#
# $$S = \bar S + A_{id}\, p_{id} + A_{exp}\, p_{exp},$$
#
# seen through a weak-perspective camera $w = (s, \alpha, \beta, \gamma, t_x, t_y)$:
#
# $$P(q) = s \begin{bmatrix}1 & 0 & 0\\ 0 & 1 & 0\end{bmatrix} R(\alpha, \beta, \gamma)\, q + t.$$
#
# The paper takes the identity basis from the Basel Face Model {cite}`paysan2009bfm` ($m_1 = 80$) and
# the expression basis from FaceWarehouse {cite}`cao2014facewarehouse` ($m_2 = 79$), as 3DDFA
# {cite}`zhu2016large` does. Both are licence-restricted, so dffkit cannot ship them. Its embedded
# default is the **ICT Face Model Light** {cite}`li2020ict` (MIT licence): 100 identity PCA modes,
# $p_{id} \sim \mathcal N(0, 1)$, and 53 ARKit-style expression blendshapes with weights in $[0, 1]$.
# It covers the whole head and neck on one topology, with mouth and eye sockets and eyeballs, so that
# faces at yaw up to 90° and open mouths render without holes. Users who hold BFM read it with
# `FaceModel.from_bfm`.
#
# dffkit's image frame has its $y$ axis pointing down, so its projection is the paper's with the
# second row negated; $R = R_x(\alpha) R_y(\beta) R_z(\gamma)$. Positive yaw turns the face towards the
# image right. The conventions are documented in `dffkit.face.camera` and checked in the tests against the
# `Pose_Para` of 300W-LP and AFLW2000-3D {cite}`zhu2016large`.

# %% tags=["parameters", "hide-input"]
size = 224  # image side, pixels
n_identities = 6  # random identities to show
n_yaws = 7  # yaw steps from -90 to 90 degrees
seed = 0
bench_frames = 50  # frames timed for the renderer
results_dir = "results"

# %% tags=["hide-input"]
# %matplotlib inline
from IPython.display import display

from dffkit import load_default_model
from dffkit.chapters import face_model as chapter
from dffkit.evaluation.report import tables
from dffkit.evaluation.results import save_chapter
from dffkit.face.render import Renderer

model = load_default_model()
renderer = Renderer()
results = chapter.measure(model, renderer, size, bench_frames, seed=seed)

# %% [markdown]
# ## The embedded model

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
display(tables.model_table(results.model))

# %% mystnb={"figure": {"caption": "The mean face $\\bar S$ from the front, at 45° and in profile.", "name": "fig-mean-face"}} tags=["hide-input"]
chapter.views_figure(model, renderer, size)

# %% [markdown]
# ## Identities and expressions
#
# Random identities draw $p_{id}$ from its prior $\mathcal N(0, I)$. Expressions set a few blendshape
# weights in $[0, 1]$.

# %% mystnb={"figure": {"caption": "Random identities, $p_{id} \\sim \\mathcal N(0, I)$, neutral expression.", "name": "fig-identities"}} tags=["hide-input"]
chapter.identities_figure(model, renderer, size, n_identities, seed=seed)

# %% mystnb={"figure": {"caption": "Expression blendshapes of the mean face, each at weight 1.", "name": "fig-expressions"}} tags=["hide-input"]
chapter.expressions_figure(model, renderer, size)

# %% [markdown]
# ## Large poses and landmark visibility
#
# The renderer's z-buffer gives the visibility of every vertex. At large yaw the far contour and the
# far eye go out of sight: these are the invisible landmarks that DFF alignment (Sec. III-C) must
# handle.

# %% mystnb={"figure": {"caption": "Yaw from −90° to 90° with the 68 landmarks: green visible, red hidden by the z-buffer.", "name": "fig-yaw-sweep"}} tags=["hide-input"]
chapter.yaw_sweep_figure(model, renderer, size, n_yaws)

# %% [markdown]
# ## Renderer speed
#
# Data synthesis renders a new mesh for every sample. The renderer draws colour, triangle ids and
# depth in one OpenGL pass (OSMesa), then derives barycentrics, depth and per-vertex visibility.
# `benchmarks/bench_render.py` compares it with pyrender's stock scene renderer.

# %% tags=["hide-input"]
# NBVAL_IGNORE_OUTPUT
print(
    f"{results.render_ms:.1f} ms per {size}x{size} frame "
    f"({1e3 / results.render_ms:.0f} frames/s), new mesh every frame"
)

# %% tags=["hide-input"]
saved = save_chapter(
    results_dir,
    results,
    {
        "size": size,
        "bench_frames": bench_frames,
        "seed": seed,
        "model": model.name,
    },
)
renderer.close()
