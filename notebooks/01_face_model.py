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

# %% tags=["parameters"]
size = 224  # image side, pixels
n_identities = 6  # random identities to show
n_yaws = 7  # yaw steps from -90 to 90 degrees
seed = 0
bench_frames = 50  # frames timed for the renderer
results_dir = "results"

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from dffkit import load_default_model
from dffkit.evaluation.report import save_results, table
from dffkit.evaluation.summaries import render_speed
from dffkit.face.render import Renderer
from dffkit.viz import image_grid, render_face

model = load_default_model()
renderer = Renderer()
rng = np.random.default_rng(seed)

# %% [markdown]
# ## The embedded model

# %%
# NBVAL_CHECK_OUTPUT
counts = {
    "vertices": model.n_vertices,
    "triangles": model.n_triangles,
    "identity modes m1": model.n_identity,
    "expression modes m2": model.n_expression,
    "landmarks": len(model.landmarks68),
}
display(table(counts))

# %% mystnb={"figure": {"caption": "The mean face $\\bar S$ from the front, at 45° and in profile.", "name": "fig-mean-face"}}
views = [render_face(renderer, model, size, yaw=np.radians(a)) for a in (0, 45, 90)]
plt.figure(figsize=(9, 3))
plt.imshow(image_grid(views, cols=3))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Identities and expressions
#
# Random identities draw $p_{id}$ from its prior $\mathcal N(0, I)$. Expressions set a few blendshape
# weights in $[0, 1]$.

# %% mystnb={"figure": {"caption": "Random identities, $p_{id} \\sim \\mathcal N(0, I)$, neutral expression.", "name": "fig-identities"}}
faces = [render_face(renderer, model, size, p_id=model.sample_identity(rng), yaw=0.3) for _ in range(n_identities)]
plt.figure(figsize=(2 * min(n_identities, 6), 2.2 * -(-n_identities // 6)))
plt.imshow(image_grid(faces, cols=min(n_identities, 6)))
plt.axis("off")
plt.show()

# %% mystnb={"figure": {"caption": "Expression blendshapes of the mean face, each at weight 1.", "name": "fig-expressions"}}
shown = ["jawOpen", "mouthSmile_L", "eyeBlink_L", "browInnerUp_L", "mouthPucker", "cheekPuff_L"]
exps = []
for name in shown:
    p_exp = np.zeros(model.n_expression, np.float32)
    p_exp[model.expression_names.index(name)] = 1.0
    if name.endswith("_L"):
        p_exp[model.expression_names.index(name[:-2] + "_R")] = 1.0
    exps.append(render_face(renderer, model, size, p_exp=p_exp, yaw=0.2))
fig, axes = plt.subplots(1, len(shown), figsize=(2 * len(shown), 2.4))
for ax, im, name in zip(axes, exps, shown):
    ax.imshow(im)
    ax.set_title(name.replace("_L", ""), fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Large poses and landmark visibility
#
# The renderer's z-buffer gives the visibility of every vertex. At large yaw the far contour and the
# far eye go out of sight: these are the invisible landmarks that DFF alignment (Sec. III-C) must
# handle.

# %% mystnb={"figure": {"caption": "Yaw from −90° to 90° with the 68 landmarks: green visible, red hidden by the z-buffer.", "name": "fig-yaw-sweep"}}
yaws = np.linspace(-90, 90, n_yaws)
sweep = [render_face(renderer, model, size, yaw=np.radians(a), landmarks=True) for a in yaws]
fig, axes = plt.subplots(1, n_yaws, figsize=(2 * n_yaws, 2.4))
for ax, im, a in zip(np.atleast_1d(axes), sweep, yaws):
    ax.imshow(im)
    ax.set_title(f"yaw {a:+.0f}°", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Renderer speed
#
# Data synthesis renders a new mesh for every sample. The renderer draws colour, triangle ids and
# depth in one OpenGL pass (OSMesa), then derives barycentrics, depth and per-vertex visibility.
# `benchmarks/bench_render.py` compares it with pyrender's stock scene renderer.

# %%
# NBVAL_IGNORE_OUTPUT
ms = render_speed(renderer, model, size, bench_frames, seed=seed)
print(f"{ms:.1f} ms per {size}x{size} frame ({1e3 / ms:.0f} frames/s), new mesh every frame")

# %%
saved = save_results(f"{results_dir}/01_face_model.json",
             results={"model": counts, "render_ms": ms, "render_fps": 1e3 / ms},
             config={"size": size, "bench_frames": bench_frames, "seed": seed, "model": model.name})
renderer.close()
