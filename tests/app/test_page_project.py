"""Project page: create a project, add videos by path and upload, load markers; bad input is refused."""

from __future__ import annotations

from pathlib import Path

from app.state import ProjectStore, project_file


def _open_new_project(app_test, name="ride"):
    at = app_test()
    form_input = next(t for t in at.text_input if t.label == "New project name")
    form_input.input(name)
    next(b for b in at.button if b.label == "Create project").click().run()
    return at


def test_create_project_add_videos_and_markers(app_test, project_dir, clips):
    at = _open_new_project(app_test)
    assert not at.exception
    store = ProjectStore(project_file("ride", project_dir))
    for role in ("ref", "new"):
        at.text_input(key=f"path_{role}").input(str(clips[role]))
        at.button(key=f"use_{role}").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    assert store.video("ref").path == str(clips["ref"].resolve())
    assert store.video("new").info["width"] == 320
    at.text_input(key="path_markers").input(str(clips["ref_markers"]))
    at.button(key="load_markers").click().run()
    assert [m.name for m in store.ref_markers()] == [
        "rock garden",
        "drop",
        "root",
        "split 2",
        "finish",
    ]
    assert any("Loaded 5 markers" in s.value for s in at.success)
    table = at.run().dataframe[0].value  # defect 9: the reference colours are shown
    assert list(table["colour"]) == ["red", "", "", "blue", ""]
    assert any(str(store.path) in str(c.value) for c in at.sidebar.caption)


def test_non_video_and_bad_markers_are_refused(app_test, project_dir, clips):
    at = _open_new_project(app_test)
    store = ProjectStore(project_file("ride", project_dir))
    at.text_input(key="path_markers").input(str(clips["ref_markers"]))
    at.button(key="load_markers").click().run()
    before = store.ref_markers()

    at.text_input(key="path_ref").input(str(clips["notes"]))
    at.button(key="use_ref").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "notes.mp4" in at.error[0].value
    assert store.video("ref") is None

    at.text_input(key="path_markers").input(str(clips["bad_markers"]))
    at.button(key="load_markers").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "3" in at.error[0].value  # names the bad line
    assert store.ref_markers() == before


def test_upload_routes_accept_a_video_and_refuse_a_non_video(app_test, project_dir, clips):
    at = _open_new_project(app_test)
    store = ProjectStore(project_file("ride", project_dir))
    at.file_uploader(key="upload_new").set_value(
        ("fake.mp4", b"not a video at all", "video/mp4")
    ).run()
    at.button(key="add_up_new").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "fake.mp4" in at.error[0].value
    assert store.video("new") is None
    assert not (project_dir / "ride" / "uploads" / "fake.mp4").exists()
    at.file_uploader(key="upload_new").set_value(
        ("run2.mp4", clips["new"].read_bytes(), "video/mp4")
    ).run()
    at.button(key="add_up_new").click().run()
    assert not at.error
    assert store.video("new").path.endswith("uploads/run2.mp4")
    at.file_uploader(key="upload_markers").set_value(
        ("bad.csv", clips["bad_markers"].read_bytes(), "text/csv")
    ).run()
    at.button(key="load_markers").click().run()
    assert len(at.error) == 1 and store.ref_markers() == []


