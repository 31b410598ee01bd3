"""Who a tracked face is: a person who leaves and comes back takes their id back; another person does not."""

from __future__ import annotations

import numpy as np
import pytest

from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.errors import DffkitError
from dffkit.images import read_image
from dffkit.tracking.identity import SAME_PERSON, face_chip, identity_distance, identity_encoder
from dffkit.tracking.sequences import head_patch, leave_and_return, scene
from dffkit.tracking.tracker import Tracker


@pytest.fixture(scope="module")
def people():
    """Three held-out test photos (three people): (image, landmarks) each."""
    photos = list_images(default_images(), split="test", require_landmarks=True)
    return [(read_image(ph.image), read_landmarks(ph.landmarks)) for ph in (photos[1], photos[2], photos[3])]


@pytest.fixture(scope="module")
def background(people):
    """The third person's photo, blurred: a textured scene."""
    return scene(people[2][0])


def test_a_face_is_nearer_to_itself_smaller_and_moved_than_to_another_person(people):
    (img, lm), (other, olm) = people[0], people[1]
    small = 0.4
    import cv2

    shrunk = cv2.resize(img, None, fx=small, fy=small, interpolation=cv2.INTER_AREA)
    e = identity_encoder()(np.stack([face_chip(img, lm), face_chip(shrunk, lm * small), face_chip(other, olm)]))
    assert e.shape == (3, 128)
    assert identity_distance(e[0], e[1]) < SAME_PERSON < identity_distance(e[0], e[2])


def test_a_face_chip_refuses_landmarks_that_are_not_68_finite_points(people):
    img, lm = people[0]
    with pytest.raises(DffkitError, match="68, 2"):
        face_chip(img, lm[:5])
    bad = lm.copy()
    bad[3] = np.nan
    with pytest.raises(DffkitError, match="finite"):
        face_chip(img, bad)


def test_a_person_who_leaves_for_longer_than_recall_comes_back_with_their_id(people, background):
    (img, lm), (other, olm) = people[0], people[1]
    head = head_patch(img, lm, 96)
    again = (head_patch(img, lm, 80)[:, ::-1] * 0.75).astype(np.uint8)  # mirrored, smaller, darker
    frames = leave_and_return(head, again, background, gap=40)  # 1.6 s away at 25 frames/s, recall_s is 1 s
    out = list(Tracker(detect_every=5).run((k, k / 25, f) for k, f in enumerate(frames)))
    before = {f.track_id for fr in out[:8] for f in fr.faces}
    after = {f.track_id for fr in out[48:] for f in fr.faces}
    assert not any(fr.cut for fr in out) and not any(fr.faces for fr in out[10:48])
    assert before == {0} and after == {0}  # recognised: the id back, at another place
    new = list(Tracker(detect_every=5, reid_s=0).run((k, k / 25, f) for k, f in enumerate(frames)))
    assert {f.track_id for fr in new[48:] for f in fr.faces} == {1}  # without recognition: a new id


def test_another_person_coming_in_after_someone_left_gets_a_new_id(people, background):
    (img, lm), (other, olm) = people[0], people[1]
    frames = leave_and_return(head_patch(img, lm, 96), head_patch(other, olm, 96), background, gap=40)
    out = list(Tracker(detect_every=5).run((k, k / 25, f) for k, f in enumerate(frames)))
    before = {f.track_id for fr in out[:8] for f in fr.faces}
    after = {f.track_id for fr in out[48:] for f in fr.faces}
    assert before == {0} and after == {1}


def test_the_chapters_table_shows_the_recorded_reid_run_or_says_there_is_none():
    from dffkit.chapters.tracking import reid_table

    case = {"both faces tracked": 4, "second took the first's id": 3, "share": 0.75}
    other = {"both faces tracked": 5, "second took the first's id": 0, "share": 0.0}
    run = {"machine": {"cpu": "cpu", "cores": 2, "dffkit": "0"}, "people": 5, "gap (frames at 25/s)": 40,
           "reid_s 10": {"same person": case, "another person": other},
           "reid_s 0": {"same person": other, "another person": other}}
    text = str(reid_table({"track_reid": run}))
    assert "3 / 4 (75.0 %)" in text and "0 / 5 (0.0 %)" in text
    assert "has not recorded a run" in str(reid_table({}))


def test_a_lost_track_was_at_the_places_of_its_last_frames_not_only_its_last():
    # a face turning away drifts before the verdict lets it go: where it comes back is judged against the boxes
    # of the track's last PLACES frames (a looser recognition threshold there), not its last box alone
    from types import SimpleNamespace

    from dffkit.tracking.tracker import PLACES, RESTART_SMOOTHING, _Track

    def at(y: float) -> SimpleNamespace:  # a 100-pixel square face at height y
        return SimpleNamespace(landmarks=np.array([[0.0, y], [100.0, y + 100.0]]), pose=SimpleNamespace(yaw_deg=0.0))

    t = _Track(0, at(0.0), None, RESTART_SMOOTHING.make(25))
    for k in range(1, PLACES + 6):  # drifts 10 pixels a frame, 30 frames
        t.moved_to(at(10.0 * k))
    assert t.was_at(np.array([0.0, 100.0, 100.0, 200.0]))  # 20 frames ago, 200 pixels above where it was lost
    assert not t.was_at(np.array([0.0, 0.0, 100.0, 100.0]))  # 30 frames ago: forgotten
    assert not t.was_at(np.array([300.0, 300.0, 400.0, 400.0]))  # somewhere it never was


def test_a_face_never_seen_within_the_view_yaw_keeps_its_least_turned_view_until_a_frontal_one_comes(people):
    # a person who stays at about 40 degrees must still be recognisable; a more frontal view then takes over
    from dffkit.tracking.identity import VIEW_EVERY, FaceViews

    (img, lm), (other, olm) = people[0], people[1]
    views = FaceViews()
    views.add(img, lm, yaw_deg=60.0, index=0)  # beyond the fallback: nothing
    assert len(views) == 0
    views.add(img, lm, yaw_deg=-46.0, index=1)
    views.add(other, olm, yaw_deg=48.0, index=2)  # more turned than the one kept: ignored
    assert len(views) == 1
    first = views.descriptor()
    assert identity_distance(first, identity_encoder()(face_chip(img, lm)[None])[0]) < 1e-6
    views.add(other, olm, yaw_deg=43.0, index=3)  # less turned: replaces it
    assert len(views) == 1 and identity_distance(views.descriptor(), first) > SAME_PERSON
    views.add(img, lm, yaw_deg=10.0, index=4)  # within the view yaw: replaces the fallback at once
    views.add(img, lm, yaw_deg=-44.0, index=5 + VIEW_EVERY)  # and no turned view comes back after it
    assert len(views) == 1 and identity_distance(views.descriptor(), first) < 1e-6
