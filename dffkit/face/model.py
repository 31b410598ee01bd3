"""The linear 3D morphable face model: S = S̄ + A_id p_id + A_exp p_exp (paper Sec. III).

dffkit's embedded default is the ICT Face Model Light (MIT licence, USC Institute for Creative
Technologies; notice in ``dffkit/assets/ICT-FaceKit-LICENSE``): 100 identity PCA modes scaled so that
p_id ~ N(0, 1), and 53 ARKit-style expression blendshapes whose weights lie in [0, 1]. The paper uses
the Basel Face Model identity (m1 = 80) with FaceWarehouse expressions (m2 = 79); both are
licence-restricted, so dffkit ships neither and reads them with :meth:`FaceModel.from_bfm` for users
who hold them.

Model space: centimetres, x to the subject's left (image right in a frontal view), y up, and the
face looks along +z.
"""

from __future__ import annotations

import io
import lzma
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError
from dffkit.face.ict import _ICT_UPSTREAM_PARTS, _dequantise, _ict_expression_order, _ict_landmarks, _read_obj

__all__ = ["FaceModel", "load_default_model", "FACE_REGION"]

#: The parts :meth:`FaceModel.region` looks for by default, narrowest first.
FACE_REGION = ("face_narrow", "face")

#: Landmark indices (0-based, iBUG 68 scheme) that the jawline substitutes replace.
JAW_RIGHT_LANDMARKS = np.arange(0, 8)
JAW_LEFT_LANDMARKS = np.arange(9, 17)