def test_new_project_becomes_current_and_sidebar_switches(app_test, project_dir):
    ProjectStore(project_file("older", project_dir))
    at = _open_new_project(app_test, "newer")
    assert at.sidebar.selectbox[0].value == "newer"
    assert "newer" in " ".join(m.value for m in at.markdown)
    at.sidebar.selectbox[0].select("older").run()
    assert not at.exception
    assert "older" in " ".join(m.value for m in at.markdown)
    at.run()  # stays there
    assert at.sidebar.selectbox[0].value == "older"


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="46.0000" lon="7.0000"><ele>1500</ele><time>2024-06-01T10:00:00Z</time></trkpt>
<trkpt lat="46.0001" lon="7.0001"><ele>1499</ele><time>2024-06-01T10:00:01Z</time></trkpt>
<trkpt lat="46.0002" lon="7.0002"><ele>1498</ele><time>2024-06-01T10:00:02Z</time></trkpt>
<trkpt lat="46.0003" lon="7.0003"><ele>1497</ele><time>2024-06-01T10:00:03Z</time></trkpt>
</trkseg></trk></gpx>
"""


def test_markers_from_an_editor_edl_and_gps_tracks(app_test, project_dir, clips, tmp_path):
    from fractions import Fraction

    from mtbsync_core import edl_to_string
    from mtbsync_core.model import TransferredMarker

    edl = tmp_path / "from_resolve.edl"
    edl.write_text(
        edl_to_string(
            [
                TransferredMarker("drop", 4.0, 4.0, 1.0, False, "big one"),
                TransferredMarker("berm", 7.5, 7.5, 1.0, False),
            ],
            fps=Fraction(30),
            start_tc="00:00:00:00",
        ),
        encoding="utf-8",
    )
    at = _open_new_project(app_test)
    store = ProjectStore(project_file("ride", project_dir))
    at.text_input(key="path_ref").input(str(clips["ref"]))  # the EDL is read at this rate
    at.button(key="use_ref").click().run()
    at.text_input(key="path_markers").input(str(edl))
    at.button(key="load_markers").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [(m.name, round(m.t_ref_s, 3)) for m in store.ref_markers()] == [
        ("drop", 4.0),
        ("berm", 7.5),
    ]

    bad = tmp_path / "broken.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat='x'", encoding="utf-8")
    at.text_input(key="track_ref").input(str(bad))
    at.button(key="attach_ref").click().run()
    assert len(at.error) == 1 and "broken.gpx" in at.error[0].value
    assert store.track("ref") is None
    good = tmp_path / "ride.gpx"
    good.write_text(GPX, encoding="utf-8")
    at.text_input(key="track_ref").input(str(good))
    at.button(key="attach_ref").click().run()
    assert not at.error and store.track("ref") == str(good.resolve())
    at.button(key="untrack_ref").click().run()
    assert store.track("ref") is None
    at.text_input(key="track_new").input("")
    at.file_uploader(key="track_up_new").set_value(
        ("new.gpx", GPX.encode(), "application/gpx+xml")
    ).run()
    at.button(key="attach_new").click().run()
    assert not at.error and store.track("new").endswith("uploads/new.gpx")


def test_a_gopro_chapter_folder_is_joined_and_used(app_test, project_dir, clips, tmp_path):
    import hashlib

    import av

    from mtbsync_core.testing.chapters import split_at_keyframes

    def frames(path):
        with av.open(str(path)) as c:
            return [
                hashlib.blake2s(f.to_ndarray().tobytes()).hexdigest() for f in c.decode(video=0)
            ]

    card = tmp_path / "card"
    parts = split_at_keyframes(clips["ref"], card, chapters=3, number=42)
    assert len(parts) == 3
    at = _open_new_project(app_test)
    store = ProjectStore(project_file("ride", project_dir))
    at.text_input(key="path_ref").input(str(parts[1])).run()
    assert any("one of 3 chapters of recording GH-0042" in i.value for i in at.info)
    at.text_input(key="path_ref").input(str(card))
    at.button(key="use_ref").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    row = store.video("ref")
    joined = Path(row.path)
    assert joined.parent == store.path.parent / "chapters" and joined.name.startswith("GH-0042_")
    assert frames(joined) == frames(clips["ref"])  # every frame, none lost or doubled
    assert sorted(p.name for p in card.iterdir()) == [p.name for p in parts]  # chapters kept
    empty = tmp_path / "empty"
    empty.mkdir()
    at.text_input(key="path_new").input(str(empty))
    at.button(key="use_new").click().run()
    assert len(at.error) == 1 and "found: none" in at.error[0].value
    assert store.video("new") is None
