"""Writing a journey out: a PNG sequence, an animated GIF or WebP, an H.264 MP4.

Frames stream: each one is written to a hidden temporary PNG sequence beside
the target as it arrives, so memory does not grow with the frame count. A
folder target is that sequence renamed into place; the animated formats are
then assembled from it one frame at a time (GIF and WebP by a small container
writer around Pillow's single-frame encoders, because Pillow's own animated
writers keep every frame in memory; MP4 through PyAV, which ships FFmpeg).
Ping-pong reads the sequence backwards, so it needs nothing in memory either.

Every write goes to a temporary name and is renamed only when complete: a full
disk, an unwritable folder or a cancelled journey never leaves a file that
looks finished.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import re
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from artstudio.diffusion.metadata import png_info
from artstudio.document.errors import DocumentFileError
from artstudio.document.save import STALE_TEMP_AGE_S, _reason, atomic_write
from artstudio.engine.cancel import Cancelled
from artstudio.interpolation.frames import ExportResult, Frame

try:
    import fcntl
except ImportError:  # Windows: a folder in use cannot be deleted there anyway
    fcntl = None

FILE_FORMATS = (".gif", ".webp", ".mp4")
LOCK_NAME = ".lock"
MAX_FPS = 120.0
FRAME_NAME = "frame_{:04d}.png"
WEBP_QUALITY = 90
MP4_CRF = 18  # visually lossless for x264; the default 23 smears fine brush texture


@dataclass(frozen=True)
class ExportReport(ExportResult):
    """An ExportResult with what the artist should know about the file."""

    notes: tuple[str, ...] = ()


def export_frames(frames: Iterable[Frame], out: Path | str, *, fps: float = 12,
                  loop: bool = False, pingpong: bool = False, overwrite: bool = False,
                  cancel=None) -> ExportReport:
    """Write `frames` to `out`: a folder (a PNG sequence, each PNG with its
    frame's parameters), FILE.gif, FILE.webp or FILE.mp4.

    `loop`: the GIF or WebP repeats forever instead of playing once (MP4 has
    no such flag). `pingpong`: the frames are appended backwards without
    repeating the two ends, so n frames play as 2n-2. `cancel` (a CancelToken
    or a callable returning True) stops taking frames; so does a `Cancelled`
    raised by the frames' source. A cancelled export still writes what it has
    and says so (`cancelled`, `frames`). Raises DocumentFileError (one line
    naming the file) for an unknown extension, an existing target without
    `overwrite`, frames of different sizes or a write that fails; then
    nothing is left at the target or beside it.
    """
    out = Path(out)
    kind = _kind(out)
    if not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise DocumentFileError(out, f"the frame rate must be above 0 and at most {MAX_FPS:g} fps")
    _check_target(out, kind, overwrite)
    remove_stale_spools(out)
    try:
        spool = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise DocumentFileError(out, f"could not be saved: {_reason(exc)}.") from exc
    lock = None
    try:
        try:
            lock = _hold_lock(spool)
        except OSError as exc:
            raise DocumentFileError(out, f"could not be saved: {_reason(exc)}.") from exc
        count, size, cancelled = _spool(frames, spool, out, cancel,
                                        compress_level=6 if kind == "folder" else 1)
        if count == 0:
            if cancelled:
                return ExportReport(out, 0, True, ("cancelled before the first frame: "
                                                   "nothing was written",))
            raise DocumentFileError(out, "there are no frames to export")
        order = play_order(count, pingpong)
        notes: list[str] = []
        if kind == "folder":
            os.close(lock)
            lock = None
            os.unlink(spool / LOCK_NAME)
            _finish_folder(spool, out, order, count)
        else:
            paths = [spool / FRAME_NAME.format(i) for i in order]
            writer = _WRITERS[kind]
            atomic_write(out, lambda fh: writer(fh, paths, size, fps, loop, notes))
        if cancelled:
            notes.append(f"cancelled: the export holds the first {count} frames")
        return ExportReport(out, count, cancelled, tuple(notes))
    finally:
        if lock is not None:
            os.close(lock)
        with contextlib.suppress(OSError):
            shutil.rmtree(spool)


def remove_stale_spools(out: Path | str, min_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Delete the temporary frame folders that exports of `out` left when
    they were killed: only our hidden name pattern, only folders untouched
    for `min_age_s` whose lock no live export holds. Errors are ignored."""
    out = Path(out)
    pattern = re.compile(rf"\.{re.escape(out.name)}\.[a-z0-9_]{{8}}\.tmp")
    removed = []
    cutoff = time.time() - min_age_s
    with contextlib.suppress(OSError):
        for entry in os.scandir(out.parent):
            if not pattern.fullmatch(entry.name):
                continue
            with contextlib.suppress(OSError):
                if (entry.is_dir(follow_symlinks=False)
                        and entry.stat(follow_symlinks=False).st_mtime < cutoff
                        and not _lock_held(Path(entry.path))):
                    shutil.rmtree(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _hold_lock(spool: Path) -> int | None:
    """A lock file in the spool, held while this export runs (and released by
    the system if the process dies): how a later export tells a live spool
    from a killed one."""
    fd = os.open(spool / LOCK_NAME, os.O_CREAT | os.O_WRONLY, 0o600)
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _lock_held(spool: Path) -> bool:
    if fcntl is None:
        return False
    try:
        fd = os.open(spool / LOCK_NAME, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def play_order(count: int, pingpong: bool) -> list[int]:
    """Frame numbers in playing order: 0..n-1, then with ping-pong n-2..1
    (the two ends are not shown twice, so a looping file has no stutter)."""
    forward = list(range(count))
    return forward + forward[-2:0:-1] if pingpong else forward


def _kind(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix in FILE_FORMATS:
        return suffix
    if not suffix or out.is_dir():
        return "folder"
    raise DocumentFileError(out, f"cannot export “{suffix}”; use a folder (PNG sequence), "
                                 ".gif, .webp or .mp4")


def _check_target(out: Path, kind: str, overwrite: bool) -> None:
    if kind == "folder" and out.exists() and not out.is_dir():
        raise DocumentFileError(out, "is a file; a PNG sequence needs a folder name")
    if kind != "folder" and out.is_dir():
        raise DocumentFileError(out, "is a folder; choose a file name")
    empty_folder = kind == "folder" and out.is_dir() and not any(out.iterdir())
    if out.exists() and not (overwrite or empty_folder):
        raise DocumentFileError(out, "already exists; choose another name or allow overwriting")


def _cancel_requested(cancel) -> bool:
    if cancel is None:
        return False
    return bool(cancel()) if callable(cancel) else bool(cancel)


def _spool(frames: Iterable[Frame], spool: Path, out: Path, cancel, *,
           compress_level: int) -> tuple[int, tuple[int, int] | None, bool]:
    """Write the frames as spool/frame_0000.png...; returns (count, size, cancelled)."""
    count, size = 0, None
    source = iter(frames)
    try:
        while not _cancel_requested(cancel):
            try:
                frame = next(source)
            except StopIteration:
                break
            image = frame.image if frame.image.mode == "RGB" else frame.image.convert("RGB")
            if size is None:
                size = image.size
            elif image.size != size:
                raise DocumentFileError(out, f"frame {count} is {image.width}x{image.height} "
                                             f"but the first is {size[0]}x{size[1]}")
            _save_png(image, spool / FRAME_NAME.format(count), frame.params, compress_level)
            count += 1
    except Cancelled:
        return count, size, True
    except OSError as exc:
        raise DocumentFileError(out, f"could not be saved: {_reason(exc)}.") from exc
    return count, size, _cancel_requested(cancel)


def _save_png(image: Image.Image, path: Path, params: dict, compress_level: int) -> None:
    info = png_info(params) if params else None
    image.save(path, format="PNG", pnginfo=info, compress_level=compress_level)


def _finish_folder(spool: Path, out: Path, order: Sequence[int], count: int) -> None:
    """Add the ping-pong copies, then rename the spool to `out` (an existing
    folder is moved aside first and removed once the new one is in place)."""
    try:
        for position in range(count, len(order)):
            shutil.copyfile(spool / FRAME_NAME.format(order[position]),
                            spool / FRAME_NAME.format(position))
        os.chmod(spool, 0o755)  # mkdtemp's 0o700 is for the temporary folder only
        old = None
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old.tmp",
                                        dir=out.parent))
            os.replace(out, old)
        try:
            os.replace(spool, out)
        except OSError:
            if old is not None:
                os.replace(old, out)
            raise
    except OSError as exc:
        raise DocumentFileError(out, f"could not be saved: {_reason(exc)}.") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _frames_from(paths: Sequence[Path]):
    for path in paths:
        with Image.open(path) as image:
            yield image.convert("RGB")


# --- GIF --------------------------------------------------------------------

def _gif_frame_bytes(image: Image.Image) -> tuple[bytes, int, int, bytes]:
    """(colour table, its size bits, interlace flag, LZW image data) of one
    frame, from Pillow's single-frame GIF of the quantised image."""
    buf = io.BytesIO()
    image.quantize(256).save(buf, format="GIF", optimize=False)
    data = buf.getvalue()
    packed = data[10]
    pos = 13
    table, table_bits = b"", 0
    if packed & 0x80:
        table_bits = packed & 0x07
        table = data[pos:pos + 3 * (2 << table_bits)]
        pos += len(table)
    while data[pos] == 0x21:  # extensions before the image: skip their sub-blocks
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    if data[pos] != 0x2C:
        raise ValueError("unexpected GIF layout from the encoder")
    descriptor = data[pos + 9]
    pos += 10
    if descriptor & 0x80:  # a local table replaces the global one
        table_bits = descriptor & 0x07
        table = data[pos:pos + 3 * (2 << table_bits)]
        pos += len(table)
    start = pos
    pos += 1  # LZW minimum code size
    while data[pos]:
        pos += data[pos] + 1
    return table, table_bits, descriptor & 0x40, data[start:pos + 1]


def _write_gif(fh: BinaryIO, paths: Sequence[Path], size: tuple[int, int], fps: float,
               loop: bool, notes: list[str]) -> None:
    width, height = size
    delay = max(2, round(100 / fps))  # centiseconds; players show 0 or 1 as 10
    if abs(delay * 10 - 1000 / fps) >= 5:
        notes.append(f"GIF frames last whole hundredths of a second: "
                     f"{delay * 10} ms each ({100 / delay:g} fps)")
    fh.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0))
    if loop:  # no NETSCAPE block means "play once"
        fh.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00")
    for image in _frames_from(paths):
        table, bits, interlace, lzw = _gif_frame_bytes(image)
        # Graphic control: disposal 1 (keep), the delay, no transparency.
        fh.write(b"\x21\xf9\x04\x04" + struct.pack("<H", delay) + b"\x00\x00")
        fh.write(b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0x80 | interlace | bits))
        fh.write(table)
        fh.write(lzw)
    fh.write(b"\x3b")