@dataclass(frozen=True, eq=False)
class FaceModel:
    """A linear face model with its topology, landmarks and parameter priors.

    Attributes:
        mean: (V, 3) mean shape S̄, centimetres.
        identity_basis: (m1, V, 3) identity modes A_id, scaled so that the prior of p_id is
            N(0, diag(identity_std²)).
        expression_basis: (m2, V, 3) expression modes A_exp.
        triangles: (T, 3) vertex indices, counter-clockwise seen from outside.
        landmarks68: (68,) vertex index of each iBUG 68-point landmark.
        jaw_right, jaw_left: (8,) vertex indices of the substitutes of landmarks 0-7 and 9-16, to let
            contour landmarks follow the visible silhouette at large yaw.
        identity_std: (m1,) prior standard deviation of p_id.
        expression_std: (m2,) prior standard deviation of p_exp (regulariser scale).
        expression_bounds: (m2, 2) lower and upper bound of each p_exp (±inf where unbounded).
        expression_names: (m2,) names of the expression modes.
        parts: name -> (first, last) vertex index, inclusive.
        uv, triangles_uv: (U, 2) texture coordinates and (T, 3) their per-corner indices, or None.
        name: a short description of the model.
    """

    mean: np.ndarray
    identity_basis: np.ndarray
    expression_basis: np.ndarray
    triangles: np.ndarray
    landmarks68: np.ndarray
    jaw_right: np.ndarray
    jaw_left: np.ndarray
    identity_std: np.ndarray
    expression_std: np.ndarray
    expression_bounds: np.ndarray
    expression_names: tuple[str, ...]
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    uv: np.ndarray | None = None
    triangles_uv: np.ndarray | None = None
    name: str = "face model"

    def __post_init__(self) -> None:
        v = self.mean.shape[0]
        if self.mean.shape != (v, 3):
            raise DffkitError(f"model mean must be (V, 3), got {self.mean.shape}")
        for label, basis in (("identity", self.identity_basis), ("expression", self.expression_basis)):
            if basis.ndim != 3 or basis.shape[1:] != (v, 3):
                raise DffkitError(f"{label} basis must be (K, {v}, 3), got {basis.shape}")
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3:
            raise DffkitError(f"triangles must be (T, 3), got {self.triangles.shape}")
        if self.triangles.min() < 0 or self.triangles.max() >= v:
            raise DffkitError("triangle indices fall outside the vertex range; check the mesh file")
        if self.landmarks68.shape != (68,):
            raise DffkitError(f"landmarks68 must hold 68 vertex indices, got {self.landmarks68.shape}")
        if len(self.identity_std) != self.n_identity or len(self.expression_std) != self.n_expression:
            raise DffkitError("prior sizes do not match the bases")
        for name in ("mean", "identity_basis", "expression_basis"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32))
        for arr in (self.mean, self.identity_basis, self.expression_basis, self.triangles,
                    self.landmarks68, self.identity_std, self.expression_std, self.expression_bounds):
            arr.setflags(write=False)

    # --- sizes -------------------------------------------------------------------------------------
    @property
    def n_vertices(self) -> int:
        """V, the number of vertices."""
        return int(self.mean.shape[0])

    @property
    def n_triangles(self) -> int:
        """T, the number of triangles."""
        return len(self.triangles)

    @property
    def n_identity(self) -> int:
        """m1, the number of identity modes."""
        return self.identity_basis.shape[0]

    @property
    def n_expression(self) -> int:
        """m2, the number of expression modes."""
        return self.expression_basis.shape[0]

    # --- the model -----------------------------------------------------------------------------------
    def shape(self, p_id: np.ndarray | None = None, p_exp: np.ndarray | None = None) -> np.ndarray:
        """The shape S = S̄ + A_id p_id + A_exp p_exp.

        Args:
            p_id: (m1,) or (k,) identity weights, k <= m1 (the first k modes); None for zeros.
            p_exp: (m2,) or (k,) expression weights; None for zeros.

        Returns:
            (V, 3) vertices, centimetres, float32.

        Example:
            >>> m = load_default_model()
            >>> bool(np.allclose(m.shape(), m.mean))
            True
        """
        s = self.mean.astype(np.float32, copy=True)
        for label, p, basis in (("p_id", p_id, self.identity_basis), ("p_exp", p_exp, self.expression_basis)):
            if p is None:
                continue
            p = np.asarray(p, np.float32).reshape(-1)
            if p.size > basis.shape[0]:
                raise DffkitError(f"{label} has {p.size} weights but the model has {basis.shape[0]} modes")
            if not np.isfinite(p).all():
                raise DffkitError(f"{label} contains NaN or infinite weights; pass finite numbers")
            if p.size:
                s += (p @ basis[: p.size].reshape(p.size, -1)).reshape(s.shape)
        return s

    def landmark_vertices(self) -> np.ndarray:
        """(68,) vertex indices of the 68 landmarks (a copy)."""
        return self.landmarks68.copy()

    def sample_identity(self, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
        """Draw p_id from its prior N(0, diag((scale·identity_std)²)). Returns (m1,) float32."""
        return (rng.standard_normal(self.n_identity) * self.identity_std * scale).astype(np.float32)

    def sample_expression(self, rng: np.random.Generator, n_active: int = 4, scale: float = 1.0) -> np.ndarray:
        """Draw p_exp from the model's prior.

        For bounded blendshape models (ICT), ``n_active`` random blendshapes get uniform weights in
        [0, scale] (most real expressions use a few of them); for unbounded PCA models, p_exp ~
        N(0, diag((scale·expression_std)²)).

        Returns:
            (m2,) float32 weights inside ``expression_bounds``.
        """
        lo, hi = self.expression_bounds[:, 0], self.expression_bounds[:, 1]
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            p = np.zeros(self.n_expression, np.float32)
            idx = rng.choice(self.n_expression, size=min(n_active, self.n_expression), replace=False)
            p[idx] = rng.uniform(0.0, scale, size=len(idx)) * (hi[idx] - lo[idx]) + lo[idx]
            return np.clip(p, lo, hi).astype(np.float32)
        p = rng.standard_normal(self.n_expression) * self.expression_std * scale
        return np.clip(p, lo, hi).astype(np.float32)

    def vertices_of(self, *parts: str) -> np.ndarray:
        """Vertex indices of the named parts, e.g. ``model.vertices_of("face")``."""
        out = []
        for p in parts:
            if p not in self.parts:
                raise DffkitError(f"unknown part {p!r}; the model has {sorted(self.parts)}")
            a, b = self.parts[p]
            out.append(np.arange(a, b + 1))
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def region(self, *parts: str) -> np.ndarray:
        """Vertex indices of the first of ``parts`` the model has (default: the narrow face region, then the
        whole face), or of every vertex when it has none of them.

        Example:
            >>> m = load_default_model()
            >>> len(m.region()) < len(m.region("face")) <= m.n_vertices
            True
        """
        for p in parts or FACE_REGION:
            if p in self.parts:
                return self.vertices_of(p)
        return np.arange(self.n_vertices)

    @classmethod
    def from_ict_obj(cls, folder: str | Path, n_identity: int | None = None) -> FaceModel:
        """Convert the upstream ICT-FaceKit OBJ release (``FaceXModel/``): ``generic_neutral_mesh.obj``,
        ``identityNNN.obj`` (the neutral plus one identity mode at weight 1) and one OBJ per ARKit expression
        blendshape (``jawOpen.obj`` ...). The whole mesh is kept, quads split into triangles by a fan.

        Args:
            folder: the OBJ folder.
            n_identity: keep only the first n identity modes.
        """
        folder = Path(folder)
        neutral_path = folder / "generic_neutral_mesh.obj"
        if not neutral_path.is_file():
            raise DffkitError(f"{neutral_path} not found; point at the ICT-FaceKit FaceXModel folder")
        neutral, triangles, uv, triangles_uv = _read_obj(neutral_path, with_faces=True)
        ids = sorted(folder.glob("identity[0-9][0-9][0-9].obj"))[:n_identity]
        exps = sorted(p for p in folder.glob("*.obj")
                      if p.name != neutral_path.name and not re.fullmatch(r"identity\d{3}\.obj", p.name))
        order = _ict_expression_order(folder)
        exps.sort(key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.stem))
        names = tuple(p.stem for p in exps)

        def deltas(paths: list[Path]) -> np.ndarray:
            out = np.zeros((len(paths), len(neutral), 3), np.float32)
            for k, p in enumerate(paths):
                v, *_ = _read_obj(p, with_faces=False)
                if v.shape != neutral.shape:
                    raise DffkitError(f"{p.name} has {len(v)} vertices, the neutral mesh {len(neutral)}")
                out[k] = v - neutral
            return out

        lm, jr, jl = _ict_landmarks(folder)
        m2 = len(exps)
        return cls(
            mean=neutral, identity_basis=deltas(ids), expression_basis=deltas(exps), triangles=triangles,
            landmarks68=lm, jaw_right=jr, jaw_left=jl,
            identity_std=np.ones(len(ids), np.float32), expression_std=np.full(m2, 0.5, np.float32),
            expression_bounds=np.tile(np.array([0.0, 1.0], np.float32), (m2, 1)), expression_names=names,
            parts=_ICT_UPSTREAM_PARTS, uv=uv, triangles_uv=triangles_uv, name=f"ICT-FaceKit OBJ ({folder.name})",
        )

    @classmethod
    def from_bfm(cls, path: str | Path, unit_cm: float = 1e-4) -> FaceModel:
        """Read a BFM2009 + 3DDFA expression model in the 300W-LP / 3DDFA layout (``BFM.mat``).

        The file holds ``shapeMU`` (3N, 1), ``shapePC`` (3N, 199), ``shapeEV`` (199, 1), ``expMU``
        (3N, 1), ``expPC`` (3N, 29), ``expEV`` (29, 1), ``tri`` (3, T) or (T, 3) 1-based and
        ``kpt_ind`` (68,) 1-based. BFM is licence-restricted: dffkit never ships it.

        The identity basis is stored as shapePC·shapeEV, so that p_id ~ N(0, 1); convert 300W-LP's
        ``Shape_Para`` and ``Exp_Para`` with :func:`bfm_params_from_300wlp`. BFM units are
        micrometres; ``unit_cm`` converts them to centimetres.
        """
        import scipy.io as sio

        path = Path(path)
        if not path.is_file():
            raise DffkitError(f"{path} not found; pass the path of a BFM.mat you hold")
        try:
            m = sio.loadmat(str(path))
        except Exception as exc:  # scipy raises several types for a corrupt file
            raise DffkitError(f"{path} is not a readable MATLAB file ({exc.__class__.__name__})") from None
        need = ("shapeMU", "shapePC", "shapeEV", "expMU", "expPC", "expEV", "tri", "kpt_ind")
        missing = [k for k in need if k not in m]
        if missing:
            raise DffkitError(f"{path.name} lacks {missing}; expected the 3DDFA BFM.mat layout")
        mu = (m["shapeMU"] + m["expMU"]).reshape(-1, 3) * unit_cm
        n = mu.shape[0]
        ev = m["shapeEV"].reshape(-1)
        eev = m["expEV"].reshape(-1)
        a_id = (m["shapePC"] * ev[None, :]).T.reshape(-1, n, 3) * unit_cm
        a_exp = (m["expPC"] * eev[None, :]).T.reshape(-1, n, 3) * unit_cm
        tri = np.asarray(m["tri"], np.int64)
        if tri.shape[0] == 3 and tri.shape[1] != 3:
            tri = tri.T
        kpt = np.asarray(m["kpt_ind"], np.int64).reshape(-1) - 1
        m2 = a_exp.shape[0]
        return cls(
            mean=mu.astype(np.float32), identity_basis=a_id.astype(np.float32),
            expression_basis=a_exp.astype(np.float32), triangles=(tri - 1).astype(np.int32),
            landmarks68=kpt.astype(np.int32), jaw_right=kpt[JAW_RIGHT_LANDMARKS].astype(np.int32),
            jaw_left=kpt[JAW_LEFT_LANDMARKS].astype(np.int32),
            identity_std=np.ones(a_id.shape[0], np.float32), expression_std=np.ones(m2, np.float32),
            expression_bounds=np.tile(np.array([-np.inf, np.inf], np.float32), (m2, 1)),
            expression_names=tuple(f"exp{k:02d}" for k in range(m2)), parts={"face": (0, n - 1)},
            name=f"BFM2009 + 3DDFA expressions ({path.name})",
        )


