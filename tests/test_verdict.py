"""The alignment's face verdict (dffkit.alignment.verdict): faces pass, what is not a face does not, and still
photos report only faces."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared

from dffkit.alignment.cascade import align_all, default_aligner
from dffkit.alignment.verdict import fit_logistic, non_face_boxes, roc_curve
from dffkit.boxes import landmark_box
from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.evaluation.detection import read_face_centres, score_found
from dffkit.images import read_image


@pytest.fixture(scope="module")
def aligner():
    a = default_aligner()
    if not a.reg.verdict:
        pytest.skip("the shipped regressors carry no verdict")
    return a


@pytest.fixture(scope="module")
def faces():
    return [(read_image(p.image), read_landmarks(p.landmarks))
            for p in list_images(default_images(), split="test", require_landmarks=True)[:12]]


def test_held_out_faces_pass_and_boxes_off_them_do_not(aligner, faces):
    rng = np.random.default_rng(0)
    on = [aligner.align(img, landmark_box(t)).face_score for img, t in faces]
    off = [aligner.align(img, b).face_score for img, t in faces for b in non_face_boxes(img.shape, landmark_box(t), rng, 2)]
    assert np.mean(np.array(on) >= aligner.reg.verdict["threshold"]) >= 0.9
    assert np.median(off) < np.median(on) and np.mean(np.array(off) >= aligner.reg.verdict["threshold"]) < 0.5


def test_an_empty_frame_is_not_a_face(aligner):
    flat = np.full((240, 320, 3), 90, np.uint8)
    assert not aligner.align(flat, np.array([100.0, 60.0, 200.0, 180.0])).is_face


@pytest.mark.xfail(strict=True, reason="issue 26 not met yet: the shipped verdict (held-out FPR 0.11 at TPR 0.99) "
                   "reports the printed text of couple.jpg as a face")
def test_still_photos_report_faces_and_not_the_printed_text(aligner):
    req, opt = read_face_centres(__import__("pathlib").Path(__file__).parents[1] / "benchmarks" / "data" /
                                 "group_faces.json")["couple.jpg"]
    found = align_all(read_image(shared("group-photos", "couple.jpg")), aligner=aligner)
    s = score_found(np.array([a.face_box for a in found]), req, opt)
    assert s.missed == 0 and s.false_positives == 0
    everything = align_all(read_image(shared("group-photos", "couple.jpg")), aligner=aligner, verdict=False)
    assert len(everything) > len(found)  # without the verdict, the detector's extra box is reported


def test_roc_and_logistic_on_separable_data():
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(1.0, 0.5, (200, 2)), rng.normal(-1.0, 0.5, (200, 2))]
    y = np.r_[np.ones(200), np.zeros(200)]
    w = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    fpr, tpr, _, auc = roc_curve(p, y.astype(bool))
    assert auc > 0.98 and fpr[0] == 0 and tpr[-1] == 1.0


def test_a_face_cut_by_the_edge_is_found_by_a_second_look_in_a_grown_box(aligner):
    from dffkit.alignment.candidates import accepted, at_edge, judge
    from dffkit.detect import default_detector

    req, opt = read_face_centres(__import__("pathlib").Path(__file__).parents[1] / "benchmarks" / "data" /
                                 "group_faces.json")["selfie-many-people.jpg"]
    img = read_image(shared("group-photos", "selfie-many-people.jpg"))
    det = default_detector()
    c = det.usable(img, det.candidates(img))
    found = {}
    for look in (0.0, 1.3):
        faces = [a for a in judge(aligner, img, det.landmark_boxes(c.boxes), c.boxes, c.scores, det.min_score,
                                  edge_look=look) if accepted(a, det.min_score)]
        found[look] = (score_found(np.array([a.face_box for a in faces]), req, opt),
                       sum(at_edge(a.face_box, img.shape) for a in faces))
    (before, edge_before), (after, edge_after) = found[0.0], found[1.3]
    assert after.true_positives == before.true_positives + 1  # the photographer, cut by the right edge
    assert edge_after == edge_before + 1 and after.false_positives == before.false_positives == 0


def test_the_chapters_faces_found_table_shows_the_recorded_run_or_says_there_is_none():
    from dffkit.chapters.tracking import faces_found_table

    photo = {"photo": "a.jpg", "faces": 3, "true_positives": 2, "false_positives": 1, "missed": 1}
    mode = {"per photo": [photo], "group photos": {"precision": 2 / 3, "recall": 2 / 3, "found": 3, "faces": 3},
            "300-W test: annotated face found": 0.5, "300-W test photos": 2, "300-W test: other faces reported": 4}
    run = {"machine": {"cpu": "cpu", "cores": 2, "dffkit": "0"}, "detector": mode,
           "verdict": {**mode, "per photo": [{**photo, "false_positives": 0}],
                       "profiled views: found / frames per |yaw| bin": {"60-90": [7, 9]}}}
    text = str(faces_found_table({"eval_faces_found": run}))
    assert "60-90°" in text and "7 found" in text and "not measured" in text
    assert "2 found, 1 false, 1 missed" in text and "2 found, 0 false, 1 missed" in text
    assert "precision 66.7 %, recall 66.7 %" in text and "50.0 % of the annotated faces; 4 others" in text
    assert "has not recorded a run" in str(faces_found_table({}))


def test_a_rejected_candidate_is_looked_at_again_from_its_own_alignment(aligner):
    from dffkit.alignment.candidates import accepted, judge
    from dffkit.boxes import iou
    from dffkit.detect import default_detector

    photo = next(p for p in list_images(shared("300w"), split="test", require_landmarks=True)
                 if p.image.name == "180986261_1.jpg")  # a held-out 300-W photo
    img, truth = read_image(photo.image), read_landmarks(photo.landmarks)
    det = default_detector()
    c = det.usable(img, det.candidates(img))
    found = {}
    for again in (2.0, 0.01):  # no second look; a second look from a first alignment with a verdict of 1 %
        faces = judge(aligner, img, det.landmark_boxes(c.boxes), c.boxes, c.scores, det.min_score, look_again=again,
                      sure_look=0.0)
        found[again] = [a for a in faces if accepted(a, det.min_score)
                        and iou(landmark_box(a.landmarks), landmark_box(truth)) > 0.4]
    assert not found[2.0] and len(found[0.01]) == 1 and found[0.01][0].face_score > 0.9


def test_a_rejected_box_the_detector_is_sure_of_is_looked_at_again_grown_and_counts_only_when_likely(aligner):
    # 180986261_1.jpg (held-out): the detector's box (score 0.71) maps to a landmark box too small for the face,
    # whose alignment the verdict refuses (0.02); grown by 1.3 it is 0.97. On group-1.jpg a lamp's sure box
    # grown gets 0.28: under START_SCORE, so it stays refused.
    from dffkit.alignment.candidates import SURE_LOOK, accepted, best_first, distinct, judge
    from dffkit.alignment.verdict import START_SCORE
    from dffkit.boxes import iou
    from dffkit.detect import default_detector

    det = default_detector()
    photo = next(p for p in list_images(shared("300w"), split="test", require_landmarks=True)
                 if p.image.name == "180986261_1.jpg")
    img, truth = read_image(photo.image), read_landmarks(photo.landmarks)
    c = det.usable(img, det.candidates(img))
    found = {}
    for look in (0.0, SURE_LOOK):
        faces = judge(aligner, img, det.landmark_boxes(c.boxes), c.boxes, c.scores, det.min_score, look_again=2.0,
                      sure_look=look)
        found[look] = [a for a in faces if accepted(a, det.min_score)
                       and iou(landmark_box(a.landmarks), landmark_box(truth)) > 0.4]
    assert not found[0.0] and len(found[SURE_LOOK]) == 1 and found[SURE_LOOK][0].face_score >= START_SCORE

    req, opt = read_face_centres(__import__("pathlib").Path(__file__).parents[1] / "benchmarks" / "data" /
                                 "group_faces.json")["group-1.jpg"]
    img = read_image(shared("group-photos", "group-1.jpg"))
    c = det.usable(img, det.candidates(img))
    counts = {}
    for look in (0.0, SURE_LOOK):
        faces = [a for a in judge(aligner, img, det.landmark_boxes(c.boxes), c.boxes, c.scores, det.min_score,
                                  sure_look=look) if accepted(a, det.min_score)]
        faces = distinct(best_first(faces, det.min_score))  # as align_all reports them
        counts[look] = score_found(np.array([a.face_box for a in faces]), req, opt)
    assert counts[SURE_LOOK].false_positives == counts[0.0].false_positives == 0
    assert counts[SURE_LOOK].true_positives == counts[0.0].true_positives == 14


def test_a_face_aligned_from_two_candidate_boxes_is_reported_once(aligner):
    # ../shared/data/faces/breakingbad.jpg: two men; the left one's face had a second candidate whose alignment,
    # at 73 degrees of yaw against 7, put the same 2D landmarks in a 3D landmark box overlapping by under half
    from dffkit.alignment.candidates import one_face

    img = read_image(shared("faces", "breakingbad.jpg"))
    faces = align_all(img, aligner=aligner)
    assert len(faces) == 2
    centres = sorted(float(np.mean(a.landmarks_2d[:, 0])) for a in faces)
    assert centres[0] < img.shape[1] / 2 < centres[1]  # one face per man
    assert not one_face(*faces)


def test_of_two_alignments_of_one_face_the_one_from_the_detectors_own_box_is_kept():
    # A weak box on a profile aligned the face at the mirrored yaw with a higher verdict than the detector's
    # own box; both put the same 2D landmarks on the face, and the detector's one must be the face reported.
    from types import SimpleNamespace

    from dffkit.alignment.candidates import best_first, distinct

    pts = np.array([[0.0, 0.0], [40.0, 10.0], [20.0, 50.0], [5.0, 45.0]])
    narrower = np.c_[pts[:, :1] * 0.3, pts[:, 1:]]  # its 3D landmark box, at another yaw
    mirrored = SimpleNamespace(score=0.12, face_score=0.9, landmarks=narrower, landmarks_2d=pts + 1.0)
    sure = SimpleNamespace(score=0.6, face_score=0.8, landmarks=pts, landmarks_2d=pts)
    other = SimpleNamespace(score=0.2, face_score=0.95, landmarks=pts + 300.0, landmarks_2d=pts + 300.0)
    kept = distinct(best_first([mirrored, other, sure], sure=0.5))
    assert kept == [sure, other]


def test_a_sure_box_still_refused_at_the_first_growth_is_looked_at_with_the_next():
    # SURE_LOOK is tried in turn: 1.3, then 1.6 only while refused (the stage clip's pianist in profile needs
    # 1.6); a box accepted at 1.3 is not aligned again, and a single growth gives a single look
    from types import SimpleNamespace

    from dffkit.alignment.candidates import SURE_LOOK, judge

    looks = []

    class Growing:  # the verdict finds a face once the box is at least 1.5 times the detector's
        reg = SimpleNamespace(restart_scale=1.0)

        def __init__(self, needs: float) -> None:
            self.needs = needs

        def align_checked(self, image, boxes, face_boxes=None, scores=None, previous=None):
            out = []
            for b in boxes:
                looks.append(round(float(b[2] - b[0]) / 40, 2))
                v = 0.9 if b[2] - b[0] >= self.needs * 40 - 1e-9 else 0.1
                out.append(SimpleNamespace(face_score=v, is_face=v >= 0.5, score=0.6))
            return out

    img = np.zeros((200, 200, 3), np.uint8)
    box, scores = np.array([[80.0, 80.0, 120.0, 120.0]]), np.array([0.6])
    assert SURE_LOOK == (1.3, 1.6)
    assert judge(Growing(1.5), img, box, box, scores, 0.35, look_again=2.0)[0].face_score == 0.9
    assert looks == [1.0, 1.3, 1.6]
    looks.clear()
    assert judge(Growing(1.2), img, box, box, scores, 0.35, look_again=2.0)[0].face_score == 0.9
    assert looks == [1.0, 1.3]  # accepted at 1.3: no third look
    looks.clear()
    assert judge(Growing(1.5), img, box, box, scores, 0.35, look_again=2.0, sure_look=1.3)[0].face_score == 0.1
    assert looks == [1.0, 1.3]


def test_a_weak_candidates_face_stands_only_if_found_again_from_its_own_landmarks():
    # candidates.confirmed: the tracker's second look at a face from a weak box, started afresh in its own
    # landmark box; a face is a fixed point, a false one (an ear, a lamp) drifts and its verdict falls
    from types import SimpleNamespace

    from dffkit.alignment.candidates import confirmed

    looked = []

    class Again:  # the second look's verdict is set per box: a fixed point at x0 = 50, drift elsewhere
        reg = SimpleNamespace(restart_scale=1.0)

        def align_checked(self, image, boxes, face_boxes=None, scores=None, previous=None):
            looked.extend(np.round(b[0]) for b in boxes)
            return [SimpleNamespace(face_score=0.9 if round(b[0]) == 50 else 0.3) for b in boxes]

    def face(x0, score):
        pts = np.array([[x0, 40.0], [x0 + 40.0, 90.0]])
        return SimpleNamespace(landmarks=pts, score=score, face_score=0.8, is_face=True)

    img = np.zeros((200, 200, 3), np.uint8)
    faces = [face(50.0, 0.2), face(120.0, 0.2), face(120.0, 0.6), face(400.0, 0.2)]
    assert confirmed(Again(), img, faces, sure=0.35) == [True, False, True, False]
    assert looked == [50, 120]  # the sure face is not looked at again, nor a box off the image
    looked.clear()
    assert confirmed(Again(), img, faces[:2], sure=0.35, start_score=0.2) == [True, True]
    assert confirmed(Again(), img, [], sure=0.35) == []
