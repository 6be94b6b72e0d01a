"""Pictures between PIL/numpy and Qt, and what a model sees of a canvas."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from artstudio.document.compose import over_white


def pil_to_pixmap(image: Any, size: int | None = None) -> QPixmap:
    """A PIL image or an HxWx3/4 uint8 array as a QPixmap (copied)."""
    array = np.ascontiguousarray(np.asarray(image.convert("RGBA") if hasattr(image, "convert")
                                            else image))
    if array.ndim == 3 and array.shape[2] == 3:
        array = np.ascontiguousarray(np.dstack([array, np.full(array.shape[:2], 255, np.uint8)]))
    h, w = array.shape[:2]
    qimage = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGBA8888).copy()
    pixmap = QPixmap.fromImage(qimage)
    if size:
        pixmap = pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    return pixmap


def rgba_over_white(rgba: np.ndarray) -> Image.Image:
    """What the model sees of a transparent canvas: the picture over white."""
    return Image.fromarray(over_white(rgba), "RGB")


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """A straight RGBA copy of a QImage (clipboard, drops)."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return data.reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()