def bfm_params_from_300wlp(model_mat: str | Path, shape_para: np.ndarray, exp_para: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert 300W-LP ``Shape_Para`` (199,) and ``Exp_Para`` (29,) to (p_id, p_exp) of :meth:`FaceModel.from_bfm`.

    300W-LP stores raw PCA coefficients (S = μ + shapePC·Shape_Para); dffkit's basis is shapePC·shapeEV,
    so p_id = Shape_Para / shapeEV (and likewise for expressions).
    """
    import scipy.io as sio

    m = sio.loadmat(str(model_mat), variable_names=["shapeEV", "expEV"])
    return (np.asarray(shape_para, np.float64).reshape(-1) / m["shapeEV"].reshape(-1),
            np.asarray(exp_para, np.float64).reshape(-1) / m["expEV"].reshape(-1))


# --- the embedded model ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _default_arrays() -> dict[str, np.ndarray]:
    from dffkit.cache import cached_unpack

    blob = resources.files("dffkit").joinpath("assets/ict_face_light.npz.xz").read_bytes()
    with np.load(io.BytesIO(cached_unpack("ict_face_light", blob, lzma.decompress)), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_default_model() -> FaceModel:
    """dffkit's embedded face model: the ICT Face Model Light, head subset (see ``tools/build_ict_asset.py``).

    17,202 vertices (face, head and neck, mouth and eye sockets, eyeballs), 100 identity modes with
    p_id ~ N(0, 1), 53 expression blendshapes with p_exp in [0, 1]. Bases are stored to 10 µm.
    """
    a = _default_arrays()
    step = float(a["step_cm"])
    m2 = int(a["expression_shape"][0])
    parts = {str(n): (int(r[0]), int(r[1])) for n, r in zip(a["part_names"], a["part_ranges"])}
    parts["face_narrow"] = _ICT_UPSTREAM_PARTS["face_narrow"]  # a sub-range of "face", same indices
    return FaceModel(
        mean=a["neutral"].copy(),
        identity_basis=_dequantise(a["identity_hi"], a["identity_lo"], a["identity_shape"], step),
        expression_basis=_dequantise(a["expression_hi"], a["expression_lo"], a["expression_shape"], step),
        triangles=a["triangles"].copy(), landmarks68=a["landmarks68"].copy(),
        jaw_right=a["jaw_right"].copy(), jaw_left=a["jaw_left"].copy(),
        identity_std=np.ones(int(a["identity_shape"][0]), np.float32),
        expression_std=np.full(m2, 0.5, np.float32),
        expression_bounds=np.tile(np.array([0.0, 1.0], np.float32), (m2, 1)),
        expression_names=tuple(str(n) for n in a["expression_names"]), parts=parts,
        uv=a["uv"].copy(), triangles_uv=a["triangles_uv"].copy(), name="ICT Face Model Light (dffkit head subset)",
    )
