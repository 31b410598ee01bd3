"""Renderer throughput for the embedded head mesh, with the mesh changing every frame.

Reports frames per second at the given size for:
  dffkit       model.shape(p_id, p_exp) + Renderer.render (colour, triangle ids, barycentrics, depth,
               vertex visibility): what data synthesis does per sample;
  dffkit-gl    Renderer.render alone;
  pyrender     pyrender2's stock OffscreenRenderer (colour + depth, 4x MSAA, no triangle ids), with
               a new pyrender.Mesh each frame: what using pyrender's scene API directly would cost.

Usage:
    .venv/bin/python benchmarks/bench_render.py [--size 224] [--frames 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from dffkit import load_default_model  # noqa: E402
from dffkit.face.camera import frame_camera  # noqa: E402
from dffkit.face.render import Renderer  # noqa: E402


def _cameras(model, size: int, n: int, rng: np.random.Generator):
    face = model.mean[model.vertices_of("face")]
    return [frame_camera(face, size, pitch=rng.uniform(-0.3, 0.3), yaw=rng.uniform(-1.5, 1.5),
                         roll=rng.uniform(-0.3, 0.3)) for _ in range(n)]


def bench_dffkit(model, size: int, frames: int, with_shape: bool) -> float:
    rng = np.random.default_rng(0)
    cams = _cameras(model, size, frames, rng)
    params = [(model.sample_identity(rng), model.sample_expression(rng)) for _ in range(frames)]
    fixed = model.shape()
    with Renderer() as r:
        r.render(fixed, model.triangles, cams[0], size=size)  # warm-up: shader compilation
        t0 = time.perf_counter()
        for k in tqdm(range(frames), desc="dffkit" if with_shape else "dffkit-gl", leave=False, disable=None):
            verts = model.shape(*params[k]) if with_shape else fixed + (k % 2) * 1e-3
            r.render(verts, model.triangles, cams[k], size=size)
        return frames / (time.perf_counter() - t0)


def bench_pyrender(model, size: int, frames: int) -> float:
    import pyrender

    rng = np.random.default_rng(0)
    params = [(model.sample_identity(rng), model.sample_expression(rng)) for _ in range(frames)]
    renderer = pyrender.OffscreenRenderer(size, size)
    cam = pyrender.OrthographicCamera(xmag=15.0, ymag=15.0)
    light = pyrender.DirectionalLight(intensity=3.0)
    t0 = None
    for k in tqdm(range(frames + 1), desc="pyrender", leave=False, disable=None):
        if k == 1:
            t0 = time.perf_counter()
        verts = model.shape(*params[k % frames])
        mesh = pyrender.Mesh(primitives=[pyrender.Primitive(positions=verts, indices=model.triangles, mode=4)])
        scene = pyrender.Scene(ambient_light=(0.4, 0.4, 0.4))
        scene.add(mesh)
        pose = np.eye(4)
        pose[2, 3] = 40.0
        scene.add(cam, pose=pose)
        scene.add(light, pose=pose)
        renderer.render(scene)
    fps = frames / (time.perf_counter() - t0)
    renderer.delete()
    return fps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--skip-pyrender", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    model = load_default_model()
    res = {
        "size": args.size, "frames": args.frames, "vertices": model.n_vertices, "triangles": model.n_triangles,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version()},
        "fps": {"dffkit": bench_dffkit(model, args.size, args.frames, with_shape=True),
                "dffkit-gl": bench_dffkit(model, args.size, args.frames, with_shape=False)},
    }
    if not args.skip_pyrender:
        res["fps"]["pyrender"] = bench_pyrender(model, args.size, args.frames)
    print(f"{model.n_vertices} vertices, {model.n_triangles} triangles, {args.size}x{args.size}, "
          f"{args.frames} frames, {os.cpu_count()} cores")
    for k, v in res["fps"].items():
        print(f"  {k:10s} {v:7.1f} frames/s  ({1e3 / v:6.1f} ms/frame)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
