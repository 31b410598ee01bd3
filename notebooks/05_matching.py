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
# # Feature matching
#
# The paper compares DFF with SIFT {cite}`lowe2004sift` in pictures (Figs. 8, 9). dffkit measures it,
# on pairs of synthetic views of one face whose true correspondence is known exactly, and on real
# photos by landmark transfer.
#
# **Matchers** (`dffkit.matching.match`). *SIFT*: keypoints in both faces; the nearest descriptor is accepted
# when the ratio of the descriptor angles to the nearest and second-nearest is below 1/1.3.
# *Sparse DFF*: from the same source keypoints, the target face pixel with the smallest descriptor
# angle, valid under 30°. *Dense DFF*: every source face pixel, valid under 12°.
#
# **Ground truth** (`dffkit.matching.correspond`). Both views are renderings of one mesh topology: a source
# pixel lies on a triangle at known barycentric coordinates; that surface point, carried to the other
# view's shape and projected by its camera, is the true match, and it exists only when the other
# view's z-buffer shows it. A match is *correct* within `radius` pixels of its true match. The
# *reject rate* is the share of source points with no visible true match that the method leaves
# unmatched: the paper's point is that DFF leaves invisible regions unmatched where SIFT matches them
# to the wrong side. The *3D distance* is between the true surface point and the surface point under
# the predicted match (cm, on the ICT head, about 15 cm wide).

# %% tags=["parameters"]
weights = None  # DFF weights.pt; None: the weights shipped with dffkit
photos = None  # folder of source photos; None: the sample vendored with dffkit
n_pairs = 30  # synthetic view pairs
size = 224  # image side, pixels
radius = 5.0  # correctness radius, pixels
dense_stride = 2  # dense DFF: every dense_stride-th source face pixel
transfer_per_bin = 10  # real photo pairs per yaw-difference bin for landmark transfer
max_photos = None  # held-out photos used (None: the whole test split)
seed = 0
results_dir = "results"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from dffkit import load_default_model
from dffkit.data.photos import default_photos, list_photos
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.dff.features import DffRunner, framed_features
from dffkit.dff.weights import load_weights, shipped_weights_path
from dffkit.evaluation.matching import angular_spread, evaluate_matching, match_pair, photo_transfer
from dffkit.evaluation.report import save_results, table
from dffkit.matching.correspond import true_matches, view_angle
from dffkit.matching.match import DFF_DENSE_ANGLE, DFF_SPARSE_ANGLE, SIFT_RATIO, mask_points, match_dff
from dffkit.metrics import correct_matches
from dffkit.viz import correspondence_colors, draw_matches, image_grid

model = load_default_model()
net = DffRunner(load_weights(weights))
photo_dir = Path(photos) if photos else default_photos()
test_photos = list_photos(photo_dir, split="test", require_landmarks=True)[:max_photos]
sources = fit_sources(model, test_photos, progress=False)
pairs = generate_pairs(sources, n_pairs, seed=seed, size=size, model=model, progress=False)
print(f"{len(test_photos)} held-out photos (test split), {len(pairs)} view pairs at {size}x{size}")

# %% [markdown]
# ## Sparse matches, SIFT against DFF (paper Fig. 8)
#
# Three pairs, with small, medium and large view differences. Green lines are correct matches
# (within `radius` of the truth), red ones wrong; only valid matches are drawn.

# %% mystnb={"figure": {"caption": "Valid matches of SIFT (left) and sparse DFF (right) on pairs with a small, medium and large view difference; green: correct within the radius, red: wrong.", "name": "fig-sparse-matches"}}
angles = np.array([view_angle(a.camera, b.camera) for a, b in pairs])
shown = [int(np.argmin(np.abs(angles - target))) for target in (15.0, 45.0, 75.0)]
panels = []
for k in shown:
    va, vb = pairs[k]
    matches, _ = match_pair(va, vb, net)
    for method in ("SIFT", "DFF sparse"):
        m = matches[method]
        ok = correct_matches(m, true_matches(model, va, vb, m.source), radius)
        panels.append(draw_matches(va.image, vb.image, m.source[m.valid], m.target[m.valid], ok[m.valid], height=size))
