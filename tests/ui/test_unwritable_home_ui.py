"""Starting with a home folder that cannot be written: the window still
works, and says so once, instead of jobs failing with "Not a directory"."""

from __future__ import annotations

from artstudio.engine import JobState


def test_the_style_gallery_renders_with_an_unwritable_data_folder(studio, qtbot, tmp_path,
                                                                  monkeypatch):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    panel = studio.window.style_panel
    handle = panel.load_gallery()
    assert handle.wait(120) is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: panel.chooser.show_thumbnails(), timeout=10000)
    icon = panel.chooser.gallery.item(0).icon()
    assert not icon.isNull()


def test_the_window_names_the_unwritable_folder_at_start(qapp, tmp_path, monkeypatch):
    from artstudio.ui.application import StudioApplication

    blocker = tmp_path / "home"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    studio = StudioApplication(qapp, show=False)
    try:
        note = studio.window.status_message.text()
        assert f"Artstudio cannot write to {blocker / 'config'}" in note
    finally:
        studio.close()