# --- WebP -------------------------------------------------------------------

def _riff_chunks(data: bytes):
    pos = 12
    while pos + 8 <= len(data):
        tag, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        yield tag, data[pos:pos + 8 + length + (length & 1)]
        pos += 8 + length + (length & 1)


def _webp_frame_bytes(image: Image.Image) -> bytes:
    """The image chunks (VP8, or ALPH + VP8, or VP8L) of one encoded frame."""
    buf = io.BytesIO()
    image.save(buf, format="WEBP", quality=WEBP_QUALITY)
    return b"".join(chunk for tag, chunk in _riff_chunks(buf.getvalue())
                    if tag in (b"VP8 ", b"VP8L", b"ALPH"))


def _u24(value: int) -> bytes:
    return struct.pack("<I", value)[:3]


def _write_webp(fh: BinaryIO, paths: Sequence[Path], size: tuple[int, int], fps: float,
                loop: bool, notes: list[str]) -> None:
    width, height = size
    duration = round(1000 / fps)
    start = fh.tell()
    fh.write(b"RIFF\x00\x00\x00\x00WEBP")  # the size is filled in at the end
    fh.write(b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00"  # flags: animation
             + _u24(width - 1) + _u24(height - 1))
    fh.write(b"ANIM" + struct.pack("<IIH", 6, 0xFFFFFFFF, 0 if loop else 1))
    for image in _frames_from(paths):
        payload = (_u24(0) + _u24(0) + _u24(width - 1) + _u24(height - 1) + _u24(duration)
                   + b"\x02" + _webp_frame_bytes(image))  # flags: no blending, no disposal
        fh.write(b"ANMF" + struct.pack("<I", len(payload)) + payload)
        if len(payload) & 1:
            fh.write(b"\x00")
    end = fh.tell()
    fh.seek(start + 4)
    fh.write(struct.pack("<I", end - start - 8))
    fh.seek(end)


