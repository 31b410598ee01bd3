"""Restarting the cascade from a tracked face's earlier frame: when to run it from the box as well, and which to keep.

A tracker hands :meth:`dffkit.alignment.cascade.Aligner.align_checked` the same face's alignment in an earlier
frame (its keyframe, :mod:`dffkit.tracking.restarts`: the frame before, unless the face has barely moved since).
The cascade then first restarts from that alignment's camera and shape (its last :data:`WARM_STAGES` stages).
The restart is fast and steady, but it lags a turning face and, towards profile, can settle in a wrong state that
agrees with itself. So the cascade also runs from the box (from the mean shape under a frontal camera, every
stage) when :func:`box_run_needed` says so, and replaces the restart when :func:`box_run_wins` says so. Both are
pure rules on residuals (:attr:`~dffkit.alignment.result.Alignment.residual`: the last stage's update at the final
state over the box size) and yaws (degrees).
"""

from __future__ import annotations

__all__ = ["PROFILE_DISAGREE", "PROFILE_YAW", "RESTART_MARGIN", "TURN_DISAGREE", "WARM_STAGES", "beyond_profile",
           "box_run_needed", "box_run_wins"]

#: Stages a restart from an earlier frame's camera and shape runs (the last ones: learned on starts near
#: the truth). A one-off check on the tracking chapter's default sequences (tracker NME on the yaw sweep,
#: per-frame alignment in the true box 3.12 %): restarting from the box alone 3.46 %; also from the camera
#: and shape with 2 stages 3.19 % (1 stage 3.46 %), keeping the restart whenever its residual is no larger
#: than the frame before's, else the smaller residual of the two; at 60-90 degrees of yaw 3.90 % against
#: 4.76 % from the box alone (true box 4.21 %). Always running both and keeping the smaller residual gave
#: 3.19 % too, at 24 frames/s against 30.
WARM_STAGES = 2

#: When a restart's residual grew, the cascade from the box replaces it only with a residual under this share of
#: the restart's. On a still face the residual moves by a median 8 % from frame to frame on noise alone (its
#: spread 12 % of its mean; a one-off check on the still stretches of ``benchmarks/track_heldout.py``'s 18
#: sequences), and the two starts settle about 0.5-1 % of the box apart, so that keeping whichever is smaller
#: switches between them and the face jumps. ``benchmarks/track_heldout.py``'s measures (one-off runs, 2-core
#: AMD EPYC; 21 held-out faces, 42 sequences; a new track settled on its first frame in both,
#: ``Tracker._settled``), 1.0 -> 0.9: unfiltered still jitter at or under 1 % of the box in 31 -> 34 sequences,
#: median 0.813 -> 0.758 % (9 faces) and 0.513 -> 0.464 % (12 others), mean NME 4.507 -> 4.542 and
#: 4.290 -> 4.250 %.
RESTART_MARGIN = 0.9

#: Beyond this |yaw| (degrees) a tracker's restart always runs the cascade from the box too, and the box's cascade
#: replaces it when its |yaw| is :data:`PROFILE_DISAGREE` degrees or more less extreme. Towards profile a restart
#: can settle in a wrong state that agrees with itself: yaw too large, so that the far side's points count as hidden
#: and their evidence is not seen (a one-off probe on the tracking chapter's face at true yaws of 63-79 degrees:
#: 82-88 from the restart, landmarks 11-16 % of the box off, against 8-10 % from a widened box). Its residual and its
#: verdict are the better of the two there, so neither can choose; the cascade from the box starts frontal and sees
#: every point. ``benchmarks/track_heldout.py``'s measures (one-off runs, 2-core AMD EPYC), before -> this rule with
#: the restart box scaled by yaw (:attr:`~dffkit.alignment.regressors.Regressors.restart_by_yaw`): on its 9 faces,
#: yaw-sweep NME 4.717 -> 4.597 %, faces within 1.1 x per-frame true-box alignment in every |yaw| bin 2 -> 5, worst
#: bins 1.16 / 1.24 / 1.45 -> 1.16 / 1.19 / 1.46; on 12 other held-out faces (test images 0, 2, ..., 22)
#: 4.509 -> 4.361 %, 5 -> 6, worst 1.47 / 1.25 / 1.30 -> 1.21 / 1.22 / 1.16. One more cascade per frame beyond
#: 60 degrees: frames/s on three sequences within noise (26.1 / 28.8 / 15.3 before, 25.0 / 29.4 / 16.4 after).
PROFILE_YAW = 60.0
PROFILE_DISAGREE = 15.0

