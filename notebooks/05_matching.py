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

# %% tags=["parameters", "hide-input"]
weights = None  # DFF weights.pt; None: the weights shipped with dffkit
images = None  # folder of source images; None: the sample vendored with dffkit
n_pairs = 30  # synthetic view pairs
size = 224  # image side, pixels
radius = 5.0  # correctness radius, pixels
dense_stride = 2  # dense DFF: every dense_stride-th source face pixel
transfer_per_bin = (
    10  # real image pairs per yaw-difference bin for landmark transfer
)
max_images = None  # held-out images used (None: the whole test split)
seed = 0
results_dir = "results"

# %% tags=["hide-input"]
# %matplotlib inline
from IPython.display import display

from dffkit import load_default_model
from dffkit.chapters import matching as chapter
from dffkit.data.photos import default_images
from dffkit.dff.weights import shipped_weights_path
from dffkit.evaluation.report import tables
from dffkit.evaluation.results import save_chapter
from dffkit.matching.match import DFF_DENSE_ANGLE, DFF_SPARSE_ANGLE, SIFT_RATIO

model = load_default_model()
net = chapter.network(weights)
test_faces = chapter.held_out_images(images, "test", max_images)
transfer_faces = test_faces + chapter.held_out_images(
    images, "val", max_images
)
pairs = chapter.view_pairs(model, test_faces, n_pairs, size, seed=seed)
results = chapter.measure(
    model,
    pairs,
    net,
    transfer_faces,
    radius,
    dense_stride,
    transfer_per_bin,
    seed=seed,
)
print(
    f"{len(test_faces)} held-out images (test split), "
    f"{len(pairs)} view pairs at {size}x{size}"
)

# %% [markdown]
# ## Sparse matches, SIFT against DFF (paper Fig. 8)
#
# Three pairs, with small, medium and large view differences. Green lines are correct matches
# (within `radius` of the truth), red ones wrong; only valid matches are drawn.

# %% mystnb={"figure": {"caption": "Valid matches of SIFT (left) and sparse DFF (right) on pairs with a small, medium and large view difference; green: correct within the radius, red: wrong (rebuilds paper Fig. 8).", "name": "fig-sparse-matches"}} tags=["hide-input", "full-width"]
chapter.sparse_figure(model, pairs, net, radius, size)

# %% [markdown]
# ## Dense correspondence (paper Fig. 9)
#
# Each source face pixel is coloured by its position; a target pixel takes the colour of the source
# pixel matched to it by dense DFF (left pair), or by the ground truth (right). Black target pixels
# have no valid match: the side turned away should stay black.

# %% mystnb={"figure": {"caption": "Dense DFF correspondence colour coding: source, target coloured through DFF matches, target coloured through the true correspondence (rebuilds paper Fig. 9).", "name": "fig-dense"}} tags=["hide-input", "full-width"]
chapter.dense_figure(model, pairs, net)

# %% [markdown]
# ## Precision per view-difference bin
#
# All pairs, all three methods (radius and thresholds as in the parameters). *valid/pair*: valid
# matches per pair; *precision*: correct / valid; *recall*: correct / source points with a visible
# true match; *reject rate*: unmatched / source points with no visible true match.

# %% tags=["hide-input"]
display(tables.matching_table(results.matching))

# %% [markdown]
# **Angular spread.** The angle between the DFF descriptors of one surface point seen in the two views,
# against the angle to a random other face point of the other view (the property the paper's Fig. 3
# asks for: small for the same point, large for different ones).

# %% tags=["hide-input"]
display(tables.spread_table(results.spread))

# %% tags=["hide-input"]
# NBVAL_IGNORE_OUTPUT
display(tables.matching_ms_table(results.matching))

# %% [markdown]
# ## Landmark transfer on real photos
#
# Each hand-annotated landmark of one real photo is carried to another photo by the nearest
# descriptor in that photo's face crop (the crop around its landmark box, as a detector would give);
# the NME (%) is against the other photo's annotation, over √(w·h) of its landmark box. SIFT
# descriptors are computed at the same points and every pixel of the crop. Pairs are drawn per
# difference of the fitted yaw; 300-W photos are mostly near-frontal, so the large bin may be sparse.

# %% tags=["hide-input"]
display(tables.transfer_table(results.transfer))

# %% tags=["hide-input"]
saved = save_chapter(
    results_dir,
    results,
    {
        "weights": weights or shipped_weights_path(),
        "images": images or default_images(),
        "n_pairs": n_pairs,
        "size": size,
        "radius": radius,
        "dense_stride": dense_stride,
        "sift_ratio": SIFT_RATIO,
        "sparse_angle": DFF_SPARSE_ANGLE,
        "dense_angle": DFF_DENSE_ANGLE,
        "transfer_per_bin": transfer_per_bin,
        "max_images": max_images,
        "seed": seed,
    },
)