# --- MP4 --------------------------------------------------------------------

def _write_mp4(fh: BinaryIO, paths: Sequence[Path], size: tuple[int, int], fps: float,
               loop: bool, notes: list[str]) -> None:
    import av
    import numpy as np

    width, height = size
    even = (width + width % 2, height + height % 2)
    if even != size:
        notes.append(f"the MP4 is {even[0]}x{even[1]}: H.264 needs even sizes, so the "
                     f"{width}x{height} frames were padded by repeating their edge")
    sink = _RecordingWrites(fh)
    container = av.open(sink, mode="w", format="mp4")
    try:
        try:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = even
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(MP4_CRF)}
            for image in _frames_from(paths):
                pixels = np.asarray(image)
                if even != size:
                    pixels = np.pad(pixels, ((0, even[1] - height), (0, even[0] - width),
                                             (0, 0)), mode="edge")
                for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        finally:
            container.close()  # writes the index: a full disk may show only here
    except av.error.FFmpegError as exc:
        # PyAV turns a failed write into its own error when it meets it again
        # (closing after a failed mux): report the write's own error.
        if sink.error is not None:
            raise sink.error from exc
        raise OSError(errno.EIO, f"the video encoder failed ({exc})") from exc
    if sink.error is not None:
        raise sink.error


class _RecordingWrites:
    """A file for PyAV that remembers the first write that failed."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh, self.error = fh, None

    def write(self, data) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()


_WRITERS: dict[str, Callable[..., None]] = {".gif": _write_gif, ".webp": _write_webp,
                                            ".mp4": _write_mp4}