#: Up to :data:`PROFILE_YAW`, when the cascade from the box ran for a tracker (the restart's residual grew), it
#: replaces a restart whose |yaw| is this many degrees or more further round than its own, whatever the residuals.
#: A restart lags a turning face: its last two stages were learned on starts near the truth, so they take small
#: steps. Turning back to frontal, the restart's yaw trailed the truth by 5-13 degrees in a one-off probe (held-out
#: test image 15, frames 83-87 of its yaw sweep: restart 39.6 / 35.6 / 19.2 / 17.3 degrees against true
#: 26.9 / 22.9 / 14.7 / 10.5; at frame 87 the box's cascade 11.5), with residuals no larger than the box's, so the
#: residual margin kept it. One-off A/B runs of the tracker on ``benchmarks/track_heldout.py``'s sequences (2-core
#: AMD EPYC), without -> with: 9 faces (test images 1, 3, ..., 17) yaw-sweep NME 4.405 -> 4.412 %, faces within
#: 1.1 x per-frame true-box alignment in every |yaw| bin 6 -> 7, worst bins 1.16 / 1.24 / 1.16 -> 1.16 / 1.24 /
#: 1.16; 12 faces (test images 0, 2, ..., 22) 4.271 -> 4.244 %, 7 -> 8, worst 1.17 / 1.27 / 1.13 -> 1.13 / 1.17 /
#: 1.15. Still-stretch jitter, track ids and frames without a face unchanged on all 42 sequences. The same 5
#: degrees at every yaw (replacing the 15 beyond profile) gave 8 and 8 faces, but on the real stage clip of
#: ``benchmarks/track_real.py`` it swapped a confident profile (restart -86 degrees, verdict 0.66) for the box's
#: -74 (verdict 0.15), and the track was lost on the next frame; 10 degrees gave 5 faces and a third track id on a
#: two-person sweep; 3 degrees (12 faces) raised still jitter (median 0.406 -> 0.449 %).
TURN_DISAGREE = 5.0


def beyond_profile(yaw_deg: float) -> bool:
    """Whether a face at ``yaw_deg`` degrees is turned beyond :data:`PROFILE_YAW` (either way).

    Example:
        >>> beyond_profile(-75.0), beyond_profile(30.0)
        (True, False)
    """
    return abs(float(yaw_deg)) > PROFILE_YAW


def box_run_needed(restart_residual: float, previous_residual: float, restart_yaw_deg: float,
                   turn_check: bool) -> bool:
    """Whether the cascade from the box runs too: the restart's residual grew over the earlier frame's, or (for a
    tracker, ``turn_check``) the restart ended beyond :data:`PROFILE_YAW`.

    Args:
        restart_residual: the restart's last-stage residual (fraction of the box).
        previous_residual: the earlier frame's (the one restarted from).
        restart_yaw_deg: the restart's yaw, degrees.
        turn_check: the caller is a tracker following its faces (a second look at a detector's candidate is not:
            there a less extreme yaw can make a lamp look like a face).

    Example:
        >>> box_run_needed(0.020, 0.021, 10.0, True), box_run_needed(0.022, 0.021, 10.0, True)
        (False, True)
        >>> box_run_needed(0.010, 0.021, 70.0, True), box_run_needed(0.010, 0.021, 70.0, False)
        (True, False)
    """
    return restart_residual > previous_residual or (turn_check and beyond_profile(restart_yaw_deg))


def box_run_wins(restart_residual: float, box_residual: float, restart_yaw_deg: float, box_yaw_deg: float,
                 turn_check: bool) -> bool:
    """Whether the cascade from the box replaces the restart: for a tracker (``turn_check``), when the restart's
    |yaw| is further round than the box's by :data:`TURN_DISAGREE` degrees or more (:data:`PROFILE_DISAGREE` beyond
    :data:`PROFILE_YAW`); else when the box's residual is under :data:`RESTART_MARGIN` times the restart's.

    Args:
        restart_residual, box_residual: the two runs' last-stage residuals (fractions of the box).
        restart_yaw_deg, box_yaw_deg: their yaws, degrees.
        turn_check: as in :func:`box_run_needed`.

    Example:
        >>> box_run_wins(0.020, 0.019, 10.0, 10.0, True), box_run_wins(0.020, 0.017, 10.0, 10.0, True)
        (False, True)
        >>> box_run_wins(0.015, 0.020, 35.0, 28.0, True), box_run_wins(0.015, 0.020, 35.0, 28.0, False)
        (True, False)
        >>> box_run_wins(0.015, 0.020, -35.0, 32.0, True)  # 3 degrees: within the noise
        False
        >>> box_run_wins(0.015, 0.020, 85.0, 75.0, True), box_run_wins(0.015, 0.020, 85.0, 65.0, True)
        (False, True)
    """
    limit = PROFILE_DISAGREE if beyond_profile(restart_yaw_deg) else TURN_DISAGREE
    further_round = abs(restart_yaw_deg) - abs(box_yaw_deg) > limit
    return (turn_check and further_round) or box_residual < RESTART_MARGIN * restart_residual
