"""MediaPipe's BlazeFace full-range face detector (Bazarevsky et al. 2019), run with LiteRT.

The model (``dffkit/assets/blazeface_full_range.tflite``, from the ``mediapipe==0.10.21`` package, Apache
2.0, notice in ``dffkit/assets/MediaPipe-LICENSE``) takes a 192×192 image and scores 2304 anchors, one
per cell of a 48×48 grid; this module does the rest of MediaPipe's face-detection graph:

1. the image (or a tile of it) is scaled to fit 192×192, keeping its aspect ratio and padding the rest
   with zeros, and mapped to [−1, 1];
2. anchor k at grid cell (i, j) has centre ((j + 0.5) / 48, (i + 0.5) / 48) and unit size; its box is
   centre + (Δx, Δy) / 192 and size (w, h) / 192, its score sigmoid(raw);
3. boxes above ``min_score`` are merged by weighted non-maximum suppression (IoU > 0.3: the group's
   score-weighted mean box, with its best score).

Large poses: the whole image is searched as it is and mirrored (BlazeFace finds a profile facing one
way more readily than the other), with a lower score threshold than MediaPipe's 0.5. Small faces:
BlazeFace sees 192 pixels, so a face under about 1/10 of the image side is missed at one pass. Images
large enough are also searched in overlapping tiles of 60 % and 30 % of their shorter side (each tile
at least ``min_tile`` pixels), and every pass's detections are merged as in step 3.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from typing import ClassVar

import cv2
import numpy as np

from dffkit.boxes import iou
from dffkit.detect.base import Detections, FaceDetector
from dffkit.errors import DffkitError
from dffkit.stdio import captured_stderr
from dffkit.threads import onnx_threads

__all__ = ["BlazeFace", "weighted_nms", "model_path"]

INPUT = 192
GRID = 48


def model_path():
    """The shipped BlazeFace full-range model."""
    return resources.files("dffkit").joinpath("assets/blazeface_full_range.tflite")


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-12)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression.

    Args:
        boxes: (N, 4) x0, y0, x1, y1; scores: (N,).
        threshold: boxes overlapping the best remaining one by IoU above this join its group.

    Returns:
        ((K, 4) each group's score-weighted mean box, (K,) its best score), best first.

    Example:
        >>> b, s = weighted_nms(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60.]]), np.array([.9, .1, .5]))
        >>> b.round(1).tolist(), s.tolist()
        ([[0.1, 0.1, 10.1, 10.1], [50.0, 50.0, 60.0, 60.0]], [0.9, 0.5])
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    out_b, out_s = [], []
    left = np.ones(len(boxes), bool)
    for k in range(len(boxes)):
        if not left[k]:
            continue
        group = left & (_iou(boxes[k], boxes) > threshold)
        group[k] = True
        w = scores[group]
        out_b.append((boxes[group] * w[:, None]).sum(0) / w.sum())
        out_s.append(scores[k])
        left &= ~group
    return np.array(out_b).reshape(-1, 4), np.array(out_s)


class BlazeFace(FaceDetector):
    """BlazeFace full range (see the module docstring).

    Args:
        min_score: the lowest score kept from the whole image (searched as it is and mirrored).
        tile_score: the lowest score kept from a tile, for a face under 0.35 of the tile's side (larger ones
            are the whole image's to find; a tile over a big face sees only parts of it).
        min_tile: the smallest tile side searched, pixels (0: the whole image only).
        threads: LiteRT threads per interpreter (None: the network's policy, :func:`dffkit.threads.onnx_threads`:
            one inside a pool worker, else ``DFFKIT_ONNX_THREADS`` or the cores this process may use).

    Thread safety: a LiteRT interpreter holds its tensors between calls, so each thread that calls
    :meth:`detect` gets an interpreter of its own (made on its first call); one detector may be shared by
    any number of threads.

    Example:
        >>> det = BlazeFace()                                        # doctest: +SKIP
        >>> found = det.detect(image)                                # doctest: +SKIP
        >>> found.boxes, found.scores                                # doctest: +SKIP
    """

    name: ClassVar[str] = "blazeface"

    def __init__(self, min_score: float = 0.35, tile_score: float = 0.8, min_tile: int = 300,
                 threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise DffkitError("the BlazeFace detector needs LiteRT; pip install ai-edge-litert") from None
        self._make = Interpreter
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._threads = threads or onnx_threads() or cores  # dffkit.threads' policy: one inside a pool worker
        self._local = threading.local()
        net = self._net  # this thread's interpreter, made now: a broken model fails here, not on first use
        self._in = net.get_input_details()[0]["index"]
        out = {d["name"]: d["index"] for d in net.get_output_details()}
        self._boxes, self._scores = out["Identity"], out["Identity_1"]
        self.min_score, self.tile_score, self.min_tile = float(min_score), float(tile_score), int(min_tile)
        c = (np.arange(GRID) + 0.5) / GRID
        ax, ay = np.meshgrid(c, c)
        self._anchors = np.stack([ax.ravel(), ay.ravel()], 1)  # (2304, 2), row by row

    @property
    def _net(self):
        """The calling thread's interpreter (made on its first call)."""
        net = getattr(self._local, "net", None)
        if net is None:
            with captured_stderr():  # LiteRT's banner ("Created TensorFlow Lite XNNPACK delegate")
                net = self._make(model_path=str(model_path()), num_threads=self._threads)
                net.allocate_tensors()
            self._local.net = net
        return net

    def _letterbox(self, image: np.ndarray, x0: int, y0: int, side_w: int, side_h: int,
                   pad: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, float, np.ndarray]:
        """The network's input for the (side_w × side_h) region at (x0, y0), set in a margin of ``pad`` = (px,
        py) pixels on each side filled with the region's mean colour, scaled to fit INPUT² (aspect kept,
        the rest zero) and mapped to [−1, 1]. Only the scaled region is made: a margin or a mirror costs
        nothing at the image's own size.

        Returns:
            ((INPUT, INPUT, 3) float32 tensor, scale k, (2,) offset o): image pixel = tensor pixel / k + o.
        """
        region = image[y0:y0 + side_h, x0:x0 + side_w]
        k = INPUT / max(side_w + 2 * pad[0], side_h + 2 * pad[1])
        w, h = max(1, round(side_w * k)), max(1, round(side_h * k))
        tensor = np.zeros((INPUT, INPUT, 3), np.float32)
        ox, oy = (INPUT - w) // 2, (INPUT - h) // 2
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        small = cv2.resize(region, (w, h), interpolation=interp).astype(np.float32) / 127.5 - 1
        if pad != (0, 0):
            cw, ch = round((side_w + 2 * pad[0]) * k), round((side_h + 2 * pad[1]) * k)
            cx, cy = (INPUT - cw) // 2, (INPUT - ch) // 2
            tensor[cy:cy + ch, cx:cx + cw] = small.reshape(-1, 3).mean(0)
        tensor[oy:oy + h, ox:ox + w] = small
        return tensor, k, np.array([x0 - ox / k, y0 - oy / k])

    def _run(self, tensor: np.ndarray, min_score: float | None = None,
             mirrored: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """One network pass over a letterboxed tensor (mirrored first when asked): (boxes in tensor pixels,
        unmirrored, scores over ``min_score``, default the detector's)."""
        net = self._net
        net.set_tensor(self._in, np.ascontiguousarray(tensor[:, ::-1] if mirrored else tensor)[None])
        net.invoke()
        raw = net.get_tensor(self._boxes)[0].copy()
        score = 1.0 / (1.0 + np.exp(-np.clip(net.get_tensor(self._scores)[0, :, 0].astype(np.float64), -100, 100)))
        keep = score >= (self.min_score if min_score is None else min_score)
        raw, score, anchors = raw[keep], score[keep], self._anchors[keep]
        centre = anchors + raw[:, :2] / INPUT
        half = raw[:, 2:4] / INPUT / 2
        boxes = np.c_[centre - half, centre + half] * INPUT
        if mirrored:
            boxes = np.c_[INPUT - boxes[:, 2], boxes[:, 1], INPUT - boxes[:, 0], boxes[:, 3]]
        return boxes, score

    def _pass(self, image: np.ndarray, x0: int, y0: int, side_w: int, side_h: int,
              min_score: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One pass over the (side_w × side_h) region at (x0, y0): (boxes in image pixels, scores over
        ``min_score``, default the detector's)."""
        tensor, k, o = self._letterbox(image, x0, y0, side_w, side_h)
        boxes, score = self._run(tensor, min_score)
        return boxes / k + np.r_[o, o], score

    def _both_ways(self, image: np.ndarray, region: tuple[int, int, int, int] | None = None,
                   min_score: float | None = None, pad: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
        """One pass over a region (x0, y0, w, h; None: the whole image), set in a margin of ``pad`` pixels,
        as it is and one mirrored: (boxes in image pixels, scores)."""
        x0, y0, w, h = region or (0, 0, image.shape[1], image.shape[0])
        tensor, k, o = self._letterbox(image, x0, y0, w, h, pad)
        b0, s0 = self._run(tensor, min_score)
        b1, s1 = self._run(tensor, min_score, mirrored=True)
        return np.r_[b0, b1] / k + np.r_[o, o], np.r_[s0, s1]

    def detect_region(self, image: np.ndarray, region: np.ndarray) -> Detections:
        """The faces in a region (x0, y0, x1, y1) of the image: the region searched as it is and mirrored,
        without tiles (a quick check of one place)."""
        h, w = image.shape[:2]
        x0, y0 = int(max(0, region[0])), int(max(0, region[1]))
        x1, y1 = int(min(w, region[2])), int(min(h, region[3]))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return Detections.of(np.zeros((0, 4)), np.zeros(0))
        return Detections.of(*weighted_nms(*self._both_ways(image, (x0, y0, x1 - x0, y1 - y0))))

    def candidates(self, image: np.ndarray, min_score: float = 0.1, most: int = 40) -> Detections:
        """:meth:`detect`'s faces and every weaker box over ``min_score`` in a pass over the whole image and
        one over the image set in a margin of half its size (a large face cut by the frame's edge, which
        BlazeFace, made for faces at a distance, scores low), at most ``most``, strongest first: boxes for
        the alignment's verdict to accept or reject (measured on ``../shared/data/group-photos``: the
        selfie's photographer, frontal and close, scores 0.13)."""
        h, w = image.shape[:2]
        found = self.detect(image, min_score)
        framed, framed_scores = weighted_nms(*self._both_ways(image, min_score=min_score, pad=(w // 2, h // 2)))
        # detect's boxes as they are: merged with the framed pass's, a face's box moved by a sixth of its size
        # (a one-off check on a real clip: the verdict of a three-quarter face fell from 0.76 to 0.05)
        new = [len(found) == 0 or float(np.max(iou(b, found.boxes))) < 0.3 for b in framed]
        boxes, scores = np.r_[found.boxes, framed[new]], np.r_[found.scores, framed_scores[new]]
        best = np.argsort(-scores, kind="stable")[:most]
        return Detections.of(boxes[best], scores[best])

    def detect(self, image: np.ndarray, min_score: float | None = None) -> Detections:
        """The faces in an (H, W, 3) RGB uint8 image (see the module docstring); ``min_score`` overrides the
        detector's for the whole-image passes."""
        h, w = image.shape[:2]
        boxes, scores = self._both_ways(image, min_score=min_score)
        for share in (0.6, 0.3):
            side = int(share * min(h, w))
            if self.min_tile <= 0 or side < self.min_tile:
                break
            xs = np.unique(np.r_[np.arange(0, w - side, side // 2), w - side])
            ys = np.unique(np.r_[np.arange(0, h - side, side // 2), h - side])
            for y in ys:
                for x in xs:
                    b, s = self._pass(image, int(x), int(y), side, side)
                    small = (s >= self.tile_score) & (np.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])) < 0.35 * side)
                    boxes, scores = np.r_[boxes, b[small]], np.r_[scores, s[small]]
        return Detections.of(*weighted_nms(boxes, scores))
