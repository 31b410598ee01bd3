"""The model card of the alignment regressors: written from the metadata every ``align_*.npz`` carries,
so the card can never disagree with the files beside it."""

from __future__ import annotations

from pathlib import Path

from dffkit.alignment.regressors import KINDS, Regressors
from dffkit.atomic import atomic_write

__all__ = ["card_text", "write_card", "CARD_NAME"]

CARD_NAME = "ALIGN_MODEL_CARD.md"

_WHAT = {"dff": "the paper's 3D cascade on DFF", "sift": "\"Ours (SIFT)\": the same cascade on SIFT, reduced to 32-d "
         "per point by PCA", "sdm": "the 2D SDM mode: DFF at the 68 current points, every point visible"}


def card_text(regressors: dict[str, Regressors]) -> str:
    """The card's Markdown for regressor files by kind.

    Example:
        >>> card_text({"sdm": Regressors.load(descriptor="sdm")}).splitlines()[0]
        '# Model card: alignment regressors'
    """
    lines = ["# Model card: alignment regressors", "",
             "The generic descent directions of the cascade (paper Sec. III-C, eqs. 9, 10), learned stage by stage "
             "with `dffkit train-align` (`dffkit.alignment.learn`). Weights are stored in float16. Everything below "
             "is read from the files' own metadata.", ""]
    for kind, r in regressors.items():
        m = r.meta
        source = m.get("data") or m.get("photos", "?")
        machine = m.get("machine", {})
        lines += [f"## `align_{kind}.npz`: {_WHAT.get(kind, kind)}", "",
                  f"- training data: `{source}`, {m.get('n_samples', '?')} samples or photos, {m.get('n_init', '?')} "
                  f"perturbed boxes each (box jitter {m.get('box_jitter', '?')});",
                  f"- DFF weights: `{m.get('weights', 'dff_cpu.pt')}`; crop {r.size} px; {len(r.stages)} stages;",
                  f"- trained in {m.get('train_seconds', float('nan')) / 60:.1f} min on {machine.get('cpu', '?')}"
                  f"{' with GPU ' + machine['gpu'] if machine.get('gpu') else ''};",
                  f"- descriptor `{r.descriptor}`"
                  + (f" with options `{r.descriptor_options}`" if r.descriptor_options else "") + ";"]
        if m.get("command"):
            lines.append(f"- command: `dffkit {m['command']}`;")
        lines += ["", "| stage | ridge λ | mean landmark error before (crop px) | after |", "|---|---|---|---|"]
        lines += [f"| {s['stage']} | {s['lambda']:g} | {s['mean_error_px_before']:.2f} | {s['mean_error_px_after']:.2f} |"
                  for s in m.get("stages", [])]
        for conv, rec in m.get("refine", {}).get("record", {}).items():
            lines += ["", f"2D refinement, {conv} convention ({rec['instances']} instances, visibility gate "
                          f"{rec.get('gate_visibility')}):", "",
                      "| stage | ridge λ | mean landmark error before (crop px) | after |", "|---|---|---|---|"]
            lines += [f"| {s['stage']} | {s['lambda']:g} | {s['mean_error_px_before']:.2f} | "
                      f"{s['mean_error_px_after']:.2f} |" for s in rec["stages"]]
            u = rec.get("uncertainty")
            if u:
                lines += ["", f"Per-point uncertainty ({conv}): ridge λ {u['lambda']:g} on {u['points']:,} points; held-out "
                              f"MSE of the log error {min(u['heldout_mse'].values()):.3f} against its variance "
                              f"{u['target_var']:.3f}."]
        if m.get("verdict"):
            v = m["verdict"]
            lines += ["", f"Face verdict: learned on {v['train_faces']:,} face and {v['train_non_faces']:,} non-face "
                          f"alignments; on held-out ones AUC {v['heldout_auc']:.3f}, threshold {v['threshold']:.3f} "
                          f"keeps {100 * v['heldout_tpr']:.1f} % of faces and lets {100 * v['heldout_fpr']:.1f} % of "
                          "non-faces through."]
        if m.get("restart"):
            rs = m["restart"]
            lines += ["", f"Restart scale (tracking): {rs['restart_scale']:.3f}; median box-size drift over restarts "
                          f"{100 * rs['size_drift_before']:.1f} % without it, {100 * rs['size_drift_after']:.1f} % with it "
                          f"({rs['faces']} held-out faces)."]
            if rs.get("restart_by_yaw"):
                t = rs["restart_by_yaw"]
                lines += ["", f"By the alignment's |yaw| (width and height scaled apart; median drift "
                              f"{100 * rs['size_drift_by_yaw']:.1f} %):", "",
                          "| \\|yaw\\| bin centre (°) | faces | width scale | height scale |", "|---|---|---|---|"]
                lines += [f"| {c:g} | {n} | {w:.3f} | {h:.3f} |"
                          for c, n, w, h in zip(t["yaw_deg"], t["faces"], t["width"], t["height"])]
            if rs.get("command"):
                lines += ["", f"Restart scale by yaw learned again, the rest of the file kept (the overall scale too; "
                              f"learned again it was {rs.get('restart_scale_learned_again', float('nan')):.4f}, the "
                              f"drift 'with it' above is at that): `{rs['command']}` ({rs['seconds'] / 60:.1f} min on "
                              f"{rs.get('machine', '?')})."]
        for title, rows in m.get("evaluation", {}).items():  # held-out results recorded with the file
            lines += ["", f"Held-out evaluation, {title}:", "", "| quantity | value |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in rows.items()]
        lines.append("")
    return "\n".join(lines)


def write_card(folder: str | Path) -> Path:
    """Write ``ALIGN_MODEL_CARD.md`` for every ``align_{dff,sift,sdm}.npz`` in ``folder``. Returns its path.

    Example:
        >>> import shutil, tempfile
        >>> from dffkit.alignment.regressors import shipped_regressors_path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = shutil.copy(shipped_regressors_path("sdm"), d)
        ...     write_card(d).read_text().count("## `align_")
        1
    """
    folder = Path(folder)
    regs = {k: Regressors.load(folder / f"align_{k}.npz") for k in KINDS if (folder / f"align_{k}.npz").is_file()}
    return atomic_write(folder / CARD_NAME, card_text(regs).encode())