plt.figure(figsize=(14, 10))
plt.imshow(image_grid(panels, cols=2))
plt.axis("off")
plt.title("  ".join(f"{angles[k]:.0f}°" for k in shown) + "  (rows: view difference; left SIFT, right DFF)")
plt.show()

# %% [markdown]
# ## Dense correspondence (paper Fig. 9)
#
# Each source face pixel is coloured by its position; a target pixel takes the colour of the source
# pixel matched to it by dense DFF (left pair), or by the ground truth (right). Black target pixels
# have no valid match: the side turned away should stay black.

# %% mystnb={"figure": {"caption": "Dense DFF correspondence colour coding: source, target coloured through DFF matches, target coloured through the true correspondence.", "name": "fig-dense"}}
rows = []
for k in shown:
    va, vb = pairs[k]
    fa, fb = framed_features(va.image, net), framed_features(vb.image, net)
    mask_a, mask_b = va.triangle_ids >= 0, vb.triangle_ids >= 0
    dense = match_dff(fa, fb, mask_points(mask_a, 1), mask_b, max_angle=DFF_DENSE_ANGLE)
    truth = true_matches(model, va, vb, dense.source)
    src_c, dff_c = correspondence_colors(mask_a, mask_b.shape, dense.source, dense.target, dense.valid)
    _, true_c = correspondence_colors(mask_a, mask_b.shape, dense.source, truth.target, truth.visible)
    rows += [va.image, src_c, vb.image, dff_c, true_c]
plt.figure(figsize=(14, 9))
plt.imshow(image_grid(rows, cols=5))
plt.axis("off")
plt.show()

# %% [markdown]
# ## Precision per view-difference bin
#
# All pairs, all three methods (radius and thresholds as in the parameters). *valid/pair*: valid
# matches per pair; *precision*: correct / valid; *recall*: correct / source points with a visible
# true match; *reject rate*: unmatched / source points with no visible true match.

# %%
res = evaluate_matching(model, pairs, net, radius=radius, dense_stride=dense_stride, progress=False)
match_table = [{"view difference": b, "method": m, "pairs": s["pairs"], "valid/pair": s["valid_per_pair"],
                "precision": s["precision"], "recall": s["recall"], "reject rate": s["reject_rate"],
                "3D distance (cm)": s["surface_cm"]}
               for b, per in res.table.items() for m, s in per.items()]
display(table(match_table))

# %% [markdown]
# **Angular spread.** The angle between the DFF descriptors of one surface point seen in the two views,
# against the angle to a random other face point of the other view (the property the paper's Fig. 3
# asks for: small for the same point, large for different ones).

# %%
spread = angular_spread(model, pairs, net, seed=seed)
display(table([spread], digits=1))

# %%
# NBVAL_IGNORE_OUTPUT
display(table([{"method": m, "ms per pair (this machine)": t} for m, t in res.ms.items()], digits=1))

# %% [markdown]
# ## Landmark transfer on real photos
#
# Each hand-annotated landmark of one real photo is carried to another photo by the nearest
# descriptor in that photo's face crop (the crop around its landmark box, as a detector would give);
# the NME (%) is against the other photo's annotation, over √(w·h) of its landmark box. SIFT
# descriptors are computed at the same points and every pixel of the crop. Pairs are drawn per
# difference of the fitted yaw; 300-W photos are mostly near-frontal, so the large bin may be sparse.

# %%
transfer_set = test_photos + list_photos(photo_dir, split="val", require_landmarks=True)[:max_photos]
_, transfer_table = photo_transfer(transfer_set, net, transfer_per_bin, seed=seed, model=model)
display(table(transfer_table, digits=1))

# %%
saved = save_results(f"{results_dir}/05_matching.json",
             results={"table": match_table, "spread": spread, "ms": res.ms, "transfer": transfer_table,
                      "pairs": res.pairs},
             config={"weights": weights or shipped_weights_path(), "photos": photo_dir, "n_pairs": n_pairs,
                     "size": size, "radius": radius, "dense_stride": dense_stride, "sift_ratio": SIFT_RATIO,
                     "sparse_angle": DFF_SPARSE_ANGLE, "dense_angle": DFF_DENSE_ANGLE,
                     "transfer_per_bin": transfer_per_bin, "max_photos": max_photos, "seed": seed})
