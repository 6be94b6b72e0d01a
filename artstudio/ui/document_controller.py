"""The open document's life: new, open, save, export, autosave, recovery,
recent files, paste and drop, and asking before unsaved work is lost.

Reading and writing files runs on the engine's pool (the GUI thread never
waits on a file): saves work on a snapshot (`Document.copy()`), so painting
can go on while a large document is written.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from artstudio.document import Document, autosave, discard, discard_for, list_recoverable
from artstudio.document.autosave import clean_up, forget, record_save
from artstudio.document.create import DEFAULT_SIZE, document_from_picture, new_document
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import load_image
from artstudio.document.save import export_image, open_document, save_document
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobKind, Lane, UserFacingError
from artstudio.settings import Settings, save_settings
from artstudio.ui.dialogs import RecoveryDialog, SizeDialog
from artstudio.ui.images import qimage_to_rgba
from artstudio.ui.job_runner import JobRunner

log = logging.getLogger(__name__)

OPEN_FILTER = ("Images and documents (*.ora *.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;"
               "OpenRaster (*.ora);;All files (*)")
SAVE_FILTER = "OpenRaster (*.ora)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"
MAX_RECENT = 10


class NewDocumentDialog(SizeDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("New document", *DEFAULT_SIZE, parent, minimum=8, finish=False)
        self.background = QComboBox()
        self.background.addItem("White", (255, 255, 255, 255))
        self.background.addItem("Transparent", None)
        self.background.addItem("Mid grey", (128, 128, 128, 255))
        self.form.addRow("Background", self.background)
        self.finish()

    def make_document(self) -> Document:
        return new_document(*self.size_chosen(), self.background.currentData())


class DocumentController(QObject):
    document_changed = Signal(object)  # the new Document, or None
    title_changed = Signal(str)
    note = Signal(str)  # a message for the status bar
    recent_changed = Signal(list)

    def __init__(self, settings: Settings, runner: JobRunner, parent_widget: QWidget):
        super().__init__(parent_widget)
        self.settings = settings
        self.runner = runner
        self.parent_widget = parent_widget
        self.doc: Document | None = None
        # The image a document came from (an opened PNG is saved as .ora, but
        # keeps the image's name in the title and the suggested file name).
        self.source: Path | None = None
        self._autosaving = None  # the autosave job in flight
        self._closed_autosaves: set[str] = set()
        self._opening = 0  # files being opened
        self._recovery_wanted = False
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.apply_settings()

    # ---- settings --------------------------------------------------------
    @property
    def max_megapixels(self) -> float:
        return float(self.settings.max_image_megapixels)

    def apply_settings(self) -> None:
        interval = self.settings.autosave_interval_s
        if interval > 0:
            self.autosave_timer.start(interval * 1000)
        else:
            self.autosave_timer.stop()

    # ---- the current document --------------------------------------------
    def set_document(self, doc: Document | None, source: Path | None = None) -> None:
        self.source = source
        if self.doc is not None:
            self.doc.events.modified_changed.disconnect(self._modified_changed)
            self.doc.events.size_changed.disconnect(self._size_changed)
        self.doc = doc
        if doc is not None:
            doc.events.modified_changed.connect(self._modified_changed)
            doc.events.size_changed.connect(self._size_changed)  # the title shows the size
        self.document_changed.emit(doc)
        self._emit_title()

    def _modified_changed(self, _modified: bool) -> None:
        self._emit_title()

    def _size_changed(self, _width: int, _height: int) -> None:
        self._emit_title()

    def _emit_title(self) -> None:
        doc = self.doc
        if doc is None:
            self.title_changed.emit("")
        else:
            self.title_changed.emit(f"{self.title}{' *' if doc.modified else ''} "
                                    f"({doc.width}x{doc.height})")

    @property
    def title(self) -> str:
        if self.doc is not None and self.doc.path is None and self.source is not None:
            return self.source.stem
        return self.doc.title if self.doc is not None else ""

    def confirm_discard(self) -> bool:
        """Ask before unsaved changes are lost; True when it is fine to go on."""
        doc = self.doc
        if doc is None or not doc.modified:
            return True
        answer = QMessageBox.question(
            self.parent_widget, "Unsaved changes",
            f"“{self.title}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            return self.save(blocking=True)
        return True

    def close_document(self) -> bool:
        if not self.confirm_discard():
            return False
        self._replace(None)
        return True

    def _replace(self, doc: Document | None, source: Path | None = None) -> None:
        """Put `doc` in place of the current document, whose autosave goes."""
        if self.doc is not None:
            discard_for(self.doc)
            self._closed_autosaves.add(self.doc.autosave_id)
        self.set_document(doc, source)

    def forget_closed_autosaves(self) -> None:
        """After the engine stopped: an autosave of a closed document that was
        still being written at close time is deleted now, or the next start
        would offer to recover work the artist discarded."""
        for autosave_id in self._closed_autosaves:
            if self.doc is None or autosave_id != self.doc.autosave_id:
                forget(autosave_id)

    def stop_autosave(self, wait_s: float = 30.0) -> None:
        """Quitting: no new autosave, and the one being written (useless now:
        the artist has answered for the unsaved work) is cancelled and waited
        for, so its temporary file is removed rather than left half-written."""
        self.autosave_timer.stop()
        job, self._autosaving = self._autosaving, None
        if job is not None:
            job.cancel()
            with contextlib.suppress(TimeoutError):
                job.wait(wait_s)

    def _still_fine_to_replace(self, before: DocumentMark) -> bool:
        """A document may have been made or changed while a file was loading:
        ask again rather than replace it silently."""
        return self.doc is None or before.unchanged(self.doc) or self.confirm_discard()

    # ---- new and open ----------------------------------------------------
    def new(self) -> None:
        dialog = NewDocumentDialog(self.parent_widget)
        if dialog.exec() == QDialog.DialogCode.Accepted and self.close_document():
            self.set_document(dialog.make_document())

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open", self._start_folder(),
                                              OPEN_FILTER)
        if name:
            self.open(Path(name))

    def open(self, path: Path, then_import: tuple[Path, ...] = ()) -> None:
        """Open on a worker; the current document is replaced only on success
        (and `then_import` files become its layers after that)."""
        if not self.confirm_discard():
            return
        self.note.emit(f"Opening {path.name}…")
        max_mp = self.max_megapixels
        before = DocumentMark.of(self.doc)
        self._opening += 1

        def done(result) -> None:
            self._open_ended()
            self._opened(path, result, before, then_import)

        def failed(message: str) -> None:
            self._open_ended()
            self._failed(message)

        self.runner.run(lambda p, progress, cancel: open_document(p, max_mp), path,
                        title=f"Open {path.name}", kind=JobKind.FILE, lane=Lane.POOL,
                        on_done=done, on_failed=failed, on_cancelled=lambda _r: self._open_ended())

    def _open_ended(self) -> None:
        self._opening -= 1
        if self._opening == 0 and self._recovery_wanted:
            self._recovery_wanted = False
            # After the opened document is shown (and any message about it).
            QTimer.singleShot(0, self, self.offer_recovery)

    def _opened(self, path: Path, result, before: DocumentMark,
                then_import: tuple[Path, ...] = ()) -> None:
        doc, notes = result
        if not self._still_fine_to_replace(before):
            return
        self._replace(doc, source=path)
        self.add_recent(path)
        self.note.emit(f"Opened {path.name}" + (f" ({'; '.join(notes)})" if notes else ""))
        for extra in then_import:
            self.import_as_layer(extra)

    def _failed(self, message: str) -> None:
        self.note.emit(message)
        QMessageBox.warning(self.parent_widget, "Artstudio", message)

    def import_as_layer(self, path: Path) -> None:
        """An image dropped on an open document becomes a new layer."""
        max_mp = self.max_megapixels
        target = DocumentMark.of(self.doc)

        def load(p, progress, cancel):
            return load_image(p, max_mp)

        def add(result) -> None:
            pixels, notes = result
            if not target.is_open(self.doc):
                self.note.emit(f"{path.name} was not added: its document is no longer open")
                return
            self.doc.add_layer(pixels, name=path.stem, label="Import layer")
            self.note.emit(f"Imported {path.name} as a layer"
                           + (f" ({'; '.join(notes)})" if notes else ""))

        self.runner.run(load, path, title=f"Import {path.name}", kind=JobKind.FILE,
                        on_done=add, on_failed=self._failed)

    def paste_image(self, image: QImage) -> bool:
        if image.isNull():
            return False
        pixels = qimage_to_rgba(image)
        if self.doc is None:
            self.set_document(document_from_picture(pixels, "Pasted"))
        else:
            frame = self.doc.frame
            self.doc.add_layer(pixels, name="Pasted", x=frame.x, y=frame.y, label="Paste")
        self.note.emit(f"Pasted a {pixels.shape[1]}x{pixels.shape[0]} image as a layer")
        return True

    # ---- save, export, autosave --------------------------------------------
    def save(self, blocking: bool = False) -> bool:
        if self.doc is None:
            return False
        if self.doc.path is None or self.doc.path.suffix.lower() != ".ora":
            return self.save_as(blocking)
        return self._save_to(self.doc.path, blocking)

    def save_as(self, blocking: bool = False) -> bool:
        if self.doc is None:
            return False
        suggested = (self.doc.path or self.source or
                     Path(self._start_folder()) / self.title).with_suffix(".ora")
        name, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save as", str(suggested),
                                              SAVE_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != ".ora":
            path = path.with_suffix(".ora")
        return self._save_to(path, blocking)

    def _save_to(self, path: Path, blocking: bool) -> bool:
        """Save a snapshot on a worker. `blocking` (closing the app) waits for
        it, since the answer decides whether the window may close."""
        doc = self.doc
        snapshot = doc.copy()
        saved_state = DocumentMark.of(doc)

        def done(_result) -> None:
            if saved_state.is_open(self.doc):
                # An autosave of this revision or older is worthless now, even
                # one still being written; one of later strokes is kept.
                record_save(doc, snapshot.revision)
                if saved_state.unchanged(self.doc):
                    doc.mark_saved(path)
                else:  # painted on while saving: the file holds an older state,
                    doc.path = path  # and the autosave may hold the newer one
                self.add_recent(path)
                self._emit_title()
            self.note.emit(f"Saved {path.name}")

        def failed(message: str) -> None:
            self._failed(message)

        self.note.emit(f"Saving {path.name}…")
        if blocking:
            # Closing waits for the answer anyway; queued behind other pool jobs
            # (a download, a batch) the save could keep the window frozen for minutes.
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                save_document(snapshot, path)
            except UserFacingError as exc:
                failed(str(exc))
                return False
            finally:
                QApplication.restoreOverrideCursor()
            done(None)
            return True
        self.runner.run(lambda s, progress, cancel: save_document(s, path), snapshot,
                        title=f"Save {path.name}", kind=JobKind.FILE, lane=Lane.POOL,
                        on_done=done, on_failed=failed)
        return True

    def export_dialog(self) -> None:
        if self.doc is None:
            return
        base = (self.doc.path or self.source or
                Path(self._start_folder()) / self.title).with_suffix(".png")
        name, chosen = QFileDialog.getSaveFileName(self.parent_widget, "Export image", str(base),
                                                   EXPORT_FILTER)
        if name:
            path = Path(name)
            if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
                path = path.with_suffix(".jpg" if "JPEG" in chosen else
                                        ".webp" if "WebP" in chosen else ".png")
            quality = 92
            if path.suffix.lower() != ".png":
                quality, ok = QInputDialog.getInt(self.parent_widget, "Export quality",
                                                  f"{path.suffix[1:].upper()} quality (1-100)",
                                                  92, 1, 100)
                if not ok:
                    return
            self.export(path, quality)

    def export(self, path: Path, quality: int = 92):
        snapshot = self.doc.copy()
        return self.runner.run(
            lambda s, progress, cancel: export_image(s, path, quality), snapshot,
            title=f"Export {path.name}", kind=JobKind.FILE, lane=Lane.POOL,
            on_done=lambda _r: self.note.emit(f"Exported {path.name}"), on_failed=self._failed)

    def autosave_now(self):
        doc = self.doc
        if doc is None or not doc.modified or self._autosaving is not None:
            return None
        snapshot = doc.copy()

        def finished(_result=None) -> None:
            self._autosaving = None

        def failed(message: str) -> None:
            self._autosaving = None
            self.note.emit(f"Autosave failed: {message}")

        self._autosaving = self.runner.run(
            lambda s, progress, cancel: autosave(s, cancel=cancel.raise_if_cancelled),
            snapshot, title="Autosave", kind=JobKind.INTERNAL, lane=Lane.POOL,
            on_done=finished, on_failed=failed, on_cancelled=finished)
        return self._autosaving

    def offer_recovery_at_start(self) -> None:
        """Every start, whatever it opens: tidy the autosave folder and offer
        what a crash left, once the files being opened are open (recovering
        replaces the open document, so it must be there to be replaced)."""
        for path in clean_up():
            log.info("removed %s, left by an interrupted autosave", path)
        if self._opening:
            self._recovery_wanted = True
        else:
            QTimer.singleShot(0, self, self.offer_recovery)

    def offer_recovery(self) -> None:
        """After a crash, autosaves are still there: offer each, with when it
        was made and how its file on disk compares."""
        entries = list_recoverable()
        log.info("%d autosave(s) to offer for recovery", len(entries))
        while entries:
            open_title = self.title if self.doc is not None and not self.doc.modified else None
            dialog = RecoveryDialog(entries, open_title, self.parent_widget)
            answer = dialog.exec()
            entry = dialog.chosen
            if answer == RecoveryDialog.RECOVER and entry is not None:
                self.recover(entry)
                return
            if answer != RecoveryDialog.DISCARD or entry is None:
                return  # later: offered again at the next start
            try:
                discard(entry)
            except DocumentFileError as exc:  # another window recovered it meanwhile
                self.note.emit(str(exc))
            entries = [e for e in entries if e is not entry]

    def recover(self, entry) -> None:
        from artstudio.document import recover

        max_mp = self.max_megapixels
        before = DocumentMark.of(self.doc)
        self.runner.run(lambda e, progress, cancel: recover(e, max_mp), entry,
                        title=f"Recover {entry.title}", kind=JobKind.FILE,
                        on_done=lambda result: self._recovered(result, before),
                        on_failed=self._failed)

    def _recovered(self, result, before: DocumentMark) -> None:
        doc, _notes = result
        if not self._still_fine_to_replace(before):
            return
        self._replace(doc)
        self.note.emit(f"Recovered “{doc.title}”: save it to keep it")

    # ---- recent files ----------------------------------------------------
    def add_recent(self, path: Path) -> None:
        settings = self.settings
        name = str(Path(path).resolve())
        recent = [name] + [r for r in settings.recent_files if r != name]
        settings.recent_files = recent[:MAX_RECENT]
        save_settings(settings)
        self.recent_changed.emit(settings.recent_files)

    def _start_folder(self) -> str:
        if self.doc is not None and self.doc.path is not None:
            return str(self.doc.path.parent)
        recent = self.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())
