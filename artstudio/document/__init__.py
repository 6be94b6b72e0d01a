"""The artist's work: layers, mask, generation frame, history and file formats.

QtGui is allowed here (painting is this package's job); QtWidgets never is.
"""
